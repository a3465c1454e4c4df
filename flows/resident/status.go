package resident

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/vn"
)

// cmdStatus is the payload id of "show my request".
const cmdStatus = "tinhtrang"

// Typed forms of the status and rating commands, matched folded.
var (
	statusWords = []string{cmdStatus, "tinh trang", "trang thai", "status", "xem yeu cau", "yeu cau cua toi", "my request"}
	rateWords   = []string{"danhgia", "danh gia", "rate"}
)

// ParseCode reads a help request code typed loosely: any case, with
// spaces, dashes or dots inside and a leading "#" ("#ht 7k3q-m2"). A code
// is "HT" and six letters or digits (see store.HelpCodeAlphabet), or four
// for the codes issued before December 2026, which keep working. It
// returns the code in upper case. The text is not folded as other input
// is: folding repairs Telex leftovers ("dd" → "d"), which would change an
// older code.
func ParseCode(text string) (string, bool) {
	b := make([]byte, 0, 8)
	for i, r := range strings.TrimSpace(text) {
		switch {
		case r >= 'a' && r <= 'z':
			b = append(b, byte(r-'a'+'A'))
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b = append(b, byte(r))
		case r == ' ' || r == '-' || r == '.' || r == '_' || r == '#' && i == 0:
		default:
			return "", false
		}
		if len(b) > 8 {
			return "", false
		}
	}
	code := string(b)
	if !strings.HasPrefix(code, "HT") || (len(code) != 8 && len(code) != 6) {
		return "", false
	}
	return code, true
}

// matchCode matches a message that is only a reference code ("HT7K3QM2").
func matchCode(text string) (string, bool) {
	return ParseCode(text)
}

// statusCommand answers "tình trạng" (the resident's open request) and
// "tình trạng HT7K3QM2". Other text that starts with the words is not the
// command, so that "tình trạng máy…" typed as a problem stays an answer.
func (r *residents) statusCommand(c *flows.Ctx, args string) (bool, error) {
	if args == "" {
		return true, r.showOwnStatus(c)
	}
	code, ok := matchCode(args)
	if !ok {
		return false, nil
	}
	return r.codeCommand(c, code)
}

// codeCommand shows the status of the resident's own request by its code.
// Someone else's code is not this command's business (team members have
// their own commands), so it passes, as for a code that does not exist.
func (r *residents) codeCommand(c *flows.Ctx, code string) (bool, error) {
	req, found, answered, err := r.ownRequest(c, code)
	if err != nil || answered {
		return answered, err
	}
	if !found {
		return false, nil
	}
	r.replyStatus(c, req)
	return true, nil
}

// ownRequest looks up the resident's own request by code, within their
// lookups: answered is true when the lookup was refused (and said so).
// Another resident's request is not found, as a code that does not exist.
func (r *residents) ownRequest(c *flows.Ctx, code string) (req cnsbot.HelpRequest, found, answered bool, err error) {
	if !r.lookupAllowed(c) {
		return req, false, true, nil
	}
	req, err = r.deps.HelpDesk.ResidentHelpRequest(c.Context(), code, c.UserID())
	switch cnsbot.ErrorCode(err) {
	case "":
		return req, true, false, nil
	case cnsbot.ENOTFOUND, cnsbot.EINVALID:
		return req, false, false, nil
	}
	return req, false, false, fmt.Errorf("resident help request: %w", err)
}

// lookupAllowed spends one of the person's lookups by code, and says so
// kindly when they have none left. A limiter that fails lets the lookup
// through: it guards against guessing, and a Redis outage stops the chat
// anyway.
func (r *residents) lookupAllowed(c *flows.Ctx) bool {
	ok, err := r.deps.Lookups.AllowLookup(c.Context(), c.UserID())
	if err != nil {
		r.deps.log().WarnContext(c.Context(), "lookup limit", "err", err)
		return true
	}
	if !ok {
		c.Reply(c.T("resident.lookup.too_many", nil), c.Button("common.menu", "menu"))
	}
	return ok
}

// showOwnStatus shows the resident's open request, or says there is none.
func (r *residents) showOwnStatus(c *flows.Ctx) error {
	req, err := r.deps.HelpDesk.OpenHelpRequestFor(c.Context(), c.UserID())
	switch {
	case cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND:
		c.Reply(c.T("resident.status.none", nil), c.Button("resident.menu.come", "dennha"), c.Button("common.menu", "menu"))
		return nil
	case err != nil:
		return fmt.Errorf("open help request: %w", err)
	}
	r.replyStatus(c, req)
	return nil
}

func (r *residents) replyStatus(c *flows.Ctx, req cnsbot.HelpRequest) {
	data := requestWords(c.TIn, c.Lang(), req, map[string]any{"code": req.Code})
	switch req.Status {
	case cnsbot.HelpClosed:
		if req.Rating == 0 {
			c.Reply(c.T("resident.status.closed_rate", data), rateButtons(c.T, req.Code)...)
			return
		}
		c.Reply(c.T("resident.status.closed", data))
	case cnsbot.HelpTaken:
		c.Reply(c.T("resident.status.taken", data), cancelButton(c, req.Code), c.Button("common.menu", "menu"))
	case cnsbot.HelpCancelled:
		c.Reply(c.T("resident.status.cancelled", data))
	default:
		c.Reply(c.T("resident.status.open", data), cancelButton(c, req.Code), c.Button("common.menu", "menu"))
	}
}

// rateButtons are the 1–5 buttons that rate a request; their payloads are
// the typed command "#danhgia CODE N".
func rateButtons(t func(id string, data map[string]any) string, code string) []cnsbot.Button {
	out := make([]cnsbot.Button, 0, 5)
	for i := 1; i <= 5; i++ {
		out = append(out, cnsbot.Button{Title: t("resident.rate."+strconv.Itoa(i), nil),
			Payload: "#danhgia " + code + " " + strconv.Itoa(i)})
	}
	return out
}

// rateCommand takes "danh gia HT7K3QM2 5" for the resident's closed request.
func (r *residents) rateCommand(c *flows.Ctx, args string) (bool, error) {
	fields := strings.Fields(args)
	if len(fields) < 2 {
		return false, nil
	}
	code, ok := ParseCode(strings.Join(fields[:len(fields)-1], ""))
	if !ok {
		return false, nil
	}
	rating, err := strconv.Atoi(fields[len(fields)-1])
	if err != nil || rating < 1 || rating > 5 {
		return false, nil
	}
	req, found, answered, err := r.ownRequest(c, code)
	if err != nil || answered {
		return answered, err
	}
	if !found {
		return false, nil
	}
	if err := r.deps.HelpDesk.RateHelpRequest(c.Context(), code, c.UserID(), rating); err != nil {
		if cnsbot.ErrorCode(err) == cnsbot.ECONFLICT {
			r.replyStatus(c, req)
			return true, nil
		}
		return false, fmt.Errorf("rate help request: %w", err)
	}
	c.Reply(c.T("resident.rate.request_thanks", map[string]any{"code": code}))
	return true, nil
}

// RateWithin is how long after a request is closed a bare number ("5")
// typed at the menu rates it rather than picks a menu item.
const RateWithin = 7 * 24 * time.Hour

// bareRating matches a rating typed alone: "5", "5 sao", "4*", "năm sao".
func bareRating(text string) (string, bool) {
	w := vn.Words(strings.ReplaceAll(text, "*", " "))
	if len(w) == 2 && (w[1] == "sao" || w[1] == "diem" || w[1] == "stars" || w[1] == "star") {
		w = w[:1]
	}
	if len(w) != 1 {
		return "", false
	}
	if i := slices.Index(ratingWords, w[0]); i >= 0 {
		return strconv.Itoa(i + 1), true
	}
	if n, err := strconv.Atoi(w[0]); err == nil && n >= 1 && n <= 5 {
		return w[0], true
	}
	return "", false
}

// bareRatingCommand rates the resident's request closed lately with a
// number typed at the menu after the closing notice asked for one. With no
// such request the number picks a menu item as usual.
func (r *residents) bareRatingCommand(c *flows.Ctx, args string) (bool, error) {
	// Numbers pick menu items all day (more so where Zalo refuses lists):
	// only someone who once asked for a visit costs a lookup.
	if c.FlowName() != "" || c.Event.IsGroup() || c.Note(noteAsked) == "" {
		return false, nil
	}
	if _, _, onRoster, err := c.Person(); err != nil || onRoster {
		// Members and officers use numbers for their own menus.
		return false, err
	}
	req, err := r.deps.HelpDesk.UnratedHelpRequestFor(c.Context(), c.UserID(), c.Now().Add(-RateWithin))
	if cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("unrated help request: %w", err)
	}
	rating, _ := strconv.Atoi(args)
	if err := r.deps.HelpDesk.RateHelpRequest(c.Context(), req.Code, c.UserID(), rating); err != nil {
		return false, fmt.Errorf("rate help request: %w", err)
	}
	c.Reply(c.T("resident.rate.request_thanks", map[string]any{"code": req.Code}), c.Button("common.menu", "menu"))
	return true, nil
}

// noteOpenRequest is the session note that says the resident made a help
// request (its code): only then does the menu look the request up.
const noteOpenRequest = "help_request"

// noteAsked says the resident once asked for a visit, and stays when the
// request is closed: a bare number may then be its rating.
const noteAsked = "asked_visit"

// hasOpenRequest shows the status item in the menu of residents with an
// open request. Residents who never asked cost no query: the menu is the
// most shown screen. A failed lookup hides the item rather than failing
// the menu.
func (r *residents) hasOpenRequest(c *flows.Ctx) bool {
	if c.Note(noteOpenRequest) == "" {
		return false
	}
	_, err := r.deps.HelpDesk.OpenHelpRequestFor(c.Context(), c.UserID())
	switch {
	case cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND:
		c.SetNote(noteOpenRequest, "") // closed or cancelled since
	case err != nil:
		r.deps.log().WarnContext(c.Context(), "open help request for menu", "err", err)
	}
	return err == nil
}

// onMedia attaches photos and locations to the resident's request: kept in
// the session while they fill it in, added to their open request after.
func (r *residents) onMedia(c *flows.Ctx) (bool, error) {
	if c.Event.IsGroup() {
		return false, nil
	}
	var atts []cnsbot.HelpAttachment
	for _, a := range c.Event.Attachments {
		switch a.Type {
		case "image", "location":
			atts = append(atts, cnsbot.HelpAttachment{Type: a.Type, URL: a.URL, Latitude: a.Latitude, Longitude: a.Longitude, CreatedAt: c.Now()})
		}
	}
	if len(atts) == 0 {
		return false, nil
	}
	if c.FlowName() == FlowCome {
		if keepAttachments(c, atts) == 0 {
			c.Reprompt(c.T("resident.media.full", nil))
			return true, nil
		}
		c.Reprompt(c.T("resident.media.kept", nil))
		return true, nil
	}
	req, err := r.deps.HelpDesk.OpenHelpRequestFor(c.Context(), c.UserID())
	switch {
	case cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND:
		return false, nil
	case err != nil:
		return false, fmt.Errorf("open help request: %w", err)
	}
	for i := range atts {
		atts[i].RequestID = req.ID
		if err := r.deps.HelpDesk.AddHelpAttachment(c.Context(), &atts[i]); err != nil {
			return false, fmt.Errorf("attach to help request: %w", err)
		}
	}
	text := c.T("resident.media.attached", map[string]any{"code": req.Code})
	if c.FlowName() == "" {
		c.Reply(text)
	} else {
		c.Reprompt(text)
	}
	return true, nil
}
