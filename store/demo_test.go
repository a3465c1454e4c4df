package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// TestDemoMark: the demo dataset seeded into an empty database marks it as
// a demo database; seeded next to real people or places it does not, and
// the people and places that are not the demo dataset's are counted.
func TestDemoMark(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.FixedZone("ICT", 7*3600))
	for name, open := range dialects(t) {
		t.Run(name+"/empty", func(t *testing.T) {
			db := open(t)
			st, err := db.DemoState(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st != (store.DemoState{}) {
				t.Fatalf("new database: got %+v, want nothing", st)
			}
			if err := db.SeedDemo(ctx, now); err != nil {
				t.Fatal(err)
			}
			if st, err = db.DemoState(ctx); err != nil || !st.Marked || !st.Demo || st.RealPeople != 0 || st.RealUnits != 0 {
				t.Fatalf("after seeding: got %+v, %v; want marked demo, nothing real", st, err)
			}
			// Someone who joins a demo team through the simulator stays on
			// the demo's side.
			var team cnsbot.Team
			if err := db.ORM().Where("demo = ?", true).First(&team).Error; err != nil {
				t.Fatal(err)
			}
			visitor := cnsbot.Person{FullName: "Khách Thử", Phone: "+84912345678", Lang: "vi"}
			if err := db.ORM().Create(&visitor).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.ORM().Create(&cnsbot.Role{PersonID: visitor.ID, Role: cnsbot.RoleMember, UnitID: team.HamletID, TeamID: &team.ID}).Error; err != nil {
				t.Fatal(err)
			}
			if st, err = db.DemoState(ctx); err != nil || st.RealPeople != 0 {
				t.Fatalf("after a visitor joined a demo team: got %+v, %v; want no real people", st, err)
			}
			// A real roster row is real, and stays counted.
			if err := db.ORM().Create(&cnsbot.Person{FullName: "Người Thật", Phone: "+84913000001", Lang: "vi"}).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.ORM().Create(&cnsbot.Unit{Kind: cnsbot.UnitCommune, Name: "Xã Thật", Folded: "xa that"}).Error; err != nil {
				t.Fatal(err)
			}
			if st, err = db.DemoState(ctx); err != nil || st.RealPeople != 1 || st.RealUnits != 1 || !st.Marked {
				t.Fatalf("after a real person and place: got %+v, %v; want 1 and 1, still marked", st, err)
			}
		})
		t.Run(name+"/real first", func(t *testing.T) {
			db := open(t)
			if err := db.ORM().Create(&cnsbot.Unit{Kind: cnsbot.UnitProvince, Name: "Cà Mau Thật", Folded: "ca mau that"}).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.SeedDemo(ctx, now); err != nil {
				t.Fatal(err)
			}
			st, err := db.DemoState(ctx)
			if err != nil || st.Marked || !st.Demo || st.RealUnits != 1 {
				t.Fatalf("demo seeded next to a real place: got %+v, %v; want the dataset, not marked", st, err)
			}
		})
	}
}

// TestDemoMarkOfAnEarlierEmbeddedDemo: an embedded database seeded before
// the mark existed, holding the demo dataset and nothing else, is marked by
// the migration; one that also holds real places is not, nor is Postgres.
func TestDemoMarkOfAnEarlierEmbeddedDemo(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	tests := []struct {
		name string
		url  string
		real bool
		want bool
	}{
		{"embedded demo", "", false, true},
		{"embedded demo with a real place", "", true, false},
		{"postgres demo", storetest.PostgresURL(t), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := store.Open(ctx, tt.url, t.TempDir(), nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			if err := db.MigrateBeforeDemoMark(ctx); err != nil {
				t.Fatal(err)
			}
			if err := db.SeedDemo(ctx, now); err != nil {
				t.Fatal(err)
			}
			if tt.real {
				if err := db.ORM().Create(&cnsbot.Unit{Kind: cnsbot.UnitCommune, Name: "Xã Thật", Folded: "xa that"}).Error; err != nil {
					t.Fatal(err)
				}
			}
			if st, err := db.DemoState(ctx); err != nil || st.Marked {
				t.Fatalf("before the migration: got %+v, %v; want no mark", st, err)
			}
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			st, err := db.DemoState(ctx)
			if err != nil || st.Marked != tt.want || !st.Demo {
				t.Fatalf("after the migration: got %+v, %v; want marked %v", st, err, tt.want)
			}
		})
	}
}
