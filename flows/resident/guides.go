package resident

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/content"
	"github.com/camau-cns/cnsbot/flows"
)

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

// keyGuide is the Data key pinning the guide a person is reading to the
// version they started ("vneid/password@3"): an officer's publish while
// they read changes nothing for them, and the next one to start gets it.
const keyGuide = "_guide"

// guideFlow declares a flow that offers the guides of one app: a list to
// pick from, each guide's steps, "still stuck" options and a rating. The
// guides themselves are content (see package content): the list, the
// typed words and the steps come from Deps.Guides while the service runs.
// extra choices are appended to the list.
func (r *residents) guideFlow(name, prefix string, extra ...flows.Choice) *flows.Flow {
	f := &flows.Flow{Name: name, Title: prefix + ".name", Resumable: true}
	pick := &flows.Step{Name: "pick", Ask: prefix + ".pick", Help: prefix + ".help", Input: flows.InputChoice,
		Options: func(c *flows.Ctx) ([]flows.Choice, error) { return r.pickChoices(c, name, extra) },
		// Options wins at run time; declared here too, the extra choices
		// are checked with the flows (Engine.Check: the flow they start).
		Choices: extra}
	f.Steps = append(f.Steps, pick, r.stuckStep(), r.rateStep())
	f.StepFor = func(step string) *flows.Step { return r.guideStep(name, step) }
	// The engine asks for the entries on every typed message; they change
	// only with the guides' generation, so they are built once per
	// generation (issue 19).
	var mu sync.Mutex
	var cachedGen int64
	var cached []flows.Entry
	f.MoreEntries = func(ctx context.Context) (int64, []flows.Entry, error) {
		cur, gen, err := r.deps.Guides.Guides(ctx)
		if err != nil {
			return 0, nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		if cached != nil && gen == cachedGen {
			return gen, cached, nil
		}
		out := []flows.Entry{}
		for _, v := range cur {
			if v.Guide.Flow == name {
				out = append(out, flows.Entry{Step: v.Guide.ID + ".1", Phrases: v.Guide.Words})
			}
		}
		cached, cachedGen = out, gen
		return gen, out, nil
	}
	return f
}

// pickChoices lists the flow's guides as they are now, then extra.
func (r *residents) pickChoices(c *flows.Ctx, flow string, extra []flows.Choice) ([]flows.Choice, error) {
	cur, _, err := r.deps.Guides.Guides(c.Context())
	if err != nil {
		return nil, fmt.Errorf("guides of %s: %w", flow, err)
	}
	var out []flows.Choice
	for _, v := range cur {
		g := v.Guide
		if g.Flow != flow {
			continue
		}
		// Either language's title selects the guide, as a catalogue
		// label's would.
		words := make([]string, 0, len(g.Words)+len(content.Langs))
		for _, lang := range content.Langs {
			if t := g.Title[lang]; t != "" {
				words = append(words, t)
			}
		}
		out = append(out, flows.Choice{ID: g.ID, Title: g.TitleIn(c.Lang()), Words: append(words, g.Words...),
			Next: g.ID + ".1"})
	}
	return append(out, extra...), nil
}

// guideStep makes step n of a guide of the flow ("password.3"), or nil when
// the name is none: the flow has no such guide now. Its text and its
// buttons come from the version the person started (see pinned).
func (r *residents) guideStep(flow, name string) *flows.Step {
	id, num, ok := strings.Cut(name, ".")
	n, err := strconv.Atoi(num)
	if !ok || err != nil || n < 1 || n > content.MaxSteps || !r.hasGuide(flow, id) {
		return nil
	}
	key := flow + "/" + id
	return &flows.Step{
		Name:  name,
		Ask:   "resident.guide.step",
		Help:  "resident.guide.help",
		Input: flows.InputChoice,
		Enter: func(c *flows.Ctx) error { return r.enterStep(c, key, n) },
		Vars: func(c *flows.Ctx) map[string]any {
			g, _, err := r.pinned(c, key)
			if err != nil {
				r.deps.log().ErrorContext(c.Context(), "guide step", "guide", key, "err", err)
			}
			return map[string]any{"n": n, "total": len(g.Steps), "text": r.stepText(c, g, n)}
		},
		Options: func(c *flows.Ctx) ([]flows.Choice, error) {
			g, _, err := r.pinned(c, key)
			if err != nil {
				return nil, err
			}
			if n < len(g.Steps) {
				return []flows.Choice{
					{ID: choiceNext, Label: "resident.btn.next", Words: nextWords, Next: id + "." + strconv.Itoa(n+1)},
					{ID: choiceStuck, Label: "resident.btn.stuck", Words: stuckWords, Next: "stuck"},
				}, nil
			}
			return []flows.Choice{
				{ID: choiceWorked, Label: "resident.btn.worked", Words: slices.Concat(workedWords, nextWords), Next: "rate"},
				{ID: choiceStuck, Label: "resident.btn.stuck", Words: stuckWords, Next: "stuck"},
			}, nil
		},
		Then: func(c *flows.Ctx, in flows.Input) error {
			rememberStuck(c, in)
			if in.Choice == nil {
				return nil
			}
			switch in.Choice.ID {
			case choiceStuck:
				return r.count(c, key, n, kindStuck)
			case choiceWorked:
				return r.count(c, key, n, kindDone)
			}
			return nil
		},
	}
}

// Kinds of guide use counted (Deps.Use), as the store names them.
const (
	kindStart = "start"
	kindStep  = "step"
	kindStuck = "stuck"
	kindCome  = "come"
	kindDone  = "done"
)

// count records what the person did at step n of the guide, at the
// version they read.
func (r *residents) count(c *flows.Ctx, key string, n int, kind string) error {
	if r.deps.Use == nil {
		return nil
	}
	_, v, err := r.pinned(c, key)
	if err != nil {
		return err
	}
	if err := r.deps.Use.RecordGuideUse(c.Context(), key, v, n, kind, c.Event.Key); err != nil {
		return fmt.Errorf("count guide use: %w", err)
	}
	return nil
}

// hasGuide reports whether the flow offers the guide now. A guide is never
// withdrawn once published, so a person pinned to an older version of it
// still finds its steps.
func (r *residents) hasGuide(flow, id string) bool {
	cur, _, err := r.deps.Guides.Guides(context.Background())
	if err != nil {
		return false
	}
	return slices.ContainsFunc(cur, func(v content.Version) bool { return v.Guide.Flow == flow && v.Guide.ID == id })
}

// pinned returns the version of the guide the person is reading: the one
// they started, kept in the session, or the newest when they start it now
// (which then becomes theirs).
func (r *residents) pinned(c *flows.Ctx, key string) (content.Guide, int, error) {
	ctx := c.Context()
	if k, v, ok := strings.Cut(c.Get(keyGuide), "@"); ok && k == key {
		if n, err := strconv.Atoi(v); err == nil {
			g, err := r.deps.Guides.Guide(ctx, key, n)
			if err == nil {
				return g, n, nil
			}
			if cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
				return g, n, err
			}
		}
	}
	cur, _, err := r.deps.Guides.Guides(ctx)
	if err != nil {
		return content.Guide{}, 0, err
	}
	for _, v := range cur {
		if v.Guide.Key() == key {
			c.Set(keyGuide, key+"@"+strconv.Itoa(v.Version))
			return v.Guide, v.Version, nil
		}
	}
	return content.Guide{}, 0, cnsbot.Errorf(cnsbot.ENOTFOUND, "no guide %s", key)
}

// stepText is step n's text as the person reads it: their address filled
// in, Markdown made plain, and the video's link after it.
func (r *residents) stepText(c *flows.Ctx, g content.Guide, n int) string {
	text, err := content.Render(g.Text(n, c.Lang()), r.deps.Texts.Address(c.Lang(), c.Note(flows.NoteAddress)))
	if err != nil {
		r.deps.log().ErrorContext(c.Context(), "guide text", "guide", g.Key(), "step", n, "err", err)
	}
	text = content.ChatText(text)
	if n >= 1 && n <= len(g.Steps) && g.Steps[n-1].Video != "" {
		text += "\n\n" + c.T("guides.video", map[string]any{"url": g.Steps[n-1].Video})
	}
	return text
}

// enterStep shows the step's picture before its text, when it has one.
func (r *residents) enterStep(c *flows.Ctx, key string, n int) error {
	g, _, err := r.pinned(c, key)
	if err != nil {
		return err
	}
	if n <= len(g.Steps) && g.Steps[n-1].Image != "" {
		c.ReplyImage(g.Steps[n-1].Image)
	}
	if n == 1 {
		if err := r.count(c, key, n, kindStart); err != nil {
			return err
		}
	}
	return r.count(c, key, n, kindStep)
}

// rememberStuck notes where the person got stuck, so "try again" returns
// there and a request for a team member names the guide.
func rememberStuck(c *flows.Ctx, in flows.Input) {
	if in.Choice != nil && in.Choice.ID == choiceStuck {
		c.Set(keyStuckAt, c.StepName())
	}
}

// guideOf returns the guide id of a guide step's name ("password.3").
func guideOf(step string) string {
	id, _, _ := strings.Cut(step, ".")
	return id
}

// stuckStep offers what to do when a guide did not work: try the step
// again, ask a team member to come, or talk to a person.
func (r *residents) stuckStep() *flows.Step {
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
					data := map[string]string{keyTopic: cnsbot.AreaOther}
					if at := c.Get(keyStuckAt); at != "" {
						key := c.FlowName() + "/" + guideOf(at)
						if g, _, err := r.pinned(c, key); err == nil {
							data[keyTopic] = g.Topic
							data[keyProblemHint] = g.TitleIn(c.Lang())
							data[keyHintVi] = g.TitleIn("vi")
							_, num, _ := strings.Cut(at, ".")
							n, _ := strconv.Atoi(num)
							if err := r.count(c, key, n, kindCome); err != nil {
								return err
							}
						}
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
	f := r.guideFlow(FlowVNeID, "resident.vneid")
	f.Entries = append(f.Entries, flows.Entry{Phrases: []string{"vneid", "dinh danh dien tu"}})
	return f
}

func (r *residents) camaugFlow() *flows.Flow {
	f := r.guideFlow(FlowCaMauG, "resident.camaug",
		flows.Choice{ID: "khac", Label: "resident.camaug.others.title", Start: FlowServices,
			Words: []string{"dich vu khac", "other services", "thanh toan", "ban hang", "kham benh", "hoc tap"}})
	f.Entries = append(f.Entries, flows.Entry{Phrases: []string{"camau g", "camaug", "ca mau g"}})
	return f
}

func (r *residents) servicesFlow() *flows.Flow {
	return r.guideFlow(FlowServices, "resident.services")
}
