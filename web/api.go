package web

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar"
)

// maxScheduleBody caps a schedule upload: a schedule is a few hundred bytes.
const maxScheduleBody = 64 << 10

func (d *Dashboard) apiProgress(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	communeID, err := communeParam(c, "commune")
	if err != nil {
		apiError(c, d.log, err)
		return
	}
	pr, err := d.progress(ctx, principalOf(c), communeID)
	if err != nil {
		apiError(c, d.log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"target_percent": Target, "province": pr.Province, "communes": nonNil(pr.Communes)})
}

func (d *Dashboard) apiIndicators(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	communeID, err := communeParam(c, "commune")
	if err != nil {
		apiError(c, d.log, err)
		return
	}
	ind, err := d.indicators(ctx, principalOf(c), communeID, pageLang(c, d.cfg.Texts))
	if err != nil {
		apiError(c, d.log, err)
		return
	}
	c.JSON(http.StatusOK, ind)
}

// helpStatuses are the states a help request list may be filtered by.
var helpStatuses = []string{cnsbot.HelpOpen, cnsbot.HelpTaken, cnsbot.HelpClosed, cnsbot.HelpCancelled}

func (d *Dashboard) apiHelp(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	communeID, err := communeParam(c, "commune")
	if err != nil {
		apiError(c, d.log, err)
		return
	}
	var statuses []string
	if s := c.Query("status"); s != "" {
		for st := range strings.SplitSeq(s, ",") {
			if !slices.Contains(helpStatuses, st) {
				apiError(c, d.log, cnsbot.Errorf(cnsbot.EINVALID, "status must be among %v", helpStatuses))
				return
			}
			statuses = append(statuses, st)
		}
	}
	list, err := d.helpList(ctx, principalOf(c), communeID, statuses, 500)
	if err != nil {
		apiError(c, d.log, err)
		return
	}
	if list.Items == nil {
		list.Items = []helpItem{}
	}
	lang := pageLang(c, d.cfg.Texts)
	for i := range list.Items {
		list.Items[i].OutcomeText = outcomeText(d.cfg.Texts, lang, list.Items[i].Outcome)
		list.Items[i].PreferredTimeText = preferredTimeText(d.cfg.Texts, lang, list.Items[i].PreferredTime)
	}
	c.JSON(http.StatusOK, list)
}

func (d *Dashboard) apiVisits(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	communeID, err := communeParam(c, "commune")
	if err != nil {
		apiError(c, d.log, err)
		return
	}
	limit := 100
	if v := c.Query("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 1000 {
			apiError(c, d.log, cnsbot.Errorf(cnsbot.EINVALID, "limit must be 1 to 1000"))
			return
		}
	}
	rows, err := d.visitList(ctx, principalOf(c), communeID, limit)
	if err != nil {
		apiError(c, d.log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"visits": nonNil(rows)})
}

func (d *Dashboard) apiDeadlines(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	q, err := d.quarterParam(c)
	if err != nil {
		apiError(c, d.log, err)
		return
	}
	communeID, err := communeParam(c, "commune")
	if err != nil {
		apiError(c, d.log, err)
		return
	}
	ds, err := d.deadlines(ctx, principalOf(c), communeID, q)
	if err != nil {
		apiError(c, d.log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"quarter": q, "deadlines": nonNil(ds)})
}

func (d *Dashboard) apiDeliveries(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	communeID, err := communeParam(c, "commune")
	if err != nil {
		apiError(c, d.log, err)
		return
	}
	rows, err := d.undelivered(ctx, principalOf(c), communeID, 200)
	if err != nil {
		apiError(c, d.log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"undelivered": nonNil(rows)})
}

func (d *Dashboard) apiSchedule(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	sv, err := d.cfg.Store.StoredSchedule(ctx)
	if err != nil {
		apiError(c, d.log, err)
		return
	}
	c.JSON(http.StatusOK, sv)
}

// apiSaveSchedule stores a new calendar: the body is a schedule as in the
// files the README documents (examples/schedule-*.json).
func (d *Dashboard) apiSaveSchedule(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxScheduleBody))
	if err != nil {
		apiError(c, d.log, cnsbot.Errorf(cnsbot.ETOOLARGE, "the schedule is over %d bytes", maxScheduleBody))
		return
	}
	s, err := calendar.Parse(body)
	if err != nil {
		apiError(c, d.log, cnsbot.Errorf(cnsbot.EINVALID, "%s", err.Error()))
		return
	}
	if err := d.cfg.Store.SaveSchedule(ctx, s, "admin api"); err != nil {
		apiError(c, d.log, err)
		return
	}
	d.apiSchedule(c) // answer with the version now in force
}

func (d *Dashboard) apiLinkGroup(c *gin.Context) {
	ctx, cancel := withTimeout(c)
	defer cancel()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		apiError(c, d.log, cnsbot.Errorf(cnsbot.ENOTFOUND, "team %q", c.Param("id")))
		return
	}
	var body struct {
		GroupID string `json:"group_id"`
	}
	if err := decodeJSON(c, &body); err != nil {
		apiError(c, d.log, err)
		return
	}
	// Zalo ids are strings of digits; anything else is a mistake.
	if body.GroupID == "" || strings.Trim(body.GroupID, "0123456789") != "" || len(body.GroupID) > 64 {
		apiError(c, d.log, cnsbot.Errorf(cnsbot.EINVALID, "group_id must be a Zalo group id (digits)"))
		return
	}
	if err := d.cfg.Store.LinkGroup(ctx, id, body.GroupID); err != nil {
		apiError(c, d.log, err)
		return
	}
	t, err := d.cfg.Store.Team(ctx, id)
	if err != nil {
		apiError(c, d.log, err)
		return
	}
	c.JSON(http.StatusOK, t)
}

// decodeJSON reads a small JSON body strictly.
func decodeJSON(c *gin.Context, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return cnsbot.Errorf(cnsbot.EINVALID, "invalid JSON body: %v", err)
	}
	return nil
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
