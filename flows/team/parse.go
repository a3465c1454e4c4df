package team

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/vn"
	"golang.org/x/text/unicode/norm"
)

// Report is what a one-line visit report says, as far as it could be read.
// Zero values mean "not given".
type Report struct {
	// Hamlet is the hamlet the member named ("ấp 3"), as typed.
	Hamlet string
	// Household is the address or head of household, as typed.
	Household string
	// Areas are cnsbot.Area* values in the order of cnsbot.Areas, each once.
	Areas []string
	// People is how many people were guided.
	People int
	// Minutes is how long the visit took.
	Minutes int
	// Note is whatever else the line said.
	Note string
}

// Fields of a report that a visit cannot be recorded without.
const (
	FieldHousehold = "household"
	FieldAreas     = "areas"
	FieldPeople    = "people"
	FieldMinutes   = "minutes"
)

// Missing returns the required fields the report lacks, in the order the
// step-by-step form asks for them.
func (r Report) Missing() []string {
	var m []string
	if r.Household == "" {
		m = append(m, FieldHousehold)
	}
	if len(r.Areas) == 0 {
		m = append(m, FieldAreas)
	}
	if r.People == 0 {
		m = append(m, FieldPeople)
	}
	if r.Minutes == 0 {
		m = append(m, FieldMinutes)
	}
	return m
}

// Limits of what a report may say; anything beyond them is a typo.
const (
	maxPeople       = 99
	maxMinutes      = 12 * 60
	maxHouseholdLen = 200
	maxHamletLen    = 100
	maxNoteLen      = 500
)

// ParseReport reads a one-line visit report such as
// "ấp 3, nhà ông Năm, vneid+dvc, 2 người, 30p" (the "bc" in front already
// removed). It is lenient: diacritics are optional, parts are separated by
// commas, semicolons, bars or new lines (or only by spaces, in which case
// the areas, people and time are read off the end), areas are known by
// their usual names and abbreviations, and time is written as members
// write it ("30p", "1h", "1 tiếng", "1g30", "nửa tiếng"). Whatever is not
// recognized becomes the household (the first such part) or the note.
//
// ok reports whether every required field was read (see Missing); a report
// that is not ok still carries what was understood. A bare number is read
// as the people when below 10 and as minutes from 10 up.
//
// hamlets are the names of the hamlets the member may mean; a part that
// begins with one of them, with or without "ấp" ("cây trâm, nhà bà Hai
// Loan"), names the hamlet rather than the household.
func ParseReport(line string, hamlets ...string) (r Report, ok bool) {
	line = norm.NFC.String(line)
	line = decimalComma.ReplaceAllString(line, "$1.$2")
	known := make(map[string]bool, len(hamlets))
	for _, h := range hamlets {
		if b := bareHamlet(h); b != "" {
			known[b] = true
		}
	}
	var rest []string
	for _, seg := range segmentSep.Split(line, -1) {
		if len(rest) > 0 {
			known = nil // only the first part may begin with a bare hamlet name
		}
		if left := r.take(strings.TrimSpace(seg), known); left != "" {
			rest = append(rest, left)
		}
	}
	var notes []string
	for _, s := range rest {
		if !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
			continue
		}
		if r.Household == "" {
			r.Household = vn.Clip(s, maxHouseholdLen)
			continue
		}
		notes = append(notes, s)
	}
	r.Note = vn.Clip(strings.Join(notes, "; "), maxNoteLen)
	r.Areas = sortAreas(r.Areas)
	return r, len(r.Missing()) == 0
}

var (
	// segmentSep splits a one-line report into its parts. A dash counts
	// only with spaces around it, so "12-3" stays an address.
	segmentSep = regexp.MustCompile(`[,;|\n]+|\s+[-–—]\s+`)
	// decimalComma protects "1,5h" from being split at its comma.
	decimalComma = regexp.MustCompile(`(\d),(\d)`)
)

// token is one whitespace-separated piece of a part, with its place in the
// part's text so that what is left over keeps the member's spelling.
type token struct {
	from, to int
	folded   string
}

func tokenize(s string) []token {
	var toks []token
	start := -1
	for i, r := range s + " " {
		space := unicode.IsSpace(r) || r == '+' || r == '&'
		switch {
		case !space && start < 0:
			start = i
		case space && start >= 0:
			toks = append(toks, token{from: start, to: i, folded: vn.Fold(s[start:i])})
			start = -1
		}
	}
	return toks
}

// take reads one part of a report into r and returns what it could not
// place, as typed.
func (r *Report) take(seg string, known map[string]bool) string {
	if seg == "" {
		return ""
	}
	if n, err := strconv.Atoi(seg); err == nil {
		switch {
		case n >= 1 && n < 10 && r.People == 0:
			r.People = n
			return ""
		case n >= 10 && n <= maxMinutes && r.Minutes == 0:
			r.Minutes = n
			return ""
		}
		return seg
	}
	toks := tokenize(seg)
	end := r.peel(seg, toks)
	toks = toks[:end]
	if len(toks) == 0 {
		return ""
	}
	text := func(from, to int) string {
		return strings.TrimSpace(strings.Trim(seg[toks[from].from:toks[to-1].to], " .:-"))
	}
	if hamletWords[firstWord(toks[0].folded)] && r.Hamlet == "" {
		// "ấp 3 nhà ông Năm": the household starts at its first marker
		// after the hamlet's name, which has at least one word.
		split := len(toks)
		for i := 2; i < len(toks); i++ {
			if householdMarkers[firstWord(toks[i].folded)] {
				split = i
				break
			}
		}
		r.Hamlet = vn.Clip(text(0, split), maxHamletLen)
		if split == len(toks) {
			return ""
		}
		return text(split, len(toks))
	}
	if r.Hamlet == "" && len(known) > 0 {
		// "cây trâm nhà bà Hai Loan": a known hamlet's name, without
		// "ấp", up to the household's first marker or the part's end.
		for split := 1; split <= len(toks); split++ {
			if split < len(toks) && !householdMarkers[firstWord(toks[split].folded)] {
				continue
			}
			if known[bareHamlet(text(0, split))] {
				r.Hamlet = vn.Clip(text(0, split), maxHamletLen)
				if split == len(toks) {
					return ""
				}
				return text(split, len(toks))
			}
		}
	}
	return text(0, len(toks))
}

func firstWord(folded string) string {
	w, _, _ := strings.Cut(folded, " ")
	return w
}

// peel reads the time, the people and the areas off the end of a part and
// returns how many tokens are left in front of them.
func (r *Report) peel(seg string, toks []token) int {
	end := len(toks)
	for end > 0 {
		taken := 0
		for k := max(0, end-4); k < end && taken == 0; k++ {
			text := seg[toks[k].from:toks[end-1].to]
			if m, ok := parseDuration(text, false); ok && r.Minutes == 0 {
				r.Minutes, taken = m, end-k
			} else if n, ok := parsePeople(text, false); ok && r.People == 0 {
				r.People, taken = n, end-k
			}
		}
		if taken == 0 && len(toks) > 1 {
			// A bare number at the end of a longer part is the time
			// unless an address word stands before it ("số 30").
			if n, err := strconv.Atoi(toks[end-1].folded); err == nil && n >= 10 && n <= maxMinutes &&
				r.Minutes == 0 && end > 1 && !addressWords[toks[end-2].folded] {
				r.Minutes, taken = n, 1
			}
		}
		if taken == 0 {
			for k := max(0, end-6); k < end && taken == 0; k++ {
				if k > 0 && titleWords[toks[k-1].folded] {
					// "bà Khác" is a person, not the area "other".
					continue
				}
				areas, ok := parseAreas(seg[toks[k].from:toks[end-1].to], false)
				if ok {
					r.Areas = append(r.Areas, areas...)
					taken = end - k
				}
			}
		}
		if taken == 0 {
			break
		}
		end -= taken
	}
	return end
}

// Words that start a hamlet's name, a household, a person's name or an
// address, folded.
var (
	hamletWords      = wordSet("ap", "khom", "thon", "xom")
	householdMarkers = wordSet("nha", "ho", "gia", "ong", "ba", "co", "chu", "bac", "anh", "chi", "so", "cu", "di", "em", "thim", "duong", "hem")
	titleWords       = wordSet("ong", "ba", "co", "chu", "bac", "anh", "chi", "em", "di", "cau", "thim", "mo", "duong", "cu", "thay", "nha", "ho")
	addressWords     = wordSet("so", "nha", "hem", "duong", "to", "ap", "khom", "kiet", "ngo", "ngach", "lo", "thua", "can")
)

func wordSet(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// areaPhrases are the folded ways members name each area. Longer phrases
// win over shorter ones ("vneid muc 2" is level 2, not level 1 and "2").
var areaPhrases = map[string][]string{
	cnsbot.AreaVNeIDInstall: {"vneid", "vn eid", "dinh danh", "dinh danh dien tu", "vneid muc 1", "muc 1", "dinh danh muc 1",
		"tai khoan dinh danh", "can cuoc dien tu"},
	cnsbot.AreaVNeIDLevel2: {"vneid2", "vneid 2", "vneid muc 2", "muc 2", "dinh danh muc 2", "dinh danh 2", "level 2", "vneid level 2"},
	cnsbot.AreaCaMauG:      {"camaug", "camau g", "ca mau g", "ung dung camau g", "phan anh", "phan anh hien truong"},
	cnsbot.AreaPublicSvc: {"dvc", "dvctt", "dich vu cong", "dich vu cong truc tuyen", "cong dich vu cong", "public service",
		"public services", "online public services"},
	cnsbot.AreaECommerce: {"tmdt", "thuong mai dien tu", "ban hang online", "ban hang truc tuyen", "gian hang", "e commerce",
		"ecommerce", "online shop", "ban hang"},
	cnsbot.AreaEPayment: {"ttkdtm", "thanh toan", "thanh toan khong dung tien mat", "thanh toan dien tu", "chuyen khoan",
		"vi dien tu", "ngan hang so", "e payment", "epayment", "payment", "cashless", "khong tien mat"},
	cnsbot.AreaHealth:    {"yte", "y te", "so suc khoe", "so suc khoe dien tu", "kham benh", "dat lich kham", "health"},
	cnsbot.AreaEducation: {"giaoduc", "giao duc", "hoc tap", "so lien lac", "education", "school"},
	cnsbot.AreaSafety:    {"antoan", "an toan", "an toan mang", "an toan tren mang", "chong lua dao", "lua dao", "safety", "online safety"},
	cnsbot.AreaOther:     {"khac", "other"},
}

// areaFillers are words around areas that say nothing more ("cài VNeID và
// DVC"); they are skipped in a list of areas.
var areaFillers = [][]string{{"va"}, {"and"}, {"voi"}, {"cung"}, {"hd"}, {"huong", "dan"}, {"cai"}, {"cai", "dat"},
	{"kich", "hoat"}, {"dang", "ky"}, {"tao"}, {"tai", "khoan"}, {"app"}, {"ung", "dung"}}

type areaPhrase struct {
	area  string
	words []string
}

var (
	areaIndex  []areaPhrase // longest first
	fuzzyAreas []areaPhrase // one-word names long enough for typo tolerance
)

func init() {
	for _, area := range cnsbot.Areas {
		for _, p := range areaPhrases[area] {
			w := vn.Words(p)
			areaIndex = append(areaIndex, areaPhrase{area: area, words: w})
			if len(w) == 1 && utf8.RuneCountInString(w[0]) >= 5 {
				fuzzyAreas = append(fuzzyAreas, areaPhrase{area: area, words: w})
			}
		}
	}
	slices.SortStableFunc(areaIndex, func(a, b areaPhrase) int { return len(b.words) - len(a.words) })
	slices.SortStableFunc(areaFillers, func(a, b []string) int { return len(b) - len(a) })
}

// parseAreas reads a list of areas: names, abbreviations and, when numbers
// is set, their numbers in cnsbot.Areas (1 to 10), separated by anything.
// ok is false unless every word names an area (or is a filler word) and at
// least one area was named.
func parseAreas(s string, numbers bool) ([]string, bool) {
	words := vn.Words(s)
	var out []string
	for i := 0; i < len(words); {
		if numbers {
			if n, err := strconv.Atoi(words[i]); err == nil {
				if n < 1 || n > len(cnsbot.Areas) {
					return nil, false
				}
				out = append(out, cnsbot.Areas[n-1])
				i++
				continue
			}
		}
		if n, area := matchArea(words[i:]); n > 0 {
			out = append(out, area)
			i += n
			continue
		}
		if n := matchFiller(words[i:]); n > 0 {
			i += n
			continue
		}
		if area, ok := nearArea(words[i]); ok {
			out = append(out, area)
			i++
			continue
		}
		return nil, false
	}
	if len(out) == 0 {
		return nil, false
	}
	return sortAreas(out), true
}

func matchArea(words []string) (int, string) {
	for _, p := range areaIndex {
		if len(p.words) <= len(words) && slices.Equal(p.words, words[:len(p.words)]) {
			return len(p.words), p.area
		}
	}
	return 0, ""
}

func matchFiller(words []string) int {
	for _, f := range areaFillers {
		if len(f) <= len(words) && slices.Equal(f, words[:len(f)]) {
			return len(f)
		}
	}
	return 0
}

// nearArea accepts one typing mistake in a long area name ("vneld").
func nearArea(word string) (string, bool) {
	if utf8.RuneCountInString(word) < 5 {
		return "", false
	}
	for _, p := range fuzzyAreas {
		if vn.Distance(word, p.words[0]) <= 1 {
			return p.area, true
		}
	}
	return "", false
}

// sortAreas returns the valid areas of list in the order of cnsbot.Areas,
// each once.
func sortAreas(list []string) []string {
	var out []string
	for _, a := range cnsbot.Areas {
		if slices.Contains(list, a) {
			out = append(out, a)
		}
	}
	return out
}

// ParseDuration reads how long a visit took, as members write it: "30",
// "30p", "30 phút", "45'", "1h", "1 tiếng", "1g30", "1h 30p", "1,5 giờ",
// "nửa tiếng", "một tiếng rưỡi". A number alone is minutes from 10 up and
// hours below 10 (nobody spends 2 minutes on a household). It accepts 1 to
// 720 minutes.
func ParseDuration(s string) (minutes int, ok bool) {
	return parseDuration(s, true)
}

// ParsePeople reads how many people were guided: "2", "2 người", "2ng",
// "hai người". It accepts 1 to 99.
func ParsePeople(s string) (int, bool) {
	return parsePeople(s, true)
}

// ParseAreas reads a typed list of areas: names or abbreviations
// ("vneid, dvc", "dinh danh + thanh toan") or their numbers ("1 3").
func ParseAreas(s string) ([]string, bool) {
	return parseAreas(s, true)
}

var (
	hourUnits   = wordSet("h", "g", "gio", "tieng", "hr", "hrs", "hour", "hours")
	minuteUnits = wordSet("p", "ph", "phut", "m", "min", "mins", "minute", "minutes")
	peopleUnits = wordSet("nguoi", "ng", "nguoi dan", "khau", "nhan khau", "people", "person", "persons", "pax")
	numberWords = map[string]float64{"nua": 0.5, "mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "sau": 6,
		"bay": 7, "tam": 8, "chin": 9, "muoi": 10, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "half": 0.5}
)

// quantityWords turns a typed quantity into words: marks dropped, numbers
// and units apart ("1g30" → 1 g 30), the minute mark read as "p".
func quantityWords(s string) []string {
	var b strings.Builder
	prev := 0 // 1 digit, 2 letter
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'đ' || r == 'Đ':
			r = 'd'
		}
		r = unicode.ToLower(r)
		kind := 0
		switch {
		case r >= '0' && r <= '9' || r == '.' && prev == 1:
			kind = 1
		case unicode.IsLetter(r):
			kind = 2
		case r == '\'' || r == '’' || r == '′':
			b.WriteString(" p ")
			prev = 0
			continue
		}
		if kind == 0 {
			b.WriteByte(' ')
		} else {
			if prev != 0 && prev != kind {
				b.WriteByte(' ')
			}
			b.WriteRune(r)
		}
		prev = kind
	}
	words := strings.Fields(b.String())
	for i, w := range words {
		if w[0] < '0' || w[0] > '9' {
			// Telex leftovers: "nguowif" is "người".
			words[i] = vn.Fold(w)
		}
	}
	return words
}

func quantity(w string) (float64, bool) {
	if n, ok := numberWords[w]; ok {
		return n, true
	}
	if len(w) == 0 || len(w) > 5 || w[0] < '0' || w[0] > '9' || strings.HasSuffix(w, ".") {
		return 0, false
	}
	n, err := strconv.ParseFloat(w, 64)
	return n, err == nil
}

func parseDuration(s string, bare bool) (int, bool) {
	words := quantityWords(decimalComma.ReplaceAllString(s, "$1.$2"))
	if len(words) == 0 || len(words) > 6 {
		return 0, false
	}
	total := 0.0
	seenHour, seenMin := false, false
	for i := 0; i < len(words); {
		n, ok := quantity(words[i])
		if !ok {
			return 0, false
		}
		i++
		unit := ""
		if i < len(words) && (hourUnits[words[i]] || minuteUnits[words[i]]) {
			unit = words[i]
			i++
		}
		switch {
		case hourUnits[unit]:
			if seenHour || seenMin {
				return 0, false
			}
			seenHour = true
			total += n * 60
			if i < len(words) && words[i] == "ruoi" {
				total += 30
				i++
			}
		case minuteUnits[unit]:
			if seenMin || n != float64(int(n)) {
				return 0, false
			}
			seenMin = true
			total += n
		case seenHour && !seenMin && n == float64(int(n)):
			// "1g30": the number after the hours is minutes.
			seenMin = true
			total += n
		case bare && len(words) == 1 && n == float64(int(n)):
			if n < 10 {
				n *= 60
			}
			total += n
			seenMin = true
		default:
			return 0, false
		}
	}
	m := int(total + 0.5)
	if m < 1 || m > maxMinutes {
		return 0, false
	}
	return m, true
}

func parsePeople(s string, bare bool) (int, bool) {
	words := quantityWords(s)
	if len(words) == 0 || len(words) > 3 {
		return 0, false
	}
	n, ok := quantity(words[0])
	if !ok || n != float64(int(n)) || n < 1 || n > maxPeople {
		return 0, false
	}
	unit := strings.Join(words[1:], " ")
	if unit == "" && !bare || unit != "" && !peopleUnits[unit] {
		return 0, false
	}
	return int(n), true
}
