package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// demoDialects opens a database of each kind with every table, the
// dashboard's included, and the demo dataset seeded as of now.
func demoDialects(t *testing.T) map[string]func(t *testing.T) (*store.DB, time.Time) {
	open := func(t *testing.T, url, dir string) (*store.DB, time.Time) {
		t.Helper()
		ctx := context.Background()
		db, err := store.Open(ctx, url, dir, nil)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() { _ = db.Close() })
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("migrate: %v", err)
		}
		now := time.Date(2026, 11, 27, 10, 30, 0, 0, calendarLoc(t))
		if err := db.SeedDemo(ctx, now); err != nil {
			t.Fatalf("seed demo: %v", err)
		}
		return db, now
	}
	return map[string]func(t *testing.T) (*store.DB, time.Time){
		"sqlite":   func(t *testing.T) (*store.DB, time.Time) { return open(t, "", t.TempDir()) },
		"postgres": func(t *testing.T) (*store.DB, time.Time) { return open(t, storetest.PostgresURL(t), "") },
	}
}

func count(t *testing.T, db *store.DB, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	q := db.ORM().Table(table)
	if where != "" {
		q = q.Where(where, args...)
	}
	if err := q.Count(&n).Error; err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func TestSeedDemo(t *testing.T) {
	for name, open := range demoDialects(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db, now := open(t)
			tables := []string{"units", "teams", "people", "roles", "visits", "households", "help_requests", "report_submissions"}
			before := map[string]int64{}
			for _, tb := range tables {
				before[tb] = count(t, db, tb, "")
			}
			// Seeding again changes nothing.
			if err := db.SeedDemo(ctx, now.Add(48*time.Hour)); err != nil {
				t.Fatalf("seed again: %v", err)
			}
			for _, tb := range tables {
				if got := count(t, db, tb, ""); got != before[tb] {
					t.Errorf("%s: got %d rows after a second seed, want %d", tb, got, before[tb])
				}
			}
			if ok, err := db.HasDemo(ctx); err != nil || !ok {
				t.Fatalf("HasDemo: got %v, %v, want true", ok, err)
			}

			checks := []struct {
				what string
				got  int64
				want func(int64) bool
				says string
			}{
				{"communes", count(t, db, "units", "kind = ?", cnsbot.UnitCommune), eq(2), "2"},
				{"hamlets", count(t, db, "units", "kind = ? AND households > 0", cnsbot.UnitHamlet), between(4, 5), "4 or 5 with households"},
				{"teams with codes", count(t, db, "teams", "code <> ''"), eq(before["teams"]), "every team"},
				{"visits", before["visits"], between(35, 50), "about 40"},
				{"rows not marked demo", count(t, db, "units", "demo = ?", false) + count(t, db, "teams", "demo = ?", false) +
					count(t, db, "people", "demo = ?", false) + count(t, db, "visits", "demo = ?", false) +
					count(t, db, "help_requests", "demo = ?", false), eq(0), "0"},
				{"visits before last quarter", count(t, db, "visits", "visited_at < ?", time.Date(2026, 7, 1, 0, 0, 0, 0, calendarLoc(t)).UTC()), eq(0), "0"},
				{"visits in the future", count(t, db, "visits", "visited_at > ?", now.UTC()), eq(0), "0"},
				{"open requests", count(t, db, "help_requests", "status = ?", cnsbot.HelpOpen), between(2, 9), "at least 2"},
				{"open requests older than 48h", count(t, db, "help_requests", "status = ? AND created_at < ?", cnsbot.HelpOpen, now.Add(-48*time.Hour).UTC()), between(1, 9), "at least 1"},
				{"taken requests", count(t, db, "help_requests", "status = ?", cnsbot.HelpTaken), between(1, 9), "at least 1"},
				{"closed requests", count(t, db, "help_requests", "status = ?", cnsbot.HelpClosed), between(1, 9), "at least 1"},
				{"last quarter's submissions", count(t, db, "report_submissions", "deadline_key LIKE ?", "2026Q3:%"), between(2, 9), "some"},
			}
			for _, c := range checks {
				if !c.want(c.got) {
					t.Errorf("%s: got %d, want %s", c.what, c.got, c.says)
				}
			}

			// The personas are on the roster with their roles, and the group
			// is the team's.
			roleOf := map[string]string{store.DemoMember: cnsbot.RoleMember, store.DemoLeader: cnsbot.RoleLeader,
				store.DemoOfficer: cnsbot.RoleCommuneOfficer}
			var team cnsbot.Team
			for _, p := range store.DemoPersonas() {
				switch p.Key {
				case store.DemoResident:
					if _, _, err := db.PersonByZalo(ctx, p.ZaloUserID); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
						t.Errorf("resident: got %v, want not on any roster", err)
					}
				case store.DemoGroup:
					var err error
					if team, err = db.TeamByGroup(ctx, p.GroupID); err != nil {
						t.Fatalf("team of the demo group: %v", err)
					}
				case store.DemoHouseholds:
					if h, err := db.HamletOfGroup(ctx, p.GroupID); err != nil || h.Name != "Ấp Cây Trâm" {
						t.Errorf("household group: hamlet %q, %v; want Ấp Cây Trâm", h.Name, err)
					}
				default:
					person, roles, err := db.PersonByZalo(ctx, p.ZaloUserID)
					if err != nil {
						t.Fatalf("%s: %v", p.Key, err)
					}
					if person.FullName != p.Name || len(roles) != 1 || roles[0].Role != roleOf[p.Key] || !roles[0].Approved {
						t.Errorf("%s: got %s with roles %+v, want %s as approved %s", p.Key, person.FullName, roles, p.Name, roleOf[p.Key])
					}
				}
			}
			// The leader and member personas reported lately: the weekly
			// nudge leaves them alone when a demo starts.
			last, err := db.LastActivity(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, z := range []string{"8100000000000000002", "8100000000000000003"} {
				p, _, _ := db.PersonByZalo(ctx, z)
				if at := last[p.ID]; now.Sub(at) > 4*24*time.Hour {
					t.Errorf("%s last reported %v, want within the last days", p.FullName, at)
				}
			}
			leaders, err := db.TeamLeaders(ctx, team.ID)
			if err != nil || len(leaders) != 1 || leaders[0].FullName != "Phạm Thị Mai" {
				t.Errorf("leaders of the group's team: got %v, %v, want Phạm Thị Mai", leaders, err)
			}
		})
	}
}

func eq(want int64) func(int64) bool { return func(n int64) bool { return n == want } }
func between(lo, hi int64) func(int64) bool {
	return func(n int64) bool { return n >= lo && n <= hi }
}

func TestHamletProgress(t *testing.T) {
	for name, open := range demoDialects(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db, now := open(t)
			all, err := db.HamletProgress(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 5 {
				t.Fatalf("got %d hamlets, want 5", len(all))
			}
			for _, h := range all {
				teams, err := db.TeamsOfHamlet(ctx, h.ID)
				if err != nil || len(teams) != 1 {
					t.Fatalf("teams of %s: %v, %v", h.Name, teams, err)
				}
				guided, households, err := db.TeamProgress(ctx, teams[0].ID)
				if err != nil {
					t.Fatal(err)
				}
				if h.Guided != guided || h.Households != households || h.Teams != 1 || !h.Demo {
					t.Errorf("%s: got %d/%d guided with %d teams (demo %v), want %d/%d with 1 (demo)",
						h.Name, h.Guided, h.Households, h.Teams, h.Demo, guided, households)
				}
			}
			communes, err := db.Communes(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var sum int
			for _, c := range communes {
				hs, err := db.HamletProgress(ctx, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				for _, h := range hs {
					if h.ParentID != c.ID {
						t.Errorf("commune %s: got hamlet %s of %d", c.Name, h.Name, h.ParentID)
					}
				}
				sum += len(hs)
				// The commune's figures are the unit's.
				q := calendar.Quarter(now)
				got, err := db.CommuneFigures(ctx, c.ID, q, now.Location())
				if err != nil {
					t.Fatal(err)
				}
				want, err := db.UnitFigures(ctx, c.ID, q, now.Location())
				if err != nil {
					t.Fatal(err)
				}
				if got.GuidedToDate != want.GuidedToDate || got.Visits != want.Visits || got.Households != want.Households {
					t.Errorf("commune %s figures: got %+v, want %+v", c.Name, got, want)
				}
			}
			if sum != len(all) {
				t.Errorf("communes' hamlets: got %d, want %d", sum, len(all))
			}
			if name, err := db.ProvinceName(ctx); err != nil || name != "Cà Mau" {
				t.Errorf("province: got %q, %v, want Cà Mau", name, err)
			}
		})
	}
}

func TestOfficerTokens(t *testing.T) {
	for name, open := range demoDialects(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db, _ := open(t)
			officer, _, err := db.PersonByPhone(ctx, "+84900009001")
			if err != nil {
				t.Fatal(err)
			}
			tanThanh, err := db.FindUnit(ctx, cnsbot.UnitCommune, nil, "Tân Thành")
			if err != nil {
				t.Fatal(err)
			}
			token, err := db.CreateOfficerToken(ctx, officer.ID)
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			if len(token) < 40 {
				t.Fatalf("token %d characters long, want at least 40", len(token))
			}
			// Only the hash is stored.
			if n := count(t, db, "officer_tokens", "token_hash = ?", token); n != 0 {
				t.Errorf("the raw token is stored")
			}
			if n := count(t, db, "officer_tokens", "token_hash = ?", store.TokenHash(token)); n != 1 {
				t.Errorf("got %d rows with the token's hash, want 1", n)
			}
			o, err := db.OfficerByToken(ctx, token)
			if err != nil {
				t.Fatalf("sign in: %v", err)
			}
			if o.PersonID != officer.ID || o.Province || len(o.CommuneIDs) != 1 || !o.Sees(tanThanh.ID) || o.Sees(tanThanh.ID+1000) {
				t.Errorf("got %+v, want the officer of commune %d only", o, tanThanh.ID)
			}
			if o2, err := db.OfficerByTokenID(ctx, o.TokenID); err != nil || o2.PersonID != officer.ID {
				t.Errorf("by id: got %+v, %v", o2, err)
			}

			for _, bad := range []string{"", "cno_", token + "x", strings.TrimPrefix(token, "cno_"), "cno_" + strings.Repeat("A", 43)} {
				if _, err := db.OfficerByToken(ctx, bad); cnsbot.ErrorCode(err) != cnsbot.EUNAUTHORIZED {
					t.Errorf("token %q: got %v, want EUNAUTHORIZED", bad, err)
				}
			}
			// A member is no officer.
			member, _, _ := db.PersonByPhone(ctx, "+84900001002")
			if _, err := db.CreateOfficerToken(ctx, member.ID); cnsbot.ErrorCode(err) != cnsbot.EINVALID {
				t.Errorf("member: got %v, want EINVALID", err)
			}
			if _, err := db.CreateOfficerToken(ctx, 999999); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
				t.Errorf("unknown person: got %v, want ENOTFOUND", err)
			}
			// The province officer sees every commune.
			po, _, _ := db.PersonByPhone(ctx, "+84900009003")
			ptoken, err := db.CreateOfficerToken(ctx, po.ID)
			if err != nil {
				t.Fatal(err)
			}
			if p, err := db.OfficerByToken(ctx, ptoken); err != nil || !p.Province || !p.Sees(tanThanh.ID) {
				t.Errorf("province officer: got %+v, %v", p, err)
			}

			if err := db.RevokeOfficerToken(ctx, o.TokenID); err != nil {
				t.Fatal(err)
			}
			if _, err := db.OfficerByToken(ctx, token); cnsbot.ErrorCode(err) != cnsbot.EUNAUTHORIZED {
				t.Errorf("revoked: got %v, want EUNAUTHORIZED", err)
			}
			if err := db.RevokeOfficerToken(ctx, o.TokenID); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
				t.Errorf("revoked twice: got %v, want ENOTFOUND", err)
			}
		})
	}
}

func TestDashboardLists(t *testing.T) {
	for name, open := range demoDialects(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db, _ := open(t)
			tanThanh, _ := db.FindUnit(ctx, cnsbot.UnitCommune, nil, "Tân Thành")
			anXuyen, _ := db.FindUnit(ctx, cnsbot.UnitCommune, nil, "An Xuyên")

			all, err := db.HelpRequests(ctx, store.HelpFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != int(count(t, db, "help_requests", "")) {
				t.Errorf("got %d requests, want all", len(all))
			}
			for i, r := range all {
				if r.CommuneName == "" || r.HamletName == "" || r.TeamName == "" {
					t.Errorf("request %s without names: %+v", r.Code, r)
				}
				if r.TakenBy != nil && r.TakenByName == "" {
					t.Errorf("request %s: taken by someone without a name", r.Code)
				}
				if i > 0 && r.CreatedAt.After(all[i-1].CreatedAt) {
					t.Errorf("requests not newest first")
				}
			}
			open, err := db.HelpRequests(ctx, store.HelpFilter{CommuneID: tanThanh.ID, Statuses: []string{cnsbot.HelpOpen}})
			if err != nil {
				t.Fatal(err)
			}
			if len(open) == 0 {
				t.Fatal("no open requests in Tân Thành")
			}
			for _, r := range open {
				if r.Status != cnsbot.HelpOpen || r.CommuneID != tanThanh.ID {
					t.Errorf("filter: got %s %s in %d", r.Code, r.Status, r.CommuneID)
				}
			}

			visits, err := db.RecentVisits(ctx, anXuyen.ID, 5)
			if err != nil {
				t.Fatal(err)
			}
			if len(visits) != 5 {
				t.Fatalf("got %d visits, want 5", len(visits))
			}
			for i, v := range visits {
				if v.CommuneID != anXuyen.ID || v.CommuneName != "Phường An Xuyên" || v.PersonName == "" || v.TeamName == "" {
					t.Errorf("visit %d: got %+v", i, v)
				}
				if i > 0 && v.VisitedAt.After(visits[i-1].VisitedAt) {
					t.Errorf("visits not newest first")
				}
			}

			// A refused reminder to Tân Thành's leader and a group post
			// in An Xuyên.
			out := []struct {
				m     cnsbot.Outgoing
				state string
			}{
				{cnsbot.Outgoing{ID: "r1", To: cnsbot.Recipient{UserID: "8100000000000000003"}, Purpose: "reminder"}, store.StateUndeliverable},
				{cnsbot.Outgoing{ID: "r2", To: cnsbot.Recipient{UserID: "8100000000000000141"}, Purpose: "reminder"}, store.StateFallback},
				{cnsbot.Outgoing{ID: "r3", To: cnsbot.Recipient{GroupID: "8200000000000000002"}, Purpose: "notify"}, store.StateUndeliverable},
				{cnsbot.Outgoing{ID: "r4", To: cnsbot.Recipient{UserID: "8100000000000000003"}, Purpose: "reply"}, store.StateSent},
			}
			for _, o := range out {
				var err error
				switch o.state {
				case store.StateUndeliverable:
					err = db.Undeliverable(ctx, o.m, -230, "outside the window")
				case store.StateFallback:
					err = db.Fallback(ctx, o.m, -213, "not a follower")
				default:
					err = db.Delivered(ctx, o.m, "z1")
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			got, err := db.UndeliveredMessages(ctx, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 3 {
				t.Fatalf("got %d undelivered, want 3: %+v", len(got), got)
			}
			byID := map[string]store.Undelivered{}
			for _, u := range got {
				byID[u.MessageID] = u
			}
			if u := byID["r1"]; u.Name != "Phạm Thị Mai" || u.CommuneID != tanThanh.ID || u.ZaloCode != -230 || u.Reason == "" {
				t.Errorf("r1: got %+v", u)
			}
			if u := byID["r3"]; u.Name != "Tổ CNSCĐ Khóm 1" || u.CommuneID != anXuyen.ID {
				t.Errorf("r3: got %+v", u)
			}
			mine, err := db.UndeliveredMessages(ctx, anXuyen.ID, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(mine) != 2 {
				t.Errorf("An Xuyên: got %d undelivered, want 2: %+v", len(mine), mine)
			}
		})
	}
}
