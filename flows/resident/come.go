package resident

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/vn"
)

// Session Data keys of the request for a team member.
const (
	keyName        = "name"
	keyPhone       = "phone"
	keyCommune     = "commune"
	keyCommuneName = "commune_name"
	// keyFormerName is the former name of the commune the resident typed
	// ("Phường 5"), while they confirm its current name.
	keyFormerName  = "former_name"
	keyHamlet      = "hamlet"
	keyHamletName  = "hamlet_name"
	keyProblem     = "problem"
	keyProblemHint = "problem_hint" // the guide the person came from
	// keyProblemLabel and keyTimeLabel hold the message ids of answers
	// picked from buttons, so the request stores codes that each reader
	// sees in their language (answers.go).
	keyProblemLabel = "problem_label"
	keyTimeLabel    = "time_label"
	// keyHintVi and keyProblemVi hold the Vietnamese title of the guide
	// the resident came from, for the team.
	keyHintVi    = "problem_hint_vi"
	keyProblemVi = "problem_vi"
	keyTopic     = "topic"
	keyTime      = "time"
	keyOpenCode  = "open_code"
	keyPending   = "attachments" // photos sent before the request exists
)

// maxPending bounds the photos kept in the session before the request is
// stored; the session stays small.
const maxPending = 5

// comeFlow declares the request for a team member to come to the
// resident's home: name, phone, commune and hamlet, the problem, a
// convenient time, and a summary to confirm or edit.
func (r *residents) comeFlow() *flows.Flow {
	return &flows.Flow{
		Name:      FlowCome,
		Title:     "resident.come.name_flow",
		Start:     "name",
		Resumable: true,
		Begin:     r.beginCome,
		Steps: []*flows.Step{
			{Name: "existing", Ask: "resident.come.existing", Help: "resident.come.help", Input: flows.InputChoice,
				Choices: []flows.Choice{
					{ID: "moi", Label: "resident.btn.new_request", Words: []string{"tao moi", "yeu cau moi", "new", "new request"}, Run: r.newRequest},
					{ID: cmdStatus, Label: "resident.menu.status", Words: statusWords, Run: r.showOwnStatus},
				}},
			r.consentStep(),
			r.addressStep(),
			{Name: "name", Ask: "resident.come.name", Help: "resident.come.name_help", Input: flows.InputText,
				MaxLen: 100, PersonName: true, Save: keyName, Check: checkName},
			{Name: "phone", Ask: "resident.come.phone", Help: "resident.come.phone_help", Input: flows.InputPhone,
				Save: keyPhone, Then: namefromForm},
			{Name: "commune", Ask: "resident.come.commune", Help: "resident.come.place_help", Input: flows.InputChoice,
				Options: r.communeChoices, Save: keyCommune, Then: r.chooseCommune},
			{Name: "former", Ask: "resident.come.former", Help: "resident.come.place_help", Input: flows.InputChoice,
				Vars: func(c *flows.Ctx) map[string]any {
					return map[string]any{"commune_now": unitInSentence(c.Get(keyCommuneName))}
				},
				Choices: []flows.Choice{
					{ID: "dung", Label: "resident.btn.former_yes", Words: []string{"dung", "dung roi", "phai", "vang", "da", "yes", "right"},
						Run: r.confirmFormer},
					{ID: "khac", Label: "resident.btn.former_no", Words: []string{"khong", "khong phai", "sai", "no", "other", "another"},
						Run: func(c *flows.Ctx) error {
							c.Set(keyCommune, "")
							c.Set(keyCommuneName, "")
							c.Set(keyFormerName, "")
							c.Goto("commune")
							return nil
						}},
				}},
			{Name: "hamlet", Ask: "resident.come.hamlet", Help: "resident.come.place_help", Input: flows.InputChoice,
				Options: r.hamletChoices, Save: keyHamlet, Then: chooseHamlet},
			{Name: "problem", Ask: "resident.come.problem", Help: "resident.come.problem_help", Input: flows.InputChoice,
				Free: true, MaxLen: maxProblemLen, Options: problemChoices, Save: keyProblem, Then: chooseProblem},
			{Name: "time", Ask: "resident.come.time", Help: "resident.come.time_help", Input: flows.InputChoice,
				Free: true, MaxLen: 200, Choices: timeChoices, Save: keyTime, Then: chooseTime},
			{Name: "confirm", Ask: "resident.come.summary", Help: "resident.come.confirm_help", Input: flows.InputChoice,
				Vars: summaryVars,
				Choices: []flows.Choice{
					{ID: "gui", Label: "resident.btn.send", Words: []string{"gui", "dong y", "dung roi", "xac nhan", "ok", "send", "confirm", "yes"}, Run: r.submit},
					{ID: "sua", Label: "resident.btn.edit", Words: []string{"sua", "chinh sua", "sai", "doi", "edit", "change"}, Next: "edit"},
					{ID: "huy", Label: "common.cancel", Next: flows.End},
				}},
			{Name: "edit", Ask: "resident.come.edit", Help: "resident.come.confirm_help", Input: flows.InputChoice,
				Choices: []flows.Choice{
					{ID: "ten", Label: "resident.field.name", Words: []string{"ho ten", "ten", "name"}, Run: edit("name")},
					{ID: "sdt", Label: "resident.field.phone", Words: []string{"so dien thoai", "sdt", "dien thoai", "phone"}, Run: edit("phone")},
					{ID: "noio", Label: "resident.field.place", Words: []string{"xa", "ap", "dia chi", "noi o", "place", "address"}, Run: edit("commune")},
					{ID: "viec", Label: "resident.field.problem", Words: []string{"viec can giup", "van de", "problem"}, Run: edit("problem")},
					{ID: "gio", Label: "resident.field.time", Words: []string{"thoi gian", "gio", "time"}, Run: edit("time")},
				}},
		},
	}
}

func edit(step string) func(c *flows.Ctx) error {
	return func(c *flows.Ctx) error {
		c.Edit(step, "confirm")
		return nil
	}
}

// beginCome points a resident who already has an open request to it
// before starting another, and asks for consent before the name.
func (r *residents) beginCome(c *flows.Ctx) error {
	req, err := r.deps.HelpDesk.OpenHelpRequestFor(c.Context(), c.UserID())
	switch {
	case cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND:
		return r.askConsent(c)
	case err != nil:
		return fmt.Errorf("open help request: %w", err)
	}
	c.Set(keyOpenCode, req.Code)
	c.Goto("existing")
	return nil
}

// checkName accepts a name with letters in it and no phone number.
func checkName(c *flows.Ctx, in *flows.Input) string {
	in.Text = strings.Join(strings.Fields(in.Text), " ")
	letters, digits := 0, 0
	for _, r := range in.Text {
		switch {
		case unicode.IsLetter(r):
			letters++
		case unicode.IsDigit(r):
			digits++
		}
	}
	if letters < 2 || digits > 0 {
		return "resident.come.name_invalid"
	}
	return ""
}

// namefromForm keeps the name from a shared Zalo form when none was typed.
func namefromForm(c *flows.Ctx, in flows.Input) error {
	if in.Info != nil && in.Info.Name != "" && c.Get(keyName) == "" {
		c.Set(keyName, in.Info.Name)
	}
	return nil
}

func (r *residents) communeChoices(c *flows.Ctx) ([]flows.Choice, error) {
	return flows.CommuneChoices(c.Context(), r.deps.Places)
}

func (r *residents) hamletChoices(c *flows.Ctx) ([]flows.Choice, error) {
	return flows.HamletChoices(c.Context(), r.deps.Places, c.Get(keyCommune))
}

func (r *residents) chooseCommune(c *flows.Ctx, in flows.Input) error {
	c.Set(keyCommuneName, in.Choice.Title)
	c.Set(keyHamlet, "")
	c.Set(keyHamletName, "")
	c.Set(keyFormerName, "")
	// Typed by a name it had before the 2025 merger: say its name now and
	// make sure it is the place meant.
	if id, ok := flows.UnitID(in.Choice.ID); ok && !in.Payload {
		communes, err := r.deps.Places.Communes(c.Context())
		if err != nil {
			return fmt.Errorf("communes: %w", err)
		}
		for _, u := range communes {
			if u.ID != id {
				continue
			}
			if former, ok := flows.FormerNameTyped(u, in.Text); ok {
				c.Set(keyFormerName, former)
				c.Goto("former")
				return nil
			}
		}
	}
	return r.afterCommune(c)
}

// confirmFormer goes on once the resident agrees that the former name they
// typed is the commune now named so.
func (r *residents) confirmFormer(c *flows.Ctx) error {
	c.Set(keyFormerName, "")
	return r.afterCommune(c)
}

// afterCommune asks for the hamlet of the chosen commune, or goes on to the
// problem when its hamlets are not on file.
func (r *residents) afterCommune(c *flows.Ctx) error {
	hamlets, err := r.hamletChoices(c)
	if err != nil {
		return err
	}
	if len(hamlets) == 0 {
		// A commune whose hamlets are not on file yet: the request goes to
		// the commune, which knows its hamlets.
		c.Continue("problem")
		return nil
	}
	// Explicit, so that editing the place from the summary still asks
	// for the hamlet of the new commune before going back.
	c.Goto("hamlet")
	return nil
}

func chooseHamlet(c *flows.Ctx, in flows.Input) error {
	c.Set(keyHamletName, in.Choice.Title)
	return nil
}

// Problems a resident can pick instead of typing one; their ids are the
// topics stored with the request.
var problemTopics = []flows.Choice{
	{ID: cnsbot.AreaVNeIDInstall, Label: "resident.topic.vneid", Words: []string{"vneid"}},
	{ID: cnsbot.AreaCaMauG, Label: "resident.topic.camaug", Words: []string{"camau g", "camaug"}},
	{ID: cnsbot.AreaPublicSvc, Label: "resident.topic.dvc", Words: []string{"dich vu cong", "dvc"}},
	{ID: cnsbot.AreaEPayment, Label: "resident.topic.payment", Words: []string{"thanh toan", "chuyen khoan"}},
	{ID: cnsbot.AreaOther, Label: "resident.topic.misc", Words: []string{"khac", "other"}},
}

const choiceKeep = "giu"

// maxProblemLen bounds the problem as stored, details included.
const maxProblemLen = 500

func problemChoices(c *flows.Ctx) ([]flows.Choice, error) {
	if c.Get(keyProblemHint) != "" {
		return []flows.Choice{{ID: choiceKeep, Label: "resident.btn.keep", Words: []string{"giu nguyen", "dung roi", "dung", "keep", "yes", "ok"}}}, nil
	}
	return problemTopics, nil
}

func chooseProblem(c *flows.Ctx, in flows.Input) error {
	switch {
	case in.Choice == nil && c.Get(keyProblemHint) != "":
		// Typed after "gõ thêm cho rõ": the details add to the guide the
		// person was stuck in, so the team sees both.
		c.Set(keyProblem, vn.Clip(c.Get(keyProblemHint)+" — "+in.Text, maxProblemLen))
		c.Set(keyProblemLabel, "")
		c.Set(keyProblemVi, "")
	case in.Choice == nil:
		c.Set(keyProblemLabel, "")
		c.Set(keyProblemVi, "")
		if c.Get(keyTopic) == "" {
			c.Set(keyTopic, cnsbot.AreaOther)
		}
	case in.Choice.ID == choiceKeep:
		c.Set(keyProblem, c.Get(keyProblemHint))
		c.Set(keyProblemLabel, "")
		c.Set(keyProblemVi, c.Get(keyHintVi))
	default:
		c.Set(keyProblemVi, "")
		c.Set(keyProblem, c.T(in.Choice.Label, nil))
		c.Set(keyProblemLabel, in.Choice.Label)
		c.Set(keyTopic, in.Choice.ID)
	}
	return nil
}

var timeChoices = []flows.Choice{
	{ID: "sang", Label: "resident.time.morning", Words: []string{"buoi sang", "morning"}},
	{ID: "chieu", Label: "resident.time.afternoon", Words: []string{"buoi chieu", "afternoon"}},
	{ID: "toi", Label: "resident.time.evening", Words: []string{"buoi toi", "evening"}},
	{ID: "batky", Label: "resident.time.any", Words: []string{"luc nao cung duoc", "bat ky", "any time", "anytime"}},
}

func chooseTime(c *flows.Ctx, in flows.Input) error {
	c.Set(keyTimeLabel, "")
	if in.Choice != nil {
		c.Set(keyTime, c.T(in.Choice.Label, nil))
		c.Set(keyTimeLabel, in.Choice.Label)
	}
	return nil
}

// storedProblem is the problem as the request keeps it: empty when the
// resident tapped a topic (the request's Topic says it, and ProblemText
// shows it in each reader's language), the Vietnamese title of the guide
// they came from, or what they typed.
func storedProblem(c *flows.Ctx) string {
	if c.Get(keyProblemLabel) != "" {
		return ""
	}
	if vi := c.Get(keyProblemVi); vi != "" {
		return vi
	}
	return c.Get(keyProblem)
}

// storedTime is the preferred time as the request keeps it: a code
// (TimeCodes) when tapped, else what the resident typed.
func storedTime(c *flows.Ctx) string {
	if label := c.Get(keyTimeLabel); label != "" {
		return timeCode(label)
	}
	return c.Get(keyTime)
}

func summaryVars(c *flows.Ctx) map[string]any {
	return map[string]any{"phone": flows.DisplayPhone(c.Get(keyPhone)), "place": place(c)}
}

// place names where the resident lives: the hamlet and commune, or the
// commune alone when its hamlets are not on file.
func place(c *flows.Ctx) string {
	if h := c.Get(keyHamletName); h != "" {
		return h + ", " + c.Get(keyCommuneName)
	}
	return c.Get(keyCommuneName)
}

// submit stores the request, tells the hamlet's team, and tells the
// resident the reference code and what happens next.
func (r *residents) submit(c *flows.Ctx) error {
	ctx := c.Context()
	communeID, _ := flows.UnitID(c.Get(keyCommune))
	hamletID, _ := flows.UnitID(c.Get(keyHamlet))
	req := cnsbot.HelpRequest{
		ResidentUserID: c.UserID(),
		Name:           c.Get(keyName),
		Phone:          c.Get(keyPhone),
		CommuneID:      communeID,
		HamletID:       hamletID,
		Topic:          c.Get(keyTopic),
		Problem:        storedProblem(c),
		PreferredTime:  storedTime(c),
		SourceEvent:    c.Event.Key,
	}
	if req.Topic == "" {
		req.Topic = cnsbot.AreaOther
	}
	if err := r.deps.HelpDesk.CreateHelpRequest(ctx, &req); err != nil {
		switch cnsbot.ErrorCode(err) {
		case cnsbot.EINVALID, cnsbot.ENOTFOUND:
			// The place vanished or the data is refused: retrying the event
			// cannot help, a person can.
			r.deps.log().WarnContext(ctx, "help request refused", "err", err)
			c.Reply(c.T("resident.come.failed", nil), c.Button("common.human", "nguoi"), c.Button("common.menu", "menu"))
			c.Done()
			return nil
		}
		return fmt.Errorf("create help request: %w", err)
	}
	c.SetNote(noteOpenRequest, req.Code)
	c.SetNote(noteAsked, "1")
	for _, a := range pendingAttachments(c) {
		a.RequestID = req.ID
		if err := r.deps.HelpDesk.AddHelpAttachment(ctx, &a); err != nil {
			return fmt.Errorf("attach photo: %w", err)
		}
	}
	teamTold, err := r.notifyTeam(c, req, place(c))
	if err != nil {
		return err
	}
	created := "resident.come.created"
	if !teamTold {
		created = "resident.come.created_commune"
	}
	c.Menu(c.T(created, map[string]any{
		"code": req.Code, "place": place(c), "phone": flows.DisplayPhone(req.Phone),
	}))
	return nil
}

// pendingAttachments returns the photos kept in the session while the
// request was being filled in.
func pendingAttachments(c *flows.Ctx) []cnsbot.HelpAttachment {
	raw := c.Get(keyPending)
	if raw == "" {
		return nil
	}
	var list []cnsbot.HelpAttachment
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		return nil
	}
	return list
}

// keepAttachments adds photos to the session's pending list and reports
// how many were kept.
func keepAttachments(c *flows.Ctx, atts []cnsbot.HelpAttachment) int {
	list := pendingAttachments(c)
	kept := 0
	for _, a := range atts {
		if len(list) >= maxPending {
			break
		}
		list = append(list, a)
		kept++
	}
	b, err := json.Marshal(list)
	if err != nil {
		return 0
	}
	c.Set(keyPending, string(b))
	return kept
}

// lowerFirst lowers a place name's first letter, for the middle of a
// sentence: "nay là xã Cái Nước".
func lowerFirst(s string) string {
	for i, r := range s {
		return string(unicode.ToLower(r)) + s[i+utf8.RuneLen(r):]
	}
	return s
}

// unitInSentence writes a unit's name for the middle of a sentence: its
// "Xã", "Phường", "Thị trấn" in lower case ("nay là xã Cái Nước"); a bare
// name ("An Xuyên") stays as it is.
func unitInSentence(name string) string {
	if w := vn.Words(name); len(w) > 1 && (w[0] == "xa" || w[0] == "phuong" || (w[0] == "thi" && w[1] == "tran")) {
		return lowerFirst(name)
	}
	return name
}
