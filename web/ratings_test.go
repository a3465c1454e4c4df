package web

import (
	"context"
	"strings"
	"testing"
)

// TestGuideRatingsOnOverview shows residents' guide ratings on the
// overview: none yet, then each guide with its count and average.
func TestGuideRatingsOnOverview(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	officer := auth0{cookie: f.login(t, f.officer, nil)}
	if _, b := f.do(t, "GET", "/admin", officer, ""); !strings.Contains(string(b), "Chưa có ai chấm điểm hướng dẫn.") {
		t.Errorf("no ratings: want the empty note on the overview")
	}
	for i, r := range []int{5, 4} {
		if err := f.db.RateGuide(ctx, "u1", "vneid/install", r, "e"+string(rune('1'+i))); err != nil {
			t.Fatal(err)
		}
	}
	resp, b := f.do(t, "GET", "/admin?lang=en", officer, "")
	body := string(b)
	if resp.StatusCode != 200 || !strings.Contains(body, "<code>vneid/install</code>") ||
		!strings.Contains(body, `data-label="Ratings">2</td>`) || !strings.Contains(body, `data-label="Average">4.5/5</td>`) {
		t.Errorf("status %d; want vneid/install with 2 ratings averaging 4.5 on the overview", resp.StatusCode)
	}
}
