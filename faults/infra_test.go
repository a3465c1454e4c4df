package faults

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// env is what the whole suite shares: its own Redis and PostgreSQL, and the
// cnsbot binary built once. Tests run one after the other (none is
// parallel), so that a restart only ever hits the test that caused it.
type env struct {
	base  string
	redis *redisServer
	pg    *pgServer
	bin   string
}

var shared struct {
	once sync.Once
	env  *env
	err  error
	skip string
}

// sharedEnv starts the suite's services and builds cnsbot on first use.
// A missing redis-server or PostgreSQL skips the test, or fails it under CI.
func sharedEnv(t *testing.T) *env {
	t.Helper()
	shared.once.Do(func() { shared.env, shared.skip, shared.err = setUp() })
	if shared.skip != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("faults: %s (CI is set: the fault suite must run, not skip)", shared.skip)
		}
		t.Skipf("faults: %s", shared.skip)
	}
	if shared.err != nil {
		t.Fatalf("faults: set up: %v", shared.err)
	}
	return shared.env
}

func setUp() (*env, string, error) {
	redisBin, err := exec.LookPath(cmp.Or(os.Getenv("FAULTS_REDIS_SERVER"), "redis-server"))
	if err != nil {
		return nil, "redis-server is not installed (apt-get install redis-server) or FAULTS_REDIS_SERVER is wrong", nil
	}
	pgBin := postgresBinDir()
	if pgBin == "" {
		return nil, "PostgreSQL server binaries (initdb, postgres) not found under FAULTS_PG_BIN, /usr/lib/postgresql/*/bin or on PATH", nil
	}
	base, err := os.MkdirTemp("", "cnsbot-faults-")
	if err != nil {
		return nil, "", err
	}
	// The PostgreSQL server runs as the postgres user when the tests run
	// as root, and must be able to reach its directory.
	if err := os.Chmod(base, 0o755); err != nil {
		return nil, "", err
	}
	e := &env{base: base}
	ok := false
	defer func() {
		if !ok {
			e.tearDown()
		}
	}()
	if e.bin, err = buildCnsbot(base); err != nil {
		return nil, "", err
	}
	e.redis = &redisServer{bin: redisBin, dir: filepath.Join(base, "redis")}
	if err := os.MkdirAll(e.redis.dir, 0o755); err != nil {
		return nil, "", err
	}
	if e.redis.port, err = freePort(); err != nil {
		return nil, "", err
	}
	if err := e.redis.start(); err != nil {
		return nil, "", err
	}
	e.pg = &pgServer{binDir: pgBin, dir: filepath.Join(base, "pg")}
	if err := e.pg.init(); err != nil {
		return nil, "", err
	}
	if err := e.pg.start(); err != nil {
		return nil, "", err
	}
	ok = true
	return e, "", nil
}

func (e *env) tearDown() {
	if e == nil {
		return
	}
	if e.redis != nil {
		_ = e.redis.stop(syscall.SIGKILL)
	}
	if e.pg != nil {
		_ = e.pg.stop(syscall.SIGQUIT)
	}
	if e.base != "" && os.Getenv("FAULTS_KEEP") == "" {
		_ = os.RemoveAll(e.base)
	}
}

// postgresBinDir finds the directory of initdb and postgres: FAULTS_PG_BIN
// when set, else the newest /usr/lib/postgresql/*/bin, else wherever
// initdb is on PATH.
func postgresBinDir() string {
	if d, ok := os.LookupEnv("FAULTS_PG_BIN"); ok {
		if fileExists(filepath.Join(d, "initdb")) && fileExists(filepath.Join(d, "postgres")) {
			return d
		}
		return ""
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		if fileExists(filepath.Join(d, "initdb")) && fileExists(filepath.Join(d, "postgres")) {
			return d
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			d := filepath.Dir(real)
			if fileExists(filepath.Join(d, "postgres")) {
				return d
			}
		}
	}
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// buildCnsbot compiles ./cmd/cnsbot (the module's, from this package's
// directory) into dir.
func buildCnsbot(dir string) (string, error) {
	bin := filepath.Join(dir, "cnsbot")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/cnsbot")
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/cnsbot: %w\n%s", err, out)
	}
	return bin, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// process is a child process the suite waits for in the background.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
}

func spawn(cmd *exec.Cmd) (*process, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	// A child must not outlive a test binary that dies (a panic, a
	// timeout): it would hold its port and files.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	return p, nil
}

// signal sends sig and waits for the exit, killing after timeout.
func (p *process) signal(sig syscall.Signal, timeout time.Duration) error {
	if p == nil {
		return nil
	}
	select {
	case <-p.exited:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
		return nil
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("%s did not exit within %s of %v: killed", filepath.Base(p.cmd.Path), timeout, sig)
	}
}

func (p *process) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// redisServer is the suite's Redis, persisted as production runs it:
// append-only file, fsynced on every write, in its own directory, so that a
// restart (even after SIGKILL) keeps every acknowledged write.
type redisServer struct {
	bin, dir string
	port     int
	proc     *process
}

func (r *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

func (r *redisServer) url() string { return "redis://" + r.addr() + "/0" }

func (r *redisServer) start() error {
	cmd := exec.Command(r.bin,
		"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--dir", r.dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "",
		"--protected-mode", "no", "--daemonize", "no", "--logfile", filepath.Join(r.dir, "redis.log"))
	p, err := spawn(cmd)
	if err != nil {
		return fmt.Errorf("start redis: %w", err)
	}
	r.proc = p
	rdb := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1})
	defer rdb.Close()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		if !p.alive() {
			return fmt.Errorf("redis exited at start: %v; log:\n%s", p.err, tail(filepath.Join(r.dir, "redis.log"), 10))
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("redis not answering: %w", err)
}

// stop ends Redis with sig: SIGTERM is a clean shutdown, SIGKILL a crash.
func (r *redisServer) stop(sig syscall.Signal) error {
	return r.proc.signal(sig, 20*time.Second)
}

// pgServer is the suite's PostgreSQL cluster in its own directory, on its
// own port. As root, it runs as the postgres user (PostgreSQL refuses root).
type pgServer struct {
	binDir, dir string
	port        int
	cred        *syscall.Credential
	proc        *process
}

func (p *pgServer) data() string { return filepath.Join(p.dir, "data") }

// url is the DSN of database name.
func (p *pgServer) url(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.port, name)
}

func (p *pgServer) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(p.binDir, name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	return cmd
}

func (p *pgServer) init() error {
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("running as root needs a postgres user to run PostgreSQL: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return err
	}
	if p.cred != nil {
		if err := os.Chown(p.dir, int(p.cred.Uid), int(p.cred.Gid)); err != nil {
			return err
		}
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	p.port = port
	out, err := p.command("initdb", "-D", p.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync").CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return nil
}

func (p *pgServer) start() error {
	cmd := p.command("postgres", "-D", p.data(), "-p", strconv.Itoa(p.port), "-k", p.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300", "-c", "fsync=on")
	lf, err := os.OpenFile(filepath.Join(p.dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer lf.Close()
	cmd.Stdout, cmd.Stderr = lf, lf
	proc, err := spawn(cmd)
	if err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	p.proc = proc
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, p.url("postgres"))
		if err == nil {
			err = conn.Ping(ctx)
			conn.Close(ctx)
		}
		cancel()
		if err == nil {
			return nil
		}
		if !proc.alive() {
			return fmt.Errorf("postgres exited at start: %v; log:\n%s", proc.err, tail(filepath.Join(p.dir, "postgres.log"), 10))
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("postgres not answering after 30 s")
}

// stop ends PostgreSQL: SIGQUIT is an immediate shutdown (a crash, with
// recovery at the next start), SIGINT a fast one.
func (p *pgServer) stop(sig syscall.Signal) error {
	return p.proc.signal(sig, 30*time.Second)
}

// createDB creates a fresh database and returns its DSN.
func (p *pgServer) createDB(t *testing.T, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.url("postgres"))
	if err != nil {
		t.Fatalf("connect postgres: %v", err)
	}
	defer conn.Close(ctx)
	// The name is the test's own constant, quoted as an identifier: DDL
	// cannot take parameters.
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		t.Fatalf("drop database: %v", err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		t.Fatalf("create database: %v", err)
	}
	return p.url(name)
}

// service is cnsbot running as a child process, restarted on the same
// address with the same environment after a kill.
type service struct {
	t       *testing.T
	name    string
	bin     string
	env     []string
	addr    string
	logPath string
	proc    *process
	starts  int
}

// serviceVars are the variables cnsbot reads; the child gets only the
// suite's values for them, never the caller's, so that a developer's
// shell cannot point the suite at a real OA or database.
var serviceVars = []string{
	"HTTP_ADDR", "DATABASE_URL", "DATA_DIR", "REDIS_URL", "REDIS_PREFIX", "ADMIN_TOKEN", "LOG_LEVEL",
	"MIGRATE", "INBOX_PARTITIONS", "SEND_RATE", "HANDOFF_PAUSE", "WEBHOOK_MAX_AGE", "SHUTDOWN_TIMEOUT",
	"PPROF_ADDR", "SIMULATOR", "DEMO", "METRICS_ADDR", "METRICS_TOKEN", "USER_RATE", "USER_BURST",
}

// metricsToken is every suite service's METRICS_TOKEN: the service serves
// /metrics on its public port only to requests that carry one.
const metricsToken = "faults-9c1e7b3a5d2f8e6c4b0a1d7f3e9c5b2a"

// childEnv is the caller's environment without the service's variables,
// then vars.
func childEnv(vars map[string]string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if slices.Contains(serviceVars, k) || strings.HasPrefix(k, "ZALO_") {
			continue
		}
		out = append(out, kv)
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		out = append(out, k+"="+vars[k])
	}
	return out
}

// startService runs cnsbot serve with vars (HTTP_ADDR is chosen here) and
// waits until it is ready. It is stopped when the test ends.
func startService(t *testing.T, e *env, name string, vars map[string]string) *service {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	s := &service{t: t, name: name, bin: e.bin, addr: "127.0.0.1:" + strconv.Itoa(port),
		logPath: filepath.Join(t.TempDir(), name+".log")}
	v := map[string]string{"HTTP_ADDR": s.addr, "METRICS_TOKEN": metricsToken}
	for k, val := range vars {
		v[k] = val
	}
	s.env = childEnv(v)
	t.Cleanup(func() {
		if s.proc != nil && s.proc.alive() {
			_ = s.proc.signal(syscall.SIGTERM, 30*time.Second)
		}
		if t.Failed() {
			t.Logf("%s: last log lines:\n%s", name, tail(s.logPath, 25))
		}
	})
	s.start()
	return s
}

func (s *service) url() string { return "http://" + s.addr }

func (s *service) webhook() string { return s.url() + "/webhooks/zalo" }

// start launches the process and waits for /readyz.
func (s *service) start() {
	s.t.Helper()
	lf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	defer lf.Close()
	fmt.Fprintf(lf, "{\"faults\":\"start %d\"}\n", s.starts+1)
	cmd := exec.Command(s.bin, "serve")
	cmd.Env = s.env
	cmd.Stdout, cmd.Stderr = lf, lf
	p, err := spawn(cmd)
	if err != nil {
		s.t.Fatalf("start %s: %v", s.name, err)
	}
	s.proc = p
	s.starts++
	if err := s.waitReady(60 * time.Second); err != nil {
		s.t.Fatalf("%s: %v\nlast log lines:\n%s", s.name, err, tail(s.logPath, 25))
	}
}

func (s *service) waitReady(timeout time.Duration) error {
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	last := "no answer"
	for time.Now().Before(deadline) {
		resp, err := hc.Get(s.url() + "/readyz")
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("status %d %s", resp.StatusCode, strings.TrimSpace(string(body)))
		}
		if !s.proc.alive() {
			return fmt.Errorf("exited before it was ready: %v", s.proc.err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %s (/readyz: %s)", timeout, last)
}

// kill ends the process with SIGKILL: no shutdown, no cleanup.
func (s *service) kill() { _ = s.proc.signal(syscall.SIGKILL, 10*time.Second) }

// pid returns the running process's id.
func (s *service) pid() int { return s.proc.cmd.Process.Pid }

// logSummary counts the WARN and ERROR lines of the service's log and
// returns up to five distinct messages of each.
func (s *service) logSummary() (warns, errs int, firstWarns, firstErrs []string) {
	f, err := os.Open(s.logPath)
	if err != nil {
		return 0, 0, nil, nil
	}
	defer f.Close()
	seen := map[string]bool{}
	keep := func(list *[]string, line string) {
		msg := jsonField(line, "msg")
		if e := jsonField(line, "err"); e != "" {
			if len(e) > 120 {
				e = e[:120] + "…"
			}
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
			warns++
			keep(&firstWarns, line)
		case strings.Contains(line, `"level":"ERROR"`):
			errs++
			keep(&firstErrs, line)
		}
	}
	return warns, errs, firstWarns, firstErrs
}

// jsonField extracts a string field of a one-line JSON object, enough for
// slog's output.
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

// runCLI runs a cnsbot subcommand with vars and returns its standard output.
func runCLI(ctx context.Context, e *env, vars map[string]string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, e.bin, args...)
	cmd.Env = childEnv(vars)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("cnsbot %s: %w\n%s", strings.Join(args, " "), err, lastLines(errOut.String(), 10))
	}
	return out.String(), nil
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return lastLines(string(b), n)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// rssKB reads the resident set size of pid from /proc.
func rssKB(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		}
	}
	return 0, errors.New("no VmRSS")
}

// metric reads an unlabelled gauge from the service's /metrics.
func metric(base, name string) (float64, error) {
	hc := &http.Client{Timeout: 2 * time.Second}
	req, err := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+metricsToken)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("no metric %s", name)
}
