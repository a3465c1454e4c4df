package store_test

import (
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot/store/storetest"
)

// Sessions re-plan each statement unless DATABASE_URL says otherwise: a
// generic plan of a long IN list is what stalled the dashboard (issue 19).
func TestPostgresCustomPlans(t *testing.T) {
	base := storetest.PostgresURL(t)
	for _, tc := range []struct{ suffix, want string }{
		{"", "force_custom_plan"},
		{"plan_cache_mode=auto", "auto"},
	} {
		url := base
		if tc.suffix != "" {
			url += sep(url) + tc.suffix
		}
		db := openDB(t, url, "")
		var got string
		if err := db.ORM().Raw("SHOW plan_cache_mode").Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("URL with %q: plan_cache_mode %q, want %q", tc.suffix, got, tc.want)
		}
	}
}

func sep(url string) string {
	if strings.Contains(url, "?") {
		return "&"
	}
	return "?"
}
