package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/vn"
)

// EnrolCodes issues the one-time codes that link a roster entry to the
// Zalo account that sends the code to the OA; *store.DB has it. A Store
// without it answers the routes 501.
type EnrolCodes interface {
	PersonByID(ctx context.Context, id int64) (cnsbot.Person, []cnsbot.Role, error)
	PersonByPhone(ctx context.Context, phone string) (cnsbot.Person, []cnsbot.Role, error)
	PersonCommunes(ctx context.Context, personID int64) ([]int64, error)
	CreateEnrolCode(ctx context.Context, personID int64, by string, ttl time.Duration) (string, time.Time, error)
}

// enrolCode is an issued code, shown once.
type enrolCode struct {
	PersonID  int64     `json:"person_id"`
	Name      string    `json:"name"`
	Code      string    `json:"code"`
	ExpiresAt time.Time `json:"expires_at"`
}

// issueEnrolCode makes a code for a person within the principal's reach:
// an officer only for people whose every role is in their communes (a
// code can move a person to another Zalo account, so it is as strong as
// the person's widest role), the administrator and province officers for
// anyone.
func (d *Dashboard) issueEnrolCode(ctx context.Context, p principal, personID int64) (enrolCode, error) {
	codes, ok := d.cfg.Store.(EnrolCodes)
	if !ok {
		return enrolCode{}, cnsbot.Errorf(cnsbot.EUNAVAILABLE, "enrol codes are not available")
	}
	person, _, err := codes.PersonByID(ctx, personID)
	if err != nil {
		return enrolCode{}, err
	}
	if !p.all() {
		communes, err := codes.PersonCommunes(ctx, personID)
		if err != nil {
			return enrolCode{}, err
		}
		if len(communes) == 0 || slices.ContainsFunc(communes, func(id int64) bool { return !p.sees(id) }) {
			return enrolCode{}, errForbidden
		}
	}
	by := "admin"
	if !p.Admin {
		by = "officer token " + strconv.FormatInt(p.Officer.TokenID, 10)
	}
	code, expires, err := codes.CreateEnrolCode(ctx, personID, by, d.cfg.EnrolCodeTTL)
	if err != nil {
		return enrolCode{}, err
	}
	d.log.Info("enrol code issued", "person", personID, "by", by)
	return enrolCode{PersonID: personID, Name: person.FullName, Code: code, ExpiresAt: expires}, nil
}

// apiCreateEnrolCode is POST /admin/api/enrol-codes {"person_id": N}.
func (d *Dashboard) apiCreateEnrolCode(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	var body struct {
		PersonID int64 `json:"person_id"`
	}
	if err := decodeJSON(c, &body); err != nil {
		apiError(c, d.log, err)
		return
	}
	if body.PersonID <= 0 {
		apiError(c, d.log, cnsbot.Errorf(cnsbot.EINVALID, "person_id is required"))
		return
	}
	code, err := d.issueEnrolCode(ctx, principalOf(c), body.PersonID)
	if err != nil {
		apiError(c, d.log, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, code)
}

// createEnrolCode is the dashboard's form: the person by roster phone or
// id; the page shows the code once.
func (d *Dashboard) createEnrolCode(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	codes, ok := d.cfg.Store.(EnrolCodes)
	if !ok {
		d.fail(c, cnsbot.Errorf(cnsbot.EUNAVAILABLE, "enrol codes are not available"))
		return
	}
	who := strings.TrimSpace(c.PostForm("person"))
	var id int64
	if phone, err := vn.ParsePhone(who); err == nil {
		p, _, err := codes.PersonByPhone(ctx, phone)
		if err != nil {
			d.fail(c, err)
			return
		}
		id = p.ID
	} else if n, err := strconv.ParseInt(who, 10, 64); err == nil && n > 0 {
		id = n
	} else {
		d.fail(c, cnsbot.Errorf(cnsbot.EINVALID, "a roster phone or person id is required"))
		return
	}
	code, err := d.issueEnrolCode(ctx, principalOf(c), id)
	if err != nil {
		d.fail(c, err)
		return
	}
	lang := pageLang(c, d.cfg.Texts)
	c.Header("Cache-Control", "no-store")
	d.show(c, http.StatusOK, "enrolcode", d.page(c, "enrolcode", d.cfg.Texts.T(lang, "web.enrol.title", nil), code))
}
