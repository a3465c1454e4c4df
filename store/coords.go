package store

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/camau-cns/cnsbot"
)

// Coordinates as officers write them in a household list. A problem
// never carries the cell: a household's place is personal data.

// parseDegree reads one latitude or longitude: "9.1769", the decimal comma
// of a Vietnamese spreadsheet ("9,1769"), with or without "°", and a
// trailing N, S, E, W (or B, N, Đ, T: Bắc, Nam, Đông, Tây). ok is false
// when the cell is not a number of degrees.
func parseDegree(cell string) (v float64, ok bool) {
	s := strings.TrimSpace(cell)
	if strings.ContainsAny(s, "'′\"″") {
		return parseDMS(s)
	}
	neg := false
	if n := len(s); n > 0 {
		switch strings.ToUpper(s[n-1:]) {
		case "N", "E", "B":
			s = s[:n-1]
		case "S", "W", "T":
			s, neg = s[:n-1], true
		}
	}
	s = strings.TrimSuffix(strings.TrimSpace(strings.TrimSuffix(s, "Đ")), "đ")
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "°"))
	if !strings.Contains(s, ".") && strings.Count(s, ",") == 1 {
		s = strings.Replace(s, ",", ".", 1)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || s == "" {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// dmsPart reads degrees, minutes, seconds and a hemisphere: 9°10'36.8"N.
var dmsPart = regexp.MustCompile(`(\d+(?:[.,]\d+)?)\s*°\s*(?:(\d+(?:[.,]\d+)?)\s*['′]\s*)?(?:(\d+(?:[.,]\d+)?)\s*(?:"|″|'')\s*)?([NSEWnsew])?`)

func parseDMS(s string) (float64, bool) {
	m := dmsPart.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	return dmsValue(m), true
}

func dmsValue(m []string) float64 {
	num := func(s string) float64 {
		v, _ := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
		return v
	}
	v := num(m[1]) + num(m[2])/60 + num(m[3])/3600
	if h := strings.ToUpper(m[4]); h == "S" || h == "W" {
		v = -v
	}
	return v
}

// Patterns of a Google Maps link's point, most precise first: the pin of a
// place (!3d…!4d…), a query (q=, query=, ll=, destination=), then the
// map's centre (@lat,lng).
var (
	linkPin    = regexp.MustCompile(`!3d(-?\d+\.\d+)!4d(-?\d+\.\d+)`)
	linkQuery  = regexp.MustCompile(`(?:[?&](?:q|query|ll|destination|daddr|center)=)(?:loc:)?\s*(-?\d+\.\d+)\s*,\s*(-?\d+\.\d+)`)
	linkCentre = regexp.MustCompile(`@(-?\d+\.\d+),(-?\d+\.\d+)`)
	// number is one decimal number, with a point or a decimal comma.
	number = regexp.MustCompile(`-?\d+(?:[.,]\d+)?`)
)

// parsePlace reads a household's place from one cell: "9.1769, 105.1524",
// "9,1769; 105,1524", "9.1769 105.1524", degrees and minutes
// (9°10'36.8"N 105°09'08.6"E) or a Google Maps link. A shortened link is
// refused: only Google can expand it, and the service goes to no website
// to read a file.
func parsePlace(cell string) (cnsbot.Place, *RowProblem) {
	s := strings.TrimSpace(cell)
	lower := strings.ToLower(s)
	switch {
	case strings.Contains(lower, "goo.gl/") || strings.Contains(lower, "maps.app."):
		return cnsbot.Place{}, &RowProblem{Code: RowPlaceShortLink, Column: colPlace}
	case strings.Contains(lower, "http") || strings.Contains(lower, "google.") || strings.Contains(lower, "maps"):
		if u, err := url.QueryUnescape(s); err == nil {
			s = u
		}
		for _, re := range []*regexp.Regexp{linkPin, linkQuery, linkCentre} {
			if m := re.FindStringSubmatch(s); m != nil {
				lat, _ := strconv.ParseFloat(m[1], 64)
				lng, _ := strconv.ParseFloat(m[2], 64)
				return cnsbot.Place{Lat: lat, Lng: lng}, nil
			}
		}
		return cnsbot.Place{}, &RowProblem{Code: RowPlaceLinkNoPoint, Column: colPlace}
	case strings.Contains(s, "°"):
		ms := dmsPart.FindAllStringSubmatch(s, -1)
		if len(ms) != 2 {
			return cnsbot.Place{}, &RowProblem{Code: RowPlaceNeedsTwo, Column: colPlace}
		}
		return cnsbot.Place{Lat: dmsValue(ms[0]), Lng: dmsValue(ms[1])}, nil
	}
	nums := number.FindAllString(s, -1)
	if len(nums) != 2 {
		return cnsbot.Place{}, &RowProblem{Code: RowPlaceNeedsTwo, Column: colPlace}
	}
	lat, okLat := parseDegree(nums[0])
	lng, okLng := parseDegree(nums[1])
	if !okLat || !okLng {
		return cnsbot.Place{}, &RowProblem{Code: RowDegreeNotNumber, Column: colPlace}
	}
	return cnsbot.Place{Lat: lat, Lng: lng}, nil
}

// checkPlace refuses a place outside Vietnam: a swapped pair, or a number
// that lost its decimal point.
func checkPlace(p cnsbot.Place) *RowProblem {
	if p.InVietnam() {
		return nil
	}
	if (cnsbot.Place{Lat: p.Lng, Lng: p.Lat}).InVietnam() {
		return &RowProblem{Code: RowPlaceSwapped}
	}
	return &RowProblem{Code: RowPlaceOutside}
}
