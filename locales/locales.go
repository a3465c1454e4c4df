// Package locales holds every sentence the bot says, in Vietnamese (the
// default) and English, as go-i18n message files embedded in the binary.
//
// Files are named <area>.<lang>.toml ("common.vi.toml", "vneid.en.toml");
// go-i18n takes the language from the name. Each area comes as a pair with
// the same message ids. Ids are dotted paths ("common.cancel"); the last
// part of an id must not be one of go-i18n's reserved keys (id,
// description, hash, leftDelim, rightDelim, zero, one, two, few, many,
// other, translation), or the table around it is read as one message.
//
// A plural message gives the forms its language needs: in go-i18n 2.7,
// whose CLDR data puts Vietnamese with "i = 0 or n = 1", both vi and en
// need "one" and "other", and vi's "one" also covers zero, so it must not
// say "1".
package locales

import (
	"embed"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed *.toml
var files embed.FS

// Default is the language used for unknown or unsupported languages.
const Default = "vi"

// Bundle holds the loaded messages. It is read-only after New and safe for
// concurrent use.
type Bundle struct {
	bundle     *i18n.Bundle
	localizers map[string]*i18n.Localizer
	// messages maps a language to its message ids, for Has and IDs.
	messages map[string]map[string]*i18n.Message

	// plain caches the texts rendered without data (by language and
	// id): most of what a turn says (the menu's title, button titles,
	// questions) has none, and rendering go-i18n's template cost more
	// than deciding the turn (issue 19). It holds at most one entry per
	// message and language.
	plainMu sync.RWMutex
	plain   map[[2]string]string
}

// New loads every embedded message file.
func New() (*Bundle, error) {
	return load(files)
}

// load reads every *.toml file at the root of fsys. An id defined twice in
// one language, in the same file or in two, is an error: go-i18n would
// keep whichever came last without a word.
func load(fsys fs.FS) (*Bundle, error) {
	names, err := fs.Glob(fsys, "*.toml")
	if err != nil {
		return nil, fmt.Errorf("list message files: %w", err)
	}
	slices.Sort(names)
	b := &Bundle{
		bundle:     i18n.NewBundle(language.Vietnamese),
		localizers: make(map[string]*i18n.Localizer),
		messages:   make(map[string]map[string]*i18n.Message),
		plain:      make(map[[2]string]string),
	}
	unmarshal := map[string]i18n.UnmarshalFunc{"toml": toml.Unmarshal}
	origin := make(map[string]string) // lang + " " + id → file
	for _, name := range names {
		buf, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		mf, err := i18n.ParseMessageFileBytes(buf, name, unmarshal)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		lang := langOf(mf.Tag)
		if lang == "" {
			return nil, fmt.Errorf("parse %s: no language in the file name; want <area>.<lang>.toml", name)
		}
		if b.messages[lang] == nil {
			b.messages[lang] = make(map[string]*i18n.Message)
		}
		for _, m := range mf.Messages {
			key := lang + " " + m.ID
			if prev, ok := origin[key]; ok {
				return nil, fmt.Errorf("parse %s: message %q already defined in %s", name, m.ID, prev)
			}
			origin[key] = name
			b.messages[lang][m.ID] = m
		}
		if err := b.bundle.AddMessages(mf.Tag, mf.Messages...); err != nil {
			return nil, fmt.Errorf("add %s: %w", name, err)
		}
	}
	if b.messages[Default] == nil {
		return nil, fmt.Errorf("no %s message file", Default)
	}
	for lang := range b.messages {
		b.localizers[lang] = i18n.NewLocalizer(b.bundle, lang)
	}
	return b, nil
}

// langOf returns the base language of a message file's tag: "vi" for
// "vi" or "vi-VN", "" when the file name carries no language.
func langOf(tag language.Tag) string {
	if tag == language.Und {
		return ""
	}
	base, _ := tag.Base()
	return base.String()
}

// Lang returns the supported language that lang names: "en-US" and "EN"
// give "en"; an empty, unknown or unsupported language gives "vi".
func (b *Bundle) Lang(lang string) string {
	lang = baseLang(lang)
	if _, ok := b.localizers[lang]; ok {
		return lang
	}
	return Default
}

// baseLang returns the lower-case language subtag of lang: "vi" for
// "vi-VN".
func baseLang(lang string) string {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	return lang
}

// Langs returns the supported languages, the default first.
func (b *Bundle) Langs() []string {
	langs := slices.Sorted(maps.Keys(b.messages))
	i := slices.Index(langs, Default)
	return append([]string{Default}, slices.Delete(langs, i, i+1)...)
}

// T returns the message id in lang, filled with data ({{.Name}} in the
// message reads data["Name"]). A message missing in lang comes in
// Vietnamese; a message missing everywhere comes back as its id, so a
// gap shows in the chat instead of an empty bubble. Tests use Has to fail
// on such gaps.
func (b *Bundle) T(lang, id string, data map[string]any) string {
	if data != nil {
		return b.localize(lang, id, data, nil)
	}
	lang = b.Lang(lang)
	key := [2]string{lang, id}
	b.plainMu.RLock()
	text, ok := b.plain[key]
	b.plainMu.RUnlock()
	if ok {
		return text
	}
	text = b.localize(lang, id, nil, nil)
	if !b.Has(lang, id) && !b.Has(Default, id) {
		// An unknown id is not cached: the cache keeps at most one entry
		// per message and supported language.
		return text
	}
	b.plainMu.Lock()
	b.plain[key] = text
	b.plainMu.Unlock()
	return text
}

// TN returns the plural message id in the form that count takes in lang.
// The template reads the count as {{.Count}}; data may add more fields and
// is not modified.
func (b *Bundle) TN(lang, id string, count int, data map[string]any) string {
	d := make(map[string]any, len(data)+2)
	maps.Copy(d, data)
	d["Count"] = count
	d["PluralCount"] = count
	return b.localize(lang, id, d, count)
}

// Address variables: how a text addresses the reader. Vietnamese has no
// neutral "you": a team member says "cô", "chú", "anh", "chị", "ông",
// "bà"… as fits the person, and "bạn" only to a peer. Texts write
// {{.ban}} (mid-sentence) and {{.Ban}} (at a sentence's start); the chat
// fills them with the form the person chose (flows.Ctx.T), and every other
// render gets the language's respectful default. Only Vietnamese texts use
// them, so they are the one exception to "every language's text uses the
// same variables".
const (
	VarAddress      = "ban"
	VarAddressStart = "Ban"
)

// addressDefault is the message id of the form used until a person chooses
// theirs ("anh chị"; "you" in English).
const addressDefault = "common.address.default"

// Address returns the address variables for form (empty: the default of
// lang, from the catalogue), to merge into a text's data.
func (b *Bundle) Address(lang, form string) map[string]any {
	if form == "" {
		// Read as written: rendering it would ask for the address again.
		if m := b.messages[b.Lang(lang)][addressDefault]; m != nil {
			form = m.Other
		} else if m := b.messages["vi"][addressDefault]; m != nil {
			form = m.Other
		}
	}
	start := form
	for i, r := range form {
		start = string(unicode.ToUpper(r)) + form[i+utf8.RuneLen(r):]
		break
	}
	return map[string]any{VarAddress: form, VarAddressStart: start}
}

func (b *Bundle) localize(lang, id string, data map[string]any, count any) string {
	if _, ok := data[VarAddress]; !ok {
		d := b.Address(lang, "")
		maps.Copy(d, data)
		data = d
	}
	cfg := &i18n.LocalizeConfig{MessageID: id, PluralCount: count}
	if data != nil {
		// A nil map in an interface is not nil to go-i18n, which then
		// skips adding its own PluralCount.
		cfg.TemplateData = data
	}
	msg, err := b.localizers[b.Lang(lang)].Localize(cfg)
	if err != nil && msg == "" {
		return id
	}
	return msg
}

// Has reports whether id has a message in lang itself ("en", "en-US"),
// without falling back to Vietnamese.
func (b *Bundle) Has(lang, id string) bool {
	_, ok := b.messages[baseLang(lang)][id]
	return ok
}

// IDs returns the message ids defined in lang, sorted; none for a
// language without messages.
func (b *Bundle) IDs(lang string) []string {
	return slices.Sorted(maps.Keys(b.messages[baseLang(lang)]))
}
