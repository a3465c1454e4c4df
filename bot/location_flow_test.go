package bot_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/flows/flowstest"
	"github.com/camau-cns/cnsbot/flows/resident"
	"github.com/camau-cns/cnsbot/flows/team"
	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// TestLocationReachesTheTeamFlow feeds Zalo's own shape of a shared
// location (coordinates as strings) through ParseEvent into the engine with
// the team flows: the member who sent it gets the "here" answer, and the
// store keeps the exact point.
func TestLocationReachesTheTeamFlow(t *testing.T) {
	ctx := context.Background()
	body, err := os.ReadFile(filepath.Join("testdata", "events", "user_send_location.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `"latitude":"9.1768"`) {
		t.Fatalf("the example no longer has the coordinates as strings:\n%s", body)
	}
	ev, err := bot.ParseEvent(body)
	if err != nil {
		t.Fatal(err)
	}

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := store.Open(ctx, "", t.TempDir(), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	units := "Tỉnh,Xã/Phường,Ấp/Khóm,Số hộ\nCà Mau,An Xuyên,Ấp 1,612\n"
	roster := "Xã/Phường,Ấp/Khóm,Tổ,Họ và tên,Số điện thoại,Vai trò,Zalo ID\n" +
		"An Xuyên,Ấp 1,,Trần Thị Mai,0987 654 321,Thành viên," + evUser + "\n"
	if rep, err := db.ImportUnits(ctx, strings.NewReader(units), "units.csv"); err != nil {
		t.Fatalf("units: %v %+v", err, rep.Errors)
	}
	if rep, err := db.ImportRoster(ctx, strings.NewReader(roster), "roster.csv"); err != nil {
		t.Fatalf("roster: %v %+v", err, rep.Errors)
	}
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	sessions := flowstest.NewSessions()
	engine := flows.NewEngine(sessions, texts, flows.Options{Log: log, Directory: db})
	deps := team.Deps{Roster: db, Teams: db, Places: db, Visits: db, HelpDesk: db, Texts: texts, Week: db,
		Lookups: &flowstest.Lookups{}, Attempts: store.NewAttempts(storetest.MiniRedis(t), "t:", "enrol-code", 5, 10*time.Minute),
		Households: db, Positions: db, Residents: resident.NewNotices(texts, sessions, log), Log: log}
	if err := team.Register(engine, deps); err != nil {
		t.Fatal(err)
	}
	if err := engine.Handle(ctx, ev); err != nil {
		t.Fatal(err)
	}
	out := flowstest.Texts(sessions.Outbox())
	if !strings.Contains(out, "📍 Đã nhận vị trí của bạn") {
		t.Errorf("reply %q, want the member's location taken as where she stands", out)
	}
	p, _, err := db.PersonByZalo(ctx, evUser)
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := db.SharedPlace(ctx, p.ID, time.Now().Add(-time.Hour))
	if err != nil || !ok || got != (cnsbot.Place{Lat: 9.1768, Lng: 105.1524}) {
		t.Errorf("shared place %v %v %v, want 9.1768,105.1524", got, ok, err)
	}
}
