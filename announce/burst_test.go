package announce_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/announce"
	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/bot/zalotest"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// TestTenThousandRecipients sends an announcement to a commune of 10,000
// residents who all wrote this week, through the real path (the plan from
// PostgreSQL and the Redis sessions, the bulk lane, the shared limiter at
// the default SEND_RATE of 50, the sender and the fake Zalo), and while it
// drains lets 10 new residents write, one a second, and a notice to a team
// go out. Each resident's first answer must reach Zalo within 1 s of their
// message entering the inbox, and the notice (a push) within 1 s too: an
// announcement of any size waits behind both.
//
//	go test -count=1 -run TestTenThousandRecipients -v ./announce/
func TestTenThousandRecipients(t *testing.T) {
	if testing.Short() {
		t.Skip("a 30-second measurement")
	}
	const (
		recipients = 10000
		residents  = 10
		sendRate   = 50 // SEND_RATE's default
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := store.Open(ctx, storetest.PostgresURL(t), "", nil)
	must(t, err)
	t.Cleanup(func() { db.Close() })
	must(t, db.Migrate(ctx))
	commune := cnsbot.Unit{Kind: cnsbot.UnitCommune, Name: "Xã Tân Thành", Folded: "xa tan thanh"}
	must(t, store.Insert(ctx, db, &commune))
	hamlet := cnsbot.Unit{Kind: cnsbot.UnitHamlet, Name: "Ấp 1", Folded: "ap 1", ParentID: &commune.ID}
	must(t, store.Insert(ctx, db, &hamlet))
	reqs := make([]*cnsbot.HelpRequest, recipients)
	for i := range reqs {
		reqs[i] = &cnsbot.HelpRequest{Code: fmt.Sprintf("HT%07d", i), ResidentUserID: "a" + strconv.Itoa(i), CommuneID: commune.ID,
			HamletID: hamlet.ID, Status: cnsbot.HelpClosed, SourceEvent: "ev" + strconv.Itoa(i)}
	}
	must(t, store.Insert(ctx, db, reqs...))

	rdb, prefix := storetest.Redis(t)
	q, err := store.NewQueue(ctx, rdb, store.QueueOptions{Prefix: prefix, Partitions: 16})
	must(t, err)
	// The session each of them left this week, written as their messages
	// would write it.
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < recipients; i += 16 {
				s := cnsbot.Session{Key: "u:a" + strconv.Itoa(i), UpdatedAt: time.Now().Add(-48 * time.Hour)}
				if err := q.Commit(ctx, s, nil); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	kept := store.NewKeptCopies(db, rdb, prefix)
	texts, err := locales.New()
	must(t, err)

	z := zalotest.Start(t)
	access, _, _ := z.Tokens()
	vietnam := time.FixedZone("ICT", 7*3600)
	morning := time.Date(2026, 12, 8, 8, 30, 0, 0, vietnam)
	sender := bot.NewSender(bot.NewClient(z.URL(), fixedToken(access), bot.NewHTTPClient(10*time.Second), nil),
		store.NewLimiter(rdb, prefix, sendRate), kept,
		bot.SenderConfig{Location: vietnam, Now: func() time.Time { return morning }, OptedOut: db.IsOptedOut}, nil, nil)
	engine := flows.NewEngine(q, texts, flows.Options{})

	svc := announce.New(db, q, q, kept, texts, announce.Options{})
	a := announce.Announcement{CreatedBy: "admin", CommuneID: &commune.ID, Audience: announce.AudienceResidents,
		Text: "Thứ Bảy này tổ công nghệ số đến từng nhà giúp cài VNeID.", SendAt: time.Now()}
	must(t, db.CreateAnnouncement(ctx, &a))
	planStart := time.Now()
	if n, err := svc.Dispatch(ctx, time.Now()); err != nil || n != 1 {
		t.Fatalf("dispatch: %d, %v", n, err)
	}
	planned := time.Since(planStart)

	run, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- q.Run(run, engine.HandleEvent, sender.Deliver) }()
	defer func() { stop(); <-done }()

	// Let the bulk lane reach its full rate, then write.
	time.Sleep(2 * time.Second)
	sentAt := make([]time.Time, residents)
	var noticeAt time.Time
	for i := range residents {
		if i > 0 {
			time.Sleep(time.Second)
		}
		user := "new" + strconv.Itoa(i)
		ev := cnsbot.Event{Name: "user_send_text", Kind: cnsbot.KindText, Key: "ev/" + user, Route: "u:" + user, UserID: user,
			Text: "cai vneid ko dc", Time: time.Now()}
		b, _ := json.Marshal(ev)
		sentAt[i] = time.Now()
		if _, err := q.Enqueue(ctx, ev.Key, ev.Route, b); err != nil {
			t.Fatal(err)
		}
		if i == residents/2 {
			noticeAt = time.Now()
			must(t, q.Push(ctx, cnsbot.Outgoing{ID: "notice/1", To: cnsbot.Recipient{UserID: "leader"}, Kind: cnsbot.MsgText,
				Text: "Có yêu cầu hỗ trợ mới ở Ấp 1.", Purpose: "notify"}))
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	var lat []time.Duration
	for {
		lat = lat[:0]
		for i, at := range sentAt {
			if got := z.MessagesTo("new" + strconv.Itoa(i)); len(got) > 0 {
				lat = append(lat, got[0].Time.Sub(at))
			}
		}
		if (len(lat) == residents && len(z.MessagesTo("leader")) > 0) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	announced := 0
	for _, m := range z.Messages() {
		if strings.HasPrefix(m.UserID, "a") {
			announced++
		}
	}
	elapsed := time.Since(planStart) - planned
	if len(lat) < residents {
		t.Fatalf("%d of %d new residents answered", len(lat), residents)
	}
	slices.Sort(lat)
	notice := z.MessagesTo("leader")
	if len(notice) == 0 {
		t.Fatal("the notice to the leader was not sent")
	}
	noticeLat := notice[0].Time.Sub(noticeAt)
	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("10,000 recipients at SEND_RATE %d: planned and queued in %v; new residents' first answers p50 %v, max %v (of %d); "+
		"a notice to a team %v; %d announcements sent meanwhile (%.1f/s); load %s",
		sendRate, planned.Round(time.Millisecond), lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond),
		residents, noticeLat.Round(time.Millisecond), announced, float64(announced)/elapsed.Seconds(), strings.TrimSpace(string(load)))
	if lat[len(lat)-1] > time.Second {
		t.Errorf("a new resident waited %v for their answer during the announcement, want at most 1 s", lat[len(lat)-1])
	}
	if noticeLat > time.Second {
		t.Errorf("a notice waited %v behind the announcement, want at most 1 s", noticeLat)
	}
	if announced < sendRate*5 {
		t.Errorf("only %d announcements went out meanwhile: the bulk lane should use the permits replies leave", announced)
	}
}
