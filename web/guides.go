package web

import (
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/content"
	"github.com/camau-cns/cnsbot/store"
)

// GuideStore is what the guides' pages read and publish; *store.DB has it.
type GuideStore interface {
	CurrentGuides(ctx context.Context) ([]content.Version, int64, error)
	GuideHistory(ctx context.Context, key string) ([]content.Version, error)
	PublishGuide(ctx context.Context, g content.Guide, by, note string) (int, bool, error)
	RollbackGuide(ctx context.Context, key string, version int, by string) (int, error)
	PutGuideImage(ctx context.Context, im content.Image) error
	GuidesUse(ctx context.Context) (map[string]*store.GuideUse, error)
}

// GuideImagePath is where the service serves a guide's picture by name;
// the editor shows the pictures from there.
const GuideImagePath = "/guides/images/"

// registerGuides adds the guides' pages: everyone signed in sees the
// guides, their use and their history; only the administrator publishes
// and rolls back.
func (d *Dashboard) registerGuides(pages gin.IRouter) {
	g := pages.Group("/guides", d.guidesOn)
	g.GET("", d.guidesPage)
	g.GET("/:flow/:id", d.guidePage)
	g.POST("/:flow/:id", d.adminPage, d.publishGuide)
	g.POST("/:flow/:id/rollback", d.adminPage, d.rollbackGuide)
}

// guidesOn answers "not found" when the dashboard has no guides.
func (d *Dashboard) guidesOn(c *gin.Context) {
	if d.cfg.Guides == nil {
		d.fail(c, cnsbot.Errorf(cnsbot.ENOTFOUND, "no guides"))
		c.Abort()
		return
	}
	c.Next()
}

// guideRow is one guide in the list, with its use.
type guideRow struct {
	content.Version
	Title string
	Use   store.GuideUse
	// Bars are the chart's widths in percent of the most opened guide.
	StartedBar, FinishedBar, StuckBar float64
	// StuckShare is the share of openings that ended "still stuck".
	StuckShare float64
}

func (d *Dashboard) guidesPage(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	lang := pageLang(c, d.cfg.Texts)
	cur, _, err := d.cfg.Guides.CurrentGuides(ctx)
	if err != nil {
		d.fail(c, err)
		return
	}
	use, err := d.cfg.Guides.GuidesUse(ctx)
	if err != nil {
		d.fail(c, err)
		return
	}
	rows := make([]guideRow, 0, len(cur))
	most := 1
	for _, v := range cur {
		r := guideRow{Version: v, Title: v.Guide.TitleIn(lang)}
		if u := use[v.Guide.Key()]; u != nil {
			r.Use = *u
		}
		most = max(most, r.Use.Started)
		rows = append(rows, r)
	}
	for i := range rows {
		u := rows[i].Use
		rows[i].StartedBar = 100 * float64(u.Started) / float64(most)
		rows[i].FinishedBar = 100 * float64(u.Finished) / float64(most)
		rows[i].StuckBar = 100 * float64(u.Stuck) / float64(most)
		if u.Started > 0 {
			rows[i].StuckShare = 100 * float64(u.Stuck) / float64(u.Started)
		}
	}
	d.show(c, http.StatusOK, "guides", d.page(c, "guides", d.cfg.Texts.T(lang, "guides.editor.title", nil), rows))
}

// guideData is the editor of one guide.
type guideData struct {
	Guide   content.Guide
	Version int
	History []content.Version
	Use     store.GuideUse
	Steps   []stepView
	// Words is the guide's words, one a line.
	Words string
}

// stepView is one step in the editor.
type stepView struct {
	N     int
	Step  content.Step
	Use   store.StepUse
	Total int
}

func (d *Dashboard) guideData(ctx context.Context, key string, draft *content.Guide) (guideData, error) {
	hist, err := d.cfg.Guides.GuideHistory(ctx, key)
	if err != nil {
		return guideData{}, err
	}
	if len(hist) == 0 {
		return guideData{}, cnsbot.Errorf(cnsbot.ENOTFOUND, "no guide %s", key)
	}
	data := guideData{Guide: hist[0].Guide, Version: hist[0].Version, History: hist}
	if draft != nil {
		data.Guide = *draft
	}
	if use, err := d.cfg.Guides.GuidesUse(ctx); err == nil && use[key] != nil {
		data.Use = *use[key]
	}
	for i, st := range data.Guide.Steps {
		sv := stepView{N: i + 1, Step: st, Total: len(data.Guide.Steps)}
		for _, su := range data.Use.Steps {
			if su.Step == i+1 {
				sv.Use = su
			}
		}
		data.Steps = append(data.Steps, sv)
	}
	data.Words = strings.Join(data.Guide.Words, "\n")
	return data, nil
}

func guideKey(c *gin.Context) string { return c.Param("flow") + "/" + c.Param("id") }

func (d *Dashboard) guidePage(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	data, err := d.guideData(ctx, guideKey(c), nil)
	if err != nil {
		d.fail(c, err)
		return
	}
	d.showGuide(c, http.StatusOK, data, "", "")
}

func (d *Dashboard) showGuide(c *gin.Context, status int, data guideData, errMsg, notice string) {
	lang := pageLang(c, d.cfg.Texts)
	pd := d.page(c, "guide", data.Guide.TitleIn(lang), data)
	pd.Error = errMsg
	if notice != "" {
		pd.Title = data.Guide.TitleIn(lang) + " · " + notice
	}
	d.show(c, status, "guide", pd)
}

// maxGuideForm bounds a publish: a guide's texts and a few phone photos,
// which are made smaller before they are kept.
const maxGuideForm = 24 << 20

// publishGuide publishes the editor's form as the guide's next version.
// A guide that cannot be published comes back with every reason and the
// officer's text as they wrote it.
func (d *Dashboard) publishGuide(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	key := guideKey(c)
	lang := pageLang(c, d.cfg.Texts)
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxGuideForm)
	if err := c.Request.ParseMultipartForm(8 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		d.fail(c, cnsbot.Errorf(cnsbot.EINVALID, "form: %v", err))
		return
	}
	hist, err := d.cfg.Guides.GuideHistory(ctx, key)
	if err != nil || len(hist) == 0 {
		if err == nil {
			err = cnsbot.Errorf(cnsbot.ENOTFOUND, "no guide %s", key)
		}
		d.fail(c, err)
		return
	}
	g, err := d.guideFromForm(ctx, c, hist[0].Guide)
	if err == nil {
		_, _, err = d.cfg.Guides.PublishGuide(ctx, g, publisher(c), "edit")
	}
	if cnsbot.ErrorCode(err) == cnsbot.EINVALID || cnsbot.ErrorCode(err) == cnsbot.ECONFLICT {
		data, derr := d.guideData(ctx, key, &g)
		if derr != nil {
			d.fail(c, derr)
			return
		}
		d.showGuide(c, http.StatusUnprocessableEntity, data, d.cfg.Texts.T(lang, "guides.editor.refused", nil)+"\n"+cnsbot.ErrorMessage(err), "")
		return
	}
	if err != nil {
		d.fail(c, err)
		return
	}
	if d.cfg.OnGuidePublished != nil {
		d.cfg.OnGuidePublished()
	}
	c.Redirect(http.StatusSeeOther, "/admin/guides/"+key+"?published=1")
}

// publisher names who publishes, for the guide's history.
func publisher(c *gin.Context) string {
	p := principalOf(c)
	if p.Admin {
		return "admin"
	}
	return p.Name()
}

// guideFromForm reads the editor's form over the guide's current version:
// titles, words, source, and each step's texts, video and picture.
func (d *Dashboard) guideFromForm(ctx context.Context, c *gin.Context, cur content.Guide) (content.Guide, error) {
	g := cur
	g.Title = map[string]string{"vi": strings.TrimSpace(c.PostForm("title_vi")), "en": strings.TrimSpace(c.PostForm("title_en"))}
	g.ViOnly = c.PostForm("vi_only") != ""
	g.Source = strings.TrimSpace(c.PostForm("source"))
	g.Checked = strings.TrimSpace(c.PostForm("checked"))
	g.Open = strings.TrimSpace(c.PostForm("open"))
	g.Words = nil
	for w := range strings.SplitSeq(c.PostForm("words"), "\n") {
		if w = strings.TrimSpace(w); w != "" {
			g.Words = append(g.Words, w)
		}
	}
	g.Steps = slices.Clone(cur.Steps)
	for i := range g.Steps {
		n := strconv.Itoa(i + 1)
		st := content.Step{Text: map[string]string{
			"vi": normalise(c.PostForm("text_vi_" + n)), "en": normalise(c.PostForm("text_en_" + n))},
			Image: cur.Steps[i].Image, Video: strings.TrimSpace(c.PostForm("video_" + n))}
		if c.PostForm("remove_image_"+n) != "" {
			st.Image = ""
		}
		if fh, err := c.FormFile("image_" + n); err == nil && fh.Size > 0 {
			sha, err := d.storePicture(ctx, fh)
			if err != nil {
				return g, cnsbot.Errorf(cnsbot.EINVALID, "step %d: %s", i+1, cnsbot.ErrorMessage(err))
			}
			st.Image = sha
		}
		g.Steps[i] = st
	}
	return g, nil
}

// normalise keeps a textarea's text as the officer wrote it, with the
// browser's line ends made plain.
func normalise(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
}

func (d *Dashboard) storePicture(ctx context.Context, fh *multipart.FileHeader) (string, error) {
	f, err := fh.Open()
	if err != nil {
		return "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxGuideForm))
	if err != nil {
		return "", err
	}
	im, err := content.FitImage(data)
	if err != nil {
		return "", err
	}
	if err := d.cfg.Guides.PutGuideImage(ctx, im); err != nil {
		return "", err
	}
	return im.SHA, nil
}

// rollbackGuide publishes an earlier version again.
func (d *Dashboard) rollbackGuide(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	key := guideKey(c)
	v, err := strconv.Atoi(c.PostForm("version"))
	if err != nil {
		d.fail(c, cnsbot.Errorf(cnsbot.EINVALID, "version %q", c.PostForm("version")))
		return
	}
	if _, err := d.cfg.Guides.RollbackGuide(ctx, key, v, publisher(c)); err != nil {
		d.fail(c, err)
		return
	}
	if d.cfg.OnGuidePublished != nil {
		d.cfg.OnGuidePublished()
	}
	c.Redirect(http.StatusSeeOther, "/admin/guides/"+key+"?published=1")
}
