package store

import (
	"context"
	"slices"
	"testing"

	"github.com/camau-cns/cnsbot"
)

func names(people []cnsbot.Person) []string {
	var out []string
	for _, p := range people {
		out = append(out, p.FullName)
	}
	return out
}

// seedRoster imports the sample units and roster and returns the team of
// An Xuyên's Ấp 1.
func seedRoster(t *testing.T, db *DB) cnsbot.Team {
	t.Helper()
	mustImport(t, db, "units", "units.csv")
	mustImport(t, db, "roster", "roster.csv")
	teams, err := db.TeamsOfHamlet(context.Background(), findHamlet(t, db, "An Xuyên", "Ấp 1").ID)
	if err != nil || len(teams) == 0 {
		t.Fatalf("teams of Ấp 1: %v %v", teams, err)
	}
	return teams[0]
}

func TestDomainPeople(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		team := seedRoster(t, db)

		members, err := db.TeamMembers(ctx, team.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Sorted by given name: Hùng, Mai, Ngọc, Phúc.
		want := []string{"Nguyễn Văn Hùng", "Trần Thị Mai", "Đặng Thị Bích Ngọc", "Lê Hoàng Phúc"}
		if got := names(members); !slices.Equal(got, want) {
			t.Errorf("TeamMembers: got %q, want %q", got, want)
		}
		leaders, err := db.TeamLeaders(ctx, team.ID)
		if err != nil || !slices.Equal(names(leaders), []string{"Nguyễn Văn Hùng"}) {
			t.Errorf("TeamLeaders: got %q, %v", names(leaders), err)
		}
		ax, err := db.FindUnit(ctx, cnsbot.UnitCommune, nil, "An Xuyên")
		if err != nil {
			t.Fatal(err)
		}
		officers, err := db.CommuneOfficers(ctx, ax.ID)
		if err != nil || !slices.Equal(names(officers), []string{"Võ Thị Thu Hà"}) {
			t.Errorf("CommuneOfficers: got %q, %v", names(officers), err)
		}

		// Any spelling of the phone finds the person.
		for _, phone := range []string{"+84987654321", "0987 654 321", "84987654321"} {
			p, roles, err := db.PersonByPhone(ctx, phone)
			if err != nil || p.FullName != "Trần Thị Mai" || len(roles) != 1 || roles[0].Role != cnsbot.RoleMember {
				t.Errorf("PersonByPhone(%q): got %+v %+v %v", phone, p, roles, err)
			}
		}
		if _, _, err := db.PersonByPhone(ctx, "0911 999 999"); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("unknown phone: got %v, want ENOTFOUND", err)
		}
		if _, _, err := db.PersonByPhone(ctx, "abc"); cnsbot.ErrorCode(err) != cnsbot.EINVALID {
			t.Errorf("bad phone: got %v, want EINVALID", err)
		}

		mai, _, _ := db.PersonByPhone(ctx, "0987654321")
		if _, _, err := db.PersonByZalo(ctx, "42"); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("unlinked zalo id: got %v, want ENOTFOUND", err)
		}
		if err := db.LinkZalo(ctx, mai.ID, "42"); err != nil {
			t.Fatal(err)
		}
		if err := db.LinkZalo(ctx, mai.ID, "42"); err != nil {
			t.Errorf("linking again: %v", err)
		}
		if p, _, err := db.PersonByZalo(ctx, "42"); err != nil || p.ID != mai.ID {
			t.Errorf("PersonByZalo: got %+v, %v", p, err)
		}
		// Hùng's Zalo id is on the roster: nobody else may take it.
		if err := db.LinkZalo(ctx, mai.ID, "5630211893524187712"); cnsbot.ErrorCode(err) != cnsbot.ECONFLICT {
			t.Errorf("taking another's zalo id: got %v, want ECONFLICT", err)
		}
		if err := db.LinkZalo(ctx, 999999, "43"); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("missing person: got %v, want ENOTFOUND", err)
		}
	})
}

func TestDomainPendingMember(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		team := seedRoster(t, db)
		zalo := "9001"
		newcomer := cnsbot.Person{FullName: "  Châu   Văn Lợi ", Phone: "0916 000 111", ZaloUserID: &zalo}
		for range 2 { // the second call changes nothing
			if err := db.AddPendingMember(ctx, newcomer, team.ID); err != nil {
				t.Fatal(err)
			}
		}
		p, roles, err := db.PersonByZalo(ctx, zalo)
		if err != nil || p.FullName != "Châu Văn Lợi" || p.Phone != "+84916000111" {
			t.Fatalf("pending person: got %+v, %v", p, err)
		}
		if len(roles) != 1 || roles[0].Approved || roles[0].TeamID == nil || *roles[0].TeamID != team.ID {
			t.Errorf("pending role: got %+v, want one unapproved member role in team %d", roles, team.ID)
		}
		members, _ := db.TeamMembers(ctx, team.ID)
		if slices.Contains(names(members), "Châu Văn Lợi") {
			t.Errorf("a pending member is listed among the team's members")
		}
		if err := db.ApproveMember(ctx, p.ID, team.ID); err != nil {
			t.Fatal(err)
		}
		members, _ = db.TeamMembers(ctx, team.ID)
		if !slices.Contains(names(members), "Châu Văn Lợi") {
			t.Errorf("an approved member is missing from %q", names(members))
		}
		// Approval is not undone by asking again.
		if err := db.AddPendingMember(ctx, newcomer, team.ID); err != nil {
			t.Fatal(err)
		}
		if _, roles, _ := db.PersonByPhone(ctx, newcomer.Phone); len(roles) != 1 || !roles[0].Approved {
			t.Errorf("roles after asking again: got %+v, want one approved", roles)
		}

		// Someone on the roster of another team keeps their name and roles.
		tuan, _, _ := db.PersonByPhone(ctx, "0355678901")
		if err := db.AddPendingMember(ctx, cnsbot.Person{FullName: "Tuấn", Phone: "0355678901"}, team.ID); err != nil {
			t.Fatal(err)
		}
		p, roles, _ = db.PersonByPhone(ctx, "0355678901")
		if p.FullName != tuan.FullName || len(roles) != 2 {
			t.Errorf("existing person: got %q with %d roles, want %q with 2", p.FullName, len(roles), tuan.FullName)
		}

		if err := db.ApproveMember(ctx, p.ID, 999999); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("approving without a role: got %v, want ENOTFOUND", err)
		}
		if err := db.AddPendingMember(ctx, cnsbot.Person{FullName: "X", Phone: "123"}, team.ID); cnsbot.ErrorCode(err) != cnsbot.EINVALID {
			t.Errorf("bad phone: got %v, want EINVALID", err)
		}
		if err := db.AddPendingMember(ctx, cnsbot.Person{FullName: "X", Phone: "0916000222"}, 999999); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("missing team: got %v, want ENOTFOUND", err)
		}
		taken := "5630211893524187712"
		if err := db.AddPendingMember(ctx, cnsbot.Person{FullName: "X", Phone: "0916000333", ZaloUserID: &taken}, team.ID); cnsbot.ErrorCode(err) != cnsbot.ECONFLICT {
			t.Errorf("someone else's zalo id: got %v, want ECONFLICT", err)
		}
	})
}

func TestSetPersonLang(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		zid := "5630211893524187712"
		p := cnsbot.Person{FullName: "Nguyễn Văn Hùng", Phone: "+84912345678", ZaloUserID: &zid}
		if err := db.orm.Create(&p).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.SetPersonLang(ctx, zid, "en"); err != nil {
			t.Fatal(err)
		}
		got, _, err := db.PersonByZalo(ctx, zid)
		if err != nil || got.Lang != "en" {
			t.Fatalf("got %q (%v), want en", got.Lang, err)
		}
		if err := db.SetPersonLang(ctx, "nobody", "en"); err != nil {
			t.Fatalf("unknown id: %v, want no error", err)
		}
	})
}
