package resident

import (
	"slices"
	"strconv"
	"strings"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
)

// guide is one step-by-step guide, declared once here; its text is in
// the locale files: "<prefix>.<id>.title" (its name on the buttons) and
// "<prefix>.<id>.1", ".2" … one message per step, as many steps as there
// are numbered texts. Engine.Check verifies every text in both languages.
type guide struct {
	id    string
	topic string // a cnsbot.Area*, given to a request for a team member
	// words start the guide when typed at the menu ("quen mat khau").
	words []string
}

// The VNeID problems residents get stuck on, and what they ask for most in
// 2025–26 (domain.md "Helping residents"; each guide's public source and
// the date it was checked are in content/sources.toml).
var vneidGuides = []guide{
	{id: "install", topic: cnsbot.AreaVNeIDInstall, words: []string{
		"cai vneid", "cai dat vneid", "tai vneid", "dang ky vneid", "install vneid", "download vneid",
		"muc 1", "dinh danh muc 1", "level 1", "tao tai khoan vneid", "dang ky dinh danh", "khong co nfc", "no nfc"}},
	{id: "activate", topic: cnsbot.AreaVNeIDInstall, words: []string{
		"kich hoat", "kich hoat vneid", "kich hoat tai khoan", "activate", "activate vneid", "da duoc duyet", "approved"}},
	{id: "level2", topic: cnsbot.AreaVNeIDLevel2, words: []string{
		"muc 2", "dinh danh muc 2", "level 2", "vneid muc 2", "tai khoan muc 2"}},
	{id: "password", topic: cnsbot.AreaVNeIDInstall, words: []string{
		"quen mat khau", "mat khau", "doi mat khau", "lay lai mat khau", "forgot password", "password", "reset password"}},
	{id: "passcode", topic: cnsbot.AreaVNeIDInstall, words: []string{
		"passcode", "quen passcode", "ma passcode", "forgot passcode"}},
	{id: "phone", topic: cnsbot.AreaVNeIDInstall, words: []string{
		"doi dien thoai", "doi may", "may moi", "mat dien thoai", "mat may", "dien thoai moi", "doi thiet bi",
		"thiet bi moi", "new phone", "lost phone", "lost my phone", "change phone", "khoa tai khoan", "lock account"}},
	{id: "otp", topic: cnsbot.AreaVNeIDInstall, words: []string{
		"otp", "ma otp", "khong nhan duoc ma", "khong co ma", "ma xac thuc", "khong nhan duoc otp", "no otp", "sms"}},
	{id: "owner", topic: cnsbot.AreaVNeIDInstall, words: []string{
		"chinh chu", "khong chinh chu", "sim khong chinh chu", "so khong dung ten", "dung ten nguoi khac",
		"not in my name", "sim chinh chu", "own name"}},
	{id: "ansinh", topic: cnsbot.AreaVNeIDLevel2, words: []string{
		"an sinh", "an sinh xa hoi", "tai khoan an sinh", "tai khoan an sinh xa hoi", "nhan tien ho tro", "tro cap",
		"social welfare", "welfare account", "state payments"}},
	{id: "sdt", topic: cnsbot.AreaVNeIDInstall, words: []string{
		"doi so dien thoai", "doi so dien thoai vneid", "thay so dien thoai", "so dien thoai moi", "doi sdt",
		"change phone number", "new phone number"}},
	{id: "giayto", topic: cnsbot.AreaVNeIDInstall, words: []string{
		"bao hiem y te", "the bhyt", "bhyt", "bang lai", "giay phep lai xe", "them con", "con duoi 14", "tich hop giay to",
		"health insurance", "driving licence", "driving license", "add child", "children"}},
	{id: "cccd", topic: cnsbot.AreaVNeIDLevel2, words: []string{
		"doi can cuoc", "doi the can cuoc", "doi cccd", "cap doi can cuoc", "can cuoc sau sap nhap", "doi the",
		"swap card", "new card", "swap id card"}},
}

// The CaMau-G app: install and field reports, the screens public sources
// show. Its other services are the services flow's guides; procedures go
// to VNeID or the national public-service portal (services/dvc).
var camaugGuides = []guide{
	{id: "install", topic: cnsbot.AreaCaMauG, words: []string{
		"cai camau g", "tai camau g", "cai dat camau g", "install camau g", "cai ca mau g",
		"dang nhap camau g", "login camau g", "dang nhap ca mau g", "log in camau g"}},
	{id: "report", topic: cnsbot.AreaCaMauG, words: []string{
		"phan anh", "phan anh hien truong", "phan anh kien nghi", "field report", "bao su co"}},
}

// The other digital services the plan names, and the safety residents ask
// about now.
var serviceGuides = []guide{
	{id: "luadao", topic: cnsbot.AreaSafety, words: []string{
		"lua dao", "canh giac", "cong an goi", "cong an goi bat cap nhat", "bat cap nhat vneid", "cap nhat vneid",
		"goi dien bat cap nhat", "cap nhat dia chi", "bi lua", "scam", "scammer", "police called", "update vneid"}},
	{id: "sinhtrac", topic: cnsbot.AreaEPayment, words: []string{
		"sinh trac", "sinh trac hoc", "xac thuc khuon mat", "ngan hang bat xac thuc", "khong chuyen tien duoc",
		"biometric", "biometrics", "face check", "bank face"}},
	{id: "dvc", topic: cnsbot.AreaPublicSvc, words: []string{
		"dich vu cong", "dvc", "nop ho so", "public service", "public services", "thu tuc hanh chinh", "lam giay to",
		"dich vu cong camau g", "dich vu cong tren camau g"}},
	{id: "ttkdtm", topic: cnsbot.AreaEPayment, words: []string{
		"thanh toan", "chuyen khoan", "quet ma", "quet qr", "vi dien tu", "payment", "cashless",
		"khong dung tien mat", "e payment"}},
	{id: "tmdt", topic: cnsbot.AreaECommerce, words: []string{
		"ban hang online", "ban hang", "thuong mai dien tu", "mua hang online", "e commerce", "sell online",
		"shop online", "gian hang"}},
	{id: "yte", topic: cnsbot.AreaHealth, words: []string{
		"dat lich kham", "kham benh", "benh vien", "suc khoe", "so suc khoe", "health", "booking", "y te"}},
	{id: "giaoduc", topic: cnsbot.AreaEducation, words: []string{
		"ket qua hoc tap", "diem thi", "xem diem", "hoc ba", "so lien lac", "school", "school results", "hoc tap"}},
}

// Typed answers to a guide's buttons, matched folded.
var (
	nextWords = []string{"xong", "tiep", "xong tiep", "roi", "xong roi", "ok", "duoc", "dc", "next", "done", "lam xong",
		"xog", "xonh", "tiepp", "oke", "okay"} // short typos the fuzzy match leaves alone

	stuckWords = []string{"chua duoc", "van chua", "khong duoc", "ko duoc", "ko dc", "k dc", "chua", "loi", "bi loi", "stuck", "not yet", "still stuck", "doesn't work", "khong lam duoc",
		"not working", "it doesnt work", "khong dc", "hong duoc", "hong dc"}
	workedWords = []string{"lam duoc", "da lam duoc", "duoc roi", "xong roi", "thanh cong", "it worked", "worked", "ok roi"}
)

// Choice ids of a guide's steps.
const (
	choiceNext   = "tiep"
	choiceStuck  = "chuaduoc"
	choiceWorked = "lamduoc"
)

// Session Data keys of the guides.
const (
	keyStuckAt = "stuck_at"
)

// guideFlow declares a flow that offers the guides of one app: a list to
// pick from, each guide's steps, "still stuck" options and a rating. extra
// choices are appended to the list.
func (r *residents) guideFlow(name, prefix string, guides []guide, extra ...flows.Choice) *flows.Flow {
	f := &flows.Flow{Name: name, Title: prefix + ".name", Resumable: true}
	pick := &flows.Step{Name: "pick", Ask: prefix + ".pick", Help: prefix + ".help", Input: flows.InputChoice}
	f.Steps = append(f.Steps, pick)
	for _, g := range guides {
		pick.Choices = append(pick.Choices, flows.Choice{ID: g.id, Label: prefix + "." + g.id + ".title",
			Words: g.words, Next: g.id + ".1"})
		f.Steps = append(f.Steps, r.guideSteps(prefix, g)...)
		f.Entries = append(f.Entries, flows.Entry{Step: g.id + ".1", Phrases: g.words})
	}
	pick.Choices = append(pick.Choices, extra...)
	f.Steps = append(f.Steps, r.stuckStep(prefix, guides), r.rateStep())
	return f
}

// guideSteps declares a guide: one message per step, each with "done, next"
// and "still stuck"; the last asks whether it worked.
func (r *residents) guideSteps(prefix string, g guide) []*flows.Step {
	total := r.stepCount(prefix, g)
	steps := make([]*flows.Step, 0, total)
	for i := 1; i <= total; i++ {
		n := i
		st := &flows.Step{
			Name:  g.id + "." + strconv.Itoa(i),
			Ask:   "resident.guide.step",
			Help:  "resident.guide.help",
			Input: flows.InputChoice,
			Texts: map[string]string{"text": prefix + "." + g.id + "." + strconv.Itoa(i)},
			Vars:  func(*flows.Ctx) map[string]any { return map[string]any{"n": n, "total": total} },
			Then:  rememberStuck,
		}
		if i < total {
			st.Choices = []flows.Choice{
				{ID: choiceNext, Label: "resident.btn.next", Words: nextWords, Next: g.id + "." + strconv.Itoa(i+1)},
				{ID: choiceStuck, Label: "resident.btn.stuck", Words: stuckWords, Next: "stuck"},
			}
		} else {
			st.Choices = []flows.Choice{
				{ID: choiceWorked, Label: "resident.btn.worked", Words: slices.Concat(workedWords, nextWords), Next: "rate"},
				{ID: choiceStuck, Label: "resident.btn.stuck", Words: stuckWords, Next: "stuck"},
			}
		}
		steps = append(steps, st)
	}
	return steps
}

// stepCount is how many numbered step texts a guide has in Vietnamese, the
// catalogue every other follows (a test keeps them in step). A guide with
// none has no steps, and registering its flow fails: its list names a
// first step that does not exist.
func (r *residents) stepCount(prefix string, g guide) int {
	n := 0
	for r.deps.Texts.Has("vi", prefix+"."+g.id+"."+strconv.Itoa(n+1)) {
		n++
	}
	return n
}

// rememberStuck notes where the person got stuck, so "try again" returns
// there and a request for a team member names the guide.
func rememberStuck(c *flows.Ctx, in flows.Input) error {
	if in.Choice != nil && in.Choice.ID == choiceStuck {
		c.Set(keyStuckAt, c.StepName())
	}
	return nil
}

// guideOf returns the guide id of a guide step's name ("password.3").
func guideOf(step string) string {
	id, _, _ := strings.Cut(step, ".")
	return id
}

// stuckStep offers what to do when a guide did not work: try the step
// again, ask a team member to come, or talk to a person.
func (r *residents) stuckStep(prefix string, guides []guide) *flows.Step {
	topics := make(map[string]string, len(guides))
	for _, g := range guides {
		topics[g.id] = g.topic
	}
	return &flows.Step{
		Name:  "stuck",
		Ask:   "resident.stuck.ask",
		Help:  "resident.stuck.help",
		Input: flows.InputChoice,
		Choices: []flows.Choice{
			{ID: "thulai", Label: "resident.btn.retry", Words: []string{"thu lai", "lam lai buoc", "try again", "retry"},
				Run: func(c *flows.Ctx) error {
					if at := c.Get(keyStuckAt); at != "" {
						c.Goto(at)
					} else {
						c.Goto("pick")
					}
					return nil
				}},
			{ID: "dennha", Label: "resident.btn.come", Words: []string{"nho to", "den nha", "toi nha", "come", "home visit"},
				Run: func(c *flows.Ctx) error {
					g := guideOf(c.Get(keyStuckAt))
					data := map[string]string{keyTopic: cnsbot.AreaOther}
					if t, ok := topics[g]; ok {
						data[keyTopic] = t
						data[keyProblemHint] = c.T(prefix+"."+g+".title", nil)
						data[keyHintLabel] = prefix + "." + g + ".title"
					}
					c.Start(FlowCome, "", data)
					return nil
				}},
			{ID: "nguoi", Label: "common.human", Next: flows.End},
			{ID: "menu", Label: "common.menu", Next: flows.End},
		},
	}
}

// ratingWords are the numbers one to five, folded, as people type them.
var ratingWords = []string{"mot", "hai", "ba", "bon", "nam"}

// rateStep asks how useful the guide was, 1 to 5.
func (r *residents) rateStep() *flows.Step {
	st := &flows.Step{Name: "rate", Ask: "resident.rate.ask", Input: flows.InputChoice}
	for i := 1; i <= 5; i++ {
		n := strconv.Itoa(i)
		st.Choices = append(st.Choices, flows.Choice{ID: n, Label: "resident.rate." + n,
			Words: []string{n + " sao", ratingWords[i-1] + " sao", n + " stars"}})
	}
	st.Then = func(c *flows.Ctx, in flows.Input) error {
		rating, _ := strconv.Atoi(in.Choice.ID)
		g := c.FlowName() + "/" + guideOf(lastGuideStep(c))
		if err := r.deps.Feedback.RateGuide(c.Context(), c.UserID(), g, rating, c.Event.Key); err != nil {
			return err
		}
		c.Menu(c.T("resident.rate.thanks", nil))
		return nil
	}
	return st
}

// lastGuideStep returns the guide step the person came to the rating from.
func lastGuideStep(c *flows.Ctx) string {
	h := c.Session().History
	for i := len(h) - 1; i >= 0; i-- {
		if strings.Contains(h[i], ".") && !strings.Contains(h[i], "/") {
			return h[i]
		}
	}
	return ""
}

func (r *residents) vneidFlow() *flows.Flow {
	f := r.guideFlow(FlowVNeID, "resident.vneid", vneidGuides)
	f.Entries = append(f.Entries, flows.Entry{Phrases: []string{"vneid", "dinh danh dien tu"}})
	return f
}

func (r *residents) camaugFlow() *flows.Flow {
	f := r.guideFlow(FlowCaMauG, "resident.camaug", camaugGuides,
		flows.Choice{ID: "khac", Label: "resident.camaug.others.title", Start: FlowServices,
			Words: []string{"dich vu khac", "other services", "thanh toan", "ban hang", "kham benh", "hoc tap"}})
	f.Entries = append(f.Entries, flows.Entry{Phrases: []string{"camau g", "camaug", "ca mau g"}})
	return f
}

func (r *residents) servicesFlow() *flows.Flow {
	return r.guideFlow(FlowServices, "resident.services", serviceGuides)
}
