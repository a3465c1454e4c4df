package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store"
)

// TestOfficerTokensExpireAndRevoke checks that an expired or revoked
// token signs nobody in, by the token or by its id (an open session), and
// that revoking it ends the sessions it opened.
func TestOfficerTokensExpireAndRevoke(t *testing.T) {
	for name, open := range demoDialects(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db, _ := open(t)
			officer, _, err := db.PersonByPhone(ctx, "+84900009001")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.IssueOfficerToken(ctx, officer.ID, 500*24*time.Hour); cnsbot.ErrorCode(err) != cnsbot.EINVALID {
				t.Errorf("a 500-day token: got %v, want EINVALID", err)
			}
			tok, err := db.IssueOfficerToken(ctx, officer.ID, 0)
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Until(tok.ExpiresAt); d < store.DefaultOfficerTokenTTL-time.Minute || d > store.DefaultOfficerTokenTTL {
				t.Errorf("default token expires in %v, want %v", d, store.DefaultOfficerTokenTTL)
			}
			if o, err := db.OfficerByToken(ctx, tok.Token); err != nil || o.TokenID != tok.ID {
				t.Fatalf("fresh token: got %+v, %v", o, err)
			}
			// Past its expiry it is refused both ways, at once.
			if err := db.ORM().Table("officer_tokens").Where("id = ?", tok.ID).Update("expires_at", time.Now().UTC().Add(-time.Second)).Error; err != nil {
				t.Fatal(err)
			}
			if _, err := db.OfficerByToken(ctx, tok.Token); cnsbot.ErrorCode(err) != cnsbot.EUNAUTHORIZED {
				t.Errorf("expired token: got %v, want EUNAUTHORIZED", err)
			}
			if _, err := db.OfficerByTokenID(ctx, tok.ID); cnsbot.ErrorCode(err) != cnsbot.EUNAUTHORIZED {
				t.Errorf("expired token by id: got %v, want EUNAUTHORIZED", err)
			}

			// Revocation ends the sessions it opened, not the others.
			live, err := db.IssueOfficerToken(ctx, officer.ID, 24*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			later := time.Now().Add(time.Hour)
			s1, err := db.CreateSession(ctx, false, live.ID, later)
			if err != nil {
				t.Fatal(err)
			}
			admin, err := db.CreateSession(ctx, true, 0, later)
			if err != nil {
				t.Fatal(err)
			}
			if s, err := db.SessionBySecret(ctx, s1, time.Now()); err != nil || s.TokenID != live.ID {
				t.Fatalf("session: got %+v, %v", s, err)
			}
			if err := db.RevokeOfficerToken(ctx, live.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := db.SessionBySecret(ctx, s1, time.Now()); cnsbot.ErrorCode(err) != cnsbot.EUNAUTHORIZED {
				t.Errorf("session of a revoked token: got %v, want EUNAUTHORIZED", err)
			}
			if _, err := db.SessionBySecret(ctx, admin, time.Now()); err != nil {
				t.Errorf("the administrator's session ended with an officer's token: %v", err)
			}
			if _, err := db.OfficerByToken(ctx, live.Token); cnsbot.ErrorCode(err) != cnsbot.EUNAUTHORIZED {
				t.Errorf("revoked token: got %v, want EUNAUTHORIZED", err)
			}
			if err := db.RevokeOfficerToken(ctx, live.ID); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
				t.Errorf("revoking twice: got %v, want ENOTFOUND", err)
			}

			rows, err := db.OfficerTokens(ctx, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			states := map[int64]string{}
			for _, r := range rows {
				states[r.ID] = r.State
				if r.Name != officer.FullName {
					t.Errorf("token %d: name %q, want %q", r.ID, r.Name, officer.FullName)
				}
			}
			if states[tok.ID] != store.TokenExpired || states[live.ID] != store.TokenRevoked {
				t.Errorf("states: %v; want %d expired, %d revoked", states, tok.ID, live.ID)
			}
		})
	}
}

// TestSessionsEnd checks sign-out, expiry and "sign out everywhere".
func TestSessionsEnd(t *testing.T) {
	for name, open := range demoDialects(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db, _ := open(t)
			now := time.Now()
			a, _ := db.CreateSession(ctx, true, 0, now.Add(time.Hour))
			b, _ := db.CreateSession(ctx, true, 0, now.Add(time.Hour))
			c, _ := db.CreateSession(ctx, true, 0, now.Add(time.Hour))
			if _, err := db.SessionBySecret(ctx, a, now.Add(2*time.Hour)); cnsbot.ErrorCode(err) != cnsbot.EUNAUTHORIZED {
				t.Errorf("expired session: got %v", err)
			}
			if _, err := db.SessionBySecret(ctx, "not-a-session", now); cnsbot.ErrorCode(err) != cnsbot.EUNAUTHORIZED {
				t.Errorf("unknown session: got %v", err)
			}
			if err := db.EndSession(ctx, a); err != nil {
				t.Fatal(err)
			}
			if _, err := db.SessionBySecret(ctx, a, now); cnsbot.ErrorCode(err) != cnsbot.EUNAUTHORIZED {
				t.Errorf("ended session: got %v", err)
			}
			if _, err := db.SessionBySecret(ctx, b, now); err != nil {
				t.Errorf("another session ended with one sign-out: %v", err)
			}
			n, err := db.EndAllSessions(ctx)
			if err != nil || n != 2 {
				t.Errorf("end all: %d, %v; want 2", n, err)
			}
			// Rows of sessions long expired go as new ones are made.
			if _, err := db.CreateSession(ctx, true, 0, now.AddDate(0, 0, -31)); err != nil {
				t.Fatal(err)
			}
			if _, err := db.CreateSession(ctx, true, 0, now.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if got := count(t, db, "dashboard_sessions", "expires_at < ?", now.UTC().AddDate(0, 0, -30)); got != 0 {
				t.Errorf("%d sessions expired a month ago are kept, want none", got)
			}
			if got := count(t, db, "dashboard_sessions", ""); got != 4 {
				t.Errorf("%d sessions kept, want the 4 recent ones", got)
			}
			for _, s := range []string{b, c} {
				if _, err := db.SessionBySecret(ctx, s, now); cnsbot.ErrorCode(err) != cnsbot.EUNAUTHORIZED {
					t.Errorf("session after ending all: got %v", err)
				}
			}
		})
	}
}

// TestAccessLogKeepsRows checks that rows are kept, named and paged.
func TestAccessLogKeepsRows(t *testing.T) {
	for name, open := range demoDialects(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db, _ := open(t)
			officer, _, _ := db.PersonByPhone(ctx, "+84900009001")
			commune, err := db.FindUnit(ctx, cnsbot.UnitCommune, nil, "Tân Thành")
			if err != nil {
				t.Fatal(err)
			}
			id, err := db.RecordAccess(ctx, store.AccessEntry{Admin: true, What: "help_requests"})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.SetAccessStatus(ctx, id, 200); err != nil {
				t.Fatal(err)
			}
			if _, err := db.RecordAccess(ctx, store.AccessEntry{TokenID: 7, PersonID: officer.ID, What: "report",
				CommuneID: commune.ID, Detail: "quarter=2026Q4 format=csv", Status: 200}); err != nil {
				t.Fatal(err)
			}
			rows, err := db.AccessLog(ctx, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 2 || rows[0].Name != officer.FullName || rows[0].Commune != commune.Name || rows[0].What != "report" ||
				!rows[1].Admin || rows[1].Status != 200 || rows[1].Name != "" {
				t.Fatalf("access log: %+v", rows)
			}
			older, err := db.AccessLog(ctx, rows[0].ID, 10)
			if err != nil || len(older) != 1 || older[0].ID != rows[1].ID {
				t.Errorf("page before %d: %+v, %v", rows[0].ID, older, err)
			}
		})
	}
}
