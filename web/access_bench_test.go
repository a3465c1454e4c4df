package web

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
)

// BenchmarkAccessLogCost times what writing an access log row (the row,
// then its status) adds to a request, on the embedded SQLite:
//
//	go test -run '^$' -bench BenchmarkAccessLogCost -benchtime 2000x ./web/
func BenchmarkAccessLogCost(b *testing.B) {
	f := newFixture(b)
	gin.SetMode(gin.TestMode)
	r := gin.New()
	admin := func(c *gin.Context) { c.Set(principalKey, principal{Admin: true}) }
	ok := func(c *gin.Context) { c.Status(http.StatusOK) }
	r.GET("/plain", admin, ok)
	r.GET("/logged", admin, f.d.logged("help_requests"), ok)
	for _, path := range []string{"/plain", "/logged"} {
		b.Run(path[1:], func(b *testing.B) {
			for b.Loop() {
				w := httptest.NewRecorder()
				r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path+"?commune=2&quarter=2026Q4", nil))
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}
