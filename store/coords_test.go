package store

import (
	"math"
	"testing"

	"github.com/camau-cns/cnsbot"
)

func TestParsePlace(t *testing.T) {
	want := cnsbot.Place{Lat: 9.1769, Lng: 105.1524}
	near := func(a, b cnsbot.Place) bool {
		return math.Abs(a.Lat-b.Lat) < 1e-4 && math.Abs(a.Lng-b.Lng) < 1e-4
	}
	for _, cell := range []string{
		"9.1769, 105.1524",
		"9.1769,105.1524",
		"9.1769 105.1524",
		"9.1769; 105.1524",
		"9,1769; 105,1524", // a Vietnamese spreadsheet's decimal commas
		"9,1769, 105,1524",
		`9°10'36.8"N 105°09'08.6"E`,
		"https://www.google.com/maps?q=9.1769,105.1524",
		"https://maps.google.com/?q=9.1769%2C105.1524",
		"https://www.google.com/maps/search/?api=1&query=9.1769,105.1524",
		"https://www.google.com/maps/place/Nh%C3%A0/@9.1700,105.1500,17z/data=!3m1!4b1!4m6!3m5!1s0x0:0x0!8m2!3d9.1769!4d105.1524",
		"https://www.google.com/maps/@9.1769,105.1524,18z",
	} {
		got, err := parsePlace(cell)
		if err != nil || !near(got, want) {
			t.Errorf("parsePlace(%q) = %v %v, want %v", cell, got, err, want)
		}
	}
	for _, cell := range []string{"", "9.1769", "gần chùa", "1 2 3", "https://maps.app.goo.gl/AbCdEf", "https://www.google.com/maps/place/Cà+Mau"} {
		if got, err := parsePlace(cell); err == nil {
			t.Errorf("parsePlace(%q) = %v, want an error", cell, got)
		}
	}
	for cell, want := range map[string]float64{"9.1769": 9.1769, "9,1769": 9.1769, "105.1524°": 105.1524, "9.1769 N": 9.1769,
		"105.1524E": 105.1524, "-33.86": -33.86} {
		if got, ok := parseDegree(cell); !ok || math.Abs(got-want) > 1e-9 {
			t.Errorf("parseDegree(%q) = %v %v, want %v", cell, got, ok, want)
		}
	}
	for _, cell := range []string{"", "abc", "9.1.7", "9,17,69"} {
		if got, ok := parseDegree(cell); ok {
			t.Errorf("parseDegree(%q) = %v, want not ok", cell, got)
		}
	}
	for _, tt := range []struct {
		name string
		p    cnsbot.Place
		want string
	}{
		{"a swapped pair", cnsbot.Place{Lat: 105.1524, Lng: 9.1769}, RowPlaceSwapped},
		{"a latitude without its decimal point", cnsbot.Place{Lat: 91769, Lng: 105.1524}, RowPlaceOutside},
		{"Bangkok", cnsbot.Place{Lat: 13.75, Lng: 100.5}, RowPlaceOutside},
	} {
		if bad := checkPlace(tt.p); bad == nil || bad.Code != tt.want {
			t.Errorf("%s: got %v, want %s", tt.name, bad, tt.want)
		}
	}
}
