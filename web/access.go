package web

import (
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/report"
	"github.com/camau-cns/cnsbot/store"
)

// AccessLog records who read or exported personal data; *store.DB has it.
type AccessLog interface {
	RecordAccess(ctx context.Context, e store.AccessEntry) (int64, error)
	SetAccessStatus(ctx context.Context, id int64, status int) error
	AccessLog(ctx context.Context, beforeID int64, limit int) ([]store.AccessRow, error)
}

// accessDetailKeys are the query parameters an access log row keeps:
// what narrows the request, never who it is about.
var accessDetailKeys = []string{"quarter", "format", "status", "limit", "before"}

// logged writes one access log row for a request that shows personal
// data (what says which: "help_requests", "report", …), before the
// handler runs, and its status after. A row that cannot be written
// refuses the request: no data leaves unrecorded.
func (d *Dashboard) logged(what string) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := principalOf(c)
		e := store.AccessEntry{At: time.Now(), Admin: p.Admin, TokenID: p.Officer.TokenID, PersonID: p.Officer.PersonID, What: what}
		if what == "commune" {
			e.CommuneID, _ = strconv.ParseInt(c.Param("id"), 10, 64)
		} else {
			e.CommuneID, _ = strconv.ParseInt(c.Query("commune"), 10, 64)
		}
		var detail []string
		for _, k := range accessDetailKeys {
			if v := c.Query(k); v != "" {
				detail = append(detail, k+"="+v)
			}
		}
		if e.Detail = strings.Join(detail, " "); len(e.Detail) > 255 {
			e.Detail = e.Detail[:255]
		}
		ctx, cancel := withTimeout(c)
		id, err := d.cfg.Store.RecordAccess(ctx, e)
		cancel()
		if err != nil {
			d.log.Error("access log: cannot record a request, refusing it", "what", what, "err", err)
			err = cnsbot.Errorf(cnsbot.EUNAVAILABLE, "the access log is unavailable")
			if strings.HasPrefix(c.FullPath(), "/admin/api/") {
				apiError(c, d.log, err)
			} else {
				d.fail(c, err)
			}
			return
		}
		c.Next()
		// The answer is written; the status is recorded even if the
		// client has gone.
		ctx, cancel = context.WithTimeout(context.WithoutCancel(c.Request.Context()), 5*time.Second)
		defer cancel()
		if err := d.cfg.Store.SetAccessStatus(ctx, id, c.Writer.Status()); err != nil {
			d.log.Warn("access log: cannot record a status", "id", id, "err", err)
		}
	}
}

// adminPage refuses officers on the administrator's pages.
func (d *Dashboard) adminPage(c *gin.Context) {
	if !principalOf(c).Admin {
		d.fail(c, errForbidden)
		return
	}
	c.Next()
}

// accessPageSize is how many rows a page of the access log shows.
const accessPageSize = 200

// accessData is the access log page.
type accessData struct {
	Rows []store.AccessRow
	// Older is the id to page back from, 0 on the last page.
	Older int64
}

func beforeParam(c *gin.Context) (int64, error) {
	v := c.Query("before")
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, cnsbot.Errorf(cnsbot.EINVALID, "before must be a row id")
	}
	return id, nil
}

func (d *Dashboard) accessPage(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	lang := pageLang(c, d.cfg.Texts)
	before, err := beforeParam(c)
	if err != nil {
		d.fail(c, err)
		return
	}
	rows, err := d.cfg.Store.AccessLog(ctx, before, accessPageSize)
	if err != nil {
		d.fail(c, err)
		return
	}
	data := accessData{Rows: rows}
	if len(rows) == accessPageSize {
		data.Older = rows[len(rows)-1].ID
	}
	d.show(c, http.StatusOK, "access", d.page(c, "access", d.cfg.Texts.T(lang, "web.access.title", nil), data))
}

// accessExportMax bounds one CSV export of the access log.
const accessExportMax = 100000

func (d *Dashboard) accessCSV(c *gin.Context) {
	rows, err := d.accessRows(c)
	if err != nil {
		d.fail(c, err)
		return
	}
	d.writeAccessCSV(c, rows)
}

func (d *Dashboard) apiAccessLog(c *gin.Context) {
	rows, err := d.accessRows(c)
	if err != nil {
		apiError(c, d.log, err)
		return
	}
	if c.Query("format") == "csv" {
		d.writeAccessCSV(c, rows)
		return
	}
	c.JSON(http.StatusOK, gin.H{"rows": nonNil(rows)})
}

// accessRows reads the rows an export asks for: ?limit= (default every
// row, at most accessExportMax) older than ?before=.
func (d *Dashboard) accessRows(c *gin.Context) ([]store.AccessRow, error) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	before, err := beforeParam(c)
	if err != nil {
		return nil, err
	}
	limit := accessExportMax
	if v := c.Query("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > accessExportMax {
			return nil, cnsbot.Errorf(cnsbot.EINVALID, "limit must be 1 to %d", accessExportMax)
		}
	}
	return d.cfg.Store.AccessLog(ctx, before, limit)
}

// writeAccessCSV sends the access log as CSV (UTF-8 with a byte order
// mark, for Excel), times in Vietnam's zone.
func (d *Dashboard) writeAccessCSV(c *gin.Context, rows []store.AccessRow) {
	lang := pageLang(c, d.cfg.Texts)
	t := func(id string) string { return d.cfg.Texts.T(lang, id, nil) }
	var b strings.Builder
	b.WriteString("\ufeff")
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"id", t("web.access.at"), t("web.access.who"), "token_id", "person_id", t("web.access.what"),
		"commune_id", t("web.access.commune"), t("web.access.detail"), t("web.access.status")})
	for _, r := range rows {
		who := r.Name
		if r.Admin {
			who = t("web.access.admin")
		}
		_ = w.Write(safeCells([]string{strconv.FormatInt(r.ID, 10), r.At.In(d.cfg.Location).Format(time.RFC3339), who,
			strconv.FormatInt(r.TokenID, 10), strconv.FormatInt(r.PersonID, 10), r.What, strconv.FormatInt(r.CommuneID, 10),
			r.Commune, r.Detail, strconv.Itoa(r.Status)}))
	}
	w.Flush()
	name := "nhat-ky-truy-cap-" + d.cfg.Now().In(d.cfg.Location).Format("2006-01-02") + ".csv"
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, "text/csv; charset=utf-8", []byte(b.String()))
}

// safeCells keeps spreadsheets from running a cell as a formula (names and
// query values come from people and requests): report.CSVCell on each.
func safeCells(cells []string) []string {
	for i, v := range cells {
		cells[i] = report.CSVCell(v)
	}
	return cells
}
