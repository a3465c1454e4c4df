package store

import (
	"context"
	"testing"
	"time"
)

// TestAccessMigrationKeepsOldTokensUsable checks that a token issued
// before tokens expired gets the default life from the upgrade on: it
// stays usable, and it will expire.
func TestAccessMigrationKeepsOldTokensUsable(t *testing.T) {
	for _, dialect := range domainDialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			db := openMigratedBefore(t, dialect, "2026120705_officer_access")
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
