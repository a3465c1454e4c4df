// Package web is the service's own web pages: the chat simulator that lets
// anyone try the bot without a Zalo account, and the officers' dashboard
// with its JSON admin API.
//
// It is a top-level package because it is a new kind of thing, an HTML
// user interface, with its templates and assets embedded in the binary
// (no front-end build step). It depends on the store's read models and the
// calendar, never the other way round. Every sentence a page shows comes
// from locales/web.*.toml.
package web

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// StaticPath is where the embedded CSS and scripts are served.
const StaticPath = "/static"

// Texts renders page text; *locales.Bundle has it.
type Texts interface {
	T(lang, id string, data map[string]any) string
	TN(lang, id string, count int, data map[string]any) string
	Lang(lang string) string
}

// Clock is the server's clock. The simulator moves it to show what happens
// before a deadline; everything that schedules (the conversation engine,
// the reminder pass, the sender's quiet hours) reads it.
type Clock interface {
	Now() time.Time
	SetOffset(d time.Duration)
}

// RegisterStatic serves the embedded assets under StaticPath. They hold
// nothing secret, so they need no sign-in.
func RegisterStatic(r gin.IRouter) {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic("web: embedded static files: " + err.Error())
	}
	h := http.StripPrefix(StaticPath, http.FileServer(http.FS(sub)))
	r.GET(StaticPath+"/*file", func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(c.Writer, c.Request)
	})
}

// langCookie remembers the language a visitor chose.
const langCookie = "cnsbot_lang"

// pageLang returns the language of a page: ?lang= (remembered in a
// cookie), else the cookie, else Vietnamese.
func pageLang(c *gin.Context, texts Texts) string {
	if q := c.Query("lang"); q != "" {
		lang := texts.Lang(q)
		http.SetCookie(c.Writer, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secureRequest(c.Request)})
		return lang
	}
	if v, err := c.Cookie(langCookie); err == nil {
		return texts.Lang(v)
	}
	return texts.Lang("")
}

// secureRequest reports whether the request came over TLS, directly or
// through a proxy that says so.
func secureRequest(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// statusOf maps the error vocabulary to HTTP statuses, once for the
// dashboard and the API.
func statusOf(err error) int {
	switch cnsbot.ErrorCode(err) {
	case cnsbot.EINVALID:
		return http.StatusBadRequest
	case cnsbot.ENOTFOUND:
		return http.StatusNotFound
	case cnsbot.ECONFLICT:
		return http.StatusConflict
	case cnsbot.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case cnsbot.EFORBIDDEN:
		return http.StatusForbidden
	case cnsbot.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case cnsbot.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// errForbidden is an authenticated request for something outside the
// caller's scope.
var errForbidden = cnsbot.Errorf(cnsbot.EFORBIDDEN, "outside your commune")

// apiError answers a JSON error. Internal errors are logged and answered
// without their detail.
func apiError(c *gin.Context, log *slog.Logger, err error) {
	status := statusOf(err)
	msg := cnsbot.ErrorMessage(err)
	if status == http.StatusInternalServerError {
		log.Error("admin request failed", "path", c.FullPath(), "err", err)
		msg = "internal error"
	}
	c.AbortWithStatusJSON(status, gin.H{"error": msg})
}

// funcs are the template functions; t and tn render locale messages.
func funcs(texts Texts, loc *time.Location) template.FuncMap {
	return template.FuncMap{
		"t": func(lang, id string, kv ...any) string { return texts.T(lang, id, dict(kv)) },
		"tn": func(lang, id string, n int, kv ...any) string {
			return texts.TN(lang, id, n, dict(kv))
		},
		// daysleft is calendar's wording, the same as the chat's reminders.
		"daysleft": func(lang string, n int) string { return calendar.DaysLeftText(texts, lang, n) },
		"pct":      func(lang string, v float64) string { return number(lang, v) + "%" },
		"num":      func(lang string, v float64) string { return number(lang, v) },
		// bar is a bar's width in percent, at most 100.
		"bar":  func(v float64) string { return strconv.FormatFloat(math.Min(100, math.Max(0, v)), 'f', 1, 64) },
		"date": func(t time.Time) string { return t.In(loc).Format("02/01/2006") },
		"datetime": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(loc).Format("02/01/2006 15:04")
		},
		"deref": func(t *time.Time) time.Time {
			if t == nil {
				return time.Time{}
			}
			return *t
		},
		"age":  func(lang string, d time.Duration) string { return age(texts, lang, d) },
		"add":  func(a, b int) int { return a + b },
		"args": func(kv ...any) map[string]any { return dict(kv) },
		"splitAreas": func(s string) []string {
			var out []string
			for a := range strings.SplitSeq(s, ",") {
				if a = strings.TrimSpace(a); a != "" {
					out = append(out, a)
				}
			}
			return out
		},
		// area names a visit area or help topic; an unknown one shows as stored.
		// guideImage is the address of a guide's stored picture.
		"guideImage": func(sha string) string { return GuideImagePath + sha },
		"area": func(lang, a string) string {
			if s := texts.T(lang, "web.area."+a, nil); s != "web.area."+a {
				return s
			}
			return a
		},
		// outcome shows a closed request's outcome: a code (cnsbot.Outcomes)
		// in the page's language, typed words as the member wrote them.
		"outcome": func(lang, o string) string { return outcomeText(texts, lang, o) },
		// label renders prefix+key, or the key itself when it has no message.
		"label": func(lang, prefix, key string) string {
			if s := texts.T(lang, prefix+key, nil); s != prefix+key {
				return s
			}
			return key
		},
		"quarter": func(lang, q string) string { return quarterLabel(texts, lang, q) },
		// reason explains why a message did not reach its person.
		"reason": func(lang, r string) string { return reasonText(texts, lang, r) },
		// recipient names a recipient the roster does not know.
		"recipient": func(lang, r string) string { return recipientText(texts, lang, r) },
		// offset names a reminder: "7 days before", "overdue notice", ….
		"offset": func(lang, o string) string {
			if n, err := strconv.Atoi(o); err == nil {
				return texts.TN(lang, "web.offset.days", n, nil)
			}
			if s := texts.T(lang, "web.offset."+o, nil); s != "web.offset."+o {
				return s
			}
			return o
		},
	}
}

// reminderReasons are the sentences the reminder pass records for people
// it cannot reach, and the messages that say them in the page's language.
// The sender records slugs instead ("outside_window"), found as
// web.reason.<slug>; anything else shows as recorded.
var reminderReasons = map[string]string{
	calendar.ReasonDeadlinePassed:                        "web.reason.deadline_passed",
	calendar.ReasonOverduePassed:                         "web.reason.overdue_passed",
	"no Zalo account linked: posted to the team's group": "web.reason.no_zalo_group",
	"no Zalo account linked and no team group":           "web.reason.no_zalo",
}

func reasonText(texts Texts, lang, r string) string {
	id, ok := reminderReasons[r]
	if !ok {
		id = "web.reason." + r
	}
	if s := texts.T(lang, id, nil); s != id {
		return s
	}
	// A sentence no message words (an older version's, or a new sender's)
	// is internal English: the reader gets a plain "other reason" in
	// their language, and the log keeps the detail.
	return texts.T(lang, "web.reason.unknown", nil)
}

// recipientText names a message's recipient that the roster does not
// know, rather than showing a raw Zalo id ("u:8100…", "g:…").
func recipientText(texts Texts, lang, r string) string {
	if strings.HasPrefix(r, "g:") {
		return texts.T(lang, "web.delivery.unknown_group", nil)
	}
	return texts.T(lang, "web.delivery.unknown_person", nil)
}

// scheduleText names a reporting schedule: the presets in words, an
// administrator's own schedule by the name they gave it.
func scheduleText(texts Texts, lang, name string) string {
	if s := texts.T(lang, "web.schedule."+name, nil); s != "web.schedule."+name {
		return s
	}
	return name
}

// quarterLabel renders a quarter ("2026Q4") in words: "Quý 4/2026".
func quarterLabel(texts Texts, lang, q string) string {
	y, n, err := calendar.ParseQuarter(q)
	if err != nil {
		return q
	}
	return texts.T(lang, "web.quarter", map[string]any{"N": n, "Year": y})
}

// dict turns template arguments "Key", value, … into a map.
func dict(kv []any) map[string]any {
	if len(kv) == 0 {
		return nil
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok {
			m[k] = kv[i+1]
		}
	}
	return m
}

// number formats v with at most one decimal and the language's decimal mark.
func number(lang string, v float64) string {
	s := strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
	if lang != "en" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// age renders a duration the way people say it: minutes, hours or days.
func age(texts Texts, lang string, d time.Duration) string {
	switch {
	case d < time.Hour:
		return texts.TN(lang, "web.age.minutes", max(0, int(d/time.Minute)), nil)
	case d < 48*time.Hour:
		return texts.TN(lang, "web.age.hours", int(d/time.Hour), nil)
	default:
		return texts.TN(lang, "web.age.days", int(d/(24*time.Hour)), nil)
	}
}

// parseTemplates parses the layout with each page into its own set, so
// that every page can define the layout's blocks.
func parseTemplates(texts Texts, loc *time.Location, pages ...string) (map[string]*template.Template, error) {
	base, err := template.New("").Funcs(funcs(texts, loc)).ParseFS(templateFiles, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	out := make(map[string]*template.Template, len(pages))
	for _, p := range pages {
		t, err := template.Must(base.Clone()).ParseFS(templateFiles, "templates/"+p+".html")
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", p, err)
		}
		out[p] = t
	}
	return out, nil
}

// render writes a page, or a plain error when the template fails (a bug:
// the tests render every page).
func render(c *gin.Context, log *slog.Logger, t *template.Template, status int, data any) {
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", data); err != nil {
		log.Error("render page", "path", c.FullPath(), "err", err)
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	c.Header("Content-Security-Policy", "default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Referrer-Policy", "same-origin")
	c.Data(status, "text/html; charset=utf-8", []byte(b.String()))
}

// withTimeout bounds the database work of one request.
func withTimeout(c *gin.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request.Context(), 15*time.Second)
}
