package web

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/camau-cns/cnsbot/internal/machine"
)

// TestAdminRoutesRefuseWithoutAValidToken asks every route under /admin
// (but the sign-in page itself), as registered, with no credentials and
// with wrong ones: each must answer 401. A route added later is covered
// without changing the test.
func TestAdminRoutesRefuseWithoutAValidToken(t *testing.T) {
	f := newFixture(t)
	gin.SetMode(gin.TestMode)
	r := gin.New()
	f.d.Register(r)

	// A live administrator's session on the server, in cookies that are
	// expired, forged or signed with another key.
	secret, err := f.db.CreateSession(context.Background(), true, 0, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	expired := f.d.auth.seal(session{Secret: secret, Expires: time.Now().Add(-time.Minute).Unix()})
	forged := strings.Split(f.d.auth.seal(session{Secret: secret, Expires: time.Now().Add(time.Hour).Unix()}), ".")[0] + ".AAAA"
	otherKey := newAuth("another-admin-token", nil).seal(session{Secret: secret, Expires: time.Now().Add(time.Hour).Unix()})
	credentials := []struct {
		name  string
		apply func(*http.Request)
	}{
		{"nothing", func(*http.Request) {}},
		{"empty bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer ") }},
		{"wrong bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+testAdminToken+"x") }},
		{"token prefix", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+testAdminToken[:len(testAdminToken)-1]) }},
		{"token as basic", func(r *http.Request) { r.SetBasicAuth("admin", testAdminToken) }},
		{"revoked-looking officer token", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+f.officer+"0") }},
		{"token in the session cookie", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: sessionCookie, Value: testAdminToken}) }},
		{"forged session", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: sessionCookie, Value: forged}) }},
		{"expired session", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: sessionCookie, Value: expired}) }},
		{"session signed with another key", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: sessionCookie, Value: otherKey}) }},
	}
	checked := 0
	for _, rt := range r.Routes() {
		if !strings.HasPrefix(rt.Path, "/admin") || rt.Path == "/admin/login" {
			continue
		}
		path := strings.NewReplacer(":id", "1").Replace(rt.Path)
		for _, c := range credentials {
			req := httptest.NewRequest(rt.Method, path, strings.NewReader(`{}`))
			req.Header.Set("Content-Type", "application/json")
			c.apply(req)
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			if w.Code != http.StatusUnauthorized {
				t.Errorf("%s %s with %s: status %d, want 401", rt.Method, path, c.name, w.Code)
			}
			if strings.Contains(w.Body.String(), testAdminToken) {
				t.Errorf("%s %s with %s: the answer shows the admin token", rt.Method, path, c.name)
			}
			checked++
		}
	}
	if checked < 10*len(credentials) {
		t.Fatalf("only %d requests checked: the admin routes were not found", checked)
	}
	// The refusals mean something only if the right token gets in.
	req := httptest.NewRequest(http.MethodGet, "/admin/api/progress", nil)
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Fatalf("with the admin token: status %d, want 200", w.Code)
	}
}

// sink keeps the leaky control's work from being optimised away.
var sink uint32

// adminSecret is long and random-looking, as an operator's token would be.
const adminSecret = "k7QmZt2xW9pL4vN8rB1cH6sJ3fD5gY0a"

// timingGroups are wrong tokens sharing the first k bytes with the real
// one, and one of another length: a comparison that stops at the first
// differing byte, or looks at the length first, takes longer the more of
// the token a guess has right.
func timingGroups(secret string) []struct {
	prefix int
	tokens []string
} {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	guess := func(prefix, length int) string {
		b := []byte(secret[:prefix])
		for len(b) < length {
			c := alphabet[rng.IntN(len(alphabet))]
			if len(b) < len(secret) && c == secret[len(b)] {
				continue // the byte after the prefix must differ
			}
			b = append(b, c)
		}
		return string(b)
	}
	var groups []struct {
		prefix int
		tokens []string
	}
	for _, k := range []int{0, 1, 4, 8, 16, 24, len(secret) - 1} {
		g := struct {
			prefix int
			tokens []string
		}{prefix: k}
		for range 16 {
			g.tokens = append(g.tokens, guess(k, len(secret)))
		}
		groups = append(groups, g)
	}
	return groups
}

// measure times check on each group's tokens in interleaved batches and
// returns, per group, the batch means in nanoseconds.
func measure(groups []struct {
	prefix int
	tokens []string
}, batches, perBatch int, check func(string)) [][]float64 {
	out := make([][]float64, len(groups))
	order := make([]int, len(groups))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range batches {
		// A random order each round, so that drift of the machine's speed
		// falls on every group alike.
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, g := range order {
			toks := groups[g].tokens
			start := time.Now()
			for i := range perBatch {
				check(toks[i%len(toks)])
			}
			out[g] = append(out[g], float64(time.Since(start).Nanoseconds())/float64(perBatch))
		}
	}
	return out
}

// leakStats summarises how time depends on the right prefix's length:
// Spearman's rank correlation over every batch, and the spread of the
// groups' medians relative to the smallest.
func leakStats(groups []struct {
	prefix int
	tokens []string
}, times [][]float64) (rho, spread float64, medians []float64) {
	var xs, ys []float64
	for g, ts := range times {
		for _, v := range ts {
			xs = append(xs, float64(groups[g].prefix))
			ys = append(ys, v)
		}
		s := slices.Clone(ts)
		slices.Sort(s)
		medians = append(medians, s[len(s)/2])
	}
	lo, hi := slices.Min(medians), slices.Max(medians)
	return spearman(xs, ys), (hi - lo) / lo, medians
}

func spearman(xs, ys []float64) float64 {
	rank := func(v []float64) []float64 {
		idx := make([]int, len(v))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int {
			switch {
			case v[a] < v[b]:
				return -1
			case v[a] > v[b]:
				return 1
			}
			return 0
		})
		r := make([]float64, len(v))
		for i := 0; i < len(idx); {
			j := i
			for j+1 < len(idx) && v[idx[j+1]] == v[idx[i]] {
				j++
			}
			for k := i; k <= j; k++ {
				r[idx[k]] = float64(i+j) / 2
			}
			i = j + 1
		}
		return r
	}
	rx, ry := rank(xs), rank(ys)
	mean := func(v []float64) float64 {
		s := 0.0
		for _, x := range v {
			s += x
		}
		return s / float64(len(v))
	}
	mx, my := mean(rx), mean(ry)
	var num, dx, dy float64
	for i := range rx {
		num += (rx[i] - mx) * (ry[i] - my)
		dx += (rx[i] - mx) * (rx[i] - mx)
		dy += (ry[i] - my) * (ry[i] - my)
	}
	if dx == 0 || dy == 0 {
		return 0
	}
	return num / math.Sqrt(dx*dy)
}

// TestAdminTokenCheckLeaksNoTiming refuses many wrong admin tokens that
// share more and more of the real token's first bytes, through the API's
// middleware, and checks that the time of a refusal does not grow with
// the part guessed right beyond noise. A comparison that stops at the
// first differing byte fails the same measurement (the control below), so
// the test can tell.
func TestAdminTokenCheckLeaksNoTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("timing measurement")
	}
	gin.SetMode(gin.TestMode)
	a := newAuth(adminSecret, nil)
	r := gin.New()
	r.GET("/admin/api/x", a.requireBearer(nil), func(c *gin.Context) { c.Status(http.StatusOK) })
	groups := timingGroups(adminSecret)
	req := httptest.NewRequest(http.MethodGet, "/admin/api/x", nil)
	refuse := func(tok string) {
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		if w.Code != http.StatusUnauthorized {
			panic(fmt.Sprintf("a wrong token got status %d", w.Code))
		}
	}
	ctx := context.Background()
	check := func(tok string) {
		if _, err := a.check(ctx, tok); err == nil {
			panic("a wrong token was accepted")
		}
	}

	// A leaky check, to show that the measurement sees a leak: the same
	// hashing as the real check, then a byte-by-byte comparison that
	// stops at the first difference, with a few nanoseconds of work a
	// byte (a full prefix costs about half a hash more).
	leaky := func(tok string) {
		sum := sha256.Sum256([]byte(tok))
		h := uint32(sum[0])
		for i := range min(len(tok), len(adminSecret)) {
			if tok[i] != adminSecret[i] {
				break
			}
			for range 8 {
				h = h*31 + uint32(tok[i])
			}
		}
		sink = h
	}

	// The control runs first: if the measurement cannot see its leak, it
	// could not see one in the real check either.
	blind := false
	for _, c := range []struct {
		name      string
		f         func(string)
		perBatch  int
		wantLeaky bool
	}{
		{"leaky control", leaky, 3000, true},
		{"middleware", refuse, 300, false},
		{"check", check, 3000, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if blind {
				t.Skipf("could not measure: the control's leak did not show at a load average of %s on %d cores", machine.LoadAverage(), runtime.NumCPU())
			}
			var rho, spread float64
			var leak bool
			// The control is measured up to three times: on a machine
			// busy with other builds one measurement can blur even a
			// real leak, and the control must show one to count.
			tries := 1
			if c.wantLeaky {
				tries = 3
			}
			for try := 0; try < tries && !(c.wantLeaky && leak); try++ {
				times := measure(groups, 60, c.perBatch, c.f)
				var medians []float64
				rho, spread, medians = leakStats(groups, times)
				var parts []string
				for i, m := range medians {
					parts = append(parts, fmt.Sprintf("%d:%.0fns", groups[i].prefix, m))
				}
				t.Logf("median per right prefix length %s; spread %.1f%%; Spearman ρ(prefix, time) %.2f", strings.Join(parts, " "), 100*spread, rho)
				// A leak shows as time rising with the right prefix: over
				// the samples (ρ), or, when other work on the machine blurs
				// the samples, as medians that rise at every step (a 1 in
				// 5040 chance for seven groups without a leak).
				leak = spread > 0.05 && (rho > 0.5 || rising(medians))
			}
			switch {
			case c.wantLeaky && !leak && machine.Starved():
				// Other builds took the cores: say so, and measure nothing.
				blind = true
				t.Skipf("could not measure: a comparison that stops at the first difference did not show (ρ %.2f, spread %.1f%%) at a load average of %s on %d cores",
					rho, 100*spread, machine.LoadAverage(), runtime.NumCPU())
			case c.wantLeaky && !leak:
				t.Errorf("the measurement does not see a comparison that stops at the first difference (ρ %.2f, spread %.1f%%): it could not see a leak either", rho, 100*spread)
			case !c.wantLeaky && leak:
				t.Errorf("refusal time grows with the right prefix of the token: ρ %.2f, spread %.1f%%", rho, 100*spread)
			}
		})
	}
}

// rising reports whether every median is above the one before.
func rising(medians []float64) bool {
	for i := 1; i < len(medians); i++ {
		if medians[i] <= medians[i-1] {
			return false
		}
	}
	return len(medians) > 1
}
