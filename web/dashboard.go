package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/vn"
)

// Store is what the dashboard reads and changes; *store.DB has it.
type Store interface {
	Officers
	Sessions
	AccessLog
	OfficerTokens
	HasDemo(ctx context.Context) (bool, error)
	Communes(ctx context.Context) ([]cnsbot.Unit, error)
	Unit(ctx context.Context, id int64) (cnsbot.Unit, error)
	ProvinceName(ctx context.Context) (string, error)
	HamletProgress(ctx context.Context, communeID int64) ([]store.UnitProgress, error)
	CommuneFigures(ctx context.Context, communeID int64, q string, loc *time.Location) (calendar.Figures, error)
	CommunesPeople(ctx context.Context, communeIDs []int64, qs []string, loc *time.Location) ([]calendar.Figures, error)
	HelpRequests(ctx context.Context, f store.HelpFilter) ([]store.HelpRow, error)
	RecentVisits(ctx context.Context, communeID int64, limit int) ([]store.VisitRow, error)
	UndeliveredMessages(ctx context.Context, communeID int64, limit int) ([]store.Undelivered, error)
	StoredSchedule(ctx context.Context) (store.ScheduleVersion, error)
	SaveSchedule(ctx context.Context, s calendar.Schedule, by string) error
	ResponsibleFor(ctx context.Context, level calendar.Level) ([]calendar.Responsible, error)
	Submissions(ctx context.Context, deadlineKey string) ([]calendar.Submission, error)
	Reminders(ctx context.Context, deadlineKey string) ([]calendar.ReminderRecord, error)
	Team(ctx context.Context, id int64) (cnsbot.Team, error)
	LinkGroup(ctx context.Context, teamID int64, groupID string) error
	GuideScores(ctx context.Context) ([]store.GuideScore, error)
	WaitingHandoffs(ctx context.Context, communes []int64) ([]cnsbot.Handoff, error)
}

// Exporter writes the quarterly report of quarter ("2025Q3") for one
// commune (by name) or, when commune is empty, the whole province, in
// format ExportXLSX, ExportCSV or ExportCSVVietnamese with headers in lang.
type Exporter func(ctx context.Context, w io.Writer, quarter, commune, format, lang string) error

// The formats an Exporter writes. ExportCSV separates with ',' and
// writes decimal points; ExportCSVVietnamese separates with ';' and writes
// decimal commas, for Excel with Vietnamese regional settings.
const (
	ExportXLSX          = "xlsx"
	ExportCSV           = "csv"
	ExportCSVVietnamese = "csv-vn"
)

// DashboardConfig configures the dashboard. Store, Texts and Location are
// required.
type DashboardConfig struct {
	Store Store
	Texts Texts
	// Location is where days and quarters are counted: Asia/Ho_Chi_Minh.
	Location *time.Location
	// AdminToken signs in the administrator; empty lets only officers in.
	AdminToken string
	// SignInLimit counts failed sign-ins per client; nil counts nothing
	// (serve always passes one).
	SignInLimit SignInLimit
	// Export writes the quarterly report; nil hides the export buttons.
	Export Exporter
	// Now is the clock that places "this quarter" and ages (default
	// time.Now); the simulator's demo clock in a demo.
	Now func() time.Time
	// EnrolCodeTTL is how long an enrol code works (default 72h).
	EnrolCodeTTL time.Duration
	// ZaloAlerts says what about the OA needs a person now (a refresh
	// token Zalo refused, an OA setup fault holding messages), shown as a
	// banner on every page; nil shows none.
	ZaloAlerts func() ZaloAlerts
	// Guides are the residents' guides, edited on the guides' pages; nil
	// hides them. OnGuidePublished runs after a publish or a rollback
	// (the replica's library looks again at once).
	Guides           GuideStore
	OnGuidePublished func()
	// Announcements are the officers' announcements (announce.go); a zero
	// value hides the page.
	Announcements Announcements
	Log           *slog.Logger
}

// ZaloAlerts are the OA-wide problems the dashboard shows as a banner.
type ZaloAlerts struct {
	// Reauthorise is set since when Zalo refuses the refresh token.
	Reauthorise time.Time
	// SetupCode is a Zalo setup-fault code (-209, -212, …) holding every
	// message since SetupSince; 0 when none.
	SetupCode  int
	SetupSince time.Time
}

// Target is the share of a hamlet's households a team must guide.
const Target = 80.0

// staleAfter is how long a help request may wait for someone to take it
// before the dashboard makes it stand out.
const staleAfter = 48 * time.Hour

// Dashboard serves the officers' pages under /admin and the admin API
// under /admin/api.
type Dashboard struct {
	cfg   DashboardConfig
	auth  *auth
	pages map[string]*template.Template
	log   *slog.Logger
}

// NewDashboard parses the pages.
func NewDashboard(cfg DashboardConfig) (*Dashboard, error) {
	if cfg.Store == nil || cfg.Texts == nil || cfg.Location == nil {
		return nil, fmt.Errorf("web: the dashboard needs a store, texts and a location")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	pages, err := parseTemplates(cfg.Texts, cfg.Location, "login", "overview", "commune", "help", "calendar", "visits",
		"officers", "access", "enrolcode", "guides", "guide", "announce", "announcereport", "households")
	if err != nil {
		return nil, err
	}
	a := newAuth(cfg.AdminToken, cfg.Store)
	a.sessions, a.limit, a.log = cfg.Store, cfg.SignInLimit, cfg.Log
	return &Dashboard{cfg: cfg, auth: a, pages: pages, log: cfg.Log}, nil
}

// Register adds the dashboard's routes. Every answer under /admin is
// marked no-store: pages and API answers carry residents' names and
// phones, which must not stay in a shared computer's cache. Every route
// that shows personal data writes a row to the access log first (logged).
func (d *Dashboard) Register(r gin.IRouter) {
	adm := r.Group("/admin", noStore)
	adm.GET("/login", d.loginPage)
	adm.POST("/login", d.login)
	pages := adm.Group("", d.requireSession)
	pages.GET("", d.logged("overview"), d.overview)
	pages.GET("/communes/:id", d.logged("commune"), d.commune)
	pages.GET("/help", d.logged("help_requests"), d.help)
	pages.GET("/calendar", d.logged("calendar"), d.calendarPage)
	pages.GET("/visits", d.logged("visits"), d.visits)
	pages.GET("/export", d.logged("report"), d.export)
	pages.POST("/logout", d.logout)
	pages.POST("/enrol-codes", d.logged("enrol_code"), d.createEnrolCode)
	pages.GET("/officers", d.adminPage, d.logged("officer_tokens"), d.officersPage)
	pages.POST("/officers", d.adminPage, d.logged("officer_tokens"), d.createTokenPage)
	pages.POST("/officers/:id/revoke", d.adminPage, d.revokeTokenPage)
	pages.POST("/sessions/end", d.adminPage, d.endAllSessionsPage)
	pages.GET("/access-log", d.adminPage, d.logged("access_log"), d.accessPage)
	pages.GET("/access-log.csv", d.adminPage, d.logged("access_log"), d.accessCSV)
	d.registerGuides(pages)
	d.registerHouseholds(pages)

	api := adm.Group("/api", d.auth.requireBearer(d.log))
	api.GET("/progress", d.apiProgress)
	api.GET("/indicators", d.apiIndicators)
	api.GET("/help-requests", d.logged("help_requests"), d.apiHelp)
	api.GET("/visits", d.logged("visits"), d.apiVisits)
	api.GET("/deadlines", d.logged("deadlines"), d.apiDeadlines)
	api.GET("/deliveries", d.logged("deliveries"), d.apiDeliveries)
	api.GET("/schedule", d.apiSchedule)
	api.PUT("/schedule", adminOnly, d.apiSaveSchedule)
	api.PUT("/teams/:id/group", adminOnly, d.apiLinkGroup)
	api.GET("/officer-tokens", adminOnly, d.logged("officer_tokens"), d.apiListTokens)
	api.POST("/officer-tokens", adminOnly, d.apiCreateToken)
	api.POST("/enrol-codes", d.logged("enrol_code"), d.apiCreateEnrolCode)
	api.DELETE("/officer-tokens/:id", adminOnly, d.apiRevokeToken)
	api.DELETE("/sessions", adminOnly, d.apiEndAllSessions)
	api.GET("/access-log", adminOnly, d.logged("access_log"), d.apiAccessLog)
	api.GET("/report", d.logged("report"), d.export)
	d.registerAnnouncements(pages, api)
}

// noStore keeps every answer out of browser and proxy caches.
func noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Next()
}

// pageData is what every page's layout reads.
type pageData struct {
	Lang      string
	OtherLang string
	LangURL   string
	Page      string
	Title     string
	Who       string
	Admin     bool
	// Guides shows the guides' pages in the menu.
	Guides bool
	Demo   bool
	Export bool
	Now    time.Time
	// Shifted is set while the demo clock is away from the real time.
	Shifted bool
	Quarter string
	Error   string
	// Zalo is what about the OA needs a person now (the banner).
	Zalo ZaloAlerts
	// Announce shows the announcements' tab.
	Announce bool
	Data     any
}

func (d *Dashboard) page(c *gin.Context, name, title string, data any) pageData {
	lang := pageLang(c, d.cfg.Texts)
	other := "en"
	if lang == "en" {
		other = "vi"
	}
	u := *c.Request.URL
	q := u.Query()
	q.Set("lang", other)
	u.RawQuery = q.Encode()
	now := d.cfg.Now()
	p := principalOf(c)
	pd := pageData{Lang: lang, OtherLang: other, LangURL: u.RequestURI(), Page: name, Title: title,
		Who: p.Name(), Admin: p.Admin, Guides: d.cfg.Guides != nil, Export: d.cfg.Export != nil, Now: now,
		Shifted: now.Sub(time.Now()).Abs() > time.Minute, Quarter: calendar.Quarter(now.In(d.cfg.Location)), Data: data,
		Announce: d.cfg.Announcements.Store != nil}
	ctx, cancel := withTimeout(c)
	defer cancel()
	if demo, err := d.cfg.Store.HasDemo(ctx); err == nil {
		pd.Demo = demo
	}
	if d.cfg.ZaloAlerts != nil && name != "login" {
		pd.Zalo = d.cfg.ZaloAlerts()
	}
	return pd
}

func (d *Dashboard) show(c *gin.Context, status int, name string, pd pageData) {
	render(c, d.log, d.pages[name], status, pd)
}

// requireSession lets through page requests with a valid session cookie
// and answers the others 401 with the sign-in form.
func (d *Dashboard) requireSession(c *gin.Context) {
	v, err := c.Cookie(sessionCookie)
	if err == nil {
		var p principal
		p, err = d.auth.open(c.Request.Context(), v, time.Now())
		if err == nil {
			c.Set(principalKey, p)
			c.Next()
			return
		}
		clearSession(c)
	}
	pd := d.page(c, "login", d.cfg.Texts.T(pageLang(c, d.cfg.Texts), "web.login.title", nil), nil)
	if err != nil && cnsbot.ErrorCode(err) != cnsbot.EUNAUTHORIZED && !errors.Is(err, http.ErrNoCookie) {
		d.log.Warn("dashboard: session check failed", "err", err)
	}
	d.show(c, http.StatusUnauthorized, "login", pd)
	c.Abort()
}

func (d *Dashboard) loginPage(c *gin.Context) {
	lang := pageLang(c, d.cfg.Texts)
	d.show(c, http.StatusOK, "login", d.page(c, "login", d.cfg.Texts.T(lang, "web.login.title", nil), nil))
}

// maxLoginBody caps the sign-in form.
const maxLoginBody = 4 << 10

func (d *Dashboard) login(c *gin.Context) {
	lang := pageLang(c, d.cfg.Texts)
	loginFailed := func(status int, msg string) {
		pd := d.page(c, "login", d.cfg.Texts.T(lang, "web.login.title", nil), nil)
		pd.Error = msg
		d.show(c, status, "login", pd)
	}
	tooMany := func(wait time.Duration) {
		c.Header("Retry-After", strconv.Itoa(seconds(wait)))
		loginFailed(http.StatusTooManyRequests, d.cfg.Texts.TN(lang, "web.login.too_many", (seconds(wait)+59)/60, nil))
	}
	// A client that failed too often is refused before its token is
	// looked at, the right one included.
	if wait := d.auth.blocked(c); wait > 0 {
		tooMany(wait)
		return
	}
	// The sign-in needs no token to reach: a token is short, so a large
	// body is refused before the form is parsed.
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxLoginBody)
	p, err := d.auth.check(c.Request.Context(), c.PostForm("token"))
	if err == nil {
		err = d.auth.setSession(c, p, time.Now())
	}
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, "/admin")
	case cnsbot.ErrorCode(err) != cnsbot.EUNAUTHORIZED:
		d.log.Warn("dashboard: sign-in failed on the server", "err", err)
		loginFailed(http.StatusServiceUnavailable, d.cfg.Texts.T(lang, "web.error.unavailable", nil))
	default:
		if wait := d.auth.failed(c, "form"); wait > 0 {
			tooMany(wait)
			return
		}
		loginFailed(http.StatusUnauthorized, d.cfg.Texts.T(lang, "web.login.wrong", nil))
	}
}

// logout ends the session on the server, so that a copy of the cookie
// (another tab, a stolen one) is refused too.
func (d *Dashboard) logout(c *gin.Context) {
	if err := d.auth.endSession(c); err != nil {
		d.fail(c, err)
		return
	}
	clearSession(c)
	c.Redirect(http.StatusSeeOther, "/admin/login")
}

// fail answers a page request that went wrong.
func (d *Dashboard) fail(c *gin.Context, err error) {
	status := statusOf(err)
	lang := pageLang(c, d.cfg.Texts)
	id := "web.error.internal"
	switch status {
	case http.StatusForbidden:
		id = "web.error.forbidden"
	case http.StatusNotFound:
		id = "web.error.not_found"
	case http.StatusBadRequest:
		id = "web.error.invalid"
	case http.StatusServiceUnavailable:
		id = "web.error.unavailable"
	case http.StatusInternalServerError:
		d.log.Error("dashboard page failed", "path", c.FullPath(), "err", err)
	}
	pd := d.page(c, "error", d.cfg.Texts.T(lang, "web.error.title", nil), nil)
	pd.Error = d.cfg.Texts.T(lang, id, nil)
	d.show(c, status, "overview", pd)
	c.Abort()
}

// bar is one row of progress toward the target.
type bar struct {
	ID         int64   `json:"id"`
	Name       string  `json:"name"`
	Link       string  `json:"-"`
	Households int     `json:"households"`
	Guided     int     `json:"guided"`
	Teams      int     `json:"teams"`
	Percent    float64 `json:"percent"`
	Reached    bool    `json:"reached"`
	Demo       bool    `json:"demo,omitempty"`
	Hamlets    []bar   `json:"hamlets,omitempty"`
}

func (b *bar) add(h store.UnitProgress) {
	b.Households += h.Households
	b.Guided += h.Guided
	b.Teams += h.Teams
	b.Demo = b.Demo || h.Demo
}

func (b *bar) finish() {
	if b.Households > 0 {
		b.Percent = 100 * float64(b.Guided) / float64(b.Households)
	}
	b.Reached = b.Households > 0 && b.Percent >= Target
}

// progress is the province (or an officer's communes) → communes →
// hamlets tree of progress.
type progress struct {
	Province bar   `json:"province"`
	Communes []bar `json:"communes"`
}

func (d *Dashboard) progress(ctx context.Context, p principal, communeID int64) (progress, error) {
	scopes, err := p.scopes(communeID)
	if err != nil {
		return progress{}, err
	}
	communes, err := d.cfg.Store.Communes(ctx)
	if err != nil {
		return progress{}, err
	}
	name, err := d.cfg.Store.ProvinceName(ctx)
	if err != nil {
		return progress{}, err
	}
	var hamlets []store.UnitProgress
	for _, s := range scopes {
		hs, err := d.cfg.Store.HamletProgress(ctx, s)
		if err != nil {
			return progress{}, err
		}
		hamlets = append(hamlets, hs...)
	}
	out := progress{Province: bar{Name: name}}
	for _, c := range communes {
		if !p.sees(c.ID) || (communeID != 0 && c.ID != communeID) {
			continue
		}
		cb := bar{ID: c.ID, Name: c.Name, Link: "/admin/communes/" + strconv.FormatInt(c.ID, 10), Demo: c.Demo}
		for _, h := range hamlets {
			if h.ParentID != c.ID {
				continue
			}
			hb := bar{ID: h.ID, Name: h.Name, Link: householdsLink(h.ID, c.ID)}
			hb.add(h)
			hb.finish()
			cb.Hamlets = append(cb.Hamlets, hb)
			cb.add(h)
			out.Province.add(h)
		}
		cb.finish()
		out.Communes = append(out.Communes, cb)
	}
	out.Province.finish()
	// An officer of some communes sees their figures under their names,
	// not under the province's: the total is theirs, not Cà Mau's.
	if !p.all() {
		names := make([]string, len(out.Communes))
		for i, c := range out.Communes {
			names[i] = c.Name
		}
		out.Province.Name = strings.Join(names, ", ")
	}
	return out, nil
}

// indicators are the quarter's figures of the last quarters, newest
// first (what an officer looks for, and what a phone shows before any
// scrolling), one row per measure, for a commune or the province.
type indicators struct {
	Quarters []string `json:"quarters"`
	Labels   []string `json:"-"`
	// NoData marks the quarters without a single visit report: their
	// zeros mean "nothing reported", and the page shows "—".
	NoData []bool         `json:"no_data"`
	Rows   []indicatorRow `json:"rows"`
}

// Empty reports whether quarter i has no data.
func (in indicators) Empty(i int) bool { return i < len(in.NoData) && in.NoData[i] }

type indicatorRow struct {
	Key    string `json:"key"`
	Label  string `json:"label"`
	Values []int  `json:"values"`
	Max    int    `json:"-"`
}

// Width is a cell's bar width in percent of the row's largest value.
func (r indicatorRow) Width(i int) float64 {
	if r.Max == 0 {
		return 0
	}
	return 100 * float64(r.Values[i]) / float64(r.Max)
}

// indicatorQuarters is how many quarters the indicators cover.
const indicatorQuarters = 4

func (d *Dashboard) indicators(ctx context.Context, p principal, communeID int64, lang string) (indicators, error) {
	scopes, err := p.scopes(communeID)
	if err != nil {
		return indicators{}, err
	}
	now := d.cfg.Now().In(d.cfg.Location)
	var quarters []string
	start, _, _ := calendar.QuarterBounds(calendar.Quarter(now), d.cfg.Location)
	for i := range indicatorQuarters {
		quarters = append(quarters, calendar.Quarter(start.AddDate(0, -3*i, 0)))
	}
	figs := make([]calendar.Figures, len(quarters))
	for _, s := range scopes {
		fs, err := d.communeQuarters(ctx, s, quarters)
		if err != nil {
			return indicators{}, err
		}
		for i, f := range fs {
			figs[i] = addFigures(figs[i], f)
		}
	}
	if err := d.countPeopleOnce(ctx, scopes, quarters, figs); err != nil {
		return indicators{}, err
	}
	out := indicators{Quarters: quarters}
	for i, q := range quarters {
		out.Labels = append(out.Labels, d.quarterLabel(lang, q))
		out.NoData = append(out.NoData, figs[i].Visits == 0 && figs[i].GuidedInQuarter == 0)
	}
	row := func(key, label string, v func(calendar.Figures) int) {
		r := indicatorRow{Key: key, Label: label}
		for _, f := range figs {
			x := v(f)
			r.Values = append(r.Values, x)
			r.Max = max(r.Max, x)
		}
		out.Rows = append(out.Rows, r)
	}
	t := d.cfg.Texts
	row("guided", t.T(lang, "web.ind.guided", nil), func(f calendar.Figures) int { return f.GuidedInQuarter })
	row("visits", t.T(lang, "web.ind.visits", nil), func(f calendar.Figures) int { return f.Visits })
	row("hours", t.T(lang, "web.ind.hours", nil), func(f calendar.Figures) int { return (f.Minutes + 30) / 60 })
	row("active", t.T(lang, "web.ind.active", nil), func(f calendar.Figures) int { return f.ActiveMembers })
	for _, a := range cnsbot.Areas {
		label := t.T(lang, "web.ind.people", map[string]any{"Area": t.T(lang, "web.area."+a, nil)})
		row("people:"+a, label, func(f calendar.Figures) int { return f.People[a] })
	}
	return out, nil
}

// quarterLabel renders "2026Q4" in words.
func (d *Dashboard) quarterLabel(lang, q string) string { return quarterLabel(d.cfg.Texts, lang, q) }

// countPeopleOnce sets the members and active members of an officer's
// several communes to their distinct people: adding the communes' figures
// counts twice someone on a team of two of them. One scope (a commune, or
// the province) already counts each person once, and is left as it is.
func (d *Dashboard) countPeopleOnce(ctx context.Context, scopes []int64, quarters []string, figs []calendar.Figures) error {
	if len(scopes) < 2 {
		return nil
	}
	people, err := d.cfg.Store.CommunesPeople(ctx, scopes, quarters, d.cfg.Location)
	if err != nil {
		return err
	}
	for i, p := range people {
		figs[i].Members, figs[i].ActiveMembers = p.Members, p.ActiveMembers
	}
	return nil
}

// addFigures adds b's figures to a's. Members and ActiveMembers add up
// only across disjoint teams: countPeopleOnce sets them over communes.
func addFigures(a, b calendar.Figures) calendar.Figures {
	a.Teams += b.Teams
	a.Households += b.Households
	a.GuidedInQuarter += b.GuidedInQuarter
	a.GuidedToDate += b.GuidedToDate
	a.Members += b.Members
	a.ActiveMembers += b.ActiveMembers
	a.Visits += b.Visits
	a.Minutes += b.Minutes
	if a.People == nil {
		a.People = map[string]int{}
	}
	for k, v := range b.People {
		a.People[k] += v
	}
	return a
}

// helpItem is a help request as the dashboard shows it.
type helpItem struct {
	store.HelpRow
	Phone string        `json:"phone,omitempty"`
	Age   time.Duration `json:"-"`
	Hours int           `json:"age_hours"`
	Stale bool          `json:"stale"`
	// OutcomeText is the outcome in the reader's language (see
	// outcomeText); the API sets it, Outcome stays the stored code.
	OutcomeText string `json:"outcome_text,omitempty"`
	// PreferredTimeText is the preferred time in the reader's language,
	// likewise.
	PreferredTimeText string `json:"preferred_time_text,omitempty"`
}

// outcomeText shows a closed request's outcome in a language: a code
// (cnsbot.Outcomes) by its words, typed words as the member wrote them.
func outcomeText(texts Texts, lang, outcome string) string {
	if slices.Contains(cnsbot.Outcomes, outcome) {
		return texts.T(lang, "team.outcome."+outcome, nil)
	}
	return outcome
}

// preferredTimeText shows a request's preferred time in a language: a
// code (cnsbot.PreferredTimes) in its words, anything else as typed.
func preferredTimeText(texts Texts, lang, stored string) string {
	if slices.Contains(cnsbot.PreferredTimes, stored) {
		return texts.T(lang, "resident.time."+stored, nil)
	}
	return stored
}

// waitItem is a resident who asked for a person and has had no answer
// yet ("Cần người trả lời").
type waitItem struct {
	Code  string `json:"code"`
	Place string `json:"place"`
	// Recent is what they wrote before asking.
	Recent    string        `json:"recent,omitempty"`
	Age       time.Duration `json:"-"`
	Minutes   int           `json:"waited_minutes"`
	Escalated bool          `json:"escalated"`
}

// helpList is the help requests of a scope, with counts by state.
type helpList struct {
	// Waiting are the residents waiting for a person to answer them in
	// the chat, longest first.
	Waiting []waitItem `json:"waiting"`
	Items   []helpItem `json:"items"`
	Open    int        `json:"open"`
	Taken   int        `json:"taken"`
	Closed  int        `json:"closed"`
	Stale   int        `json:"stale"`
}

// Active is the requests someone still has to answer: open or taken.
func (l helpList) Active() []helpItem {
	return slices.DeleteFunc(slices.Clone(l.Items), func(it helpItem) bool { return it.finished() })
}

// Finished is the requests closed or cancelled, which the pages list
// apart, below the ones still waiting.
func (l helpList) Finished() []helpItem {
	return slices.DeleteFunc(slices.Clone(l.Items), func(it helpItem) bool { return !it.finished() })
}

func (it helpItem) finished() bool {
	return it.Status == cnsbot.HelpClosed || it.Status == cnsbot.HelpCancelled
}

func (d *Dashboard) helpList(ctx context.Context, p principal, communeID int64, statuses []string, limit int) (helpList, error) {
	scopes, err := p.scopes(communeID)
	if err != nil {
		return helpList{}, err
	}
	now := d.cfg.Now()
	var out helpList
	for _, s := range scopes {
		rows, err := d.cfg.Store.HelpRequests(ctx, store.HelpFilter{CommuneID: s, Statuses: statuses, Limit: limit})
		if err != nil {
			return helpList{}, err
		}
		for _, r := range rows {
			// Names as names are written, whatever the resident typed,
			// and the number as Vietnamese write it, its middle hidden.
			it := helpItem{HelpRow: r, Phone: vn.ShowPhone(r.Phone)}
			it.Name = vn.NameCase(r.Name)
			end := now
			if r.ClosedAt != nil {
				end = *r.ClosedAt
			}
			it.Age = max(0, end.Sub(r.CreatedAt))
			it.Hours = int(it.Age / time.Hour)
			it.Stale = r.Status == cnsbot.HelpOpen && it.Age > staleAfter
			switch r.Status {
			case cnsbot.HelpOpen:
				out.Open++
			case cnsbot.HelpTaken:
				out.Taken++
			case cnsbot.HelpClosed:
				out.Closed++
			}
			if it.Stale {
				out.Stale++
			}
			out.Items = append(out.Items, it)
		}
	}
	if out.Waiting, err = d.waiting(ctx, scopes); err != nil {
		return helpList{}, err
	}
	// The ones waiting too long first, then the newest.
	slices.SortStableFunc(out.Items, func(a, b helpItem) int {
		if a.Stale != b.Stale {
			if a.Stale {
				return -1
			}
			return 1
		}
		return b.CreatedAt.Compare(a.CreatedAt)
	})
	return out, nil
}

// waiting lists the residents of the scopes (0: everywhere) who asked for
// a person and are still waiting for a first answer, longest first.
func (d *Dashboard) waiting(ctx context.Context, scopes []int64) ([]waitItem, error) {
	var communes []int64
	if !slices.Contains(scopes, 0) {
		communes = append([]int64{}, scopes...)
	}
	hs, err := d.cfg.Store.WaitingHandoffs(ctx, communes)
	if err != nil {
		return nil, err
	}
	now := d.cfg.Now()
	names := map[int64]string{}
	name := func(id int64) string {
		if id == 0 {
			return ""
		}
		if n, ok := names[id]; ok {
			return n
		}
		u, err := d.cfg.Store.Unit(ctx, id)
		if err != nil {
			return ""
		}
		names[id] = u.Name
		return u.Name
	}
	out := make([]waitItem, 0, len(hs))
	for _, h := range hs {
		var place []string
		for _, id := range []int64{h.HamletID, h.CommuneID} {
			if n := name(id); n != "" {
				place = append(place, n)
			}
		}
		age := max(0, now.Sub(h.CreatedAt))
		out = append(out, waitItem{Code: h.Code, Place: strings.Join(place, ", "), Recent: h.Recent, Age: age,
			Minutes: int(age / time.Minute), Escalated: h.EscalatedAt != nil})
	}
	return out, nil
}

func (d *Dashboard) visitList(ctx context.Context, p principal, communeID int64, limit int) ([]store.VisitRow, error) {
	scopes, err := p.scopes(communeID)
	if err != nil {
		return nil, err
	}
	var out []store.VisitRow
	for _, s := range scopes {
		rows, err := d.cfg.Store.RecentVisits(ctx, s, limit)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	slices.SortStableFunc(out, func(a, b store.VisitRow) int { return b.VisitedAt.Compare(a.VisitedAt) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// deadlineView is one deadline of a quarter with who has reported.
type deadlineView struct {
	Key       string         `json:"key"`
	Quarter   string         `json:"quarter"`
	From      calendar.Level `json:"from"`
	To        calendar.Level `json:"to"`
	Before    time.Time      `json:"before"`
	LastDay   time.Time      `json:"last_day"`
	Passed    bool           `json:"passed"`
	DaysLeft  int            `json:"days_left"`
	Reporters []reporterView `json:"reporters"`
	Submitted int            `json:"submitted"`
	Late      int            `json:"late"`
	Problems  []problemView  `json:"undelivered"`
	// Total counts the reporters, and More those a page leaves out of
	// Reporters (trimReporters); both are for pages only.
	Total int `json:"-"`
	More  int `json:"-"`
}

type reporterView struct {
	Name        string     `json:"name"`
	People      []string   `json:"people"`
	CommuneID   int64      `json:"commune_id,omitempty"`
	SubmittedAt *time.Time `json:"submitted_at,omitempty"`
	Late        bool       `json:"late"`
}

// problemView is a reminder that did not reach its person.
type problemView struct {
	Person   string    `json:"person"`
	Reporter string    `json:"reporter,omitempty"`
	Offset   string    `json:"offset"`
	State    string    `json:"state"`
	Reason   string    `json:"reason"`
	At       time.Time `json:"at"`
}

// problemStates are the reminder states officers must see.
var problemStates = []string{calendar.StateUndeliverable, calendar.StateFallback, calendar.StateDroppedLate}

func (d *Dashboard) deadlines(ctx context.Context, p principal, communeID int64, quarter string) ([]deadlineView, error) {
	if communeID != 0 && !p.sees(communeID) {
		return nil, errForbidden
	}
	sv, err := d.cfg.Store.StoredSchedule(ctx)
	if err != nil {
		return nil, err
	}
	now := d.cfg.Now()
	responsible := map[calendar.Level][]calendar.Responsible{}
	var out []deadlineView
	for _, dl := range sv.Schedule.QuarterDeadlines(quarter, d.cfg.Location) {
		rs, ok := responsible[dl.From]
		if !ok {
			if rs, err = d.cfg.Store.ResponsibleFor(ctx, dl.From); err != nil {
				return nil, err
			}
			responsible[dl.From] = rs
		}
		subs, err := d.cfg.Store.Submissions(ctx, dl.Key())
		if err != nil {
			return nil, err
		}
		recs, err := d.cfg.Store.Reminders(ctx, dl.Key())
		if err != nil {
			return nil, err
		}
		dv := deadlineView{Key: dl.Key(), Quarter: dl.Quarter, From: dl.From, To: dl.To, Before: dl.Before,
			LastDay: dl.LastDay(), Passed: !now.Before(dl.Before)}
		dv.DaysLeft = dl.DaysLeft(now)
		submitted := map[string]time.Time{}
		for _, s := range subs {
			submitted[s.ReporterKey()] = s.SubmittedAt
		}
		byKey := map[string]int{}
		persons := map[int64]calendar.Responsible{}
		for _, r := range rs {
			commune := r.UnitID
			if dl.From == calendar.LevelTeam {
				commune = r.ParentUnitID
			}
			visible := p.sees(commune) && (communeID == 0 || commune == communeID)
			if dl.From != calendar.LevelTeam && dl.From != calendar.LevelCommune {
				// Reports above the commune are the province's business.
				visible = p.all() && communeID == 0
				commune = 0
			}
			if !visible {
				continue
			}
			persons[r.PersonID] = r
			i, ok := byKey[r.ReporterKey()]
			if !ok {
				i = len(dv.Reporters)
				byKey[r.ReporterKey()] = i
				rv := reporterView{Name: r.ReporterName, CommuneID: commune}
				if at, ok := submitted[r.ReporterKey()]; ok {
					rv.SubmittedAt = &at
				} else {
					rv.Late = dv.Passed
				}
				dv.Reporters = append(dv.Reporters, rv)
			}
			dv.Reporters[i].People = append(dv.Reporters[i].People, r.Name)
		}
		for _, r := range dv.Reporters {
			if r.SubmittedAt != nil {
				dv.Submitted++
			}
			if r.Late {
				dv.Late++
			}
		}
		for _, rec := range recs {
			who, ok := persons[rec.PersonID]
			if !ok || !slices.Contains(problemStates, rec.State) || rec.Reason == calendar.ReasonSuperseded {
				continue
			}
			dv.Problems = append(dv.Problems, problemView{Person: who.Name, Reporter: who.ReporterName, Offset: rec.Offset,
				State: rec.State, Reason: rec.Reason, At: rec.UpdatedAt})
		}
		// A commune's view leaves out the steps above it, which it has no
		// part in; the whole province's view keeps every step.
		if len(dv.Reporters) == 0 && (communeID != 0 || !p.all()) {
			continue
		}
		out = append(out, dv)
	}
	return out, nil
}

func (d *Dashboard) undelivered(ctx context.Context, p principal, communeID int64, limit int) ([]store.Undelivered, error) {
	scopes, err := p.scopes(communeID)
	if err != nil {
		return nil, err
	}
	var out []store.Undelivered
	for _, s := range scopes {
		rows, err := d.cfg.Store.UndeliveredMessages(ctx, s, limit)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	slices.SortStableFunc(out, func(a, b store.Undelivered) int { return b.At.Compare(a.At) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// communeParam reads an optional commune id from the query.
func communeParam(c *gin.Context, name string) (int64, error) {
	v := c.Query(name)
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, cnsbot.Errorf(cnsbot.EINVALID, "%s must be a unit id", name)
	}
	return id, nil
}

// quarterParam reads an optional quarter from the query; the default is
// the current one.
func (d *Dashboard) quarterParam(c *gin.Context) (string, error) {
	q := c.Query("quarter")
	if q == "" {
		return calendar.Quarter(d.cfg.Now().In(d.cfg.Location)), nil
	}
	y, n, err := calendar.ParseQuarter(q)
	if err != nil {
		return "", cnsbot.Errorf(cnsbot.EINVALID, "%s", err.Error())
	}
	return fmt.Sprintf("%dQ%d", y, n), nil
}

// overviewData is the overview page.
type overviewData struct {
	Progress   progress
	Indicators indicators
	Help       helpList
	Deadlines  []deadlineView
	// Guides is how residents rated the chat's guides, province-wide:
	// ratings keep no one's identity, so every officer may see them.
	Guides []store.GuideScore
}

func (d *Dashboard) overview(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	p := principalOf(c)
	lang := pageLang(c, d.cfg.Texts)
	var data overviewData
	var err error
	if data.Progress, err = d.progress(ctx, p, 0); err != nil {
		d.fail(c, err)
		return
	}
	if data.Indicators, err = d.indicators(ctx, p, 0, lang); err != nil {
		d.fail(c, err)
		return
	}
	if data.Help, err = d.helpList(ctx, p, 0, []string{cnsbot.HelpOpen, cnsbot.HelpTaken}, 200); err != nil {
		d.fail(c, err)
		return
	}
	if data.Deadlines, err = d.deadlines(ctx, p, 0, calendar.Quarter(d.cfg.Now().In(d.cfg.Location))); err != nil {
		d.fail(c, err)
		return
	}
	data.Deadlines = trimReporters(data.Deadlines)
	if data.Guides, err = d.cfg.Store.GuideScores(ctx); err != nil {
		d.fail(c, err)
		return
	}
	title := d.cfg.Texts.T(lang, "web.overview.title", nil)
	d.show(c, http.StatusOK, "overview", d.page(c, "overview", title, data))
}

// communeData is a commune's page.
type communeData struct {
	Commune    bar
	Indicators indicators
	Help       helpList
	Visits     []store.VisitRow
	Deadlines  []deadlineView
	Quarter    string
	// Hours are the commune's teams below the plan's hours this week
	// (see teamHours); nil when the store does not count them.
	Hours *teamHoursView
	// Areas are the hamlets' households guided per area of the plan (see
	// areaProgress); nil when the store does not count them.
	Areas *areasView
}

func (d *Dashboard) commune(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	p := principalOf(c)
	lang := pageLang(c, d.cfg.Texts)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		d.fail(c, cnsbot.Errorf(cnsbot.ENOTFOUND, "commune %q", c.Param("id")))
		return
	}
	if !p.sees(id) {
		d.fail(c, errForbidden)
		return
	}
	u, err := d.cfg.Store.Unit(ctx, id)
	if err == nil && u.Kind != cnsbot.UnitCommune {
		err = cnsbot.Errorf(cnsbot.ENOTFOUND, "commune %d", id)
	}
	if err != nil {
		d.fail(c, err)
		return
	}
	var data communeData
	pr, err := d.progress(ctx, p, id)
	if err != nil {
		d.fail(c, err)
		return
	}
	data.Commune = bar{ID: u.ID, Name: u.Name}
	if len(pr.Communes) == 1 {
		data.Commune = pr.Communes[0]
	}
	data.Quarter = calendar.Quarter(d.cfg.Now().In(d.cfg.Location))
	if data.Indicators, err = d.indicators(ctx, p, id, lang); err == nil {
		if data.Help, err = d.helpList(ctx, p, id, nil, 50); err == nil {
			if data.Visits, err = d.visitList(ctx, p, id, 15); err == nil {
				data.Deadlines, err = d.deadlines(ctx, p, id, data.Quarter)
				data.Deadlines = trimReporters(data.Deadlines)
			}
			if err == nil {
				data.Hours, err = d.teamHours(ctx, id)
			}
			if err == nil {
				data.Areas, err = d.areaProgress(ctx, id)
			}
		}
	}
	if err != nil {
		d.fail(c, err)
		return
	}
	d.show(c, http.StatusOK, "commune", d.page(c, "commune", u.Name, data))
}

func (d *Dashboard) help(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	lang := pageLang(c, d.cfg.Texts)
	communeID, err := communeParam(c, "commune")
	if err != nil {
		d.fail(c, err)
		return
	}
	list, err := d.helpList(ctx, principalOf(c), communeID, nil, 200)
	if err != nil {
		d.fail(c, err)
		return
	}
	d.show(c, http.StatusOK, "help", d.page(c, "help", d.cfg.Texts.T(lang, "web.help.title", nil), list))
}

// calendarData is the calendar page.
type calendarData struct {
	Quarter, Prev, Next                string
	QuarterLabel, PrevLabel, NextLabel string
	Schedule                           string
	Deadlines                          []deadlineView
	Undelivered                        []store.Undelivered
	// Problems counts the reminders above that did not reach their
	// person, so that the page never says every message arrived below them.
	Problems int
}

func (d *Dashboard) calendarPage(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	p := principalOf(c)
	lang := pageLang(c, d.cfg.Texts)
	q, err := d.quarterParam(c)
	if err != nil {
		d.fail(c, err)
		return
	}
	communeID, err := communeParam(c, "commune")
	if err != nil {
		d.fail(c, err)
		return
	}
	data := calendarData{Quarter: q}
	start, _, _ := calendar.QuarterBounds(q, d.cfg.Location)
	data.Prev, data.Next = calendar.Quarter(start.AddDate(0, -3, 0)), calendar.Quarter(start.AddDate(0, 3, 0))
	data.QuarterLabel, data.PrevLabel, data.NextLabel = d.quarterLabel(lang, q), d.quarterLabel(lang, data.Prev), d.quarterLabel(lang, data.Next)
	sv, err := d.cfg.Store.StoredSchedule(ctx)
	if err != nil {
		d.fail(c, err)
		return
	}
	data.Schedule = scheduleText(d.cfg.Texts, lang, sv.Schedule.Name)
	if data.Deadlines, err = d.deadlines(ctx, p, communeID, q); err == nil {
		data.Undelivered, err = d.undelivered(ctx, p, communeID, 30)
	}
	data.Deadlines = trimReporters(data.Deadlines)
	for _, dv := range data.Deadlines {
		data.Problems += len(dv.Problems)
	}
	if err != nil {
		d.fail(c, err)
		return
	}
	d.show(c, http.StatusOK, "calendar", d.page(c, "calendar", d.cfg.Texts.T(lang, "web.calendar.title", nil), data))
}

func (d *Dashboard) visits(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	lang := pageLang(c, d.cfg.Texts)
	communeID, err := communeParam(c, "commune")
	if err != nil {
		d.fail(c, err)
		return
	}
	rows, err := d.visitList(ctx, principalOf(c), communeID, 100)
	if err != nil {
		d.fail(c, err)
		return
	}
	d.show(c, http.StatusOK, "visits", d.page(c, "visits", d.cfg.Texts.T(lang, "web.visits.title", nil), rows))
}

// export sends the quarterly report as a file: the page's export buttons
// and GET /admin/api/report.
func (d *Dashboard) export(c *gin.Context) {
	api := strings.HasPrefix(c.FullPath(), "/admin/api/")
	failWith := func(err error) {
		if api {
			apiError(c, d.log, err)
			return
		}
		d.fail(c, err)
	}
	if d.cfg.Export == nil {
		failWith(cnsbot.Errorf(cnsbot.EUNAVAILABLE, "the report is not available"))
		return
	}
	ctx, cancel := withTimeout(c)
	defer cancel()
	p := principalOf(c)
	q, err := d.quarterParam(c)
	if err != nil {
		failWith(err)
		return
	}
	lang := pageLang(c, d.cfg.Texts)
	format := c.DefaultQuery("format", "xlsx")
	if format != "xlsx" && format != "csv" {
		failWith(cnsbot.Errorf(cnsbot.EINVALID, "format must be xlsx or csv"))
		return
	}
	written := format
	if format == "csv" {
		// sep=semicolon (with decimal commas) or sep=comma; a Vietnamese
		// reader gets the semicolons by default, which their Excel opens
		// in columns.
		sep := c.Query("sep")
		if sep == "" {
			sep = "comma"
			if lang == "vi" {
				sep = "semicolon"
			}
		}
		switch sep {
		case "comma":
			written = ExportCSV
		case "semicolon":
			written = ExportCSVVietnamese
		default:
			failWith(cnsbot.Errorf(cnsbot.EINVALID, "sep must be comma or semicolon"))
			return
		}
	}
	communeID, err := communeParam(c, "commune")
	if err != nil {
		failWith(err)
		return
	}
	if communeID == 0 && !p.all() {
		if len(p.Officer.CommuneIDs) != 1 {
			failWith(cnsbot.Errorf(cnsbot.EINVALID, "choose a commune"))
			return
		}
		communeID = p.Officer.CommuneIDs[0]
	}
	if communeID != 0 && !p.sees(communeID) {
		failWith(errForbidden)
		return
	}
	var commune string
	if communeID != 0 {
		u, err := d.cfg.Store.Unit(ctx, communeID)
		if err != nil {
			failWith(err)
			return
		}
		commune = u.Name
	}
	var buf bytes.Buffer
	if err := d.cfg.Export(ctx, &buf, q, commune, written, lang); err != nil {
		failWith(err)
		return
	}
	name := "bao-cao-" + q
	if commune != "" {
		name += "-" + strings.ReplaceAll(vn.Fold(commune), " ", "-")
	}
	name += "." + format
	ctype := "text/csv; charset=utf-8"
	if format == "xlsx" {
		ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	c.Header("Content-Disposition", `attachment; filename="`+name+`"; filename*=UTF-8''`+url.PathEscape(name))
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, ctype, buf.Bytes())
}
