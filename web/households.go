package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/xuri/excelize/v2"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/vn"
)

// HouseholdLists are the hamlets' household lists; *store.DB has them. A
// Store without them answers the household routes 503.
type HouseholdLists interface {
	HamletHouseholds(ctx context.Context, hamletID int64) (n int, listed bool, err error)
	UnvisitedHouseholds(ctx context.Context, hamletID, assignedTo int64, offset, limit int) ([]cnsbot.ListedHousehold, int, error)
	ImportHouseholds(ctx context.Context, r io.Reader, filename string) (store.ImportReport, error)
}

// maxUnvisitedRows bounds the unvisited households a page or an export
// lists: a large khóm has a few thousand.
const maxUnvisitedRows = 20_000

// registerHouseholds adds the household list's pages: a hamlet's houses
// not visited yet, their XLSX for the paper round, and the upload of a
// list (the administrator's, as `cnsbot import households`).
func (d *Dashboard) registerHouseholds(pages gin.IRoutes) {
	pages.GET("/hamlets/:id/households", d.logged("households"), d.householdsPage)
	pages.GET("/hamlets/:id/households.xlsx", d.logged("households"), d.householdsXLSX)
	pages.POST("/households/import", d.adminPage, d.logged("households_import"), d.importHouseholds)
}

// householdsData is the page of a hamlet's round.
type householdsData struct {
	Hamlet     cnsbot.Unit
	CommuneID  int64
	Households int
	Listed     bool
	Unvisited  []unvisitedRow
	Total      int
	Import     *store.ImportReport
	// Problems are the refused upload's row problems in the officer's
	// language, with their codes for scripts and tests.
	Problems []importProblem
	// Refusal says why the upload was refused as a whole, when it was.
	Refusal *importProblem
}

// importProblem is one problem of an uploaded file's row as the page
// lists it.
type importProblem struct {
	Code string
	Text string
}

// importProblems renders a report's row problems in lang.
func (d *Dashboard) importProblems(lang string, rep store.ImportReport) []importProblem {
	t := func(id string, data map[string]any) string { return d.cfg.Texts.T(lang, id, data) }
	var out []importProblem
	for _, e := range rep.Errors {
		for i, text := range e.Texts(t) {
			out = append(out, importProblem{Code: e.Problems[i].Code, Text: text})
		}
	}
	return out
}

// unvisitedRow is a household as the page and the export show it: the
// phone masked.
type unvisitedRow struct {
	No      int
	Address string
	Head    string
	Phone   string
	Members int
	Note    string
}

// hamletOf loads a hamlet the principal may see.
func (d *Dashboard) hamletOf(c *gin.Context) (cnsbot.Unit, HouseholdLists, error) {
	lists, ok := d.cfg.Store.(HouseholdLists)
	if !ok {
		return cnsbot.Unit{}, nil, cnsbot.Errorf(cnsbot.EUNAVAILABLE, "household lists are not available")
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return cnsbot.Unit{}, nil, cnsbot.Errorf(cnsbot.ENOTFOUND, "hamlet %q", c.Param("id"))
	}
	ctx, cancel := withTimeout(c)
	defer cancel()
	u, err := d.cfg.Store.Unit(ctx, id)
	if err == nil && (u.Kind != cnsbot.UnitHamlet || u.ParentID == nil) {
		err = cnsbot.Errorf(cnsbot.ENOTFOUND, "hamlet %d", id)
	}
	if err != nil {
		return cnsbot.Unit{}, nil, err
	}
	if !principalOf(c).sees(*u.ParentID) {
		return cnsbot.Unit{}, nil, errForbidden
	}
	return u, lists, nil
}

func (d *Dashboard) unvisited(ctx context.Context, lists HouseholdLists, hamletID int64) ([]unvisitedRow, int, error) {
	list, total, err := lists.UnvisitedHouseholds(ctx, hamletID, 0, 0, maxUnvisitedRows)
	if err != nil {
		return nil, 0, err
	}
	rows := make([]unvisitedRow, len(list))
	for i, h := range list {
		rows[i] = unvisitedRow{No: i + 1, Address: h.Address, Head: h.Head, Members: h.Members, Note: h.Note}
		if h.Phone != "" {
			rows[i].Phone = vn.MaskPhone(h.Phone)
		}
	}
	return rows, total, nil
}

// householdsPage lists a hamlet's households not visited yet, by house
// number, with the hamlet's household count and where it comes from.
func (d *Dashboard) householdsPage(c *gin.Context) {
	u, lists, err := d.hamletOf(c)
	if err != nil {
		d.fail(c, err)
		return
	}
	ctx, cancel := withTimeout(c)
	defer cancel()
	data := householdsData{Hamlet: u, CommuneID: *u.ParentID}
	if data.Households, data.Listed, err = lists.HamletHouseholds(ctx, u.ID); err == nil {
		data.Unvisited, data.Total, err = d.unvisited(ctx, lists, u.ID)
	}
	if err != nil {
		d.fail(c, err)
		return
	}
	d.show(c, http.StatusOK, "households", d.page(c, "households", u.Name, data))
}

// householdsXLSX writes a hamlet's households not visited yet as a
// workbook, for the team's paper round.
func (d *Dashboard) householdsXLSX(c *gin.Context) {
	u, lists, err := d.hamletOf(c)
	if err != nil {
		d.fail(c, err)
		return
	}
	ctx, cancel := withTimeout(c)
	defer cancel()
	rows, _, err := d.unvisited(ctx, lists, u.ID)
	if err != nil {
		d.fail(c, err)
		return
	}
	lang := pageLang(c, d.cfg.Texts)
	t := func(id string) string { return d.cfg.Texts.T(lang, id, nil) }
	f := excelize.NewFile()
	defer f.Close()
	sheet := t("households.web.sheet")
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		d.fail(c, err)
		return
	}
	write := func(row int, values ...any) error {
		cell, err := excelize.CoordinatesToCellName(1, row)
		if err != nil {
			return err
		}
		return f.SetSheetRow(sheet, cell, &values)
	}
	err = write(1, d.cfg.Texts.T(lang, "households.web.export_title", map[string]any{"Hamlet": u.Name}))
	if err == nil {
		err = write(2, t("households.web.col.no"), t("households.web.col.address"), t("households.web.col.head"),
			t("households.web.col.phone"), t("households.web.col.members"), t("households.web.col.note"),
			t("households.web.col.visited"))
	}
	for i, r := range rows {
		if err != nil {
			break
		}
		members := any("")
		if r.Members > 0 {
			members = r.Members
		}
		// The last column is for the member's tick on paper.
		err = write(i+3, r.No, r.Address, r.Head, r.Phone, members, r.Note, "")
	}
	if err == nil {
		err = f.SetColWidth(sheet, "B", "C", 28)
	}
	if err != nil {
		d.fail(c, fmt.Errorf("write households xlsx: %w", err))
		return
	}
	name := fmt.Sprintf("chua-den-%s.xlsx", vn.Fold(u.Name))
	c.Header("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(name))
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	c.Header("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	if err := f.Write(c.Writer); err != nil {
		d.log.Error("write households xlsx", "err", err)
	}
}

// importHouseholds takes an uploaded household list, as `cnsbot import
// households` does: the whole file or nothing, each bad row with its line.
func (d *Dashboard) importHouseholds(c *gin.Context) {
	lists, ok := d.cfg.Store.(HouseholdLists)
	if !ok {
		d.fail(c, cnsbot.Errorf(cnsbot.EUNAVAILABLE, "household lists are not available"))
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, store.MaxImportBytes+1<<20)
	fh, err := c.FormFile("file")
	if err != nil {
		d.fail(c, cnsbot.Errorf(cnsbot.EINVALID, "a file is required"))
		return
	}
	file, err := fh.Open()
	if err != nil {
		d.fail(c, cnsbot.Errorf(cnsbot.EINVALID, "cannot read the file"))
		return
	}
	defer file.Close()
	ctx, cancel := withTimeout(c)
	defer cancel()
	rep, err := lists.ImportHouseholds(ctx, file, fh.Filename)
	var refusal *store.FileRefusal
	if err != nil && len(rep.Errors) == 0 && !errors.As(err, &refusal) {
		d.fail(c, err)
		return
	}
	lang := pageLang(c, d.cfg.Texts)
	data := householdsData{Import: &rep, Problems: d.importProblems(lang, rep)}
	status := http.StatusOK
	if err != nil {
		status = http.StatusUnprocessableEntity
	}
	if refusal != nil {
		data.Refusal = &importProblem{Code: refusal.Code,
			Text: d.cfg.Texts.T(lang, refusal.Code, map[string]any{"File": fh.Filename})}
	}
	d.show(c, status, "households", d.page(c, "households", d.cfg.Texts.T(lang, "households.web.import_title", nil), data))
}

// householdsLink is a hamlet's page of houses not visited.
func householdsLink(hamletID, communeID int64) string {
	return "/admin/hamlets/" + strconv.FormatInt(hamletID, 10) + "/households?commune=" + strconv.FormatInt(communeID, 10)
}
