package store

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store/storetest"
)

func TestEnrolCodes(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		seedRoster(t, db)
		hung, _, _ := db.PersonByPhone(ctx, "0912345678") // leader, linked to 5630211893524187712
		mai, _, _ := db.PersonByPhone(ctx, "0987654321")  // member, not linked

		code, expires, err := db.CreateEnrolCode(ctx, mai.ID, "cli", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if c, ok := cnsbot.ParseEnrolCode(code); !ok || c != code || strings.ContainsAny(code, "0O1IL") {
			t.Errorf("code %q: want %d characters of %s", code, cnsbot.EnrolCodeLen, cnsbot.EnrolCodeAlphabet)
		}
		if d := time.Until(expires); d < 59*time.Minute || d > time.Hour {
			t.Errorf("expires in %v, want an hour", d)
		}
		var stored []EnrolCode
		db.orm.Find(&stored)
		if len(stored) != 1 || stored[0].CodeHash == code || strings.Contains(stored[0].CodeHash, code) {
			t.Fatalf("stored codes: got %+v, want one holding only the hash", stored)
		}

		// Wrong codes, typed in any case, find nothing.
		for _, wrong := range []string{"", "abc", "ABCD2345", strings.ToLower(code) + "2"} {
			if _, _, _, err := db.RedeemEnrolCode(ctx, wrong, "z-mai"); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
				t.Errorf("redeem %q: got %v, want ENOTFOUND", wrong, err)
			}
		}
		// Someone already on the roster cannot take a second person; the
		// code stays usable.
		if _, _, _, err := db.RedeemEnrolCode(ctx, code, "5630211893524187712"); cnsbot.ErrorCode(err) != cnsbot.ECONFLICT {
			t.Errorf("redeem with a taken zalo id: got %v, want ECONFLICT", err)
		}
		p, roles, previous, err := db.RedeemEnrolCode(ctx, strings.ToLower(code[:4])+" "+code[4:], "z-mai")
		if err != nil {
			t.Fatal(err)
		}
		if p.ID != mai.ID || previous != "" || len(roles) != 1 {
			t.Errorf("redeemed: got %+v %+v %q, want Mai, one role, no previous id", p, roles, previous)
		}
		if p, _, err := db.PersonByZalo(ctx, "z-mai"); err != nil || p.ID != mai.ID {
			t.Errorf("after redeeming: z-mai is %+v, %v", p, err)
		}
		// Single use.
		if _, _, _, err := db.RedeemEnrolCode(ctx, code, "z-other"); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("reused code: got %v, want ENOTFOUND", err)
		}

		// Expired.
		old, _, err := db.CreateEnrolCode(ctx, mai.ID, "cli", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		db.orm.Model(&EnrolCode{}).Where("code_hash = ?", TokenHash(old)).Update("expires_at", time.Now().UTC().Add(-time.Minute))
		if _, _, _, err := db.RedeemEnrolCode(ctx, old, "z-mai-2"); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("expired code: got %v, want ENOTFOUND", err)
		}

		// A code moves a linked person, and says from where.
		move, _, err := db.CreateEnrolCode(ctx, hung.ID, "admin", 0)
		if err != nil {
			t.Fatal(err)
		}
		p, _, previous, err = db.RedeemEnrolCode(ctx, move, "z-hung-new")
		if err != nil {
			t.Fatal(err)
		}
		if previous != "5630211893524187712" || p.ID != hung.ID {
			t.Errorf("moved: got %+v from %q, want Hùng moved from 5630211893524187712", p, previous)
		}
		if _, _, err := db.PersonByZalo(ctx, "5630211893524187712"); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("the old zalo id after the move: got %v, want ENOTFOUND", err)
		}

		// Someone who asked to join with a typed phone (pending, not
		// approved) can still take their roster entry with a code.
		team := seedTeam(t, db)
		pending := "z-pending"
		if err := db.AddPendingMember(ctx, cnsbot.Person{FullName: "Ngọc", Phone: "0916 000 999", ZaloUserID: &pending}, team.ID); err != nil {
			t.Fatal(err)
		}
		ngoc, _, _ := db.PersonByPhone(ctx, "0388112344")
		c2, _, err := db.CreateEnrolCode(ctx, ngoc.ID, "cli", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if p, _, _, err := db.RedeemEnrolCode(ctx, c2, pending); err != nil || p.ID != ngoc.ID {
			t.Errorf("a pending account redeeming a code: %+v, %v", p, err)
		}
		if _, _, _, err := db.RedeemEnrolCode(ctx, c2, pending); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("the code again: %v", err)
		}

		if _, _, err := db.CreateEnrolCode(ctx, 999999, "cli", time.Hour); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("code for nobody: got %v, want ENOTFOUND", err)
		}
	})
}

func TestLinkZaloNeverMovesAPerson(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		seedRoster(t, db)
		hung, _, _ := db.PersonByPhone(ctx, "0912345678")
		if err := db.LinkZalo(ctx, hung.ID, "z-stranger"); cnsbot.ErrorCode(err) != cnsbot.ECONFLICT {
			t.Errorf("relinking a linked person: got %v, want ECONFLICT", err)
		}
		if p, _, _ := db.PersonByPhone(ctx, "0912345678"); p.ZaloUserID == nil || *p.ZaloUserID != "5630211893524187712" {
			t.Errorf("the leader's zalo id changed to %v", p.ZaloUserID)
		}
		// Asking to join a team with a roster phone does not link it.
		z := "z-stranger"
		if err := db.AddPendingMember(ctx, cnsbot.Person{FullName: "Ai Đó", Phone: "0987654321", ZaloUserID: &z}, hung.ID); cnsbot.ErrorCode(err) != cnsbot.ECONFLICT && cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("pending member with a roster phone: got %v, want a refusal", err)
		}
		team := seedTeam(t, db)
		if err := db.AddPendingMember(ctx, cnsbot.Person{FullName: "Ai Đó", Phone: "0987654321", ZaloUserID: &z}, team.ID); cnsbot.ErrorCode(err) != cnsbot.ECONFLICT {
			t.Errorf("pending member with a roster phone: got %v, want ECONFLICT", err)
		}
		if _, _, err := db.PersonByZalo(ctx, z); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("the stranger became someone: %v", err)
		}
	})
}

// seedTeam returns the team of An Xuyên's Ấp 1 of a seeded roster.
func seedTeam(t *testing.T, db *DB) cnsbot.Team {
	t.Helper()
	teams, err := db.TeamsOfHamlet(context.Background(), findHamlet(t, db, "An Xuyên", "Ấp 1").ID)
	if err != nil || len(teams) == 0 {
		t.Fatalf("teams of Ấp 1: %v %v", teams, err)
	}
	return teams[0]
}

func TestLinkRequests(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		team := seedRoster(t, db)
		mai, _, _ := db.PersonByPhone(ctx, "0987654321")  // member of Ấp 1
		phuc, _, _ := db.PersonByPhone(ctx, "0903112233") // member of Ấp 1
		hung, _, _ := db.PersonByPhone(ctx, "0912345678") // leader, linked
		tuan, _, _ := db.PersonByPhone(ctx, "0355678901") // leader of Ấp 2, not linked
		ha, _, _ := db.PersonByPhone(ctx, "0868224466")   // commune officer, not linked
		thoa, _, _ := db.PersonByPhone(ctx, "0706445566") // member of Ấp 2

		// Leaders and officers are never linked on a leader's word.
		for _, p := range []cnsbot.Person{tuan, ha} {
			if err := db.RequestLink(ctx, p.ID, "z-x", "X"); cnsbot.ErrorCode(err) != cnsbot.EINVALID {
				t.Errorf("request for %s: got %v, want EINVALID", p.FullName, err)
			}
		}
		if err := db.RequestLink(ctx, hung.ID, "z-x", "X"); cnsbot.ErrorCode(err) == "" {
			t.Error("request for a linked leader: want a refusal")
		}
		if _, err := db.ApproveLink(ctx, mai.ID, team.ID); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("approving without a request: got %v, want ENOTFOUND", err)
		}
		if err := db.RequestLink(ctx, mai.ID, "z-a", "Trần Thị Mai"); err != nil {
			t.Fatal(err)
		}
		// The same Zalo user asking for someone else drops the first request.
		if err := db.RequestLink(ctx, phuc.ID, "z-a", "Lê Hoàng Phúc"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ApproveLink(ctx, mai.ID, team.ID); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("approving a replaced request: got %v, want ENOTFOUND", err)
		}
		// Another team's leader cannot approve.
		if err := db.RequestLink(ctx, thoa.ID, "z-b", "Thoa"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ApproveLink(ctx, thoa.ID, team.ID); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("approving a member of another team: got %v, want ENOTFOUND", err)
		}
		zalo, err := db.ApproveLink(ctx, phuc.ID, team.ID)
		if err != nil || zalo != "z-a" {
			t.Fatalf("approve: got %q, %v", zalo, err)
		}
		if p, _, err := db.PersonByZalo(ctx, "z-a"); err != nil || p.ID != phuc.ID {
			t.Errorf("after approval: z-a is %+v, %v", p, err)
		}
		if _, err := db.ApproveLink(ctx, phuc.ID, team.ID); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("approving twice: got %v, want ENOTFOUND", err)
		}
		// A linked member is moved only by a code.
		if err := db.RequestLink(ctx, phuc.ID, "z-c", "X"); cnsbot.ErrorCode(err) != cnsbot.ECONFLICT {
			t.Errorf("request for a linked member: got %v, want ECONFLICT", err)
		}
	})
}

func TestPersonCommunes(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		seedRoster(t, db)
		ax, _ := db.FindUnit(ctx, cnsbot.UnitCommune, nil, "An Xuyên")
		for phone, want := range map[string][]int64{
			"0987654321": {ax.ID}, // member of Ấp 1
			"0868224466": {ax.ID}, // officer of An Xuyên
			"0945778899": {0},     // province officer
		} {
			p, _, _ := db.PersonByPhone(ctx, phone)
			got, err := db.PersonCommunes(ctx, p.ID)
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("communes of %s: got %v, %v, want %v", p.FullName, got, err, want)
			}
		}
		if _, err := db.PersonCommunes(ctx, 999999); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
			t.Errorf("nobody: got %v, want ENOTFOUND", err)
		}
	})
}

func TestAttempts(t *testing.T) {
	rdb, prefix := storetest.Redis(t)
	ctx := context.Background()
	a := NewAttempts(rdb, prefix, "enrol-code", 3, time.Hour)
	for i := range 4 {
		ok, err := a.Allow(ctx, "u1")
		if err != nil {
			t.Fatal(err)
		}
		if ok != (i < 3) {
			t.Errorf("attempt %d of u1: allowed %v", i+1, ok)
		}
	}
	if ok, err := a.Allow(ctx, "u2"); err != nil || !ok {
		t.Errorf("another user: allowed %v, %v; want allowed", ok, err)
	}
}
