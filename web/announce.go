package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/announce"
	"github.com/camau-cns/cnsbot/report"
)

// Announcements is what the announcements page needs: the planner (the
// preview) and the records; *announce.Service and *store.DB have them.
type Announcements struct {
	Planner interface {
		Plan(ctx context.Context, a announce.Announcement, now time.Time) (announce.Plan, error)
	}
	Store interface {
		CreateAnnouncement(ctx context.Context, a *announce.Announcement) error
		Announcements(ctx context.Context, communes []int64, all bool, limit int) ([]announce.Announcement, error)
		Announcement(ctx context.Context, id int64) (announce.Announcement, error)
		AnnouncementOutcomes(ctx context.Context, id int64) ([]announce.Outcome, error)
		Hamlets(ctx context.Context, communeID int64) ([]cnsbot.Unit, error)
	}
}

// maxAnnouncement bounds an announcement's text: Zalo splits a text at
// 2,000 characters, and an announcement is a few lines.
const maxAnnouncement = 2000

// announceForm is the form as typed, kept to show it again with the
// preview or an error.
type announceForm struct {
	Commune  int64
	Hamlets  []int64
	Audience []string
	Text     string
	ImageURL string
	LinkURL  string
	SendAt   string
}

type hamletChoice struct {
	ID        int64
	CommuneID int64
	Name      string
	Commune   string
	Code      string
}

type announcePage struct {
	Form      announceForm
	Province  bool // may send to the whole province
	Communes  []cnsbot.Unit
	Hamlets   []hamletChoice
	Audiences []string
	Channels  []string
	Preview   *announce.Plan
	Notice    string
	List      []announceRow
}

type announceRow struct {
	A     announce.Announcement
	Place string
}

func (d *Dashboard) registerAnnouncements(pages, api *gin.RouterGroup) {
	if d.cfg.Announcements.Store == nil {
		return
	}
	pages.GET("/announcements", d.announcementsPage)
	pages.POST("/announcements", d.postAnnouncement)
	pages.GET("/announcements/:id", d.announcementReport)
	pages.GET("/announcements/:id/report.csv", d.announcementCSV)
	api.GET("/announcements/:id/report", d.apiAnnouncementReport)
}

// communesFor returns the communes the principal may announce to.
func (d *Dashboard) communesFor(ctx context.Context, p principal) ([]cnsbot.Unit, error) {
	all, err := d.cfg.Store.Communes(ctx)
	if err != nil {
		return nil, err
	}
	var out []cnsbot.Unit
	for _, u := range all {
		if p.sees(u.ID) {
			out = append(out, u)
		}
	}
	return out, nil
}

func (d *Dashboard) announceData(c *gin.Context, f announceForm) (*announcePage, error) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	p := principalOf(c)
	communes, err := d.communesFor(ctx, p)
	if err != nil {
		return nil, err
	}
	pg := &announcePage{Form: f, Province: p.all(), Communes: communes, Audiences: announce.Audiences,
		Channels: announce.Channels}
	names := map[int64]string{}
	ids := make([]int64, 0, len(communes))
	for _, cm := range communes {
		names[cm.ID] = cm.Name
		ids = append(ids, cm.ID)
		hs, err := d.cfg.Announcements.Store.Hamlets(ctx, cm.ID)
		if err != nil {
			return nil, err
		}
		for _, h := range hs {
			pg.Hamlets = append(pg.Hamlets, hamletChoice{ID: h.ID, CommuneID: cm.ID, Name: h.Name, Commune: cm.Name,
				Code: "AP" + strconv.FormatInt(h.ID, 10)})
		}
	}
	list, err := d.cfg.Announcements.Store.Announcements(ctx, ids, p.all(), 50)
	if err != nil {
		return nil, err
	}
	lang := pageLang(c, d.cfg.Texts)
	for _, a := range list {
		place := d.cfg.Texts.T(lang, "announce.web.province", nil)
		if a.CommuneID != nil {
			place = names[*a.CommuneID]
		}
		pg.List = append(pg.List, announceRow{A: a, Place: place})
	}
	return pg, nil
}

func (d *Dashboard) announcementsPage(c *gin.Context) {
	f := announceForm{Audience: []string{announce.AudienceResidents, announce.AudienceGroups}}
	p := principalOf(c)
	if !p.all() && len(p.Officer.CommuneIDs) > 0 {
		f.Commune = p.Officer.CommuneIDs[0]
	}
	pg, err := d.announceData(c, f)
	if err != nil {
		d.fail(c, err)
		return
	}
	lang := pageLang(c, d.cfg.Texts)
	d.show(c, http.StatusOK, "announce", d.page(c, "announce", d.cfg.Texts.T(lang, "announce.web.title", nil), pg))
}

// readAnnouncement reads the form and checks it against what the
// principal may do: an officer announces to their own communes only, and
// only those who see every commune to the whole province.
func (d *Dashboard) readAnnouncement(c *gin.Context) (announceForm, announce.Announcement, error) {
	p := principalOf(c)
	f := announceForm{Text: strings.TrimSpace(c.PostForm("text")), ImageURL: strings.TrimSpace(c.PostForm("image")),
		LinkURL: strings.TrimSpace(c.PostForm("link")), SendAt: strings.TrimSpace(c.PostForm("send_at"))}
	f.Commune, _ = strconv.ParseInt(c.PostForm("commune"), 10, 64)
	for _, s := range c.PostFormArray("hamlet") {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil && id > 0 {
			f.Hamlets = append(f.Hamlets, id)
		}
	}
	for _, s := range c.PostFormArray("audience") {
		if slices.Contains(announce.Audiences, s) && !slices.Contains(f.Audience, s) {
			f.Audience = append(f.Audience, s)
		}
	}
	a := announce.Announcement{Audience: strings.Join(f.Audience, ","), Text: f.Text, ImageURL: f.ImageURL, LinkURL: f.LinkURL}
	switch {
	case f.Commune == 0 && !p.all():
		return f, a, errForbidden
	case f.Commune != 0 && !p.sees(f.Commune):
		return f, a, errForbidden
	case f.Commune != 0:
		id := f.Commune
		a.CommuneID = &id
	}
	if len(f.Hamlets) > 0 {
		if f.Commune == 0 {
			return f, a, cnsbot.Errorf(cnsbot.EINVALID, "hamlets without a commune")
		}
		ctx, cancel := withTimeout(c)
		defer cancel()
		hs, err := d.cfg.Announcements.Store.Hamlets(ctx, f.Commune)
		if err != nil {
			return f, a, err
		}
		for _, id := range f.Hamlets {
			if !slices.ContainsFunc(hs, func(h cnsbot.Unit) bool { return h.ID == id }) {
				return f, a, cnsbot.Errorf(cnsbot.EINVALID, "hamlet %d is not in commune %d", id, f.Commune)
			}
		}
		a.HamletIDs = announce.JoinIDs(f.Hamlets)
	}
	for _, u := range []string{f.ImageURL, f.LinkURL} {
		if u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			return f, a, cnsbot.Errorf(cnsbot.EINVALID, "a link must start with https://")
		}
	}
	if f.Text == "" || len(f.Audience) == 0 || len([]rune(f.Text)) > maxAnnouncement {
		return f, a, cnsbot.Errorf(cnsbot.EINVALID, "an announcement needs a text (at most %d characters) and an audience", maxAnnouncement)
	}
	a.SendAt = d.cfg.Now()
	if f.SendAt != "" {
		at, err := time.ParseInLocation("2006-01-02T15:04", f.SendAt, d.cfg.Location)
		if err != nil {
			return f, a, cnsbot.Errorf(cnsbot.EINVALID, "send time %q", f.SendAt)
		}
		a.SendAt = at
	}
	a.CreatedBy, a.CreatorName = "admin", "admin"
	if !p.Admin {
		id := p.Officer.PersonID
		a.CreatedBy, a.CreatorPersonID, a.CreatorName = "officer:"+strconv.FormatInt(id, 10), &id, p.Officer.Name
	}
	return f, a, nil
}

// postAnnouncement previews (action "preview") or saves an announcement;
// the dispatcher sends it at its time.
func (d *Dashboard) postAnnouncement(c *gin.Context) {
	lang := pageLang(c, d.cfg.Texts)
	title := d.cfg.Texts.T(lang, "announce.web.title", nil)
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 64<<10)
	f, a, err := d.readAnnouncement(c)
	if cnsbot.ErrorCode(err) == cnsbot.EFORBIDDEN {
		d.fail(c, err)
		return
	}
	pg, perr := d.announceData(c, f)
	if perr != nil {
		d.fail(c, perr)
		return
	}
	pd := d.page(c, "announce", title, pg)
	if err != nil {
		pd.Error = d.cfg.Texts.T(lang, "announce.web.need_text", nil) + " (" + err.Error() + ")"
		d.show(c, http.StatusBadRequest, "announce", pd)
		return
	}
	ctx, cancel := withTimeout(c)
	defer cancel()
	if c.PostForm("action") != "send" {
		plan, err := d.cfg.Announcements.Planner.Plan(ctx, a, d.cfg.Now())
		if err != nil {
			d.fail(c, err)
			return
		}
		pg.Preview = &plan
		d.show(c, http.StatusOK, "announce", pd)
		return
	}
	if err := d.cfg.Announcements.Store.CreateAnnouncement(ctx, &a); err != nil {
		d.fail(c, err)
		return
	}
	d.log.Info("announcement saved", "announcement", a.ID, "by", a.CreatedBy, "commune", a.CommuneID, "send_at", a.SendAt)
	c.Redirect(http.StatusSeeOther, "/admin/announcements/"+strconv.FormatInt(a.ID, 10))
}

// reportLine is one line of the delivery report with its place's names.
type reportLine struct {
	announce.Line
	Commune, Hamlet string
	Refusals        string
}

type reportPage struct {
	A        announce.Announcement
	Place    string
	Lines    []reportLine
	Statuses []string
}

// loadReport returns announcement :id and its report, if the principal
// may see its commune (a province-wide one only for those who see all).
func (d *Dashboard) loadReport(c *gin.Context) (reportPage, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return reportPage{}, cnsbot.Errorf(cnsbot.ENOTFOUND, "announcement %q", c.Param("id"))
	}
	ctx, cancel := withTimeout(c)
	defer cancel()
	a, err := d.cfg.Announcements.Store.Announcement(ctx, id)
	if err != nil {
		return reportPage{}, err
	}
	p := principalOf(c)
	if (a.CommuneID == nil && !p.all()) || (a.CommuneID != nil && !p.sees(*a.CommuneID)) {
		return reportPage{}, errForbidden
	}
	outs, err := d.cfg.Announcements.Store.AnnouncementOutcomes(ctx, id)
	if err != nil {
		return reportPage{}, err
	}
	lang := pageLang(c, d.cfg.Texts)
	names := map[int64]string{}
	unit := func(id int64) string {
		if id == 0 {
			return ""
		}
		if n, ok := names[id]; ok {
			return n
		}
		u, err := d.cfg.Store.Unit(ctx, id)
		if err == nil {
			names[id] = u.Name
		}
		return names[id]
	}
	rp := reportPage{A: a, Statuses: announce.Statuses, Place: d.cfg.Texts.T(lang, "announce.web.province", nil)}
	if a.CommuneID != nil {
		rp.Place = unit(*a.CommuneID)
	}
	for _, l := range announce.Report(outs) {
		rl := reportLine{Line: l, Commune: unit(l.CommuneID), Hamlet: unit(l.HamletID)}
		if l.HamletID == 0 {
			rl.Hamlet = d.cfg.Texts.T(lang, "announce.web.total", nil)
		}
		var why []string
		for k, n := range l.Refusals {
			why = append(why, fmt.Sprintf("%s ×%d", k, n))
		}
		slices.Sort(why)
		rl.Refusals = strings.Join(why, "; ")
		rp.Lines = append(rp.Lines, rl)
	}
	return rp, nil
}

func (d *Dashboard) announcementReport(c *gin.Context) {
	rp, err := d.loadReport(c)
	if err != nil {
		d.fail(c, err)
		return
	}
	lang := pageLang(c, d.cfg.Texts)
	d.show(c, http.StatusOK, "announcereport", d.page(c, "announce", d.cfg.Texts.T(lang, "announce.web.report", nil), rp))
}

func (d *Dashboard) apiAnnouncementReport(c *gin.Context) {
	rp, err := d.loadReport(c)
	if err != nil {
		apiError(c, d.log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"announcement": rp.A, "lines": rp.Lines})
}

// announcementCSV writes the report as CSV: with ',' by default, with ';'
// for Excel with Vietnamese regional settings (format=csv-vn), as the
// quarterly report's export does.
func (d *Dashboard) announcementCSV(c *gin.Context) {
	rp, err := d.loadReport(c)
	if err != nil {
		d.fail(c, err)
		return
	}
	lang := pageLang(c, d.cfg.Texts)
	w := csv.NewWriter(c.Writer)
	if c.Query("format") == ExportCSVVietnamese {
		w.Comma = ';'
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="thong-bao-%d.csv"`, rp.A.ID))
	_, _ = c.Writer.Write([]byte("\uFEFF")) // Excel reads UTF-8 only with the mark
	head := []string{d.cfg.Texts.T(lang, "announce.web.commune", nil), d.cfg.Texts.T(lang, "announce.web.hamlet", nil)}
	for _, s := range rp.Statuses {
		head = append(head, d.cfg.Texts.T(lang, "announce.status."+s, nil))
	}
	head = append(head, d.cfg.Texts.T(lang, "announce.web.groups_posted", nil), d.cfg.Texts.T(lang, "announce.status.refused", nil)+" (Zalo)")
	_ = w.Write(head)
	for _, l := range rp.Lines {
		row := []string{report.CSVCell(l.Commune), report.CSVCell(l.Hamlet)}
		for _, s := range rp.Statuses {
			row = append(row, strconv.Itoa(l.Counts[s]))
		}
		row = append(row, strconv.Itoa(l.GroupsPosted), report.CSVCell(l.Refusals))
		_ = w.Write(row)
	}
	w.Flush()
}

// HasAudience reports whether the form picked audience part s.
func (f announceForm) HasAudience(s string) bool { return slices.Contains(f.Audience, s) }

// HasHamlet reports whether the form picked hamlet id.
func (f announceForm) HasHamlet(id int64) bool { return slices.Contains(f.Hamlets, id) }
