package flows

import (
	"context"
	"fmt"
	"strings"
)

// InputKind is what a step expects from the person.
type InputKind int

// The kinds of input a step can expect.
const (
	// InputChoice expects one of the step's choices: a tapped button, its
	// number in the list, or typed words that match it.
	InputChoice InputKind = iota
	// InputText expects free text.
	InputText
	// InputPhone expects a Vietnamese mobile number, typed or shared through
	// a request_user_info form. The engine offers the form as a button.
	InputPhone
	// InputNumber expects a whole number between Step.Min and Step.Max.
	InputNumber
	// InputYesNo expects yes or no; the answer is saved as "yes" or "no".
	InputYesNo
)

var inputKindNames = [...]string{"choice", "text", "phone", "number", "yes/no"}

func (k InputKind) String() string {
	if int(k) < len(inputKindNames) {
		return inputKindNames[k]
	}
	return fmt.Sprintf("InputKind(%d)", int(k))
}

// Flow is one conversation declared as data: named steps, each with its
// prompt, the input it expects and where the answer leads. The engine
// keeps the person's place in the session (flow, step, data, history), so
// a flow holds no state of its own and one Flow serves every user.
type Flow struct {
	// Name identifies the flow in sessions; it must not change once deployed.
	Name string
	// Title is the message id naming the flow, used when the engine asks a
	// returning person whether to continue it.
	Title string
	// Start is the first step; empty means the first of Steps.
	Start string
	// Steps are the flow's steps in reading order.
	Steps []*Step
	// Entries are typed phrases that start the flow at a given step when the
	// person is not in the middle of answering something else, such as
	// "quen mat khau" for the forgot-password guide.
	Entries []Entry
	// Begin runs when the flow starts, before the first prompt. It may call
	// Goto to start elsewhere (for example when a request is already open).
	Begin func(c *Ctx) error
	// StepFor, when set, makes the steps that Steps does not declare, by
	// name, or returns nil when there is no such step: steps whose content
	// changes while the service runs (a guide's, which officers publish).
	// Such steps name their next step in their choices.
	StepFor func(name string) *Step
	// MoreEntries, when set, returns typed shortcuts into the flow that
	// change while the service runs (a guide's words), with a generation
	// that changes whenever they do. It is asked before typed entries are
	// matched, so it must answer from memory.
	MoreEntries func(ctx context.Context) (gen int64, entries []Entry, err error)
	// Resumable, when set, makes the engine offer "continue" or "start over"
	// to a person who comes back to the flow after Options.ResumeAfter.
	Resumable bool

	steps map[string]*Step
}

// Entry is a typed shortcut into a flow.
type Entry struct {
	// Step is where the flow starts; empty means the flow's start.
	Step string
	// Phrases are matched on the folded input, with typo tolerance.
	Phrases []string
}

// Step is one question of a flow, or one message of a guide.
type Step struct {
	// Name is unique within the flow.
	Name string
	// Say lists message ids sent, one message each, when the step is entered
	// (not when it is asked again).
	Say []string
	// Ask is the message id of the question. With choices it is the title
	// of the button list.
	Ask string
	// Help is the message id answered to "giúp" at this step; empty gives
	// the engine's general help.
	Help string
	// Vars adds template data for Say, Ask and Help. The session's answers
	// (Data) are always available by their keys.
	Vars func(c *Ctx) map[string]any
	// Enter runs when the step is entered, before its Say messages, to
	// send what only data knows (a guide's picture). An error is logged
	// and the question asked all the same.
	Enter func(c *Ctx) error
	// Texts adds template data that are message ids, each shown in the
	// person's language: a guide's step text inside its frame. Unlike ids
	// inside Vars, Engine.Check sees them.
	Texts map[string]string

	// Input is the kind of answer expected.
	Input InputKind
	// Parse reads typed text in the step's own terms before the input kind
	// does: a list of areas ("1 3") or a duration ("2" is two hours, not
	// the second button). When it understands the text it returns the
	// answer, saved under Save (it may also keep what it read itself), and
	// the step is answered; otherwise the input kind reads the text.
	Parse func(c *Ctx, text string) (value string, ok bool)
	// Skip, when it reports true, passes over the step when the flow
	// reaches it in order (a one-line report already gave the answer). A
	// Goto, an Edit or "back" still stops at it.
	Skip func(c *Ctx) bool
	// Choices are the buttons of a choice step.
	Choices []Choice
	// Options computes the choices at run time (communes, hamlets); it wins
	// over Choices.
	Options func(c *Ctx) ([]Choice, error)
	// Free makes a choice step also accept typed text that matches no
	// choice; the text itself is then the answer.
	Free bool
	// PersonName says the answer is a person's name: a name that is also a
	// command word ("Huy" for hủy, "Vi") is confirmed, not obeyed.
	PersonName bool
	// Min and Max bound an InputNumber answer; Max 0 means no upper bound.
	Min, Max int
	// MaxLen bounds an InputText answer in characters; 0 means 500.
	MaxLen int

	// Save stores the answer in the session's Data under this key: the
	// choice's ID, the text, the E.164 phone or the number.
	Save string
	// Check validates an answer the input kind accepted. It returns the
	// message id explaining the problem, or "" when the answer is good; it
	// may tidy in.Text.
	Check func(c *Ctx, in *Input) string
	// Then runs after a good answer was saved. It may reply, Goto, Start,
	// Stay or Done; without a decision the engine follows Next.
	Then func(c *Ctx, in Input) error
	// Next is the step after a good answer when the choice names none.
	// Empty means the next step of Steps that Skip does not pass over; the
	// last step, or End, ends the flow and shows the main menu.
	Next string
}

// End, as a Next, ends the flow after the answer and shows the main menu.
const End = "-"

// Choice is one button of a choice step. Its payload is "#"+ID, and typing
// the ID, either language's label or one of Words selects it too.
type Choice struct {
	// ID is the saved value and the button payload without its "#".
	ID string
	// Label is the message id of the button title.
	Label string
	// Title is a literal title, for choices that come from data (a place
	// name); it is used when Label is empty.
	Title string
	// Words are more phrases that select the choice, matched folded.
	Words []string
	// Next is the step this choice leads to (or End); it wins over
	// Step.Next.
	Next string
	// Start, when set, starts that flow (at StartAt, or its start).
	Start, StartAt string
	// Data is given to the started flow.
	Data map[string]string
	// Run, when set, handles the choice instead of Next or Start.
	Run func(c *Ctx) error
	// Pin keeps the choice on every page of a long list, first: the
	// button the question promises ("bấm “Xong”") is never behind
	// "Thêm…".
	Pin bool
}

// step returns the named step, or nil.
func (f *Flow) step(name string) *Step {
	if f.steps == nil {
		f.index()
	}
	if st := f.steps[name]; st != nil || f.StepFor == nil || name == "" {
		return st
	}
	return f.StepFor(name)
}

// Step returns the named step, or nil when the flow has none.
func (f *Flow) Step(name string) *Step { return f.step(name) }

func (f *Flow) index() {
	f.steps = make(map[string]*Step, len(f.Steps))
	for _, s := range f.Steps {
		f.steps[s.Name] = s
	}
}

// after returns the step that follows name in Steps, or "" after the last.
func (f *Flow) after(name string) string {
	for i, s := range f.Steps {
		if s.Name == name && i+1 < len(f.Steps) {
			return f.Steps[i+1].Name
		}
	}
	return ""
}

// first returns the name of the step the flow starts at.
func (f *Flow) first() string {
	if f.Start != "" {
		return f.Start
	}
	if len(f.Steps) > 0 {
		return f.Steps[0].Name
	}
	return ""
}

// Validate reports the first mistake in the flow's declaration: a missing
// name, a duplicate step, or a Next that names no step of the flow.
// Flows started by a choice are checked by (*Engine).Check, once every
// flow is registered.
func (f *Flow) Validate() error {
	if f.Name == "" || strings.ContainsAny(f.Name, "/ ") {
		return fmt.Errorf("flow %q: bad name", f.Name)
	}
	if len(f.Steps) == 0 {
		return fmt.Errorf("flow %s: no steps", f.Name)
	}
	seen := make(map[string]bool, len(f.Steps))
	for _, s := range f.Steps {
		if s.Name == "" || s.Name == End || strings.ContainsAny(s.Name, "/ ") {
			return fmt.Errorf("flow %s: bad step name %q", f.Name, s.Name)
		}
		if seen[s.Name] {
			return fmt.Errorf("flow %s: duplicate step %s", f.Name, s.Name)
		}
		seen[s.Name] = true
	}
	known := func(name string) bool { return name == "" || name == End || seen[name] }
	if !seen[f.first()] {
		return fmt.Errorf("flow %s: start step %s does not exist", f.Name, f.first())
	}
	for _, e := range f.Entries {
		if !known(e.Step) {
			return fmt.Errorf("flow %s: entry names unknown step %s", f.Name, e.Step)
		}
	}
	for _, s := range f.Steps {
		if !known(s.Next) {
			return fmt.Errorf("flow %s step %s: next step %s does not exist", f.Name, s.Name, s.Next)
		}
		if s.Input == InputChoice && len(s.Choices) == 0 && s.Options == nil {
			return fmt.Errorf("flow %s step %s: a choice step needs choices", f.Name, s.Name)
		}
		ids := make(map[string]bool)
		for _, ch := range s.Choices {
			if ch.ID == "" || strings.ContainsAny(ch.ID, " #") {
				return fmt.Errorf("flow %s step %s: bad choice id %q", f.Name, s.Name, ch.ID)
			}
			if ids[ch.ID] {
				return fmt.Errorf("flow %s step %s: duplicate choice %s", f.Name, s.Name, ch.ID)
			}
			ids[ch.ID] = true
			if ch.Label == "" && ch.Title == "" {
				return fmt.Errorf("flow %s step %s: choice %s has no label", f.Name, s.Name, ch.ID)
			}
			if ch.Start == "" && !known(ch.Next) {
				return fmt.Errorf("flow %s step %s: choice %s leads to unknown step %s", f.Name, s.Name, ch.ID, ch.Next)
			}
		}
	}
	return nil
}

// MessageIDs returns every message id the flow's declaration names, so a
// test can check that each exists in every language.
func (f *Flow) MessageIDs() []string {
	var ids []string
	add := func(id string) {
		if id != "" {
			ids = append(ids, id)
		}
	}
	add(f.Title)
	for _, s := range f.Steps {
		for _, id := range s.Say {
			add(id)
		}
		add(s.Ask)
		add(s.Help)
		for _, id := range s.Texts {
			add(id)
		}
		for _, ch := range s.Choices {
			add(ch.Label)
		}
	}
	return ids
}
