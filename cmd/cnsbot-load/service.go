package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// ProcessStats describes the service process over a run.
type ProcessStats struct {
	// PeakRSSMB is the resident memory high-water mark (VmHWM).
	PeakRSSMB float64 `json:"peak_rss_mb"`
	// Goroutines as /metrics reported them: the most seen while sampling
	// during the run, and the last sample after the drain.
	GoroutinesMax int `json:"goroutines_max,omitempty"`
	GoroutinesEnd int `json:"goroutines_end,omitempty"`
	// Log lines the service wrote at WARN and ERROR level.
	LogWarnings int `json:"log_warnings"`
	LogErrors   int `json:"log_errors"`
	// FirstWarnings and FirstErrors are up to five distinct messages of each
	// level, for the report.
	FirstWarnings []string `json:"first_warnings,omitempty"`
	FirstErrors   []string `json:"first_errors,omitempty"`
	// CPUSeconds is the user and system CPU time the process used over its
	// whole life (start-up, warm-up and shutdown included).
	CPUSeconds float64 `json:"cpu_seconds"`
	// ExitCode and StopSeconds describe the graceful shutdown after SIGTERM.
	ExitCode    int     `json:"exit_code"`
	StopSeconds float64 `json:"stop_seconds"`
}

// buildService compiles ./cmd/cnsbot of the enclosing module into dir.
func buildService(ctx context.Context, dir string, progress io.Writer) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find the module (go env GOMOD): %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the cnsbot module: run from the repository or pass -bin")
	}
	bin := filepath.Join(dir, "cnsbot")
	fmt.Fprintln(progress, "building ./cmd/cnsbot")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/cnsbot")
	cmd.Dir = filepath.Dir(gomod)
	cmd.Stdout, cmd.Stderr = progress, progress
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/cnsbot: %w", err)
	}
	return bin, nil
}

// serviceVars are the variables the service reads; the child gets only the
// tool's values for them, never the caller's, so that a developer's shell
// cannot point a load test at a real OA or database.
var serviceVars = []string{
	"HTTP_ADDR", "DATABASE_URL", "DATA_DIR", "REDIS_URL", "REDIS_PREFIX", "ADMIN_TOKEN", "LOG_LEVEL",
	"MIGRATE", "INBOX_PARTITIONS", "SEND_RATE", "HANDOFF_PAUSE", "WEBHOOK_MAX_AGE", "SHUTDOWN_TIMEOUT",
	"METRICS_ADDR", "METRICS_TOKEN", "USER_RATE", "USER_BURST",
}

// childEnv returns the caller's environment without the service's
// variables, then vars, then extra ("KEY=VALUE", from -env) which may
// override anything.
func childEnv(vars map[string]string, extra []string) []string {
	drop := make(map[string]bool, len(serviceVars))
	for _, v := range serviceVars {
		drop[v] = true
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if drop[k] || strings.HasPrefix(k, "ZALO_") {
			continue
		}
		env = append(env, kv)
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return append(env, extra...)
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// child is the service running as a child process.
type child struct {
	cmd     *exec.Cmd
	base    string
	logPath string
	logFile *os.File
	exited  chan struct{}
	waitErr error
	stopped bool
}

// startChild runs bin serve with env, its output to logPath (and to tee,
// when not nil).
func startChild(bin string, env []string, addr, logPath string, tee io.Writer) (*child, error) {
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create service log: %w", err)
	}
	c := &child{base: "http://" + addr, logPath: logPath, logFile: lf, exited: make(chan struct{})}
	var out io.Writer = lf
	if tee != nil {
		out = io.MultiWriter(lf, tee)
	}
	c.cmd = exec.Command(bin, "serve")
	c.cmd.Env = env
	c.cmd.Stdout, c.cmd.Stderr = out, out
	setParentDeath(c.cmd)
	if err := c.cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		c.waitErr = c.cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

// waitReady polls /readyz until it answers 200.
func (c *child) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hc := &http.Client{Timeout: time.Second}
	last := "no answer"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/readyz", nil)
		resp, err := hc.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("status %d %s", resp.StatusCode, bytes.TrimSpace(body))
		}
		select {
		case <-c.exited:
			return fmt.Errorf("service exited before it was ready (%v); last log lines:\n%s", c.waitErr, c.logTail(20))
		case <-ctx.Done():
			return fmt.Errorf("service not ready after %s (/readyz: %s); last log lines:\n%s", timeout, last, c.logTail(20))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM and waits up to timeout for a graceful exit, then
// kills. It returns the exit code and how long the shutdown took.
func (c *child) stop(timeout time.Duration) (code int, took time.Duration) {
	if c.stopped {
		return c.cmd.ProcessState.ExitCode(), 0
	}
	c.stopped = true
	defer c.logFile.Close()
	start := time.Now()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(timeout):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
	return c.cmd.ProcessState.ExitCode(), time.Since(start)
}

// logTail returns the last n lines of the service's log.
func (c *child) logTail(n int) string {
	b, err := os.ReadFile(c.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// logLevels counts the WARN and ERROR lines of the service's JSON log and
// keeps the first few distinct messages of each.
func (c *child) logLevels(s *ProcessStats) {
	f, err := os.Open(c.logPath)
	if err != nil {
		return
	}
	defer f.Close()
	seen := map[string]bool{}
	keep := func(list *[]string, line string) {
		msg := jsonField(line, "msg")
		if e := jsonField(line, "err"); e != "" {
			msg += ": " + e
		}
		if !seen[msg] && len(*list) < 5 {
			seen[msg] = true
			*list = append(*list, msg)
		}
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.Contains(line, `"level":"WARN"`):
			s.LogWarnings++
			keep(&s.FirstWarnings, line)
		case strings.Contains(line, `"level":"ERROR"`):
			s.LogErrors++
			keep(&s.FirstErrors, line)
		}
	}
}

// jsonField extracts a string field of a one-line JSON object without
// decoding it all; good enough for slog's output.
func jsonField(line, name string) string {
	key := `"` + name + `":"`
	i := strings.Index(line, key)
	if i < 0 {
		return ""
	}
	rest := line[i+len(key):]
	var b strings.Builder
	for j := 0; j < len(rest); j++ {
		switch rest[j] {
		case '\\':
			if j+1 < len(rest) {
				j++
				b.WriteByte(rest[j])
			}
		case '"':
			return b.String()
		default:
			b.WriteByte(rest[j])
		}
	}
	return b.String()
}

// metricsToken is a fresh token for the child's METRICS_TOKEN: the service
// serves /metrics on its public port only to requests that carry one.
func metricsToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// goroutineSampler reads go_goroutines from /metrics periodically.
type goroutineSampler struct {
	url   string
	token string
	hc    *http.Client
	stop  chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	max   int
	last  int
}

func startSampler(metricsURL, token string, every time.Duration) *goroutineSampler {
	s := &goroutineSampler{url: metricsURL, token: token, hc: &http.Client{Timeout: 2 * time.Second},
		stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *goroutineSampler) sample() {
	req, err := http.NewRequest(http.MethodGet, s.url, nil)
	if err != nil {
		return
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := s.hc.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	n, ok := scanGauge(resp.Body, "go_goroutines")
	if !ok {
		return
	}
	s.mu.Lock()
	s.max, s.last = max(s.max, n), n
	s.mu.Unlock()
}

// finish takes a last sample and stops; it returns the maximum and the last value.
func (s *goroutineSampler) finish() (maxSeen, last int) {
	close(s.stop)
	<-s.done
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.max, s.last
}

// scanGauge finds an unlabelled metric in Prometheus text format.
func scanGauge(r io.Reader, name string) (int, bool) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, false
			}
			return int(f), true
		}
	}
	return 0, false
}

// pgSchema creates a fresh schema on the Postgres at base and returns a DSN
// whose search_path is that schema, and a function that drops it.
func pgSchema(ctx context.Context, base string) (dsn string, drop func() error, err error) {
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, fmt.Errorf("connect to postgres: %w", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "load_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, `CREATE SCHEMA "`+schema+`"`); err != nil {
		_ = conn.Close(context.Background())
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	drop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA "`+schema+`" CASCADE`); err != nil {
			return fmt.Errorf("drop schema %s: %w", schema, err)
		}
		return nil
	}
	u, err := url.Parse(base)
	if err != nil {
		_ = drop()
		return "", nil, fmt.Errorf("postgres url: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

// redisCPU returns the CPU seconds (user + system) the Redis server has
// used since it started, from INFO cpu.
func redisCPU(ctx context.Context, rdb redis.UniversalClient) (float64, error) {
	info, err := rdb.Info(ctx, "cpu").Result()
	if err != nil {
		return 0, fmt.Errorf("redis info cpu: %w", err)
	}
	var total float64
	found := 0
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || (k != "used_cpu_user" && k != "used_cpu_sys") {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, fmt.Errorf("redis info cpu %s: %w", k, err)
		}
		total += f
		found++
	}
	if found != 2 {
		return 0, errors.New("redis info cpu: no used_cpu_user/used_cpu_sys")
	}
	return total, nil
}

// deleteKeys removes every key that starts with prefix.
func deleteKeys(ctx context.Context, rdb redis.UniversalClient, prefix string) error {
	var cursor uint64
	for {
		keys, next, err := rdb.Scan(ctx, cursor, prefix+"*", 1000).Result()
		if err != nil {
			return fmt.Errorf("scan %s*: %w", prefix, err)
		}
		if len(keys) > 0 {
			// One command per key: in a cluster the keys live in different slots.
			pipe := rdb.Pipeline()
			for _, k := range keys {
				pipe.Unlink(ctx, k)
			}
			if _, err := pipe.Exec(ctx); err != nil {
				return fmt.Errorf("delete %s*: %w", prefix, err)
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}
