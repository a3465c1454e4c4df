package reports

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/camau-cns/cnsbot/calendar"
	"github.com/camau-cns/cnsbot/flows"
)

// The typed forms of the report command, folded. Each head is followed by
// what names the quarter. A head that says "quý" (quarter) is the command
// whatever follows; the short heads ("báo cáo", "bc", "report") are a
// member's visit report too, so they are this command only when a quarter
// follows ("bc q3", "báo cáo 2025Q3").
var (
	quarterHeads = [][]string{
		{"bao", "cao", "quy"}, {"baocao", "quy"}, {"bc", "quy"}, {"bcq"},
		{"quarter", "report"}, {"quarterly", "report"}, {"report", "quarter"},
	}
	shortHeads = [][]string{{"baocao"}, {"bao", "cao"}, {"bc"}, {"report"}}
)

// Words of a quarter's name that carry nothing: "quý 3 năm 2025",
// "quarter 3 of 2025".
var fillerWords = []string{"quy", "nam", "quarter", "of", "the", "year", "q"}

// Relative quarters: this one and the one before.
var (
	thisWords = []string{"nay", "this", "hien", "tai", "current"}
	lastWords = []string{"truoc", "vua", "roi", "last", "previous", "qua"}
)

// matchQuarter recognizes the report command and returns what names the
// quarter, folded ("" for the current quarter), or the canonical quarter
// of a tapped "#baocao 2025Q3".
func matchQuarter(t *flows.Text) (string, bool) {
	if cmd, arg, ok := calendar.ParseCommand(t.Raw); ok {
		return arg, cmd == calendar.CommandReport
	}
	words := t.Words()
	for _, head := range quarterHeads {
		if rest, ok := cutHead(words, head); ok {
			return strings.Join(rest, " "), true
		}
	}
	for _, head := range shortHeads {
		rest, ok := cutHead(words, head)
		if !ok {
			continue
		}
		// "#baocao" alone is the menu item's payload.
		if len(rest) == 0 && len(head) == 1 && head[0] == menuReport {
			return "", true
		}
		if len(rest) > 0 && namesQuarter(rest[0]) {
			return strings.Join(rest, " "), true
		}
	}
	return "", false
}

func cutHead(words, head []string) ([]string, bool) {
	if len(words) < len(head) || !slices.Equal(words[:len(head)], head) {
		return nil, false
	}
	return words[len(head):], true
}

// namesQuarter reports whether a word starts the name of a quarter after a
// short head: "quy", "q3", "2025q3".
func namesQuarter(w string) bool {
	if w == "quy" || w == "quarter" {
		return true
	}
	_, _, ok := quarterToken(w)
	return ok
}

// quarterToken reads a word that names a quarter, "q3" or "2025q3": its
// number and, when the word has one, its year.
func quarterToken(w string) (n, year int, ok bool) {
	if y, n, err := calendar.ParseQuarter(w); err == nil {
		return n, y, true
	}
	if len(w) == 2 && w[0] == 'q' && w[1] >= '1' && w[1] <= '4' {
		return int(w[1] - '0'), 0, true
	}
	return 0, 0, false
}

// romans are the quarter numbers as official documents write them: "quý III".
var romans = map[string]int{"i": 1, "ii": 2, "iii": 3, "iv": 4}

// resolveQuarter turns what names a quarter ("", "3", "3 2025", "iii
// 2025", "q3", "2025q3", "truoc", or an already canonical "2025Q3") into
// a quarter, as of now. A quarter number without a year is the latest
// such quarter that has begun: "quý 4" in August 2025 is 2024Q4.
func resolveQuarter(spec string, now time.Time) (string, bool) {
	if y, n, err := calendar.ParseQuarter(spec); err == nil {
		return fmt.Sprintf("%dQ%d", y, n), true
	}
	curYear, curN, _ := calendar.ParseQuarter(calendar.Quarter(now))
	n, year, rel := 0, 0, 0
	for _, w := range strings.Fields(spec) {
		switch {
		case slices.Contains(fillerWords, w):
		case slices.Contains(thisWords, w):
		case slices.Contains(lastWords, w):
			rel = -1
		case romans[w] != 0 && n == 0:
			n = romans[w]
		default:
			if qn, qy, ok := quarterToken(w); ok && n == 0 {
				n, year = qn, max(year, qy)
				continue
			}
			v, err := strconv.Atoi(w)
			switch {
			case err != nil:
				return "", false
			case v >= 1 && v <= 4 && n == 0 && len(w) == 1:
				n = v
			case len(w) == 4 && v >= 2000 && v <= 2100 && year == 0:
				year = v
			case len(w) == 2 && year == 0:
				year = 2000 + v
			default:
				return "", false
			}
		}
	}
	switch {
	case n == 0 && year == 0:
		n, year = curN, curYear
		if rel < 0 {
			n--
			if n == 0 {
				n, year = 4, year-1
			}
		}
	case n == 0:
		// A year alone names no quarter.
		return "", false
	case year == 0:
		year = curYear
		if n > curN {
			year--
		}
	}
	return fmt.Sprintf("%dQ%d", year, n), true
}
