package flows

import (
	"unicode/utf8"

	"github.com/camau-cns/cnsbot/vn"
)

// The global commands' ids. Each is also its button payload ("#menu") and
// a typed command, in folded form, with or without the "#".
const (
	cmdMenu       = "menu"
	cmdCancel     = "huy"
	cmdBack       = "quaylai"
	cmdHelp       = "giup"
	cmdEnglish    = "en"
	cmdVietnamese = "vi"
	cmdPerson     = "nguoi"
	cmdMore       = "them"
	cmdContinue   = "tieptuc"
	cmdRestart    = "lamlai"
	cmdShare      = "chiase"
	cmdItsMyName  = "tenla"
)

// Payloads of the global commands, for flows that put them on buttons.
const (
	PayloadMenu   = "#" + cmdMenu
	PayloadCancel = "#" + cmdCancel
	PayloadBack   = "#" + cmdBack
	PayloadHelp   = "#" + cmdHelp
	PayloadPerson = "#" + cmdPerson
)

// Session Data keys the engine keeps for itself; flows' keys never start
// with "_".
const (
	keyPage   = "_page"   // the page of a long button list being shown
	keyResume = "_resume" // "continue or start over?" was asked
	keyReturn = "_return" // after this answer go back to this step (editing from a summary)
	keyName   = "_name"   // a name that is also a command word, waiting to be confirmed
)

// globalPhrases are the typed forms of the global commands, matched folded
// and with typo tolerance where the person is choosing, not writing. They
// are input vocabulary, not text the bot says.
var globalPhrases = map[string][]string{
	cmdMenu:    {cmdMenu, "main menu", "trang chu", "home", "bat dau", "start", "danh muc"},
	cmdCancel:  {cmdCancel, "huy bo", "thoi", "cancel", "stop", "thoat", "dung lai", "khong lam nua", "quit", "exit"},
	cmdBack:    {cmdBack, "quay lai", "tro lai", "back", "lui lai", "cau truoc", "go back", "previous"},
	cmdHelp:    {cmdHelp, "tro giup", "help", "huong dan", "giup do", "giup toi"},
	cmdEnglish: {"english", "tieng anh", "in english"},
	cmdVietnamese: {
		"tieng viet", "vietnamese", "tiengviet",
	},
	cmdPerson: {cmdPerson, "gap nguoi ho tro", "nguoi ho tro", "gap nguoi", "nguoi that", "nhan vien", "tong dai",
		"gap can bo", "noi chuyen voi nguoi", "human", "agent", "real person", "talk to a person", "a person", "someone"},
	cmdMore: {cmdMore, "xem them", "more", "them nua", "trang sau", "next page"},
}

// exactOnly are typed forms that count only when they are the whole input:
// two-letter codes occur inside ordinary words.
var exactOnly = map[string]string{
	cmdEnglish: cmdEnglish, cmdVietnamese: cmdVietnamese,
}

// nameLike are folded commands that are also given names ("Huy", "Vi",
// "En"): in a step that expects free text they count only as a button
// payload, or for hủy when typed with a tone mark (the name has none).
var nameLike = map[string]bool{cmdCancel: true, cmdEnglish: true, cmdVietnamese: true}

var resumePhrases = map[string][]string{
	cmdContinue: {cmdContinue, "tiep tuc", "continue", "tiep", "lam tiep", "go on", "yes continue"},
	cmdRestart:  {cmdRestart, "lam lai", "bat dau lai", "lam lai tu dau", "tu dau", "start over", "restart", "again"},
}

// Small talk: greetings and thanks, answered warmly and never counted as
// not understood. Matched after the step's answers, so "ok" or "xong rồi"
// still answer a question whose choices say so.
const (
	talkGreet  = "greet"
	talkThanks = "thanks"
)

var smallTalkPhrases = map[string][]string{
	talkGreet: {"chao", "chao ban", "chao em", "chao anh", "chao chi", "chao co", "chao chu", "chao bac", "chao ad",
		"xin chao", "alo", "a lo", "hello", "helo", "chao buoi sang", "chao buoi chieu", "good morning",
		"good afternoon", "co ai khong", "co ai o do khong", "ad oi", "admin oi"},
	talkThanks: {"cam on", "cam on ban", "cam on em", "cam on nha", "cam on nhieu", "cam on nhe", "ok cam on",
		"cam on ad", "da cam on", "thank", "thanks", "thank you", "thanks you", "tks", "thx", "hay qua", "tot qua"},
}

// yesWords confirm a question asked in passing ("is Huy your name?").
var yesWords = map[string]bool{"dung": true, "dung roi": true, "phai": true, "phai roi": true, "dung vay": true,
	"vang": true, "da": true, "co": true, "ok": true, "yes": true, "right": true, "that s right": true}

// smallTalkExact are short words that are small talk only as the whole
// message: "u" and "da" occur in place names ("U Minh") and sentences.
var smallTalkExact = map[string]string{
	"hi": talkGreet, "hey": talkGreet, "ok": talkThanks, "oke": talkThanks, "okay": talkThanks, "okie": talkThanks,
	"ok nha": talkThanks, "vang": talkThanks, "vang a": talkThanks, "da": talkThanks, "da vang": talkThanks,
	"da a": talkThanks, "u": talkThanks, "uh": talkThanks, "uhm": talkThanks, "duoc roi": talkThanks,
}

var sharePhrases = map[string][]string{
	cmdShare: {cmdShare, "chia se", "gui so", "chia se so", "gui so zalo", "share", "share phone", "share my number", "dung so zalo"},
}

var (
	exactGlobals  = buildExact(globalPhrases, exactOnly)
	resumeMatcher = vn.NewMatcher(resumePhrases)
	shareMatcher  = vn.NewMatcher(sharePhrases)
	smallTalk     = vn.NewMatcher(smallTalkPhrases)
)

func buildExact(phrases map[string][]string, extra map[string]string) map[string]string {
	m := make(map[string]string)
	for id, list := range phrases {
		for _, p := range list {
			m[vn.Fold(p)] = id
		}
	}
	for p, id := range extra {
		m[vn.Fold(p)] = id
	}
	return m
}

// exactGlobal returns the global command that the whole input is, if any.
// In a step that expects free text, names that double as commands ("Vi",
// "En") need the button payload; hủy cancels there too, but typed without
// its tone mark at a step that asks for a name it may be the name "Huy"
// (see Step.PersonName), which the engine then asks about.
func exactGlobal(in *Input, freeText, askingName bool) (string, bool) {
	id, ok := exactGlobals[in.Folded]
	if !ok {
		return "", false
	}
	if freeText && nameLike[in.Folded] && !in.Payload {
		if id != cmdCancel || askingName && isASCII(in.Text) {
			return "", false
		}
	}
	return id, true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// IsGlobalWord reports whether text, typed alone, is one of the words that
// work at every step (menu, hủy, English, gặp người hỗ trợ…): what someone
// says to the bot, not about their problem.
func IsGlobalWord(text string) bool {
	_, ok := exactGlobals[newInput(text).Folded]
	return ok
}
