// Package content holds the residents' step-by-step guides as content
// rather than code: what a guide says (its steps in Vietnamese and English,
// a picture or a video per step), what starts it, the topic a request for a
// team member gets from it, and the public source of its facts.
//
// The guides in the repository (content/guides/<flow>/<id>/) seed the
// database on first start; officers then change them in the dashboard, and
// `cnsbot guides import DIR` loads a folder of them. Every change is a new
// version kept in the database (the store); this package only reads folders,
// checks a guide before it is published and turns its text into a chat
// message. It imports neither the store nor the flows.
package content

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"github.com/camau-cns/cnsbot"
)

// Langs are the languages a guide is written in, Vietnamese first: the one
// every guide must have.
var Langs = []string{"vi", "en"}

// Guide is one step-by-step guide at one version.
type Guide struct {
	// Flow is the resident flow that offers it ("vneid", "camaug",
	// "services"), ID its name there ("password"). Neither changes once
	// residents use the guide: sessions and ratings name it by them.
	Flow string `json:"flow"`
	ID   string `json:"id"`
	// Topic is the cnsbot.Area* a request for a team member gets.
	Topic string `json:"topic"`
	// Order places the guide in its flow's list, smallest first.
	Order int `json:"order"`
	// Words start the guide when typed at the menu ("quen mat khau").
	Words []string `json:"words"`
	// Title is the guide's name on its button, per language.
	Title map[string]string `json:"title"`
	Steps []Step            `json:"steps"`
	// Source is the public source of the guide's facts and Checked the date
	// (YYYY-MM-DD) someone last checked them against it; Open says what no
	// source confirms yet. A guide without both cannot be published.
	Source  string `json:"source"`
	Checked string `json:"checked"`
	Open    string `json:"open,omitempty"`
	// ViOnly says on purpose that the guide has no English text yet:
	// English readers get the Vietnamese. Without it, both are required.
	ViOnly bool `json:"vi_only,omitempty"`
}

// Step is one message of a guide.
type Step struct {
	// Text is the step per language, in the Markdown subset (see
	// CheckMarkdown); it may address the reader with {{.ban}} / {{.Ban}}.
	Text map[string]string `json:"text"`
	// Image is the picture shown before the text: the hex SHA-256 of the
	// image as stored (see FitImage), or in a folder being imported the
	// file's name beside the guide.
	Image string `json:"image,omitempty"`
	// Video is a link to a video clip of the step.
	Video string `json:"video,omitempty"`
}

// Key names a guide across flows: "vneid/password".
func (g Guide) Key() string { return g.Flow + "/" + g.ID }

// Text returns the text of step n (from 1) in lang, the Vietnamese when the
// guide has none in lang.
func (g Guide) Text(n int, lang string) string {
	if n < 1 || n > len(g.Steps) {
		return ""
	}
	if t := g.Steps[n-1].Text[lang]; t != "" {
		return t
	}
	return g.Steps[n-1].Text["vi"]
}

// TitleIn returns the guide's title in lang, the Vietnamese when it has
// none in lang.
func (g Guide) TitleIn(lang string) string {
	if t := g.Title[lang]; t != "" {
		return t
	}
	return g.Title["vi"]
}

// Version is one published version of a guide.
type Version struct {
	Guide   Guide     `json:"guide"`
	Version int       `json:"version"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	// Note says where the version came from: "seed", "import", "edit",
	// "rollback to 3".
	Note string `json:"note"`
}

var (
	nameRE = regexp.MustCompile(`^[a-z0-9]{1,24}$`)
	// imageRE is a stored image's name, the hex SHA-256 of its bytes.
	imageRE = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Flows are the resident flows that offer guides.
var Flows = []string{"vneid", "camaug", "services"}

// MaxSteps bounds a guide's length: a guide longer than this is several.
const MaxSteps = 12

// Check reports every reason the guide cannot be published, in one
// *cnsbot.Error (EINVALID) whose message lists them one a line, so an
// officer fixes all at once; nil when it can be.
func (g Guide) Check() error {
	var p []string
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	if !slices.Contains(Flows, g.Flow) {
		add("flow %q is not one of %s", g.Flow, strings.Join(Flows, ", "))
	}
	if !nameRE.MatchString(g.ID) {
		add("id %q: use 1 to 24 small letters or digits", g.ID)
	}
	if !slices.Contains(cnsbot.Areas, g.Topic) {
		add("topic %q is not one of %s", g.Topic, strings.Join(cnsbot.Areas, ", "))
	}
	if strings.TrimSpace(g.Source) == "" {
		add("no source: every guide names the public source of its facts")
	}
	if d, err := time.Parse(time.DateOnly, g.Checked); err != nil {
		add("checked %q is not a date (YYYY-MM-DD)", g.Checked)
	} else if d.After(time.Now().AddDate(0, 0, 1)) {
		add("checked %s is in the future", g.Checked)
	}
	if len(g.Words) == 0 {
		add("no words: give a few phrases residents type for this problem")
	}
	for _, w := range g.Words {
		if strings.TrimSpace(w) == "" {
			add("an empty word")
		}
	}
	langs := Langs
	if g.ViOnly {
		langs = Langs[:1]
	}
	for _, lang := range langs {
		if strings.TrimSpace(g.Title[lang]) == "" {
			add("no title in %s", lang)
		}
	}
	switch {
	case len(g.Steps) == 0:
		add("no steps")
	case len(g.Steps) > MaxSteps:
		add("%d steps: at most %d; split the guide", len(g.Steps), MaxSteps)
	}
	for i, st := range g.Steps {
		for _, lang := range langs {
			t := st.Text[lang]
			if strings.TrimSpace(t) == "" {
				if lang == "vi" {
					add("step %d: no text in vi", i+1)
				} else {
					add("step %d: no text in %s (write it, or mark the guide “vi only”)", i+1, lang)
				}
				continue
			}
			if err := CheckMarkdown(t); err != nil {
				add("step %d (%s): %v", i+1, lang, err)
			}
		}
		if st.Image != "" && !imageRE.MatchString(st.Image) {
			add("step %d: image %q is not a stored picture", i+1, st.Image)
		}
		if st.Video != "" && !strings.HasPrefix(st.Video, "https://") {
			add("step %d: the video link must start with https://", i+1)
		}
	}
	if len(p) == 0 {
		return nil
	}
	return cnsbot.Errorf(cnsbot.EINVALID, "guide %s cannot be published:\n%s", g.Key(), strings.Join(p, "\n"))
}

// MaxTextLen bounds a step's text: Zalo splits longer messages, and a
// step is one message.
const MaxTextLen = 1000

var (
	linkRE     = regexp.MustCompile(`\[([^\[\]\n]+)\]\((https?://[^\s()]+)\)`)
	templateRE = regexp.MustCompile(`\{\{\s*\.(ban|Ban)\s*\}\}`)
)

// CheckMarkdown reports why text is not in the subset a guide's step may
// use: **bold**, lists ("- " or "1. " at a line's start), links
// [words](https://…), and the address {{.ban}} / {{.Ban}}. Zalo shows plain
// text, so anything the chat could not show the way the editor's preview
// does is refused rather than shown as stray marks.
func CheckMarkdown(text string) error {
	if utf8.RuneCountInString(text) > MaxTextLen {
		return fmt.Errorf("longer than %d characters: split the step", MaxTextLen)
	}
	rest := templateRE.ReplaceAllString(text, "")
	if strings.Contains(rest, "{{") || strings.Contains(rest, "}}") {
		return errors.New("only {{.ban}} and {{.Ban}} may stand in {{ }}")
	}
	if strings.Count(rest, "**")%2 != 0 {
		return errors.New("a ** bold mark is not closed")
	}
	rest = linkRE.ReplaceAllString(rest, "$1")
	for _, line := range strings.Split(rest, "\n") {
		l := strings.TrimLeft(line, " ")
		switch {
		case strings.HasPrefix(l, "#"):
			return errors.New("headings (#) are not shown in Zalo: use **bold**")
		case strings.HasPrefix(l, ">"):
			return errors.New("quotes (>) are not shown in Zalo")
		case strings.HasPrefix(l, "|"):
			return errors.New("tables are not shown in Zalo: use a list")
		case strings.HasPrefix(l, "---"), strings.HasPrefix(l, "***"), strings.HasPrefix(l, "___"):
			return errors.New("rules (---) are not shown in Zalo")
		}
	}
	switch {
	case strings.Contains(rest, "!["):
		return errors.New("pictures go in the step's picture, not in its text")
	case strings.Contains(rest, "`"):
		return errors.New("code marks (`) are not shown in Zalo")
	case strings.Contains(rest, "]("):
		return errors.New("a link must be [words](https://…)")
	case strings.Contains(strings.ReplaceAll(rest, "**", ""), "__"):
		return errors.New("only **bold** is shown: no __ marks")
	case regexp.MustCompile(`</?[a-zA-Z][^>]*>`).MatchString(rest):
		return errors.New("HTML is not shown in Zalo")
	}
	return nil
}

// ChatText turns a step's Markdown into what Zalo shows: the bold marks go
// (Zalo has no bold), a link becomes its words and address. A text without
// marks is returned as it is.
func ChatText(text string) string {
	if !strings.Contains(text, "**") && !strings.Contains(text, "](") {
		return text
	}
	text = strings.ReplaceAll(text, "**", "")
	return linkRE.ReplaceAllString(text, "$1 ($2)")
}

// Render fills a step's address variables ({{.ban}}, {{.Ban}}) from data,
// as the locale catalogue's texts are filled.
func Render(text string, data map[string]any) (string, error) {
	if !strings.Contains(text, "{{") {
		return text, nil
	}
	t, err := template.New("").Option("missingkey=zero").Parse(text)
	if err != nil {
		return "", fmt.Errorf("step text: %w", err)
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("step text: %w", err)
	}
	return b.String(), nil
}

//go:embed guides
var seed embed.FS

// Seed returns the guides in the repository (content/guides), with the
// pictures they name by file name.
func Seed() ([]Folder, error) {
	return ReadDir(seed, "guides")
}

// Folder is a guide read from a folder: its text and the pictures its steps
// name, by file name.
type Folder struct {
	Guide  Guide
	Images map[string][]byte
	// Dir is where it was read, for messages.
	Dir string
}

// meta is guide.toml.
type meta struct {
	Flow    string   `toml:"flow"`
	ID      string   `toml:"id"`
	Topic   string   `toml:"topic"`
	Order   int      `toml:"order"`
	Words   []string `toml:"words"`
	Source  string   `toml:"source"`
	Checked string   `toml:"checked"`
	Open    string   `toml:"open"`
	ViOnly  bool     `toml:"vi_only"`
}

// text is vi.toml or en.toml.
type text struct {
	Title string `toml:"title"`
	Steps []struct {
		Text  string `toml:"text"`
		Image string `toml:"image"`
		Video string `toml:"video"`
	} `toml:"steps"`
}

// ReadDir reads every guide under dir: each folder holding a guide.toml is
// one guide, with its texts beside it as vi.toml / en.toml or vi.md / en.md
// and its pictures (PNG or JPEG) named by the steps. The guides are not
// checked for publishing (see Guide.Check); a folder that cannot be read at
// all is an error naming it.
func ReadDir(fsys fs.FS, dir string) ([]Folder, error) {
	var out []Folder
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || d.Name() != "guide.toml" {
			return nil
		}
		f, err := readGuide(fsys, path.Dir(p))
		if err != nil {
			return fmt.Errorf("%s: %w", path.Dir(p), err)
		}
		out = append(out, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Folder) int {
		if c := strings.Compare(a.Guide.Flow, b.Guide.Flow); c != 0 {
			return c
		}
		if a.Guide.Order != b.Guide.Order {
			return a.Guide.Order - b.Guide.Order
		}
		return strings.Compare(a.Guide.ID, b.Guide.ID)
	})
	return out, nil
}

func readGuide(fsys fs.FS, dir string) (Folder, error) {
	var m meta
	raw, err := fs.ReadFile(fsys, path.Join(dir, "guide.toml"))
	if err != nil {
		return Folder{}, err
	}
	md, err := toml.Decode(string(raw), &m)
	if err != nil {
		return Folder{}, fmt.Errorf("guide.toml: %w", err)
	}
	if extra := md.Undecoded(); len(extra) > 0 {
		return Folder{}, fmt.Errorf("guide.toml: unknown keys %v", extra)
	}
	g := Guide{Flow: m.Flow, ID: m.ID, Topic: m.Topic, Order: m.Order, Words: m.Words, Source: m.Source,
		Checked: m.Checked, Open: m.Open, ViOnly: m.ViOnly, Title: map[string]string{}}
	f := Folder{Guide: g, Images: map[string][]byte{}, Dir: dir}
	for _, lang := range Langs {
		t, found, err := readText(fsys, dir, lang)
		if err != nil {
			return Folder{}, err
		}
		if !found {
			continue
		}
		f.Guide.Title[lang] = t.Title
		for i, s := range t.Steps {
			if i >= len(f.Guide.Steps) {
				f.Guide.Steps = append(f.Guide.Steps, Step{Text: map[string]string{}})
			}
			st := &f.Guide.Steps[i]
			st.Text[lang] = s.Text
			// The picture and the video are the step's, whatever the
			// language: the Vietnamese file's win, the English may add.
			if st.Image == "" {
				st.Image = s.Image
			}
			if st.Video == "" {
				st.Video = s.Video
			}
		}
	}
	for _, st := range f.Guide.Steps {
		if st.Image == "" || f.Images[st.Image] != nil {
			continue
		}
		if strings.Contains(st.Image, "/") || strings.HasPrefix(st.Image, ".") {
			return Folder{}, fmt.Errorf("picture %q: name a file beside the guide", st.Image)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, st.Image))
		if err != nil {
			return Folder{}, fmt.Errorf("picture: %w", err)
		}
		f.Images[st.Image] = b
	}
	return f, nil
}

// readText reads a language's text from <lang>.toml or <lang>.md.
func readText(fsys fs.FS, dir, lang string) (text, bool, error) {
	var t text
	if raw, err := fs.ReadFile(fsys, path.Join(dir, lang+".toml")); err == nil {
		md, err := toml.Decode(string(raw), &t)
		if err != nil {
			return t, false, fmt.Errorf("%s.toml: %w", lang, err)
		}
		if extra := md.Undecoded(); len(extra) > 0 {
			return t, false, fmt.Errorf("%s.toml: unknown keys %v", lang, extra)
		}
		return t, true, nil
	}
	raw, err := fs.ReadFile(fsys, path.Join(dir, lang+".md"))
	if errors.Is(err, fs.ErrNotExist) {
		return t, false, nil
	}
	if err != nil {
		return t, false, err
	}
	t, err = parseMarkdown(string(raw))
	if err != nil {
		return t, false, fmt.Errorf("%s.md: %w", lang, err)
	}
	return t, true, nil
}

var (
	imageLineRE = regexp.MustCompile(`^!\[[^\]]*\]\(([^)\s]+)\)$`)
	videoLineRE = regexp.MustCompile(`^(?i)video:\s*(https://\S+)$`)
)

// parseMarkdown reads a guide written as Markdown: "# Title" first, then
// the steps, each under a "## " heading (its words are for the writer and
// not shown). In a step, a line that is only a picture ("![](buoc2.png)")
// names the step's picture and a line "video: https://…" its video; the
// rest is the text.
func parseMarkdown(src string) (text, error) {
	var t text
	type step = struct {
		Text  string `toml:"text"`
		Image string `toml:"image"`
		Video string `toml:"video"`
	}
	var cur *step
	var body []string
	flush := func() {
		if cur != nil {
			cur.Text = strings.TrimSpace(strings.Join(body, "\n"))
			t.Steps = append(t.Steps, *cur)
		}
		cur, body = nil, nil
	}
	for _, line := range strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n") {
		trim := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trim, "## "):
			flush()
			cur = &step{}
		case strings.HasPrefix(trim, "# ") && cur == nil && t.Title == "":
			t.Title = strings.TrimSpace(trim[2:])
		case cur == nil:
			if trim != "" {
				return t, fmt.Errorf("text before the first step (“## …”): %q", trim)
			}
		case imageLineRE.MatchString(trim):
			cur.Image = imageLineRE.FindStringSubmatch(trim)[1]
		case videoLineRE.MatchString(trim):
			cur.Video = videoLineRE.FindStringSubmatch(trim)[1]
		default:
			body = append(body, line)
		}
	}
	flush()
	return t, nil
}

// Memory is a library of guides kept in memory: the repository's, for tests
// and for a service run without the database's guides. It answers as
// *store.GuideLibrary does.
type Memory struct {
	mu       sync.Mutex
	gen      int64
	versions map[string][]Guide
	order    []string
	// current is what Guides returned for generation gen, nil after a
	// publish: the flows ask on every typed message.
	current []Version
}

// NewMemory returns a library holding the folders' guides as version 1.
// Their pictures are not kept: a guide with one is refused.
func NewMemory(folders []Folder) (*Memory, error) {
	m := &Memory{versions: map[string][]Guide{}}
	for _, f := range folders {
		if _, err := m.Publish(f.Guide); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Publish checks g and adds it as the guide's next version.
func (m *Memory) Publish(g Guide) (int, error) {
	if err := g.Check(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k := g.Key()
	if _, ok := m.versions[k]; !ok {
		m.order = append(m.order, k)
	}
	m.versions[k] = append(m.versions[k], g)
	m.gen++
	m.current = nil
	return len(m.versions[k]), nil
}

// Guides returns the newest version of every guide, in the order they were
// first published, and the generation.
func (m *Memory) Guides(context.Context) ([]Version, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.current != nil {
		return m.current, m.gen, nil
	}
	out := make([]Version, 0, len(m.order))
	for _, k := range m.order {
		vs := m.versions[k]
		out = append(out, Version{Guide: vs[len(vs)-1], Version: len(vs)})
	}
	slices.SortStableFunc(out, func(a, b Version) int {
		if c := strings.Compare(a.Guide.Flow, b.Guide.Flow); c != 0 {
			return c
		}
		return a.Guide.Order - b.Guide.Order
	})
	m.current = out
	return out, m.gen, nil
}

// Guide returns a version of a guide; ENOTFOUND when there is none.
func (m *Memory) Guide(_ context.Context, key string, version int) (Guide, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	vs := m.versions[key]
	if version < 1 || version > len(vs) {
		return Guide{}, cnsbot.Errorf(cnsbot.ENOTFOUND, "guide %s has no version %d", key, version)
	}
	return vs[version-1], nil
}
