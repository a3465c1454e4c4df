package reminder_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar/reminder"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// retentionWorld is what the retention pass finds: requests closed and
// cancelled long ago and lately, an old open request, dead events of two
// ages, and sessions of someone who unfollowed and someone who did not.
type retentionWorld struct {
	db                                    *store.DB
	queue                                 *store.Queue
	oldClosed, oldCancelled, recent, open cnsbot.HelpRequest
	oldDead, newDead                      int64
}

// deliveries of the world: refused 40 and 10 days before the seed, and
// one held for the morning since 40 days (a stuck release keeps its text).
var retentionDeliveries = []struct {
	id    string
	age   time.Duration
	state string
}{{"d-old", 40 * 24 * time.Hour, store.StateUndeliverable}, {"d-new", 10 * 24 * time.Hour, store.StateUndeliverable},
	{"d-held", 40 * 24 * time.Hour, store.StateHeld}}

func seedRetention(t *testing.T, db *store.DB, now time.Time) *retentionWorld {
	t.Helper()
	ctx := context.Background()
	w := &retentionWorld{db: db}
	hamlet := seedWorld(t, db).hamlet1
	month := 30 * 24 * time.Hour
	add := func(user string, status string, closed, cancelled *time.Time, created time.Time) cnsbot.HelpRequest {
		r := cnsbot.HelpRequest{ResidentUserID: user, Name: "Nguyễn Thị " + user, Phone: "+84912000000", HamletID: hamlet.ID,
			Topic: "vneid", Problem: "quên mật khẩu", PreferredTime: "sáng", SourceEvent: "ev-" + user, CreatedAt: created}
		if err := db.CreateHelpRequest(ctx, &r); err != nil {
			t.Fatal(err)
		}
		storetest.Exec(t, db, "UPDATE help_requests SET status = $1, closed_at = $2, cancelled_at = $3, updated_at = $4 WHERE id = $5",
			status, closed, cancelled, created, r.ID)
		if err := db.AddHelpAttachment(ctx, &cnsbot.HelpAttachment{RequestID: r.ID, Type: "image", URL: "https://img/" + user}); err != nil {
			t.Fatal(err)
		}
		return r
	}
	ptr := func(t time.Time) *time.Time { return &t }
	w.oldClosed = add("old-closed", cnsbot.HelpClosed, ptr(now.Add(-13*month)), nil, now.Add(-14*month))
	w.oldCancelled = add("old-cancelled", cnsbot.HelpCancelled, nil, ptr(now.Add(-13*month)), now.Add(-13*month))
	w.recent = add("recent", cnsbot.HelpClosed, ptr(now.Add(-11*month)), nil, now.Add(-11*month))
	w.open = add("open", cnsbot.HelpOpen, nil, nil, now.Add(-24*month))
	for i, age := range []time.Duration{40 * 24 * time.Hour, 10 * 24 * time.Hour} {
		if err := db.RecordDeadEvent(ctx, "dead", []byte(`{"user_id":"u-dead","text":"số tôi 0912000000"}`), errors.New("boom")); err != nil {
			t.Fatal(err)
		}
		var id int64
		storetest.Scan(t, db, "SELECT MAX(id) FROM dead_events", nil, &id)
		storetest.Exec(t, db, "UPDATE dead_events SET created_at = $1 WHERE id = $2", now.Add(-age).UTC(), id)
		if i == 0 {
			w.oldDead = id
		} else {
			w.newDead = id
		}
	}
	for _, d := range retentionDeliveries {
		m := cnsbot.Outgoing{ID: d.id, To: cnsbot.Recipient{UserID: "z-bay"}, Kind: cnsbot.MsgText, Text: "Yêu cầu mới của Lan, Ấp 1", Purpose: "notify"}
		var err error
		if d.state == store.StateHeld {
			err = db.Held(ctx, m, now, "quiet_hours")
		} else {
			err = db.Undeliverable(ctx, m, -230, "no interaction")
		}
		if err != nil {
			t.Fatal(err)
		}
		storetest.Exec(t, db, "UPDATE deliveries SET created_at = $1 WHERE message_id = $2", now.Add(-d.age).UTC(), d.id)
	}
	q, err := store.NewQueue(ctx, storetest.MiniRedis(t), store.QueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w.queue = q
	for _, u := range []string{"gone", "stay"} {
		if err := q.Commit(ctx, cnsbot.Session{Key: "u:" + u, Data: map[string]string{"name": "Lan"}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.RecordUnfollow(ctx, "gone", now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *retentionWorld) request(t *testing.T, seeded cnsbot.HelpRequest) cnsbot.HelpRequest {
	t.Helper()
	r, err := w.db.HelpRequestByCode(context.Background(), seeded.Code)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (w *retentionWorld) cleared(t *testing.T, seeded cnsbot.HelpRequest) bool {
	r := w.request(t, seeded)
	var n int64
	storetest.Scan(t, w.db, "SELECT COUNT(*) FROM help_attachments WHERE request_id = $1", []any{r.ID}, &n)
	return r.Name == "" && r.Phone == "" && r.ResidentUserID == "" && r.Problem == "" && r.PreferredTime == "" && n == 0
}

func (w *retentionWorld) deadPayload(t *testing.T, id int64) string {
	return w.payload(t, "SELECT payload FROM dead_events WHERE id = $1", id)
}

// payload reads a payload column, which a retention pass may have emptied
// or set to NULL.
func (w *retentionWorld) payload(t *testing.T, query string, args ...any) string {
	t.Helper()
	var p sql.NullString
	storetest.Scan(t, w.db, query, args, &p)
	return p.String
}

func (w *retentionWorld) hasSession(t *testing.T, user string) bool {
	s, err := w.queue.Load(context.Background(), "u:"+user)
	if err != nil {
		t.Fatal(err)
	}
	return s.Version > 0
}

// check reports what the pass should have done and nothing else: later
// says whether the clock moved two months past the seed, which makes the
// request closed 11 months before and the dead event of 10 days due.
func (w *retentionWorld) check(t *testing.T, later bool) {
	t.Helper()
	if !w.cleared(t, w.oldClosed) || !w.cleared(t, w.oldCancelled) {
		t.Error("requests closed or cancelled 13 months ago keep personal fields")
	}
	if got := w.cleared(t, w.recent); got != later {
		t.Errorf("request closed 11 months before the seed cleared = %v, want %v", got, later)
	}
	if w.cleared(t, w.open) {
		t.Error("an open request lost its personal fields")
	}
	if r := w.request(t, w.oldClosed); r.Status != cnsbot.HelpClosed || r.HamletID == 0 || r.Topic != "vneid" {
		t.Errorf("cleared request %+v: status, place and topic must stay for the counts", r)
	}
	if p := w.deadPayload(t, w.oldDead); p != "" {
		t.Errorf("dead event of 40 days keeps its payload %q", p)
	}
	if p := w.deadPayload(t, w.newDead); (p == "") != later {
		t.Errorf("dead event of 10 days before the seed has payload %q; want it cleared only later", p)
	}
	for _, d := range retentionDeliveries {
		p := w.payload(t, "SELECT payload FROM deliveries WHERE message_id = $1", d.id)
		want := d.state != store.StateHeld && (d.age > 30*24*time.Hour || later)
		if (p == "") != want {
			t.Errorf("delivery %s has payload %q; want it cleared: %v", d.id, p, want)
		}
	}
	if w.hasSession(t, "gone") || !w.hasSession(t, "stay") {
		t.Errorf("sessions: gone %v stay %v, want only the unfollowed one deleted", w.hasSession(t, "gone"), w.hasSession(t, "stay"))
	}
}

// The pass itself, on both databases, with the clock moved past the next
// request's due time: it clears what is due and nothing else, and records
// each erasure without any personal data.
func TestRetentionPass(t *testing.T) {
	for name, open := range dialects() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			now := time.Date(2027, 3, 1, 2, 0, 0, 0, time.UTC)
			w := seedRetention(t, open(t), now)
			r := &reminder.Retention{Store: w.db, Sessions: w.queue}
			rep, err := r.Pass(ctx, now)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Requests != 2 || rep.DeadEvents != 1 || rep.Deliveries != 1 || rep.Sessions != 1 {
				t.Errorf("report %+v, want 2 requests, 1 dead event, 1 delivery, 1 session", rep)
			}
			w.check(t, false)
			if rep, err := r.Pass(ctx, now); err != nil || rep != (reminder.RetentionReport{}) {
				t.Errorf("second pass: %+v, %v; want nothing left to do", rep, err)
			}
			rep, err = r.Pass(ctx, now.Add(62*24*time.Hour))
			if err != nil || rep.Requests != 1 || rep.DeadEvents != 1 || rep.Deliveries != 1 {
				t.Errorf("two months later: %+v, %v; want the 11-month request, the 10-day dead event and delivery", rep, err)
			}
			w.check(t, true)
			erasures, err := w.db.Erasures(ctx, 10)
			if err != nil || len(erasures) != 7 {
				t.Fatalf("erasures %+v, %v; want 7 (four at the seed's time, three later)", erasures, err)
			}
		})
	}
}

// On River, on SQLite and Postgres, the retention pass runs periodically
// beside the reminders and acts at the River clock's time.
func TestRetentionOnRiver(t *testing.T) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			now := time.Date(2027, 3, 1, 2, 0, 0, 0, time.UTC)
			var db *store.DB
			url := ""
			if name == "sqlite" {
				db = openStore(t, "", t.TempDir())
			} else {
				url = storetest.PostgresURL(t)
				db = openStore(t, url, "")
			}
			w := seedRetention(t, db, now)
			var clock fakeClock
			clock.set(now)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			opts := reminder.RiverOptions{Interval: time.Hour, Now: clock.nowFunc(), PollInterval: 50 * time.Millisecond, Log: testLog(t),
				Retention: &reminder.Retention{Store: db, Sessions: w.queue, Interval: time.Second}}
			rem := reminder.New(db, &fakePusher{}, nil, reminder.Options{Location: vietnam(t)})
			go func() {
				if name == "sqlite" {
					sqlDB, err := db.SQL()
					if err != nil {
						done <- err
						return
					}
					done <- reminder.RunRiverSQLite(ctx, sqlDB, rem, opts)
					return
				}
				pool, err := pgxpool.New(ctx, url)
				if err != nil {
					done <- err
					return
				}
				defer pool.Close()
				done <- reminder.RunRiver(ctx, pool, rem, opts)
			}()
			defer func() {
				cancel()
				if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
					t.Errorf("river: %v", err)
				}
			}()
			waitFor(t, func() bool { return w.cleared(t, w.oldClosed) && !w.hasSession(t, "gone") })
			time.Sleep(1500 * time.Millisecond) // another pass at the same time changes nothing
			w.check(t, false)
			clock.set(now.Add(62 * 24 * time.Hour))
			waitFor(t, func() bool {
				p := w.payload(t, "SELECT payload FROM deliveries WHERE message_id = 'd-new'")
				return w.cleared(t, w.recent) && p == ""
			})
			w.check(t, true)
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("retention pass did not run within 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// RETENTION_REQUESTS shorter than the default clears a request sooner.
func TestRetentionConfigurable(t *testing.T) {
	now := time.Date(2027, 3, 1, 2, 0, 0, 0, time.UTC)
	w := seedRetention(t, openStore(t, "", t.TempDir()), now)
	r := &reminder.Retention{Store: w.db, Sessions: w.queue, Requests: 300 * 24 * time.Hour, DeadEvents: 5 * 24 * time.Hour}
	rep, err := r.Pass(context.Background(), now)
	if err != nil || rep.Requests != 3 || rep.DeadEvents != 2 {
		t.Errorf("report %+v, %v; want 3 requests and 2 dead events", rep, err)
	}
	if !w.cleared(t, w.recent) || w.cleared(t, w.open) {
		t.Error("with 300 days, the request closed 11 months ago is due and the open one is not")
	}
}
