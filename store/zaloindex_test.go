package store

import (
	"context"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/store/storetest"
)

// TestRosterIndex runs the index of linked Zalo ids against a second
// process writing the same database: its links show within the poll, this
// process's own links at once, and nothing is answered from the index
// before it is loaded.
func TestRosterIndex(t *testing.T) {
	for _, dialect := range domainDialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			var url, dir string
			if dialect == DialectPostgres {
				url = storetest.PostgresURL(t)
			} else {
				dir = t.TempDir()
			}
			open := func() *DB {
				db, err := Open(ctx, url, dir, nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = db.Close() })
				return db
			}
			here, other := open(), open()
			if err := here.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			person := func(db *DB, phone, zalo string) cnsbot.Person {
				p := cnsbot.Person{FullName: "Người " + phone, Phone: phone}
				if zalo != "" {
					p.ZaloUserID = &zalo
				}
				if err := db.orm.WithContext(ctx).Create(&p).Error; err != nil {
					t.Fatal(err)
				}
				return p
			}
			found := func(zalo string) bool {
				t.Helper()
				_, _, err := here.PersonByZalo(ctx, zalo)
				if err != nil && cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
					t.Fatalf("PersonByZalo(%s): %v", zalo, err)
				}
				return err == nil
			}
			eventually := func(what string, cond func() bool) {
				t.Helper()
				for deadline := time.Now().Add(5 * time.Second); !cond(); {
					if time.Now().After(deadline) {
						t.Fatalf("%s: not within 5s", what)
					}
					time.Sleep(5 * time.Millisecond)
				}
			}

			person(other, "+84900000001", "z-a")
			// Not loaded yet: the database answers.
			if here.zalo.unlinked("z-a") || !found("z-a") {
				t.Fatal("before the index is loaded, a linked person must be found in the database")
			}

			watch, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { here.WatchRoster(watch, 10*time.Millisecond); close(done) }()
			eventually("index loaded", func() bool { return here.zalo.unlinked("z-nobody") })
			if !found("z-a") {
				t.Fatal("linked person not found through the index")
			}

			// Another process links someone: seen within the poll.
			b := person(other, "+84900000002", "")
			if found("z-b") {
				t.Fatal("z-b found before it was linked")
			}
			if err := other.LinkZalo(ctx, b.ID, "z-b"); err != nil {
				t.Fatal(err)
			}
			eventually("link by another process", func() bool { return found("z-b") })

			// Another process unlinks (GORM bumps updated_at): seen as well.
			if err := other.orm.WithContext(ctx).Model(&cnsbot.Person{}).Where("id = ?", b.ID).
				Update("zalo_user_id", nil).Error; err != nil {
				t.Fatal(err)
			}
			eventually("unlink by another process", func() bool { return here.zalo.unlinked("z-b") })

			// This process's own link shows at once, with nobody polling.
			stop()
			<-done
			c := person(here, "+84900000003", "")
			if err := here.LinkZalo(ctx, c.ID, "z-c"); err != nil {
				t.Fatal(err)
			}
			if !found("z-c") {
				t.Fatal("own link not found at once")
			}
		})
	}
}
