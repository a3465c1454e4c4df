package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"

	"github.com/camau-cns/cnsbot/store/storetest"
)

// TestAccessMigrationKeepsOldTokensUsable checks that a token issued
// before tokens expired gets the default life from the upgrade on: it
// stays usable, and it will expire.
func TestAccessMigrationKeepsOldTokensUsable(t *testing.T) {
	for _, dialect := range domainDialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			var url, dir string
			if dialect == DialectPostgres {
				url = storetest.PostgresURL(t)
			} else {
				dir = t.TempDir()
			}
			db, err := Open(ctx, url, dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			i := slices.IndexFunc(migrations, func(m *gormigrate.Migration) bool { return m.ID == "2026120705_officer_access" })
			if i < 0 {
				t.Fatal("the access migration is not in the list")
			}
			if err := db.migrate(ctx, migrations[:i]); err != nil {
				t.Fatal(err)
			}
			old := "cno_issued-before-expiry"
			if err := db.orm.Exec(`INSERT INTO officer_tokens (person_id, token_hash, created_at) VALUES (?, ?, ?)`,
				int64(1), TokenHash(old), time.Now().UTC().AddDate(-1, 0, 0)).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			rows, err := db.OfficerTokens(ctx, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 1 || rows[0].State != TokenActive || rows[0].ExpiresAt == nil ||
				time.Until(*rows[0].ExpiresAt) > DefaultOfficerTokenTTL || time.Until(*rows[0].ExpiresAt) < DefaultOfficerTokenTTL-time.Hour {
				t.Errorf("the old token after the upgrade: %+v, want active for %v", rows, DefaultOfficerTokenTTL)
			}
		})
	}
}
