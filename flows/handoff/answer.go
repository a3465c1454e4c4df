package handoff

import (
	"fmt"
	"slices"
	"strings"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/vn"
	"golang.org/x/text/unicode/norm"
)

// PurposeRelay marks a person's answer relayed to a resident: a
// consultation message (it goes at night too), recorded in the delivery
// log, and reported back to the person when Zalo refuses it (Undelivered).
const PurposeRelay = "relay"

// Words a resident types to withdraw the request, and to see the menu,
// while a handoff is open; the whole text, folded.
var (
	cancelWords = []string{"huy", "huy bo", "cancel", "khong can nua", "thoi khong can"}
	menuWords   = []string{"menu", "main menu"}
)

// hold keeps what the resident writes while their handoff is open, for the
// person who answers, instead of letting the bot answer it. Buttons they
// tap, and anything typed inside a flow they started from one, still go to
// the bot; "hủy" withdraws the request; "menu" shows the menu and says a
// person will still answer.
func (h *handoffs) hold(c *flows.Ctx) (bool, error) {
	code := c.Note(noteCode)
	if code == "" || c.FlowName() != "" || c.Event.IsGroup() {
		return false, nil
	}
	ctx := c.Context()
	ho, err := h.deps.Store.OpenHandoffOf(ctx, c.UserID())
	switch {
	case cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND:
		c.SetNote(noteCode, "") // closed since: the bot answers again
		return h.cancelledAgain(c, code)
	case err != nil:
		return false, fmt.Errorf("open handoff: %w", err)
	}
	if ho.Code != code {
		c.SetNote(noteCode, "")
		return false, nil
	}
	if ho.LastAnswerAt != nil && c.Now().Sub(*ho.LastAnswerAt) >= h.deps.pause() {
		// The pause after the person's last answer ran out.
		if err := h.closeBy(c, ho, nil, cnsbot.HandoffExpired, "handoff.team.expired"); err != nil {
			return false, err
		}
		c.SetNote(noteCode, "")
		return false, nil
	}
	text := strings.TrimSpace(c.Event.Text)
	if c.Event.Kind == cnsbot.KindText {
		folded := vn.Fold(text)
		switch {
		case strings.HasPrefix(text, "#"):
			return false, nil
		case slices.Contains(cancelWords, folded):
			if err := h.closeBy(c, ho, nil, cnsbot.HandoffCancelled, "handoff.team.cancelled"); err != nil {
				return false, err
			}
			c.SetNote(noteCode, "")
			c.Reply(c.T("handoff.resident.cancelled", nil), c.Button("common.menu", "menu"))
			return true, nil
		case slices.Contains(menuWords, folded):
			c.Reply(c.T("handoff.resident.menu_note", map[string]any{"code": code}))
			return false, nil
		}
	}
	kept := text
	if c.Event.Kind == cnsbot.KindMedia || kept == "" {
		kept = h.deps.Texts.T("vi", "handoff.team.media", nil)
	}
	if err := h.deps.Store.KeepHandoffMessage(ctx, ho.ID, cut(kept, 2000), c.Event.Key, c.Now()); err != nil {
		return false, err
	}
	if ho.AnsweredBy == nil {
		// Nobody answers yet: the messages wait for the first who does,
		// and are on the dashboard.
		return true, nil
	}
	p, _, err := h.deps.People.PersonByID(ctx, *ho.AnsweredBy)
	if err != nil {
		return false, fmt.Errorf("person answering: %w", err)
	}
	if p.ZaloUserID == nil || *p.ZaloUserID == "" {
		return true, nil
	}
	lang := langOr(p.Lang)
	id, data := "handoff.team.forward", map[string]any{"code": ho.Code, "text": text}
	if c.Event.Kind == cnsbot.KindMedia {
		id = "handoff.team.forward_media"
	}
	c.Send(cnsbot.Outgoing{To: cnsbot.Recipient{UserID: *p.ZaloUserID}, Kind: cnsbot.MsgText,
		Text: h.deps.Texts.T(lang, id, data), Purpose: "notify", Ref: "handoff:" + ho.Code, Lang: lang})
	return true, nil
}

// cancelledAgain answers "hủy" handled a second time (its first commit
// lost, the note still set): the handoff is already cancelled, and the
// same messages go again, under the same ids.
func (h *handoffs) cancelledAgain(c *flows.Ctx, code string) (bool, error) {
	if c.Event.Kind != cnsbot.KindText || !slices.Contains(cancelWords, vn.Fold(strings.TrimSpace(c.Event.Text))) {
		return false, nil
	}
	ho, err := h.deps.Store.HandoffOf(c.Context(), c.UserID(), code)
	switch {
	case cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND:
		return false, nil
	case err != nil:
		return false, fmt.Errorf("handoff of resident: %w", err)
	}
	if ho.CloseReason != cnsbot.HandoffCancelled {
		return false, nil
	}
	if err := h.tellClosed(c, ho, cnsbot.HandoffCancelled, "handoff.team.cancelled"); err != nil {
		return false, err
	}
	c.Reply(c.T("handoff.resident.cancelled", nil), c.Button("common.menu", "menu"))
	return true, nil
}

// closeBy closes ho for reason and tells whoever answered it (else where
// it was posted) with message id. by is nil when the resident or the clock
// closed it.
func (h *handoffs) closeBy(c *flows.Ctx, ho cnsbot.Handoff, by *int64, reason, id string) error {
	closed, err := h.deps.Store.CloseHandoff(c.Context(), ho.ID, by, reason, c.Now())
	if err != nil || !closed {
		return err
	}
	return h.tellClosed(c, ho, reason, id)
}

// tellClosed tells whoever answered ho (else, when the resident cancelled,
// where it was posted) that it closed, with message id.
func (h *handoffs) tellClosed(c *flows.Ctx, ho cnsbot.Handoff, reason, id string) error {
	data := map[string]any{"code": ho.Code, "minutes": int(h.deps.pause().Minutes())}
	if ho.AnsweredBy != nil {
		p, _, err := h.deps.People.PersonByID(c.Context(), *ho.AnsweredBy)
		if err != nil {
			return fmt.Errorf("person answering: %w", err)
		}
		if p.ZaloUserID != nil && *p.ZaloUserID != "" {
			lang := langOr(p.Lang)
			c.Send(cnsbot.Outgoing{ID: "handoff:" + ho.Code + ":" + reason, To: cnsbot.Recipient{UserID: *p.ZaloUserID},
				Kind: cnsbot.MsgText, Text: h.deps.Texts.T(lang, id, data), Purpose: "notify", Ref: "handoff:" + ho.Code, Lang: lang})
		}
		return nil
	}
	if reason == cnsbot.HandoffCancelled {
		_, err := h.tell(c.Send, c.Context(), ho, id, data, false)
		return err
	}
	return nil
}

// codeAndText reads "CODE the message" from a command's argument, keeping
// the message as typed (line breaks too) from the raw text.
func codeAndText(raw, args string) (code, text string, ok bool) {
	first, _, _ := strings.Cut(strings.TrimSpace(args), " ")
	first, _, _ = strings.Cut(first, "\n")
	code, ok = parseCode(first)
	if !ok {
		return "", "", false
	}
	raw = norm.NFC.String(raw)
	if i := strings.Index(strings.ToUpper(raw), strings.ToUpper(first)); i >= 0 {
		text = strings.TrimSpace(raw[i+len(first):])
	}
	text = strings.TrimLeft(text, ":,-– ")
	return code, strings.TrimSpace(text), true
}

// parseCode reads a handoff code: HandoffCodeLen characters of the help
// codes' alphabet, in any case.
func parseCode(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimLeft(strings.TrimSpace(s), "#"))
	if len(s) != codeLen {
		return "", false
	}
	for _, r := range s {
		if !strings.ContainsRune(codeAlphabet, r) {
			return "", false
		}
	}
	return s, true
}

// The shape of a handoff code (store.HandoffCodeLen characters of
// store.HelpCodeAlphabet); flows does not import the store.
const (
	codeLen      = 5
	codeAlphabet = "23456789BCFGHJKMNPQRTVXZ"
)

// answerer returns the person who acted when they may answer handoffs at
// all (an approved member, leader or officer); which ones is the store's
// rule.
func answerer(c *flows.Ctx) (cnsbot.Person, []cnsbot.Role, bool, error) {
	p, roles, found, err := c.Person()
	if err != nil || !found {
		return p, roles, false, err
	}
	for _, r := range roles {
		if r.Approved {
			return p, roles, true, nil
		}
	}
	return p, roles, false, nil
}

// lookup finds the handoff code names for the person who acted, and
// answers when there is nothing to do with it. ok is false when answered.
func (h *handoffs) lookup(c *flows.Ctx, code string) (p cnsbot.Person, roles []cnsbot.Role, ho cnsbot.Handoff, ok bool, err error) {
	return h.lookupFor(c, code, false)
}

// closedByMe reports whether p closed ho as done: closing it again is the
// same event handled again (a retried commit, a redelivery), which must
// give the same messages.
func closedByMe(ho cnsbot.Handoff, p cnsbot.Person) bool {
	return ho.Status == cnsbot.HandoffClosed && ho.CloseReason == cnsbot.HandoffDone && ho.ClosedBy != nil && *ho.ClosedBy == p.ID
}

func (h *handoffs) lookupFor(c *flows.Ctx, code string, closing bool) (p cnsbot.Person, roles []cnsbot.Role, ho cnsbot.Handoff, ok bool, err error) {
	p, roles, allowed, err := answerer(c)
	if err != nil {
		return p, roles, ho, false, err
	}
	if !allowed {
		c.Reply(c.T("handoff.team.not_allowed", nil))
		return p, roles, ho, false, nil
	}
	ho, err = h.deps.Store.HandoffFor(c.Context(), code, p.ID)
	switch cnsbot.ErrorCode(err) {
	case "":
	case cnsbot.ENOTFOUND, cnsbot.EINVALID:
		c.Reply(c.T("handoff.team.not_found", map[string]any{"code": code}))
		return p, roles, ho, false, nil
	default:
		return p, roles, ho, false, fmt.Errorf("handoff for: %w", err)
	}
	if ho.Status != cnsbot.HandoffOpen && !(closing && closedByMe(ho, p)) {
		c.Reply(c.T("handoff.team.closed", map[string]any{"code": ho.Code}))
		return p, roles, ho, false, nil
	}
	return p, roles, ho, true, nil
}

// answerCommand is "trả lời CODE …": the message goes to the resident
// through the OA, signed with the person's name.
func (h *handoffs) answerCommand(c *flows.Ctx, args string) (bool, error) {
	code, text, ok := codeAndText(c.Event.Text, args)
	if !ok {
		return false, nil
	}
	p, roles, ho, ok, err := h.lookup(c, code)
	if err != nil || !ok {
		return err == nil, err
	}
	if text == "" {
		c.Reply(c.T("handoff.team.empty", map[string]any{"code": ho.Code}))
		return true, nil
	}
	ctx := c.Context()
	if err := h.deps.Store.AnswerHandoff(ctx, ho.ID, p.ID, cut(text, 2000), c.Event.Key, c.Now()); err != nil {
		if cnsbot.ErrorCode(err) == cnsbot.ECONFLICT {
			c.Reply(c.T("handoff.team.closed", map[string]any{"code": ho.Code}))
			return true, nil
		}
		return false, fmt.Errorf("answer handoff: %w", err)
	}
	lang := langOr(ho.Lang)
	c.Send(cnsbot.Outgoing{
		To: cnsbot.Recipient{UserID: ho.UserID}, Kind: cnsbot.MsgText, Purpose: PurposeRelay, Lang: lang,
		Text: h.deps.Texts.T(lang, "handoff.resident.answer", map[string]any{
			"text": text, "name": p.FullName, "role": h.deps.Texts.T(lang, roleOf(roles, ho), nil)}),
		// Undelivered reads who to tell from Ref.
		Ref: relayRef(ho.Code, langOr(p.Lang), c.UserID()),
	})
	var meanwhile string
	if ho.AnsweredAt == nil {
		// The first answer: what the resident wrote while waiting.
		ms, err := h.deps.Store.HandoffMessages(ctx, ho.ID)
		if err != nil {
			return false, err
		}
		var lines []string
		for _, m := range ms {
			if m.PersonID == nil {
				lines = append(lines, oneLine(m.Text))
			}
		}
		if len(lines) > 0 {
			meanwhile = quote(strings.Join(lines, "\n"))
		}
	}
	data := map[string]any{"code": ho.Code, "name": p.FullName, "messages": meanwhile}
	if c.Event.IsGroup() {
		c.Reply(c.T("handoff.team.sent_group", data))
		if meanwhile != "" {
			// The resident's words go to the person answering, not to the
			// whole group.
			lang := langOr(p.Lang)
			c.Send(cnsbot.Outgoing{To: cnsbot.Recipient{UserID: c.UserID()}, Kind: cnsbot.MsgText, Lang: lang,
				Text: h.deps.Texts.T(lang, "handoff.team.meanwhile", data), Purpose: "notify", Ref: "handoff:" + ho.Code})
		}
		return true, nil
	}
	reply := c.T("handoff.team.sent", data)
	if meanwhile != "" {
		reply += "\n\n" + c.T("handoff.team.meanwhile", data)
	}
	c.Reply(reply)
	return true, nil
}

// roleOf is how the person signs: as the team's when they are on a team,
// else as the commune's officer.
func roleOf(roles []cnsbot.Role, ho cnsbot.Handoff) string {
	for _, r := range roles {
		if r.Approved && (r.Role == cnsbot.RoleMember || r.Role == cnsbot.RoleLeader) {
			return "handoff.role.team"
		}
	}
	return "handoff.role.officer"
}

// closeCommand is "xong CODE": the bot answers the resident again.
func (h *handoffs) closeCommand(c *flows.Ctx, args string) (bool, error) {
	code, _, ok := codeAndText(c.Event.Text, args)
	if !ok {
		return false, nil
	}
	p, _, ho, ok, err := h.lookupFor(c, code, true)
	if err != nil || !ok {
		return err == nil, err
	}
	closed, err := h.deps.Store.CloseHandoff(c.Context(), ho.ID, &p.ID, cnsbot.HandoffDone, c.Now())
	if err != nil {
		return false, err
	}
	if !closed && !closedByMe(ho, p) {
		c.Reply(c.T("handoff.team.closed", map[string]any{"code": ho.Code}))
		return true, nil
	}
	lang := langOr(ho.Lang)
	c.Send(cnsbot.Outgoing{ID: "handoff:" + ho.Code + ":closed", To: cnsbot.Recipient{UserID: ho.UserID}, Kind: cnsbot.MsgList,
		Text:    h.deps.Texts.T(lang, "handoff.resident.closed", map[string]any{"name": p.FullName}),
		Buttons: []cnsbot.Button{{Title: h.deps.Texts.T(lang, "common.menu", nil), Payload: flows.PayloadMenu}},
		Purpose: PurposeRelay, Ref: relayRef(ho.Code, langOr(p.Lang), c.UserID()), Lang: lang})
	data := map[string]any{"code": ho.Code, "name": p.FullName}
	if c.Event.IsGroup() {
		c.Reply(c.T("handoff.team.done_group", data))
		return true, nil
	}
	c.Reply(c.T("handoff.team.done", data))
	return true, nil
}

// inGroup takes "trả lời CODE …" and "xong CODE" in a group, where the bot
// posted the request; anything else is left to the other group handlers.
func (h *handoffs) inGroup(c *flows.Ctx) error {
	if c.Event.Kind != cnsbot.KindText {
		return nil
	}
	text := flows.NewText(strings.TrimPrefix(strings.TrimSpace(c.Event.Text), "#"))
	if args, ok := matchAnswer(text); ok {
		_, err := h.answerCommand(c, args)
		return err
	}
	if args, ok := matchClose(text); ok {
		_, err := h.closeCommand(c, args)
		return err
	}
	return nil
}

// relayRef is a relayed message's Ref: the handoff, and who to tell when
// it cannot be delivered.
func relayRef(code, lang, answererZalo string) string {
	return "handoff:" + code + ":" + lang + ":" + answererZalo
}

// Undelivered returns the notice to the person whose answer (a message
// with Purpose PurposeRelay) Zalo refused for good: nothing they write is
// dropped without their knowing.
func Undelivered(texts interface {
	T(lang, id string, data map[string]any) string
}, m cnsbot.Outgoing) (cnsbot.Outgoing, bool) {
	if m.Purpose != PurposeRelay {
		return cnsbot.Outgoing{}, false
	}
	parts := strings.SplitN(m.Ref, ":", 4)
	if len(parts) != 4 || parts[0] != "handoff" || parts[3] == "" {
		return cnsbot.Outgoing{}, false
	}
	code, lang, to := parts[1], parts[2], parts[3]
	return cnsbot.Outgoing{ID: m.ID + ":undelivered", To: cnsbot.Recipient{UserID: to}, Kind: cnsbot.MsgText,
		Text: texts.T(lang, "handoff.team.undelivered", map[string]any{"code": code}), Purpose: "notify",
		Ref: "handoff:" + code, Lang: lang}, true
}
