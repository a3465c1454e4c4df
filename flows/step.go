package flows

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/vn"
)

// maxButtons is Zalo's limit of buttons in one list template.
const maxButtons = 5

// current returns the flow and step the conversation is at; the main menu
// when it is in none, or when a deploy removed its step.
func (e *Engine) current(c *Ctx) (*Flow, *Step) {
	if c.s.Flow != "" {
		if f := e.flows[c.s.Flow]; f != nil {
			if st := f.step(c.s.Step); st != nil {
				return f, st
			}
		}
		// A deploy removed the step the person was at: start over at the menu.
		e.log.WarnContext(c.ctx, "session at unknown step, back to menu", "flow", c.s.Flow, "step", c.s.Step)
		c.endFlow()
	}
	f := e.flows[menuFlow]
	return f, f.step(menuStep)
}

func freeText(st *Step) bool {
	switch st.Input {
	case InputText, InputPhone, InputNumber:
		return true
	case InputChoice:
		return st.Free
	}
	return false
}

// onText handles a text message (or a tapped button's payload) in the
// order the package comment's table gives.
func (e *Engine) onText(c *Ctx) error {
	in := newInput(c.Event.Text)
	f, st := e.current(c)
	free := freeText(st)

	// 1. Exits: the global words.
	if id, ok := exactGlobal(in, free, st.PersonName); ok {
		c.Set(keyResume, "")
		c.Set(keyName, "")
		return e.global(c, id)
	}
	// 2. The answer to "continue or start over?".
	if c.Get(keyResume) != "" {
		c.Set(keyResume, "")
		if id, ok := resumeMatcher.MatchFolded(in.Folded); ok {
			if id == cmdContinue {
				e.reask(c, "")
				return nil
			}
			return e.restart(c, f)
		}
	}
	// A name that is also a command word, confirmed or not.
	if st.PersonName {
		if handled, err := e.confirmName(c, f, st, in); handled || err != nil {
			return err
		}
	}
	// 3. The step's own reading of typed text.
	if st.Parse != nil && !in.Payload && in.Text != "" {
		if value, ok := st.Parse(c, in.Text); ok {
			return e.accept(c, f, st, in, value)
		}
	}
	// 4. Commands; those that yield leave free text to the question.
	if handled, err := e.runCommands(c, in.msg, free && !in.Payload); handled || err != nil {
		return err
	}
	// 5. Back after a while to an unfinished form: continue or start over?
	if e.offerResume(c, f) {
		return nil
	}
	// 6. The step's input kind; at the menu, its items and typed entries.
	if f.Name == menuFlow {
		if handled, err := e.entry(c, in); handled || err != nil {
			return err
		}
	}
	if handled, err := e.answer(c, f, st, in); handled || err != nil {
		return err
	}
	// 7. Fallbacks, unless the question takes free text: global words with
	// typos, typed entries into flows and the menu's items.
	if !free || in.Payload {
		if id, ok := e.globals.MatchFolded(in.Folded); ok {
			return e.global(c, id)
		}
		// At the menu, stage 6 tried the entries with this very input.
		if f.Name != menuFlow {
			if handled, err := e.entry(c, in); handled || err != nil {
				return err
			}
		}
	}
	// 8. Small talk: a greeting or thanks gets a warm answer, not "not
	// understood" (someone new gets the welcome below instead).
	if !c.isNew && !in.Payload && e.smallTalk(c, f, in) {
		return nil
	}
	// 9. Not understood.
	if c.isNew && f.Name == menuFlow {
		// A first message that means nothing yet: the welcome and the menu
		// are the answer, not a complaint.
		e.showMenu(c, "")
		return nil
	}
	e.miss(c, "")
	return nil
}

// confirmName asks "is Huy your name?" when the answer to a name question
// is also a command word, and takes the name once confirmed ("#tenla",
// "đúng"). Anything else is read as usual.
func (e *Engine) confirmName(c *Ctx, f *Flow, st *Step, in *Input) (bool, error) {
	if pending := c.Get(keyName); pending != "" {
		c.Set(keyName, "")
		if in.Folded == cmdItsMyName || yesWords[in.Folded] {
			named := &Input{Text: pending, Folded: vn.Fold(pending)}
			return true, e.accept(c, f, st, named, pending)
		}
		return false, nil
	}
	if in.Payload || !nameLike[in.Folded] {
		return false, nil
	}
	c.Set(keyName, in.Text)
	c.Reply(c.T("flows.name.confirm", map[string]any{"name": in.Text}),
		c.Button("flows.btn.its_my_name", cmdItsMyName),
		c.Button("common.cancel", cmdCancel))
	return true, nil
}

// smallTalk answers a greeting or thanks that is the whole message, or
// most of it: at the menu with the menu, in a flow with the question again.
// It does not count as a miss.
func (e *Engine) smallTalk(c *Ctx, f *Flow, in *Input) bool {
	id, ok := smallTalkExact[in.Folded]
	if !ok {
		id, ok = smallTalk.MatchFolded(in.Folded)
		ok = ok && len(strings.Fields(in.Folded)) <= 6
	}
	if !ok {
		return false
	}
	lead := c.T("flows.talk."+id, nil)
	switch {
	case f.Name != menuFlow:
		e.reask(c, lead)
	case id == talkGreet:
		e.showMenu(c, joinText(lead, c.T("flows.menu.title", nil)))
	default:
		c.Reply(lead, c.Button("common.menu", cmdMenu))
	}
	return true
}

// onSubmit handles a request_user_info answer.
func (e *Engine) onSubmit(c *Ctx) error {
	f, st := e.current(c)
	info := c.Event.Info
	if info != nil && st.Input == InputPhone {
		if info.Phone == "" {
			e.problem(c, "flows.phone.missing")
			return nil
		}
		phone, err := vn.ParsePhone(info.Phone)
		if err != nil {
			e.problem(c, phoneProblem(err))
			return nil
		}
		in := &Input{Info: info, Phone: phone}
		return e.accept(c, f, st, in, in.Phone)
	}
	if handled, err := e.runHandlers(c, cnsbot.KindSubmit); handled || err != nil {
		return err
	}
	e.reask(c, c.T("flows.submit.thanks", nil))
	return nil
}

// onMedia handles photos, locations, stickers and other attachments.
func (e *Engine) onMedia(c *Ctx) error {
	if handled, err := e.runHandlers(c, cnsbot.KindMedia); handled || err != nil {
		return err
	}
	e.reask(c, c.T("flows.media.received", nil))
	return nil
}

// runCommands runs the first command that claims text. At a question that
// takes free text (typing), commands that yield are passed over.
func (e *Engine) runCommands(c *Ctx, text *Text, typing bool) (bool, error) {
	for _, cmd := range e.commands {
		if typing && cmd.Yield {
			continue
		}
		args, ok := cmd.Match(text)
		if !ok {
			continue
		}
		handled, err := cmd.Run(c, args)
		if err != nil {
			return false, fmt.Errorf("command %s: %w", cmd.Name, err)
		}
		if handled {
			return true, e.apply(c)
		}
	}
	return false, nil
}

// offerResume asks a person who comes back to an unfinished form after a
// while whether to continue or start over.
func (e *Engine) offerResume(c *Ctx, f *Flow) bool {
	s := c.s
	if !f.Resumable || s.UpdatedAt.IsZero() || c.now.Sub(s.UpdatedAt) < e.opts.ResumeAfter {
		return false
	}
	c.Set(keyResume, "1")
	title := ""
	if f.Title != "" {
		title = c.T(f.Title, nil)
	}
	c.Reply(c.T("flows.resume.ask", map[string]any{"flow": title}),
		c.Button("flows.btn.continue", cmdContinue),
		c.Button("flows.btn.restart", cmdRestart),
		c.Button("common.menu", cmdMenu))
	return true
}

// restart starts the current flow over with no answers.
func (e *Engine) restart(c *Ctx, f *Flow) error {
	if f.Name == menuFlow {
		e.showMenu(c, "")
		return nil
	}
	c.endFlow()
	c.tr = &transition{kind: trStart, flow: f.Name}
	return e.apply(c)
}

// entry matches typed shortcuts into flows and the menu's items.
func (e *Engine) entry(c *Ctx, in *Input) (bool, error) {
	m := e.entryMatcher(c.ctx)
	if m == nil {
		return false, nil
	}
	id, ok := m.MatchFolded(in.Folded)
	if !ok {
		return false, nil
	}
	if item, ok := strings.CutPrefix(id, "menu:"); ok {
		for i := range e.menu {
			m := &e.menu[i]
			if m.ID != item {
				continue
			}
			if m.Show != nil && !m.Show(c) {
				return false, nil
			}
			return true, e.runMenuItem(c, m)
		}
		return false, nil
	}
	flow, step, _ := strings.Cut(id, "/")
	c.tr = &transition{kind: trStart, flow: flow, step: step}
	return true, e.apply(c)
}

// answer lets the current step take the input. It reports false when the
// step did not understand it.
func (e *Engine) answer(c *Ctx, f *Flow, st *Step, in *Input) (bool, error) {
	switch st.Input {
	case InputChoice, InputYesNo:
		choices, err := e.choices(c, st)
		if err != nil {
			return false, err
		}
		ch, candidates := e.matchChoice(c, choices, in, st.Free)
		if ch != nil {
			in.Choice = ch
			return true, e.accept(c, f, st, in, ch.ID)
		}
		if len(candidates) > 1 {
			buttons := make([]cnsbot.Button, 0, len(candidates))
			for _, cand := range candidates {
				buttons = append(buttons, e.choiceButton(c, cand))
			}
			c.Reply(c.T("flows.choice.which", nil), buttons...)
			return true, nil
		}
		if st.Free && in.Text != "" && !in.Payload {
			if p := e.checkLen(st, in); p != "" {
				e.problem(c, p)
				return true, nil
			}
			return true, e.accept(c, f, st, in, in.Text)
		}
		return false, nil
	case InputText:
		if in.Text == "" || in.Payload {
			return false, nil
		}
		if p := e.checkLen(st, in); p != "" {
			e.problem(c, p)
			return true, nil
		}
		return true, e.accept(c, f, st, in, in.Text)
	case InputPhone:
		if _, ok := shareMatcher.MatchFolded(in.Folded); ok && !strings.ContainsAny(in.Text, "0123456789") {
			c.RequestInfo("flows.share.title", "flows.share.subtitle")
			c.Reply(c.T("flows.share.sent", nil))
			return true, nil
		}
		if in.Payload {
			return false, nil
		}
		phone, err := vn.ParsePhone(in.Text)
		if err != nil {
			found, ok := vn.FindPhone(in.Text)
			if !ok {
				e.problem(c, phoneProblem(err))
				return true, nil
			}
			phone = found
		}
		in.Phone = phone
		return true, e.accept(c, f, st, in, phone)
	case InputNumber:
		n, ok := firstNumber(in.Text)
		if !ok || in.Payload {
			return false, nil
		}
		if n < st.Min || (st.Max > 0 && n > st.Max) {
			id := "flows.number.range"
			if st.Max <= 0 {
				id = "flows.number.min"
			}
			e.problemData(c, id, map[string]any{"min": st.Min, "max": st.Max})
			return true, nil
		}
		in.Number = n
		return true, e.accept(c, f, st, in, strconv.Itoa(n))
	}
	return false, nil
}

func (e *Engine) checkLen(st *Step, in *Input) string {
	limit := st.MaxLen
	if limit <= 0 {
		limit = 500
	}
	if utf8.RuneCountInString(in.Text) > limit {
		return "flows.text.too_long"
	}
	return ""
}

// phoneProblem returns the message id that explains why a phone number was
// refused.
func phoneProblem(err error) string {
	var pe *vn.PhoneError
	if errors.As(err, &pe) {
		switch pe.Problem {
		case vn.PhoneLandline:
			return "flows.phone.landline"
		case vn.PhoneForeign:
			return "flows.phone.foreign"
		case vn.PhoneLength:
			return "flows.phone.length"
		}
	}
	return "flows.phone.invalid"
}

// accept saves a good answer and moves on.
func (e *Engine) accept(c *Ctx, f *Flow, st *Step, in *Input, value string) error {
	if st.Check != nil {
		if p := st.Check(c, in); p != "" {
			e.problem(c, p)
			return nil
		}
		if in.Choice == nil && (st.Input == InputText || st.Free) {
			value = in.Text
		}
	}
	if st.Save != "" {
		c.Set(st.Save, value)
	}
	c.s.Misses = 0
	c.Set(keyPage, "")
	c.tr = nil
	ch := in.Choice
	switch {
	case ch != nil && ch.Run != nil:
		if err := ch.Run(c); err != nil {
			return fmt.Errorf("flow %s step %s choice %s: %w", f.Name, st.Name, ch.ID, err)
		}
		if c.tr == nil {
			c.tr = &transition{kind: trStay}
		}
	case st.Then != nil:
		if err := st.Then(c, *in); err != nil {
			return fmt.Errorf("flow %s step %s: %w", f.Name, st.Name, err)
		}
	}
	if c.tr == nil {
		c.tr = e.defaultNext(c, st, ch)
	}
	return e.apply(c)
}

// defaultNext is where an answer leads when the step's code did not say:
// the choice's step, the step's Next, back to a summary the person is
// editing from (see Ctx.Edit), or the next step in order that Skip does
// not pass over.
func (e *Engine) defaultNext(c *Ctx, st *Step, ch *Choice) *transition {
	if ch != nil && ch.Start != "" {
		return &transition{kind: trStart, flow: ch.Start, step: ch.StartAt, data: ch.Data}
	}
	next := st.Next
	if ch != nil && ch.Next != "" {
		next = ch.Next
	}
	if ret := c.Get(keyReturn); ret != "" && next != End {
		c.Set(keyReturn, "")
		next = ret
	}
	if next == "" {
		f, _ := e.current(c)
		next = e.inOrder(c, f, f.after(st.Name))
	}
	if next == "" || next == End {
		return &transition{kind: trMenu}
	}
	return &transition{kind: trGoto, step: next}
}

// inOrder returns name, or the first step after it that Skip does not pass
// over; "" when the flow has no step left.
func (e *Engine) inOrder(c *Ctx, f *Flow, name string) string {
	for name != "" {
		st := f.step(name)
		if st == nil || st.Skip == nil || !st.Skip(c) {
			return name
		}
		name = f.after(name)
	}
	return ""
}

// apply carries out the transition a handler decided on.
func (e *Engine) apply(c *Ctx) error {
	tr := c.tr
	c.tr = nil
	if tr == nil {
		return nil
	}
	s := c.s
	switch tr.kind {
	case trStay:
	case trDone:
		c.endFlow()
	case trMenu:
		e.showMenu(c, tr.title)
	case trGoto:
		f, _ := e.current(c)
		if f.step(tr.step) == nil {
			return fmt.Errorf("flow %s: goto unknown step %s", f.Name, tr.step)
		}
		if f.Name != menuFlow {
			s.History = pushHistory(s.History, s.Step)
		}
		s.Step = tr.step
		s.Misses = 0
		c.Set(keyPage, "")
		e.prompt(c, true, "")
	case trStart:
		return e.start(c, tr)
	}
	return nil
}

// maxHistory bounds how far "back" reaches, so that going round a loop
// (stuck, try again, stuck) cannot grow the session without end.
const maxHistory = 30

func pushHistory(h []string, entry string) []string {
	h = append(h, entry)
	if len(h) > maxHistory {
		h = append(h[:0:0], h[len(h)-maxHistory:]...)
	}
	return h
}

// start enters a flow, remembering where the person came from so that
// "back" from the first step returns there.
func (e *Engine) start(c *Ctx, tr *transition) error {
	f := e.flows[tr.flow]
	if f == nil {
		return fmt.Errorf("start unknown flow %s", tr.flow)
	}
	s := c.s
	var history []string
	if s.Flow != "" {
		history = pushHistory(s.History, s.Flow+"/"+s.Step)
	}
	data := make(map[string]string, len(tr.data))
	for k, v := range tr.data {
		data[k] = v
	}
	s.Flow, s.Data, s.History, s.Misses = f.Name, data, history, 0
	s.Step = tr.step
	if s.Step == "" {
		s.Step = f.first()
	}
	if f.step(s.Step) == nil {
		return fmt.Errorf("start flow %s at unknown step %s", f.Name, s.Step)
	}
	chosen := tr.step != ""
	if f.Begin != nil {
		c.tr = nil
		if err := f.Begin(c); err != nil {
			return fmt.Errorf("begin flow %s: %w", f.Name, err)
		}
		switch next := c.tr; {
		case next == nil:
		case next.kind == trGoto:
			if f.step(next.step) == nil {
				return fmt.Errorf("flow %s: begin goes to unknown step %s", f.Name, next.step)
			}
			s.Step, chosen = next.step, true
			c.tr = nil
		default:
			return e.apply(c)
		}
	}
	if !chosen {
		// Begin may have filled in answers (a one-line report): start at
		// the first question still open.
		if s.Step = e.inOrder(c, f, s.Step); s.Step == "" {
			return fmt.Errorf("start flow %s: every step skipped", f.Name)
		}
	}
	e.prompt(c, true, "")
	return nil
}

// global runs one of the commands that work at every step.
func (e *Engine) global(c *Ctx, id string) error {
	c.tr = nil
	if err := e.runGlobal(c, id); err != nil {
		return err
	}
	return e.apply(c)
}

func (e *Engine) runGlobal(c *Ctx, id string) error {
	f, st := e.current(c)
	switch id {
	case cmdMenu:
		e.showMenu(c, "")
	case cmdCancel:
		title := ""
		if f.Name != menuFlow {
			title = c.T("flows.cancelled", nil)
		}
		e.showMenu(c, title)
	case cmdBack:
		e.back(c)
	case cmdHelp:
		help := st.Help
		if help == "" {
			help = "flows.help"
		}
		lead := c.T(help, e.vars(c, st))
		if help != "flows.help" {
			lead = joinText(lead, c.T("flows.help", nil))
		}
		e.reask(c, lead)
	case cmdEnglish:
		return e.setLang(c, "en")
	case cmdVietnamese:
		return e.setLang(c, "vi")
	case cmdPerson:
		reason := "asked"
		if f.Name != menuFlow {
			reason = "asked at " + f.Name + "/" + st.Name
		}
		if c.s.Misses >= 2 {
			reason = "not understood at " + f.Name + "/" + st.Name
		}
		return c.Handoff(reason)
	case cmdMore:
		page, _ := strconv.Atoi(c.Get(keyPage))
		c.Set(keyPage, strconv.Itoa(page+1))
		e.reask(c, "")
	default:
		return fmt.Errorf("unknown global command %s", id)
	}
	return nil
}

func (e *Engine) setLang(c *Ctx, lang string) error {
	c.s.Lang = lang
	if lang == "vi" {
		c.s.Lang = ""
	}
	// Notices to people on the roster (reminders, team news) are written in
	// their stored language: keep it in step with their choice here.
	if ls, ok := e.opts.Directory.(LangKeeper); ok && c.ownChat() {
		if _, _, found, err := c.Person(); err == nil && found {
			if err := ls.SetPersonLang(c.ctx, c.Event.UserID, lang); err != nil {
				return fmt.Errorf("keep language: %w", err)
			}
		}
	}
	e.reask(c, c.T("flows.lang.set", nil))
	return nil
}

// LangKeeper is an optional part of the Directory: it stores the language a
// person on the roster chose, for messages sent to them outside their chat.
type LangKeeper interface {
	SetPersonLang(ctx context.Context, zaloUserID, lang string) error
}

// back re-asks the previous question, showing the answer given then.
func (e *Engine) back(c *Ctx) {
	s := c.s
	c.Set(keyReturn, "")
	c.Set(keyPage, "")
	s.Misses = 0
	if len(s.History) == 0 {
		e.showMenu(c, "")
		return
	}
	prev := s.History[len(s.History)-1]
	s.History = s.History[:len(s.History)-1]
	if flow, step, ok := strings.Cut(prev, "/"); ok {
		if flow == menuFlow || e.flows[flow] == nil {
			e.showMenu(c, "")
			return
		}
		s.Flow, s.Step = flow, step
	} else {
		s.Step = prev
	}
	_, st := e.current(c)
	lead := ""
	if st.Save != "" {
		if answer := e.answerText(c, st, c.Get(st.Save)); answer != "" {
			lead = c.T("flows.back.previous", map[string]any{"answer": answer})
		}
	}
	e.reask(c, lead)
}

// answerText shows a saved answer as the person would recognize it.
func (e *Engine) answerText(c *Ctx, st *Step, value string) string {
	if value == "" {
		return ""
	}
	if st.Input == InputChoice || st.Input == InputYesNo {
		choices, err := e.choices(c, st)
		if err == nil {
			for i := range choices {
				if choices[i].ID == value {
					return e.choiceTitle(c, &choices[i])
				}
			}
		}
	}
	if st.Input == InputPhone {
		return DisplayPhone(value)
	}
	return value
}

// DisplayPhone writes an E.164 Vietnamese mobile as people write it
// ("+84912345678" → "0912 345 678").
func DisplayPhone(e164 string) string {
	if !strings.HasPrefix(e164, "+84") || len(e164) != 12 {
		return e164
	}
	d := "0" + e164[3:]
	return d[:4] + " " + d[4:7] + " " + d[7:]
}

// miss answers input the step did not understand: the question again, and
// after two misses the offer of a person.
func (e *Engine) miss(c *Ctx, lead string) {
	if lead == "" {
		lead = c.T("flows.miss.first", nil)
	}
	c.s.Misses++
	e.reask(c, lead)
	if c.s.Misses >= 2 {
		c.Reply(c.T("flows.miss.offer", nil),
			c.Button("common.human", cmdPerson),
			c.Button("common.menu", cmdMenu))
	}
}

// problem refuses an answer with the message that says why.
func (e *Engine) problem(c *Ctx, id string) { e.problemData(c, id, nil) }

func (e *Engine) problemData(c *Ctx, id string, data map[string]any) {
	e.miss(c, c.T(id, data))
}

// showMenu leaves any flow and shows the main menu, titled with title
// instead of the menu's question when one is given.
func (e *Engine) showMenu(c *Ctx, title string) {
	c.endFlow()
	if title == "" && c.isNew && !c.welcomed {
		// Someone new gets one message, not a welcome and then the menu:
		// the menu's title greets them and says who we are. Someone on a
		// roster (a member, a leader, an officer) is greeted by name, with
		// their own menu, not as a resident.
		title = c.T("flows.menu.welcome", nil)
		if p, _, onRoster, err := c.Person(); err == nil && onRoster {
			// Called by the given name, the last word: "Chào Mai!".
			name := p.FullName
			if i := strings.LastIndexByte(strings.TrimSpace(name), ' '); i >= 0 {
				name = strings.TrimSpace(name)[i+1:]
			}
			title = c.T("flows.menu.welcome_roster", map[string]any{"name": name})
		}
		c.welcomed = true
	}
	if title == "" {
		e.prompt(c, false, "")
		return
	}
	_, st := e.current(c)
	choices, err := e.choices(c, st)
	if err != nil {
		e.log.ErrorContext(c.ctx, "menu choices", "err", err)
	}
	c.Reply(title, e.pageButtons(c, choices)...)
}

// reask asks the current step's question again (without its preamble),
// after lead.
func (e *Engine) reask(c *Ctx, lead string) { e.prompt(c, false, lead) }

// vars is the template data of a step: the session's answers and the
// step's own.
func (e *Engine) vars(c *Ctx, st *Step) map[string]any {
	m := c.data()
	for k, id := range st.Texts {
		m[k] = c.T(id, nil)
	}
	if st.Vars != nil {
		for k, v := range st.Vars(c) {
			m[k] = v
		}
	}
	return m
}

// prompt asks the current step's question; full adds the step's preamble
// messages, lead goes before the question.
func (e *Engine) prompt(c *Ctx, full bool, lead string) {
	f, st := e.current(c)
	vars := e.vars(c, st)
	if full && st.Enter != nil {
		if err := st.Enter(c); err != nil {
			e.log.ErrorContext(c.ctx, "enter step", "flow", f.Name, "step", st.Name, "err", err)
		}
	}
	if full {
		for _, id := range st.Say {
			c.Reply(c.T(id, vars))
		}
	}
	text := ""
	if st.Ask != "" {
		text = c.T(st.Ask, vars)
	}
	text = joinText(lead, text)
	switch st.Input {
	case InputChoice, InputYesNo:
		choices, err := e.choices(c, st)
		if err != nil {
			e.log.ErrorContext(c.ctx, "choices for prompt", "flow", f.Name, "step", st.Name, "err", err)
		}
		c.Reply(text, e.pageButtons(c, choices)...)
	case InputPhone:
		c.Reply(text, c.Button("flows.btn.share", cmdShare))
	default:
		if text != "" {
			c.Reply(text)
		}
	}
}

func joinText(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(p)
	}
	return b.String()
}

// pageButtons returns the buttons of the page being shown: all choices when
// they fit in one list, else four per page and "Thêm…".
func (e *Engine) pageButtons(c *Ctx, choices []Choice) []cnsbot.Button {
	visible, more := e.page(c, choices)
	buttons := make([]cnsbot.Button, 0, len(visible)+1)
	for i := range visible {
		buttons = append(buttons, e.choiceButton(c, &visible[i]))
	}
	if more {
		buttons = append(buttons, c.Button("flows.btn.more", cmdMore))
	}
	return buttons
}

func (e *Engine) page(c *Ctx, choices []Choice) ([]Choice, bool) {
	if len(choices) <= maxButtons {
		return choices, false
	}
	// Pinned choices open every page, as many as leave two slots: one
	// for the page's own choices and one for "Thêm…". The page is built
	// in one slice of at most maxButtons-1, not by splitting the list.
	pinned := 0
	for i := range choices {
		if choices[i].Pin && pinned < maxButtons-2 {
			pinned++
		}
	}
	per := maxButtons - 1 - pinned
	pages := (len(choices) - pinned + per - 1) / per
	p, _ := strconv.Atoi(c.Get(keyPage))
	p = ((p % pages) + pages) % pages
	from, to := p*per, (p+1)*per
	out := make([]Choice, 0, maxButtons-1)
	for i, taken := 0, 0; i < len(choices) && taken < pinned; i++ {
		if choices[i].Pin {
			out = append(out, choices[i])
			taken++
		}
	}
	for i, taken, rest := 0, 0, 0; i < len(choices) && rest < to; i++ {
		if choices[i].Pin && taken < pinned {
			taken++
			continue
		}
		if rest >= from {
			out = append(out, choices[i])
		}
		rest++
	}
	return out, true
}

func (e *Engine) choiceButton(c *Ctx, ch *Choice) cnsbot.Button {
	return cnsbot.Button{Title: e.choiceTitle(c, ch), Payload: "#" + ch.ID}
}

func (e *Engine) choiceTitle(c *Ctx, ch *Choice) string {
	if ch.Label != "" {
		return c.T(ch.Label, nil)
	}
	return ch.Title
}

// choices returns a choice step's choices.
func (e *Engine) choices(c *Ctx, st *Step) ([]Choice, error) {
	if st.Options != nil {
		ch, err := st.Options(c)
		if err != nil {
			return nil, fmt.Errorf("options of step %s: %w", st.Name, err)
		}
		return ch, nil
	}
	if st.Input == InputYesNo && len(st.Choices) == 0 {
		return yesNo, nil
	}
	return st.Choices, nil
}

var yesNo = []Choice{
	{ID: "yes", Label: "common.yes", Words: []string{"co", "vang", "da", "dong y", "ok", "u", "uh", "yes", "y", "dung", "dung roi", "phai", "roi"}},
	{ID: "no", Label: "common.no", Words: []string{"khong", "ko", "k", "no", "n", "chua", "sai", "khong phai", "khong dung"}},
}

// matchChoice finds the choice the input selects: by id, by its number on
// the page shown, by words (typo-tolerant), or, failing those, by the
// choices whose names contain every typed word (several mean "which one?").
//
// In a step that also takes free text (strict), only the id, the number or
// a whole phrase selects a choice, so that "sáng thứ Bảy" stays an answer
// rather than becoming the choice "Buổi sáng".
func (e *Engine) matchChoice(c *Ctx, choices []Choice, in *Input, strict bool) (*Choice, []*Choice) {
	if in.Folded == "" {
		return nil, nil
	}
	ix := e.choiceIndex(choices)
	if i, ok := ix.ids[in.Folded]; ok {
		return &choices[i], nil
	}
	if !in.Payload {
		if n, err := strconv.Atoi(in.Folded); err == nil {
			visible, _ := e.page(c, choices)
			if n >= 1 && n <= len(visible) {
				for i := range choices {
					if choices[i].ID == visible[n-1].ID {
						return &choices[i], nil
					}
				}
			}
		}
	}
	if strict {
		if i, ok := ix.exact[in.Folded]; ok {
			return &choices[i], nil
		}
		return nil, nil
	}
	if id, ok := ix.matcher.MatchFolded(in.Folded); ok {
		i, _ := strconv.Atoi(id)
		return &choices[i], nil
	}
	words := strings.Fields(in.Folded)
	var candidates []*Choice
	for i := range choices {
		for _, p := range ix.words[i] {
			if containsWords(p, words) {
				candidates = append(candidates, &choices[i])
				break
			}
		}
	}
	if len(candidates) == 1 {
		return candidates[0], nil
	}
	if len(candidates) > maxButtons {
		candidates = candidates[:maxButtons]
	}
	return nil, candidates
}

// choicePhrases are the typed forms of a choice: its id, its title in every
// language, its literal title and its words.
func (e *Engine) choicePhrases(ch *Choice) []string {
	p := []string{ch.ID}
	if ch.Label != "" {
		p = append(p, e.texts.T("vi", ch.Label, nil), e.texts.T("en", ch.Label, nil))
	}
	if ch.Title != "" {
		p = append(p, ch.Title)
	}
	return append(p, ch.Words...)
}

// containsWords reports whether every word of want occurs in have.
func containsWords(have, want []string) bool {
	if len(want) == 0 {
		return false
	}
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// choiceIndex is what matching typed text against a choice list needs,
// folded once per list rather than on every message: most lists are a
// step's fixed choices or the menu, and folding every title and synonym
// for each message cost more than the rest of the turn (issue 19).
type choiceIndex struct {
	// of identifies the list: each choice's id, label, title and words,
	// which are all its phrases depend on.
	of []choiceKey
	// ids maps a folded id to its choice, the first when two fold alike.
	ids map[string]int
	// exact maps each folded phrase to the first choice that has it.
	exact map[string]int
	// words holds each choice's phrases as folded words.
	words [][][]string
	// matcher finds phrases in free text; its ids are choice indexes.
	matcher *vn.Matcher
}

type choiceKey struct {
	id, label, title string
	words            []string
}

func keyOf(ch *Choice) choiceKey {
	return choiceKey{id: ch.ID, label: ch.Label, title: ch.Title, words: ch.Words}
}

func (k choiceKey) equal(o choiceKey) bool {
	return k.id == o.id && k.label == o.label && k.title == o.title && slices.Equal(k.words, o.words)
}

// choiceIndex returns the index of a choice list, built once. It is found
// by a hash of what the phrases depend on, then compared in full, so that
// finding it costs no allocation.
func (e *Engine) choiceIndex(choices []Choice) *choiceIndex {
	var h maphash.Hash
	h.SetSeed(choiceSeed)
	for i := range choices {
		ch := &choices[i]
		h.WriteString(ch.ID)
		h.WriteByte(0x1f)
		h.WriteString(ch.Label)
		h.WriteByte(0x1f)
		h.WriteString(ch.Title)
		for _, w := range ch.Words {
			h.WriteByte(0x1f)
			h.WriteString(w)
		}
		h.WriteByte(0x1e)
	}
	key := h.Sum64()
	if v, ok := e.matchers.Load(key); ok {
		if ix := v.(*choiceIndex); ix.same(choices) {
			return ix
		}
	}
	ix := e.newChoiceIndex(choices)
	// Lists built at run time (places, recent households) vary; a full
	// cache starts over rather than grow without bound.
	if e.matcherCount.Add(1) > maxMatchers {
		e.matchers.Clear()
		e.matcherCount.Store(1)
	}
	e.matchers.Store(key, ix)
	return ix
}

var choiceSeed = maphash.MakeSeed()

func (ix *choiceIndex) same(choices []Choice) bool {
	if len(ix.of) != len(choices) {
		return false
	}
	for i := range choices {
		if !ix.of[i].equal(keyOf(&choices[i])) {
			return false
		}
	}
	return true
}

func (e *Engine) newChoiceIndex(choices []Choice) *choiceIndex {
	ix := &choiceIndex{
		of:    make([]choiceKey, len(choices)),
		ids:   make(map[string]int, len(choices)),
		exact: make(map[string]int),
		words: make([][][]string, len(choices)),
	}
	phrases := make(map[string][]string, len(choices))
	for i := range choices {
		ch := &choices[i]
		k := keyOf(ch)
		k.words = slices.Clone(k.words)
		ix.of[i] = k
		if _, seen := ix.ids[vn.Fold(ch.ID)]; !seen {
			ix.ids[vn.Fold(ch.ID)] = i
		}
		list := e.choicePhrases(ch)
		phrases[strconv.Itoa(i)] = list
		for _, p := range list {
			f := vn.Fold(p)
			if _, seen := ix.exact[f]; !seen {
				ix.exact[f] = i
			}
			ix.words[i] = append(ix.words[i], strings.Fields(f))
		}
	}
	ix.matcher = vn.NewMatcher(phrases)
	return ix
}

// maxMatchers bounds the cache of choice lists.
const maxMatchers = 4096
