package announce_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/announce"
	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/bot/zalotest"
	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

type fixedToken string

func (f fixedToken) Token(context.Context) (string, error)           { return string(f), nil }
func (f fixedToken) Refresh(context.Context, string) (string, error) { return string(f), nil }

// dbs opens a migrated database of each dialect; reopen opens the same
// database again, as a second replica or a restart would.
func dbs(t *testing.T) map[string]func(t *testing.T) (db *store.DB, reopen func() *store.DB) {
	open := func(t *testing.T, url, dir string) *store.DB {
		t.Helper()
		db, err := store.Open(context.Background(), url, dir, nil)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() { _ = db.Close() })
		if err := db.Migrate(context.Background()); err != nil {
			t.Fatalf("migrate: %v", err)
		}
		return db
	}
	return map[string]func(t *testing.T) (*store.DB, func() *store.DB){
		"sqlite": func(t *testing.T) (*store.DB, func() *store.DB) {
			dir := t.TempDir()
			return open(t, "", dir), func() *store.DB { return open(t, "", dir) }
		},
		"postgres": func(t *testing.T) (*store.DB, func() *store.DB) {
			url := storetest.PostgresURL(t)
			return open(t, url, ""), func() *store.DB { return open(t, url, "") }
		},
	}
}

// world is a commune with two hamlets: A has a household group and a team
// with a group, B a team without one.
type world struct {
	commune, hamletA, hamletB, other cnsbot.Unit
	teamA, teamB                     cnsbot.Team
}

func buildWorld(t *testing.T, ctx context.Context, db *store.DB) world {
	t.Helper()
	var w world
	w.commune = cnsbot.Unit{Kind: cnsbot.UnitCommune, Name: "Xã Tân Thành", Folded: "xa tan thanh"}
	must(t, store.Insert(ctx, db, &w.commune))
	w.hamletA = cnsbot.Unit{Kind: cnsbot.UnitHamlet, Name: "Ấp 1", Folded: "ap 1", ParentID: &w.commune.ID, Households: 100}
	w.hamletB = cnsbot.Unit{Kind: cnsbot.UnitHamlet, Name: "Ấp 2", Folded: "ap 2", ParentID: &w.commune.ID, Households: 100}
	must(t, store.Insert(ctx, db, &w.hamletA, &w.hamletB))
	otherCommune := cnsbot.Unit{Kind: cnsbot.UnitCommune, Name: "Xã Khác", Folded: "xa khac"}
	must(t, store.Insert(ctx, db, &otherCommune))
	w.other = cnsbot.Unit{Kind: cnsbot.UnitHamlet, Name: "Ấp Khác", Folded: "ap khac", ParentID: &otherCommune.ID}
	must(t, store.Insert(ctx, db, &w.other))
	w.teamA = cnsbot.Team{HamletID: w.hamletA.ID, Name: "Tổ Ấp 1", Code: "TA1", GroupID: "g-team-a"}
	w.teamB = cnsbot.Team{HamletID: w.hamletB.ID, Name: "Tổ Ấp 2", Code: "TB2"}
	must(t, store.Insert(ctx, db, &w.teamA, &w.teamB))
	must(t, db.LinkHamletGroup(ctx, w.hamletA.ID, "g-house-a", 0))
	member := func(name, phone, zalo string, team cnsbot.Team, role string) {
		p := cnsbot.Person{FullName: name, Phone: phone}
		if zalo != "" {
			p.ZaloUserID = &zalo
		}
		must(t, store.Insert(ctx, db, &p))
		must(t, store.Insert(ctx, db, &cnsbot.Role{PersonID: p.ID, Role: role, UnitID: team.HamletID, TeamID: &team.ID, Approved: true}))
	}
	member("Lê Văn Hùng", "+84912000001", "m-in", w.teamA, cnsbot.RoleMember)
	member("Phạm Thị Mai", "+84912000002", "", w.teamB, cnsbot.RoleLeader)
	member("Trần Văn Bé", "+84912000003", "m-refused", w.teamB, cnsbot.RoleMember)
	resident := func(user string, hamlet cnsbot.Unit, n int) {
		h := cnsbot.HelpRequest{Code: fmt.Sprintf("HT%06d", n), ResidentUserID: user, CommuneID: *hamlet.ParentID,
			HamletID: hamlet.ID, Status: cnsbot.HelpClosed, SourceEvent: fmt.Sprintf("ev-%d", n)}
		must(t, store.Insert(ctx, db, &h))
	}
	resident("r-in", w.hamletA, 1)      // wrote yesterday: a consultation message
	resident("r-grouped", w.hamletA, 2) // silent for weeks, hamlet A has a household group
	resident("r-later", w.hamletB, 3)   // silent, hamlet B has none: a kept copy
	resident("r-stopped", w.hamletA, 4) // said "dừng nhận tin"
	resident("r-elsewhere", w.other, 5) // another commune
	return w
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// seen writes a chat session for user as their messages would, last
// written at.
func seen(t *testing.T, q *store.Queue, user string, at time.Time) {
	t.Helper()
	must(t, q.Commit(context.Background(), cnsbot.Session{Key: "u:" + user, UpdatedAt: at}, nil))
}

// TestAnnouncementToACommune sends an announcement to one commune through
// the real queue, limiter and sender against the fake Zalo, on both
// databases and the machine's Redis: a resident inside the window gets a
// consultation message with the opt-out button, the hamlet's household
// group gets the post, a resident outside the window with no group gets a
// kept copy when they next write, nobody who said "dừng nhận tin" gets
// anything, and the report says each.
func TestAnnouncementToACommune(t *testing.T) {
	for name, open := range dbs(t) {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			db, reopen := open(t)
			w := buildWorld(t, ctx, db)
			rdb, prefix := storetest.Redis(t)
			q, err := store.NewQueue(ctx, rdb, store.QueueOptions{Prefix: prefix, Partitions: 4})
			must(t, err)
			kept := store.NewKeptCopies(db, rdb, prefix)
			texts, err := locales.New()
			must(t, err)
			now := time.Now()
			seen(t, q, "r-in", now.Add(-24*time.Hour))
			seen(t, q, "m-in", now.Add(-time.Hour))
			seen(t, q, "m-refused", now.Add(-time.Hour))
			seen(t, q, "r-stopped", now.Add(-time.Hour))
			must(t, db.SetOptOut(ctx, "r-stopped", true))

			svc := announce.New(db, q, q, kept, texts, announce.Options{})
			a := announce.Announcement{CreatedBy: "admin", CommuneID: &w.commune.ID, Text: "Đổi căn cước miễn phí tại UBND xã thứ Bảy này.",
				LinkURL: "https://camau.gov.vn/cccd", SendAt: now,
				Audience: strings.Join([]string{announce.AudienceResidents, announce.AudienceMembers, announce.AudienceLeaders, announce.AudienceGroups}, ",")}
			plan, err := svc.Plan(ctx, a, now)
			must(t, err)
			want := map[string]int{announce.ChannelDirect: 3, announce.ChannelGroup: 1, announce.ChannelLater: 1, announce.ChannelNone: 2}
			if fmt.Sprint(plan.Counts) != fmt.Sprint(want) || plan.Groups != 2 {
				t.Fatalf("preview: %v and %d groups; want %v and 2 groups", plan.Counts, plan.Groups, want)
			}
			if plan.Reasons[announce.ChannelNone][announce.ReasonOptedOut] != 1 || plan.Reasons[announce.ChannelNone][announce.ReasonNoZalo] != 1 {
				t.Errorf("reasons for not reached: %v", plan.Reasons[announce.ChannelNone])
			}
			must(t, db.CreateAnnouncement(ctx, &a))
			n, err := svc.Dispatch(ctx, now)
			if err != nil || n != 1 {
				t.Fatalf("dispatch: %d, %v; want 1 announcement sent", n, err)
			}
			if n, err := svc.Dispatch(ctx, now.Add(time.Hour)); err != nil || n != 0 {
				t.Fatalf("second dispatch: %d, %v; want nothing left to send", n, err)
			}
			// Announcements wait on the bulk streams, not the pushes'.
			var bulk, push int64
			for p := range 4 {
				bulk += rdb.XLen(ctx, fmt.Sprintf("%s{p%d}:bulk", prefix, p)).Val()
				push += rdb.XLen(ctx, fmt.Sprintf("%s{p%d}:push", prefix, p)).Val()
			}
			if bulk != 5 || push != 0 {
				t.Errorf("queued: %d on the bulk lane, %d on the push lane; want 5 and 0", bulk, push)
			}

			z := zalotest.Start(t)
			z.SetFault(zalotest.FailUsers(-213, "m-refused"))
			access, _, _ := z.Tokens()
			lim := store.NewLimiter(rdb, prefix, 50)
			sender := bot.NewSender(bot.NewClient(z.URL(), fixedToken(access), nil, nil), lim, kept,
				bot.SenderConfig{NoQuiet: true, OptedOut: db.IsOptedOut}, nil, nil)
			run, stop := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() {
				done <- q.Run(run, func(context.Context, []byte) error { return nil }, sender.Deliver)
			}()
			deadline := time.Now().Add(20 * time.Second)
			for {
				outs, err := db.AnnouncementOutcomes(ctx, a.ID)
				must(t, err)
				pending := 0
				for _, o := range outs {
					if st, _ := o.Status(); st == announce.StatusPending || (strings.HasPrefix(o.Route, "g:") && o.State == "") {
						pending++
					}
				}
				if pending == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("still %d pending: %+v", pending, outs)
				}
				time.Sleep(100 * time.Millisecond)
			}
			stop()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}

			got := z.MessagesTo("r-in")
			if len(got) != 1 || got[0].Kind != zalotest.KindList || !strings.Contains(got[0].Text, "căn cước") {
				t.Fatalf("r-in received %+v, want the announcement as a list", got)
			}
			var stopButton, linkButton bool
			for _, b := range got[0].Buttons {
				stopButton = stopButton || b.Payload == announce.PayloadStop
				linkButton = linkButton || b.URL == a.LinkURL
			}
			if !stopButton || !linkButton {
				t.Errorf("buttons %+v: want the link and %q", got[0].Buttons, announce.PayloadStop)
			}
			for _, g := range []string{"g-house-a", "g-team-a"} {
				if got := z.MessagesTo(g); len(got) != 1 || !strings.Contains(got[0].Text, a.LinkURL) {
					t.Errorf("group %s received %+v, want one post with the link written out", g, got)
				}
			}
			for _, u := range []string{"r-grouped", "r-later", "r-stopped", "r-elsewhere"} {
				if got := z.MessagesTo(u); len(got) != 0 {
					t.Errorf("%s received %d messages, want none", u, len(got))
				}
			}

			// r-later writes: the kept copy is theirs.
			copies, err := kept.PendingCopies(ctx, "r-later", 3)
			if err != nil || len(copies) != 1 || copies[0].ID != announce.MessageID(a.ID, "u:r-later") {
				t.Fatalf("r-later's copies: %+v, %v; want the announcement", copies, err)
			}
			report := func() map[string]int {
				outs, err := db.AnnouncementOutcomes(ctx, a.ID)
				must(t, err)
				lines := announce.Report(outs)
				return lines[len(lines)-1].Counts
			}
			wantReport := map[string]int{announce.StatusDelivered: 2, announce.StatusViaGroup: 1, announce.StatusKept: 1,
				announce.StatusRefused: 1, announce.StatusOptedOut: 1, announce.StatusUnreachable: 1, announce.StatusPending: 0}
			if got := report(); fmt.Sprint(got) != fmt.Sprint(wantReport) {
				t.Errorf("report %v, want %v", got, wantReport)
			}
			must(t, kept.MarkCopyQueued(ctx, copies[0].ID))
			wantReport[announce.StatusKept], wantReport[announce.StatusDelivered] = 0, 3
			if got := report(); fmt.Sprint(got) != fmt.Sprint(wantReport) {
				t.Errorf("report after r-later wrote: %v, want %v", got, wantReport)
			}
			outs, err := db.AnnouncementOutcomes(ctx, a.ID)
			must(t, err)
			lines := announce.Report(outs)
			if tot := lines[len(lines)-1]; tot.GroupsPosted != 2 || tot.Refusals["-213 not_follower"] != 1 {
				t.Errorf("total line %+v: want 2 groups posted and one -213 refusal", tot)
			}

			// A copy kept after Zalo refused the window is dropped too when
			// its person stops.
			refused := svc.Message(a, announce.Recipient{Route: "u:r-refused"})
			must(t, kept.Undeliverable(ctx, refused, -230, "outside_window"))
			if got, err := kept.PendingCopies(ctx, "r-refused", 3); err != nil || len(got) != 1 {
				t.Fatalf("copy of a refused announcement: %v, %v", got, err)
			}
			must(t, db.SetOptOut(ctx, "r-refused", true))
			if got, err := kept.PendingCopies(ctx, "r-refused", 3); err != nil || len(got) != 0 {
				t.Errorf("after stopping, copies %v, %v; want none", got, err)
			}

			// "dừng nhận tin" said on one replica holds on another and after
			// a restart: the second database handle plans r-in out, and a
			// message already queued for r-in is not sent.
			must(t, db.SetOptOut(ctx, "r-in", true))
			other := reopen()
			again, err := svc.Plan(ctx, a, now)
			must(t, err)
			svc2 := announce.New(other, q, q, kept, texts, announce.Options{})
			again2, err := svc2.Plan(ctx, a, now)
			must(t, err)
			for _, p := range []announce.Plan{again, again2} {
				if p.Reasons[announce.ChannelNone][announce.ReasonOptedOut] != 2 {
					t.Errorf("after r-in stopped: %v, want 2 opted out", p.Reasons)
				}
			}
			sender2 := bot.NewSender(bot.NewClient(z.URL(), fixedToken(access), nil, nil), nil, kept,
				bot.SenderConfig{NoQuiet: true, OptedOut: other.IsOptedOut}, nil, nil)
			m := svc2.Message(a, announce.Recipient{Route: "u:r-in"})
			m.ID += ":again"
			must(t, sender2.Deliver(ctx, m))
			if got := z.MessagesTo("r-in"); len(got) != 1 {
				t.Errorf("r-in received %d messages after stopping, want still 1", len(got))
			}
			d, err := other.FindDelivery(ctx, m.ID)
			if err != nil || d.State != store.StateUndeliverable || d.Reason != "opted_out" {
				t.Errorf("delivery of the message after stopping: %+v, %v; want undeliverable, opted_out", d, err)
			}
			if ok, err := other.IsOptedOut(ctx, "r-in"); !ok || err != nil {
				t.Errorf("reopened database: opted out %v, %v", ok, err)
			}
			must(t, other.SetOptOut(ctx, "r-in", false))
			if ok, _ := db.IsOptedOut(ctx, "r-in"); ok {
				t.Error("\"nhận tin\" on one replica is not seen by the other")
			}
		})
	}
}
