package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store"
)

// OfficerTokens issues, lists and revokes officers' dashboard tokens;
// *store.DB has it.
type OfficerTokens interface {
	IssueOfficerToken(ctx context.Context, personID int64, ttl time.Duration) (store.IssuedToken, error)
	OfficerTokens(ctx context.Context, now time.Time) ([]store.OfficerTokenRow, error)
	OfficerCandidates(ctx context.Context) ([]store.OfficerCandidate, error)
	RevokeOfficerToken(ctx context.Context, id int64) error
}

// defaultTokenDays is the life of a token whose creator did not say.
const defaultTokenDays = int(store.DefaultOfficerTokenTTL / (24 * time.Hour))

// officersData is the administrator's page of officer tokens.
type officersData struct {
	Tokens     []store.OfficerTokenRow
	Candidates []store.OfficerCandidate
	Days       int
	MaxDays    int
	// New is the token just created, shown this once.
	New *store.IssuedToken
	// Ended is how many sessions "sign out everywhere" ended.
	Ended int64
}

func (d *Dashboard) officersData(ctx context.Context) (officersData, error) {
	data := officersData{Days: defaultTokenDays, MaxDays: int(store.MaxOfficerTokenTTL / (24 * time.Hour))}
	var err error
	if data.Tokens, err = d.cfg.Store.OfficerTokens(ctx, time.Now()); err != nil {
		return data, err
	}
	data.Candidates, err = d.cfg.Store.OfficerCandidates(ctx)
	return data, err
}

func (d *Dashboard) showOfficers(c *gin.Context, status int, data officersData, errMsg string) {
	lang := pageLang(c, d.cfg.Texts)
	pd := d.page(c, "officers", d.cfg.Texts.T(lang, "web.officers.title", nil), data)
	pd.Error = errMsg
	d.show(c, status, "officers", pd)
}

func (d *Dashboard) officersPage(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	data, err := d.officersData(ctx)
	if err != nil {
		d.fail(c, err)
		return
	}
	d.showOfficers(c, http.StatusOK, data, "")
}

// tokenTTL turns a number of days (empty: the default) into a token's
// life.
func tokenTTL(days string) (time.Duration, error) {
	if days == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(days)
	if err != nil || n < 1 || time.Duration(n)*24*time.Hour > store.MaxOfficerTokenTTL {
		return 0, cnsbot.Errorf(cnsbot.EINVALID, "days must be 1 to %d", int(store.MaxOfficerTokenTTL/(24*time.Hour)))
	}
	return time.Duration(n) * 24 * time.Hour, nil
}

// createTokenPage issues a token from the page's form and shows it once.
func (d *Dashboard) createTokenPage(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	lang := pageLang(c, d.cfg.Texts)
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxLoginBody)
	personID, perr := strconv.ParseInt(c.PostForm("person_id"), 10, 64)
	ttl, err := tokenTTL(c.PostForm("days"))
	var issued store.IssuedToken
	if err == nil && (perr != nil || personID <= 0) {
		err = cnsbot.Errorf(cnsbot.EINVALID, "person_id is required")
	}
	if err == nil {
		issued, err = d.cfg.Store.IssueOfficerToken(ctx, personID, ttl)
	}
	data, lerr := d.officersData(ctx)
	if lerr != nil {
		d.fail(c, lerr)
		return
	}
	if err != nil {
		if statusOf(err) == http.StatusInternalServerError {
			d.fail(c, err)
			return
		}
		d.showOfficers(c, statusOf(err), data, d.cfg.Texts.T(lang, "web.officers.invalid", nil))
		return
	}
	data.New = &issued
	d.showOfficers(c, http.StatusCreated, data, "")
}

func (d *Dashboard) revokeTokenPage(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		d.fail(c, cnsbot.Errorf(cnsbot.ENOTFOUND, "officer token %q", c.Param("id")))
		return
	}
	if err := d.cfg.Store.RevokeOfficerToken(ctx, id); err != nil {
		d.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/officers")
}

// endAllSessionsPage signs every browser out, the administrator's own
// included: after a lost phone or a token seen by the wrong person.
func (d *Dashboard) endAllSessionsPage(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	n, err := d.cfg.Store.EndAllSessions(ctx)
	if err != nil {
		d.fail(c, err)
		return
	}
	d.log.Info("dashboard: every session ended by the administrator", "sessions", n)
	clearSession(c)
	c.Redirect(http.StatusSeeOther, "/admin/login")
}

func (d *Dashboard) apiListTokens(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	rows, err := d.cfg.Store.OfficerTokens(ctx, time.Now())
	if err != nil {
		apiError(c, d.log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"tokens": nonNil(rows)})
}

func (d *Dashboard) apiCreateToken(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	var body struct {
		PersonID int64 `json:"person_id"`
		// Days is the token's life; 0 means the default (90 days).
		Days int `json:"days"`
	}
	if err := decodeJSON(c, &body); err != nil {
		apiError(c, d.log, err)
		return
	}
	if body.PersonID <= 0 {
		apiError(c, d.log, cnsbot.Errorf(cnsbot.EINVALID, "person_id is required"))
		return
	}
	var ttl time.Duration
	if body.Days != 0 {
		var err error
		if ttl, err = tokenTTL(strconv.Itoa(body.Days)); err != nil {
			apiError(c, d.log, err)
			return
		}
	}
	t, err := d.cfg.Store.IssueOfficerToken(ctx, body.PersonID, ttl)
	if err != nil {
		apiError(c, d.log, err)
		return
	}
	c.JSON(http.StatusCreated, t)
}

func (d *Dashboard) apiRevokeToken(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		apiError(c, d.log, cnsbot.Errorf(cnsbot.ENOTFOUND, "officer token %q", c.Param("id")))
		return
	}
	if err := d.cfg.Store.RevokeOfficerToken(ctx, id); err != nil {
		apiError(c, d.log, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (d *Dashboard) apiEndAllSessions(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	n, err := d.cfg.Store.EndAllSessions(ctx)
	if err != nil {
		apiError(c, d.log, err)
		return
	}
	d.log.Info("dashboard: every session ended by the administrator", "sessions", n)
	c.JSON(http.StatusOK, gin.H{"ended": n})
}
