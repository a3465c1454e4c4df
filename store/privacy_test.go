package store_test

import (
	"context"
	"crypto/rand"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/announce"
	"github.com/camau-cns/cnsbot/calendar"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// privacyPlaces creates a commune and a hamlet with a team.
func privacyPlaces(t *testing.T, db *store.DB) (hamlet cnsbot.Unit) {
	t.Helper()
	commune := cnsbot.Unit{Kind: cnsbot.UnitCommune, Name: "Xã Tân Lộc", Folded: "xa tan loc"}
	if err := db.ORM().Create(&commune).Error; err != nil {
		t.Fatal(err)
	}
	hamlet = cnsbot.Unit{Kind: cnsbot.UnitHamlet, Name: "Ấp 1", Folded: "ap 1", ParentID: &commune.ID, Households: 100}
	if err := db.ORM().Create(&hamlet).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.ORM().Create(&cnsbot.Team{HamletID: hamlet.ID, Name: "Tổ Ấp 1", Code: "TL1"}).Error; err != nil {
		t.Fatal(err)
	}
	return hamlet
}

// "xóa thông tin của tôi" clears the person's requests' personal fields,
// attachments, the resident's name on visits, kept messages, handoffs and
// consent; the rows that count stay, other people's data is untouched,
// and the erasure is recorded without the Zalo id.
func TestEraseUser(t *testing.T) {
	ctx := context.Background()
	for name, open := range dialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			hamlet := privacyPlaces(t, db)
			at := time.Date(2027, 1, 5, 3, 0, 0, 0, time.UTC)
			mk := func(user, ev string) cnsbot.HelpRequest {
				r := cnsbot.HelpRequest{ResidentUserID: user, Name: "Nguyễn Thị Lan", Phone: "+84912345678", HamletID: hamlet.ID,
					Topic: "vneid", Problem: "quên mật khẩu, nhà gần chợ", PreferredTime: "sáng", SourceEvent: ev}
				if err := db.CreateHelpRequest(ctx, &r); err != nil {
					t.Fatal(err)
				}
				if err := db.AddHelpAttachment(ctx, &cnsbot.HelpAttachment{RequestID: r.ID, Type: "location", Latitude: 9.1, Longitude: 105.1}); err != nil {
					t.Fatal(err)
				}
				return r
			}
			closed, open, other := mk("lan", "e1"), mk("lan", "e2"), mk("ba", "e3")
			db.ORM().Model(&cnsbot.HelpRequest{}).Where("id = ?", closed.ID).Updates(map[string]any{"status": cnsbot.HelpClosed, "outcome": "đã cài xong"})
			for i, r := range []cnsbot.HelpRequest{closed, other} {
				v := cnsbot.Visit{PersonID: 1, TeamID: 1, HamletID: hamlet.ID, Household: "Nguyễn Thị Lan", HouseholdKey: "nguyen thi lan",
					Note: "nhà gần chợ", HelpCode: r.Code, Latitude: 9.1, VisitedAt: at, SourceEvent: "v" + string(rune('0'+i))}
				if err := db.ORM().Create(&v).Error; err != nil {
					t.Fatal(err)
				}
			}
			// A household only the erased request's visit names: its row
			// (the label the member typed) loses the name too.
			own := cnsbot.Visit{PersonID: 1, TeamID: 1, HamletID: hamlet.ID, Household: "nhà chị Lan bán tạp hóa",
				HouseholdKey: "nha chi lan ban tap hoa", HelpCode: closed.Code, VisitedAt: at, SourceEvent: "v-own"}
			if err := db.ORM().Create(&own).Error; err != nil {
				t.Fatal(err)
			}
			for _, h := range []store.Household{
				{TeamID: 1, Key: own.HouseholdKey, Label: own.Household, FirstGuidedAt: at, LastVisitAt: at, Visits: 1},
				{TeamID: 1, Key: "nguyen thi lan", Label: "Nguyễn Thị Lan", FirstGuidedAt: at, LastVisitAt: at, Visits: 2},
			} {
				if err := db.ORM().Create(&h).Error; err != nil {
					t.Fatal(err)
				}
			}
			for _, to := range []string{"lan", "ba"} {
				m := cnsbot.Outgoing{ID: "m-" + to, To: cnsbot.Recipient{UserID: to}, Kind: cnsbot.MsgText, Text: "Chào Lan", Purpose: "notify"}
				if err := db.Undeliverable(ctx, m, -230, "no interaction"); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.RecordHandoff(ctx, "lan", "asked", "h1"); err != nil {
				t.Fatal(err)
			}
			if err := db.RecordConsent(ctx, "lan", "2026-12", at); err != nil {
				t.Fatal(err)
			}

			if err := db.SaveRecipients(ctx, 1, []announce.Recipient{{Route: "u:lan", Kind: announce.KindResident, Channel: announce.ChannelDirect},
				{Route: "u:ba", Kind: announce.KindResident, Channel: announce.ChannelDirect}}); err != nil {
				t.Fatal(err)
			}

			e, err := db.EraseUser(ctx, "lan", at)
			if err != nil {
				t.Fatal(err)
			}
			if e.Requests != 2 || e.Attachments != 2 || e.Visits != 2 || e.Deliveries != 1 || e.Handoffs != 1 {
				t.Errorf("erasure %+v, want 2 requests, 2 attachments, 2 visits, 1 delivery, 1 handoff", e)
			}
			var reqs []cnsbot.HelpRequest
			db.ORM().Order("id").Find(&reqs)
			if len(reqs) != 3 {
				t.Fatalf("%d requests, want 3: the rows stay for the counts", len(reqs))
			}
			for _, r := range reqs[:2] {
				if r.ResidentUserID != "" || r.Name != "" || r.Phone != "" || r.Problem != "" || r.PreferredTime != "" || r.Outcome != "" {
					t.Errorf("request %s keeps personal fields: %+v", r.Code, r)
				}
				if r.HamletID != hamlet.ID || r.Topic != "vneid" {
					t.Errorf("request %s lost its place or topic", r.Code)
				}
			}
			if reqs[0].Status != cnsbot.HelpClosed || reqs[1].Status != cnsbot.HelpCancelled || reqs[1].CancelledAt == nil {
				t.Errorf("statuses %s, %s: the closed one stays closed, the open one is cancelled", reqs[0].Status, reqs[1].Status)
			}
			if reqs[2].Name == "" || reqs[2].ResidentUserID != "ba" {
				t.Error("another resident's request was erased")
			}
			if _, err := db.OpenHelpRequestFor(ctx, "lan"); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
				t.Errorf("open request for the erased user: %v, want none", err)
			}
			if n := count(t, db, "help_attachments", "request_id IN (?, ?)", closed.ID, open.ID); n != 0 {
				t.Errorf("%d attachments left", n)
			}
			if n := count(t, db, "help_attachments", "request_id = ?", other.ID); n != 1 {
				t.Errorf("other's attachments: %d, want 1", n)
			}
			var visits []cnsbot.Visit
			db.ORM().Order("id").Find(&visits)
			if v := visits[0]; v.Household != closed.Code || v.Note != "" || v.Latitude != 0 || strings.Contains(v.HouseholdKey, "nguyen") {
				t.Errorf("visit of the erased request %+v, want it named by the code only", v)
			}
			if v := visits[1]; v.Household != "Nguyễn Thị Lan" {
				t.Errorf("another resident's visit changed: %+v", v)
			}
			if n := count(t, db, "households", "label LIKE ? OR key LIKE ?", "%bán tạp hóa%", "%tap hoa%"); n != 0 {
				t.Errorf("%d household rows still name the erased resident's household", n)
			}
			if n := count(t, db, "households", "key = ?", "nguyen thi lan"); n != 1 {
				t.Errorf("the household another request's visit names: %d rows, want 1", n)
			}
			if n := count(t, db, "deliveries", "recipient = ?", "u:lan"); n != 0 {
				t.Errorf("%d kept messages for the erased user", n)
			}
			if n := count(t, db, "deliveries", "recipient = ?", "u:ba"); n != 1 {
				t.Errorf("other's kept messages: %d, want 1", n)
			}
			if n := count(t, db, "announcement_recipients", "route = ?", "u:lan"); n != 0 {
				t.Errorf("the erased user is still named on %d announcements", n)
			}
			if n := count(t, db, "announcement_recipients", "route <> ?", "u:lan"); n != 2 {
				t.Errorf("%d announcement recipients left, want 2: the rows stay for the report", n)
			}
			if ok, _ := db.HasConsent(ctx, "lan", "2026-12"); ok {
				t.Error("consent kept after erasure")
			}
			erasures, err := db.Erasures(ctx, 10)
			if err != nil || len(erasures) != 1 || erasures[0].Reason != store.ReasonAsked || !erasures[0].CreatedAt.Equal(at) {
				t.Errorf("erasures %+v, %v; want one, asked, at %v", erasures, err, at)
			}
			// Again: nothing left, and no error.
			if e, err := db.EraseUser(ctx, "lan", at); err != nil || e.Requests != 0 {
				t.Errorf("second erasure %+v, %v", e, err)
			}
		})
	}
}

func TestConsentAndUnfollow(t *testing.T) {
	ctx := context.Background()
	for name, open := range dialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			at := time.Date(2027, 1, 5, 3, 0, 0, 0, time.UTC)
			if err := db.RecordConsent(ctx, "lan", "2026-12", at); err != nil {
				t.Fatal(err)
			}
			if err := db.RecordConsent(ctx, "lan", "2026-12", at.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			c, err := db.ConsentOf(ctx, "lan", "2026-12")
			if err != nil || !c.AgreedAt.Equal(at) {
				t.Errorf("consent %+v, %v; want the first time kept", c, err)
			}
			if ok, _ := db.HasConsent(ctx, "lan", "2027-01"); ok {
				t.Error("consent to another version")
			}
			if err := db.RecordUnfollow(ctx, "lan", at); err != nil {
				t.Fatal(err)
			}
			if ids, err := db.UnfollowedSessions(ctx, 10); err != nil || len(ids) != 1 {
				t.Fatalf("unfollowed %v, %v", ids, err)
			}
			if err := db.MarkSessionsCleared(ctx, []string{"lan"}, at); err != nil {
				t.Fatal(err)
			}
			if ids, _ := db.UnfollowedSessions(ctx, 10); len(ids) != 0 {
				t.Errorf("unfollowed after clearing: %v", ids)
			}
			// Unfollowing again asks for the session to go again; a follow
			// clears the mark.
			if err := db.RecordUnfollow(ctx, "lan", at.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if ids, _ := db.UnfollowedSessions(ctx, 10); len(ids) != 1 {
				t.Errorf("unfollowed again: %v", ids)
			}
			if err := db.ClearUnfollow(ctx, "lan"); err != nil {
				t.Fatal(err)
			}
			if ids, _ := db.UnfollowedSessions(ctx, 10); len(ids) != 0 {
				t.Errorf("after follow: %v", ids)
			}
		})
	}
}

func TestDeleteSession(t *testing.T) {
	ctx := context.Background()
	q, err := store.NewQueue(ctx, storetest.MiniRedis(t), store.QueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"u:a", "u:b"} {
		if err := q.Commit(ctx, cnsbot.Session{Key: u, Data: map[string]string{"name": "Lan"}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.DeleteSession(ctx, "u:a"); err != nil {
		t.Fatal(err)
	}
	a, _ := q.Load(ctx, "u:a")
	b, _ := q.Load(ctx, "u:b")
	if a.Version != 0 || len(a.Data) != 0 || b.Version != 1 {
		t.Errorf("after delete: a %+v, b %+v", a, b)
	}
}

func tokenKey(t *testing.T) []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// rawToken reads the token row as stored.
func rawToken(t *testing.T, db *store.DB) (access, refresh string) {
	t.Helper()
	var row store.OAToken
	if err := db.ORM().Raw("SELECT access, refresh FROM oa_tokens WHERE id = 1").Scan(&row).Error; err != nil {
		t.Fatal(err)
	}
	return row.Access, row.Refresh
}

// reopeners returns, per dialect, a function that opens another handle on
// the same database each time it is called.
func reopeners(t *testing.T) map[string]func(t *testing.T) *store.DB {
	dir := t.TempDir()
	url := storetest.PostgresURL(t)
	return map[string]func(t *testing.T) *store.DB{
		"sqlite":   func(t *testing.T) *store.DB { return openDB(t, "", dir) },
		"postgres": func(t *testing.T) *store.DB { return openDB(t, url, "") },
	}
}

// The OA token pair is stored encrypted with TOKEN_KEY; a pair stored in
// plain text before is encrypted when first read with a key; the wrong
// key, or none, is a clear error and never "nothing stored".
func TestTokenEncryptedAtRest(t *testing.T) {
	ctx := context.Background()
	for name, reopen := range reopeners(t) {
		t.Run(name, func(t *testing.T) {
			exp := time.Date(2027, 1, 5, 3, 0, 0, 0, time.UTC)
			plain := reopen(t)
			want := cnsbot.Token{Access: "ACCESS-plain-abc", Refresh: "REFRESH-plain-xyz", ExpiresAt: exp}
			if err := plain.SaveToken(ctx, want); err != nil {
				t.Fatal(err)
			}
			if a, r := rawToken(t, plain); a != want.Access || r != want.Refresh {
				t.Fatalf("without a key the row holds %q %q, want plain text", a, r)
			}

			key := tokenKey(t)
			sealed := reopen(t)
			if err := sealed.SetTokenKey(key); err != nil {
				t.Fatal(err)
			}
			got, err := sealed.LoadToken(ctx)
			if err != nil || got.Access != want.Access || got.Refresh != want.Refresh || !got.ExpiresAt.Equal(exp) {
				t.Fatalf("plain pair read with a key: %+v, %v", got, err)
			}
			a, r := rawToken(t, sealed)
			if strings.Contains(a+r, "plain") || !strings.HasPrefix(a, "enc1:") || !strings.HasPrefix(r, "enc1:") {
				t.Errorf("after the first read with a key the row holds %q %q, want it encrypted", a, r)
			}
			next := cnsbot.Token{Access: "ACCESS-next", Refresh: "REFRESH-next", ExpiresAt: exp.Add(time.Hour)}
			if err := sealed.SaveToken(ctx, next); err != nil {
				t.Fatal(err)
			}
			if a, r := rawToken(t, sealed); strings.Contains(a+r, "next") {
				t.Errorf("saved pair stored as %q %q, want it encrypted", a, r)
			}
			if got, err := sealed.LoadToken(ctx); err != nil || got.Access != next.Access || got.Refresh != next.Refresh {
				t.Errorf("round trip: %+v, %v", got, err)
			}

			wrong := reopen(t)
			if err := wrong.SetTokenKey(tokenKey(t)); err != nil {
				t.Fatal(err)
			}
			for what, db := range map[string]*store.DB{"wrong key": wrong, "no key": reopen(t)} {
				_, err := db.LoadToken(ctx)
				if !errors.Is(err, store.ErrTokenKey) || cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND || !strings.Contains(err.Error(), "TOKEN_KEY") {
					t.Errorf("%s: %v, want an error naming TOKEN_KEY", what, err)
				}
			}
			// The failed reads changed nothing.
			if got, err := sealed.LoadToken(ctx); err != nil || got.Refresh != next.Refresh {
				t.Errorf("after failed reads: %+v, %v", got, err)
			}
		})
	}
}

func TestParseTokenKey(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", true},
		{"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY", true},
		{"c2hvcnQ=", false},
		{"not base64 at all!", false},
	} {
		if _, err := store.ParseTokenKey(tc.in); (err == nil) != tc.ok {
			t.Errorf("ParseTokenKey(%q) = %v, want ok %v", tc.in, err, tc.ok)
		}
	}
}

// TestErasureKeepsRollups: erasure renames the households of the erased
// requests' visits; the rollups must then say what a rebuild from the
// visits says, in every figure and in the hamlet's area sets. The team
// has one household named by an erased visit only, and one named by an
// erased visit and by another visit that stays (the rename splits it).
func TestErasureKeepsRollups(t *testing.T) {
	ctx := context.Background()
	loc := calendarLoc(t)
	for name, open := range dialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			hamlet := privacyPlaces(t, db)
			team, err := db.TeamByCode(ctx, "TL1")
			if err != nil {
				t.Fatal(err)
			}
			at := time.Date(2027, 1, 5, 3, 0, 0, 0, time.UTC)
			var codes []string
			for _, ev := range []string{"e1", "e2"} {
				r := cnsbot.HelpRequest{ResidentUserID: "lan", Name: "Nguyễn Thị Lan", Phone: "+84912345678", HamletID: hamlet.ID,
					Topic: "vneid", Problem: "quên mật khẩu", SourceEvent: ev}
				if err := db.CreateHelpRequest(ctx, &r); err != nil {
					t.Fatal(err)
				}
				codes = append(codes, r.Code)
			}
			visits := []cnsbot.Visit{
				{Household: "Nguyễn Thị Lan", HelpCode: codes[0], Areas: "vneid", VisitedAt: at},
				{Household: "nhà chị Lan bán tạp hóa", HelpCode: codes[1], Areas: "vneid,dvc", VisitedAt: at.AddDate(0, 0, 1)},
				// The same household as the first, reported without a request.
				{Household: "Nguyễn Thị Lan", Areas: "dvc", VisitedAt: at.AddDate(0, 0, 2)},
				{Household: "ông Bảy", Areas: "vneid", VisitedAt: at.AddDate(0, 0, 3)},
			}
			for i, v := range visits {
				v.PersonID, v.TeamID, v.People, v.Minutes = 1, team.ID, 1, 20
				v.SourceEvent = "v" + string(rune('0'+i))
				if _, err := db.RecordVisit(ctx, &v); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.EraseUser(ctx, "lan", at); err != nil {
				t.Fatal(err)
			}
			figures := func() (map[int64]calendar.Figures, calendar.Figures) {
				t.Helper()
				report, err := db.ReportFigures(ctx, []int64{team.ID}, "2027Q1", loc)
				if err != nil {
					t.Fatal(err)
				}
				all, err := db.CommuneFigures(ctx, 0, "2027Q1", loc)
				if err != nil {
					t.Fatal(err)
				}
				return report, all
			}
			erased, erasedAll := figures()
			rolled, counted, err := db.AreaHouseholdSets(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(counted) == 0 || !slices.Equal(rolled, counted) {
				t.Errorf("after erasure: area households %v, the visits give %v", rolled, counted)
			}
			if err := db.RebuildRollups(ctx); err != nil {
				t.Fatal(err)
			}
			rebuilt, rebuiltAll := figures()
			if !reflect.DeepEqual(erased, rebuilt) || !reflect.DeepEqual(erasedAll, rebuiltAll) {
				t.Errorf("after erasure:\n%+v\n%+v\nrebuilt:\n%+v\n%+v", erased, erasedAll, rebuilt, rebuiltAll)
			}
			if f := rebuilt[team.ID]; f.GuidedInQuarter != 4 || f.GuidedToDate != 4 || f.Visits != 4 {
				t.Errorf("rebuilt: %+v, want 4 visits and 4 households (the erased one and the one still named apart)", f)
			}
		})
	}
}
