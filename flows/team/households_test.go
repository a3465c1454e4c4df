package team_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows/flowstest"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// withHouseholdList imports testdata/households.csv: Ấp 1's list, with
// three "ông Năm" (at number 3, 12 and 27/4) among fourteen households.
func withHouseholdList(t *testing.T, f *fixture) {
	t.Helper()
	file, err := os.Open(filepath.Join("testdata", "households.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if rep, err := f.db.ImportHouseholds(f.ctx, file, "households.csv"); err != nil {
		t.Fatalf("import households: %v %+v", err, rep.Errors)
	}
}

// withPlacedList imports testdata/households_places.csv: the same list
// with the houses' places along one road (number 30 stands by number 3;
// 27/4, 8 and 10 have none yet).
func withPlacedList(t *testing.T, f *fixture) {
	t.Helper()
	file, err := os.Open(filepath.Join("testdata", "households_places.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if rep, err := f.db.ImportHouseholds(f.ctx, file, "households_places.csv"); err != nil {
		t.Fatalf("import households: %v %+v", err, rep.Errors)
	}
}

// listedVisits returns the heads of household of a person's visits, ""
// for a visit that names no listed household.
func listedVisits(t *testing.T, f *fixture, phone string) []string {
	t.Helper()
	var out []string
	for _, v := range f.visits(t, f.person(t, phone).ID) {
		if v.ListedHouseholdID == nil {
			out = append(out, "")
			continue
		}
		h, err := f.db.ListedHousehold(f.ctx, *v.ListedHouseholdID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, h.Label())
	}
	return out
}

var householdJourneys = []journey{
	{
		// Three "ông Năm" in Ấp 1: the member types the name, sees them
		// with their addresses, and answers with the house number.
		name:  "households_three_nam",
		user:  zMai,
		setup: withHouseholdList,
		vi:    []string{"bc", "ong Nam", "12", "#vneid", "#xong", "2", "30p", "#tiep", "#boqua", "#luu", "#tiendo", "#tuancuatoi"},
		en:    []string{"English", "bc", "ong Nam", "12", "#vneid", "#xong", "2", "30 min", "skip", "skip", "save", "#tiendo", "#tuancuatoi"},
		check: func(t *testing.T, f *fixture, lang string) {
			got := listedVisits(t, f, "0987654321")
			if len(got) != 1 || got[0] != "Trần Văn Năm – 12" {
				t.Errorf("visits name %q, want Trần Văn Năm – 12", got)
			}
		},
	},
	{
		// One-line reports: a certain one is saved without a question, an
		// ambiguous one asks which house (answered with its button's
		// number), one not on the list is added for the leader, who
		// confirms it.
		name:  "households_one_line",
		user:  zMai,
		setup: withHouseholdList,
		vi: []string{"bc so 27, dvc, 1 nguoi, 15p", "#luu",
			"bc ong nam, vneid, 2 nguoi, 30p", "1", "#luu",
			"bc nha ba Bay, vneid, 1 nguoi, 20p", "#homoi", "#luu",
			"@" + zHung + " ho moi", "@" + zHung + " #xacnhanho 15", "@" + zMai + " #tiendo"},
		en: []string{"English", "bc so 27, dvc, 1 nguoi, 15p", "save",
			"bc ong nam, vneid, 2 nguoi, 30p", "1", "save",
			"bc nha ba Bay, vneid, 1 nguoi, 20p", "#homoi", "save",
			"@" + zHung + " English", "@" + zHung + " new households", "@" + zHung + " #xacnhanho 15", "@" + zMai + " #tiendo"},
		check: func(t *testing.T, f *fixture, lang string) {
			got := listedVisits(t, f, "0987654321")
			want := []string{"Lê Văn Năm – 27/4", "Nguyễn Văn Năm – Số 3", "nha ba Bay"}
			if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
				t.Errorf("visits name %q, want %q", got, want)
			}
			hamlet := f.team(t, "An Xuyên", "Ấp 1").HamletID
			if n, listed, _ := f.db.HamletHouseholds(f.ctx, hamlet); n != 15 || !listed {
				t.Errorf("households %d %v after the leader confirmed the new one, want 15 listed", n, listed)
			}
		},
	},
	{
		// The round: the houses not visited, ten at a time.
		name: "households_unvisited",
		user: zMai,
		setup: func(t *testing.T, f *fixture) {
			withHouseholdList(t, f)
			visitListed(t, f, "0987654321", "5")
		},
		vi: []string{"nha chua den", "#chuaden 10", "#chuaden 20"},
		en: []string{"English", "houses not visited", "#chuaden 10"},
	},
	{
		// Nearest first: by house number with a word on sharing a
		// location; the member shares it and the round comes nearest
		// first with distances, the houses without a place after; "Thêm…"
		// goes on from the same point though she shared another meanwhile;
		// two hours after her last location it is by house number again.
		name:  "households_nearest",
		user:  zMai,
		setup: withPlacedList,
		vi: []string{"nha chua den", "!location 9.1769,105.1513", "nha chua den", "!location 9.185,105.163",
			"#chuaden 10", "!wait 2h1m", "#chuaden"},
		en: []string{"English", "houses not visited", "!location 9.1769,105.1513", "houses not visited", "!location 9.185,105.163",
			"#chuaden 10", "!wait 2h1m", "#chuaden"},
		check: func(t *testing.T, f *fixture, lang string) {
			hamlet := f.team(t, "An Xuyên", "Ấp 1").HamletID
			if _, n, err := f.db.UnvisitedHouseholds(f.ctx, hamlet, 0, 0, 0); err != nil || n != 14 {
				t.Errorf("unvisited %d %v, want 14: sharing a location visits nothing", n, err)
			}
		},
	},
	{
		// A visit's location gives its household a place: shared in the
		// form (number 10), or just after a one-line report (number 8);
		// a third location, long after, is only where she stands.
		name:  "households_visit_place",
		user:  zMai,
		setup: withPlacedList,
		vi: []string{"bc", "10", "#vneid", "#xong", "1", "#15", "!location 9.1769,105.151", "#tiep", "#boqua", "#luu",
			"bc so 8, vneid, 1 nguoi, 15p", "#luu", "!location 9.1769,105.1508", "!wait 30m", "!location 9.1769,105.1509"},
		en: []string{"English", "bc", "10", "#vneid", "#xong", "1", "#15", "!location 9.1769,105.151", "next", "skip", "save",
			"bc so 8, vneid, 1 nguoi, 15p", "save", "!location 9.1769,105.1508", "!wait 30m", "!location 9.1769,105.1509"},
		check: func(t *testing.T, f *fixture, lang string) {
			hamlet := f.team(t, "An Xuyên", "Ấp 1").HamletID
			for number, want := range map[string]cnsbot.Place{"10": {Lat: 9.1769, Lng: 105.151}, "8": {Lat: 9.1769, Lng: 105.1508}} {
				hs, err := f.db.MatchHouseholds(f.ctx, hamlet, number)
				if err != nil || len(hs) != 1 {
					t.Fatalf("household %s: %v %v", number, hs, err)
				}
				h, _ := f.db.ListedHousehold(f.ctx, hs[0].ID)
				if p, ok := h.Place(); !ok || p != want || h.PlacedFrom != cnsbot.PlacedFromVisit {
					t.Errorf("number %s at %v %v from %q, want %v from a visit", number, p, ok, h.PlacedFrom, want)
				}
			}
			vs := f.visits(t, f.person(t, "0987654321").ID)
			if len(vs) != 2 || vs[0].Longitude != 105.151 || vs[1].Longitude != 105.1508 {
				t.Errorf("visits %+v, want both with their locations", vs)
			}
		},
	},
	{
		// The leader splits the round among the team's four people; each
		// sees their share.
		name:  "households_split",
		user:  zHung,
		setup: withHouseholdList,
		vi:    []string{"chia nha", "@" + zMai + " chia nha", "@" + zMai + " nha chua den", "@" + zNgoc + " #chuaden"},
		en: []string{"English", "split houses", "@" + zMai + " English", "@" + zMai + " split houses",
			"@" + zMai + " nha chua den", "@" + zNgoc + " English", "@" + zNgoc + " #chuaden"},
		check: func(t *testing.T, f *fixture, lang string) {
			hamlet := f.team(t, "An Xuyên", "Ấp 1").HamletID
			total := 0
			for _, phone := range []string{"0912345678", "0987654321", "0903112233", "0388112344"} {
				_, n, err := f.db.UnvisitedHouseholds(f.ctx, hamlet, f.person(t, phone).ID, 0, 0)
				if err != nil || n < 3 || n > 4 {
					t.Errorf("share of %s: %d %v, want 3 or 4", phone, n, err)
				}
				total += n
			}
			if total != 14 {
				t.Errorf("shares add up to %d, want 14", total)
			}
		},
	},
}

var linkJourney = journey{
	// The leader links "ông Năm", typed before the list, to number 12:
	// its report then counts, and the team's progress has one more.
	name:  "households_link",
	user:  zHung,
	setup: withUnmatchedVisits,
	vi:    []string{"#tiendo", "ho chua khop", "#ghepho 2", "12", "#dungghep", "#tiendo"},
	en:    []string{"English", "#tiendo", "unmatched", "#ghepho 2", "12", "yes", "#tiendo"},
	check: func(t *testing.T, f *fixture, lang string) {
		if got := listedVisits(t, f, "0987654321"); len(got) != 2 || got[0] != "Trần Văn Năm – 12" || got[1] != "" {
			t.Errorf("visits name %q, want Trần Văn Năm – 12 and cô Ba as typed", got)
		}
		un, err := f.db.UnmatchedVisits(f.ctx, f.team(t, "An Xuyên", "Ấp 1").HamletID, 10)
		if err != nil || len(un) != 1 || un[0].Household != "nhà cô Ba" {
			t.Errorf("unmatched after the link %+v %v, want only nhà cô Ba", un, err)
		}
	},
}

// withUnmatchedVisits records two visits of Mai typed before Ấp 1 had its
// list, "ông Năm" (three households) and "nhà cô Ba" (none), then imports
// the list: both stay unmatched.
func withUnmatchedVisits(t *testing.T, f *fixture) {
	t.Helper()
	tm := f.team(t, "An Xuyên", "Ấp 1")
	mai := f.person(t, "0987654321")
	for i, h := range []string{"ông Năm", "nhà cô Ba"} {
		v := cnsbot.Visit{PersonID: mai.ID, TeamID: tm.ID, Household: h, Areas: "vneid", People: 1, Minutes: 30,
			VisitedAt: t0.Add(time.Duration(i-48) * time.Hour)}
		if _, err := f.db.RecordVisit(f.ctx, &v); err != nil {
			t.Fatal(err)
		}
	}
	withHouseholdList(t, f)
}

func TestLinkUnmatchedJourney(t *testing.T) {
	for _, lang := range []string{"vi", "en"} {
		t.Run(lang, func(t *testing.T) {
			runJourney(t, newFixture(t, options{}), linkJourney, lang)
		})
	}
}

// TestLinkUnmatchedJourneyPostgres gives the same transcript on Postgres.
func TestLinkUnmatchedJourneyPostgres(t *testing.T) {
	runJourney(t, newFixture(t, options{databaseURL: storetest.PostgresURL(t)}), linkJourney, "vi")
}

// TestLinkUnmatchedAsks: several matches are offered with their
// addresses, a name on no list is said and asked again, "Không phải" asks
// again, and a member who does not lead is refused.
func TestLinkUnmatchedAsks(t *testing.T) {
	f := newFixture(t, options{})
	withUnmatchedVisits(t, f)
	if out := flowstest.Texts(f.chat(t, zMai).Say("#ghepho 2")); !strings.Contains(out, "Chỉ tổ trưởng") {
		t.Errorf("a member linking saw %q, want leaders only", out)
	}
	hung := f.chat(t, zHung)
	hung.Say("#ghepho 2")
	steps := []struct{ say, want string }{
		{"ong nam", "“ong nam” khớp 3 hộ"},
		{"ong Ba", "Mình chưa thấy “ong Ba”"},
		{"27", "là của hộ Lê Văn Năm – 27/4, đúng không?"},
		{"#khongphai", "“ông Năm” là hộ nào"},
		{"thoi", ""},
	}
	for _, s := range steps {
		out := flowstest.Transcript(hung.Say(s.say), zHung, nil)
		if !strings.Contains(out, s.want) {
			t.Errorf("%q: said %q, want %q in it", s.say, out, s.want)
		}
		if s.say == "ong nam" && !strings.Contains(out, "Nguyễn Văn Năm – Số 3") {
			t.Errorf("matches said %q, want the addresses", out)
		}
	}
	un, err := f.db.UnmatchedVisits(f.ctx, f.team(t, "An Xuyên", "Ấp 1").HamletID, 10)
	if err != nil || len(un) != 2 {
		t.Errorf("unmatched %+v %v, want both still there", un, err)
	}
}

// visitListed records a visit of a person to a listed household of Ấp 1,
// found by what a member would type.
func visitListed(t *testing.T, f *fixture, phone, typed string) {
	t.Helper()
	tm := f.team(t, "An Xuyên", "Ấp 1")
	hs, err := f.db.MatchHouseholds(f.ctx, tm.HamletID, typed)
	if err != nil || len(hs) != 1 {
		t.Fatalf("match %q: %v %v", typed, hs, err)
	}
	v := cnsbot.Visit{PersonID: f.person(t, phone).ID, TeamID: tm.ID, Household: hs[0].Label(), ListedHouseholdID: &hs[0].ID,
		Areas: cnsbot.AreaVNeIDInstall, People: 1, Minutes: 20, VisitedAt: t0.Add(-24 * time.Hour)}
	if _, err := f.db.RecordVisit(f.ctx, &v); err != nil {
		t.Fatal(err)
	}
}

func TestHouseholdJourneys(t *testing.T) {
	for _, j := range householdJourneys {
		for _, lang := range []string{"vi", "en"} {
			t.Run(j.name+"."+lang, func(t *testing.T) {
				runJourney(t, newFixture(t, options{}), j, lang)
			})
		}
	}
}

// TestHouseholdJourneysPostgres gives the same transcripts on Postgres.
func TestHouseholdJourneysPostgres(t *testing.T) {
	for _, j := range householdJourneys[:2] {
		t.Run(j.name, func(t *testing.T) {
			runJourney(t, newFixture(t, options{databaseURL: storetest.PostgresURL(t)}), j, "vi")
		})
	}
}

// TestGroupUnvisited: "#chuaden" in the team's group lists the houses not
// visited, and "#chuaden 10" the next ones; someone not on the roster sees
// none.
func TestGroupUnvisited(t *testing.T) {
	f := newFixture(t, options{})
	withHouseholdList(t, f)
	g := f.group(t, "G-LINKED")
	if err := f.db.LinkGroup(f.ctx, f.team(t, "An Xuyên", "Ấp 1").ID, "G-LINKED"); err != nil {
		t.Fatal(err)
	}
	first := flowstest.Texts(g.Say(zMai, "#chuaden"))
	for _, want := range []string{"1–10 / 14", "1. Nguyễn Văn Năm – Số 3", "#chuaden 10"} {
		if !strings.Contains(first, want) {
			t.Errorf("#chuaden said %q, want %q in it", first, want)
		}
	}
	next := flowstest.Texts(g.Say(zMai, "#chuaden 10"))
	if !strings.Contains(next, "14. Lâm Thị Xuân – 31") || strings.Contains(next, "#chuaden 20") {
		t.Errorf("#chuaden 10 said %q", next)
	}
	if out := flowstest.Texts(g.Say("9999", "#chuaden")); strings.Contains(out, "Năm") {
		t.Errorf("a stranger in the group saw households: %q", out)
	}
}

// TestLeaderSeesUnmatchedVisits: visits typed before the list that match
// several households are shown to the leader; those that matched one are
// not.
func TestLeaderSeesUnmatchedVisits(t *testing.T) {
	f := newFixture(t, options{})
	tm := f.team(t, "An Xuyên", "Ấp 1")
	mai := f.person(t, "0987654321")
	for _, h := range []string{"nhà ông Năm", "nha ba Tu"} {
		v := cnsbot.Visit{PersonID: mai.ID, TeamID: tm.ID, Household: h, Areas: "vneid", People: 1, Minutes: 30}
		if _, err := f.db.RecordVisit(f.ctx, &v); err != nil {
			t.Fatal(err)
		}
	}
	withHouseholdList(t, f)
	out := flowstest.Texts(f.chat(t, zHung).Say("ho chua khop"))
	if !strings.Contains(out, "“nhà ông Năm”: 1 lần báo cáo, có thể là 3 hộ") || strings.Contains(out, "ba Tu") {
		t.Errorf("leader saw %q, want ông Năm (3 households) and not bà Tư (matched)", out)
	}
	if out := flowstest.Texts(f.chat(t, zMai).Say("ho chua khop")); strings.Contains(out, "Năm") {
		t.Errorf("a member saw %q", out)
	}
}

// TestGroupReportNamesListedHousehold: a one-line report confirmed in the
// group names the listed household when one matches, and stays as typed
// when several do.
func TestGroupReportNamesListedHousehold(t *testing.T) {
	f := newFixture(t, options{})
	withHouseholdList(t, f)
	g := f.group(t, "G-LINKED")
	if err := f.db.LinkGroup(f.ctx, f.team(t, "An Xuyên", "Ấp 1").ID, "G-LINKED"); err != nil {
		t.Fatal(err)
	}
	g.Say(zMai, "#bc so 12, vneid, 2 nguoi, 30p")
	if out := flowstest.Texts(g.Say(zMai, "#ok")); !strings.Contains(out, "Trần Thị Mai: Trần Văn Năm – 12") {
		t.Errorf("group confirmation %q, want the member and the listed household", out)
	}
	f.clock.Advance(time.Hour)
	g.Say(zMai, "#bc ong nam, vneid, 1 nguoi, 15p")
	g.Say(zMai, "#ok")
	if got := listedVisits(t, f, "0987654321"); len(got) != 2 || got[0] != "Trần Văn Năm – 12" || got[1] != "" {
		t.Errorf("visits name %q, want Trần Văn Năm – 12, then none (three ông Năm)", got)
	}
}
