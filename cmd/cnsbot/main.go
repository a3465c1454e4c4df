// Command cnsbot runs the Zalo OA bot of the community digital technology
// teams, and the operator commands around it.
//
//	cnsbot [serve]   run the service (default)
//	cnsbot migrate   apply database migrations and exit
//	cnsbot version   print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	_ "time/tzdata" // Asia/Ho_Chi_Minh must work on a scratch image

	"github.com/redis/go-redis/v9"

	"github.com/camau-cns/cnsbot/store"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		printError(os.Stderr, err)
		os.Exit(1)
	}
}

// errTold marks a failure that a subcommand has already explained to the
// user, in their language (an import's bad rows): main exits with status 1
// without adding an English line to it.
var errTold = errors.New("already told")

// printError prints what main says of run's error, unless the user has
// been told already (errTold, or flag's usage for flag.ErrHelp).
func printError(w io.Writer, err error) {
	if errors.Is(err, flag.ErrHelp) || errors.Is(err, errTold) {
		return
	}
	fmt.Fprintln(w, "cnsbot:", err)
}

// run dispatches a subcommand. It is apart from main so tests can call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "version":
		fmt.Fprintln(stdout, "cnsbot", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	cfg, err := LoadConfig()
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.slogLevel())
	switch cmd {
	case "serve":
		return serve(ctx, cfg, log)
	case "migrate":
		return migrate(ctx, cfg, log)
	case "healthcheck":
		return healthcheck(ctx, cfg)
	case "import":
		return importCmd(ctx, args, stdout, cfg, log)
	case "report":
		return reportCmd(ctx, args, stdout, cfg, log)
	case "deadlines":
		return deadlinesCmd(ctx, args, stdout, cfg, log)
	case "remind":
		return remindCmd(ctx, args, stdout, cfg, log)
	case "enrol-code":
		return enrolCodeCmd(ctx, args, stdout, cfg, log)
	case "officer-token":
		return officerTokenCmd(ctx, args, stdout, cfg, log)
	case "zalo":
		return zaloCmd(ctx, args, stdout, cfg, log)
	case "guides":
		return guidesCmd(ctx, args, stdout, cfg, log)
	case "demo":
		return demoCmd(ctx, args, stdout, cfg, log)
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
}

const usage = `usage: cnsbot [command]

commands:
  serve     run the service (default)
  migrate   apply database migrations and exit
  version   print the version
  healthcheck  exit 0 when the local server answers /healthz (for containers)
  import    import units|roster|households FILE (.csv or .xlsx): places, member and household lists
  guides import [--by NAME] DIR  publish the guides in DIR's folders (guide.toml, vi/en .toml or .md, pictures)
  deadlines  print a year's reporting deadlines (--year, --json, --preset, --schedule, --lang)
  report    write the quarterly report (--quarter 2025Q3 [--commune NAME] [--format xlsx|csv] [--out FILE] [--lang vi|en])
  remind    run one reminder pass as of --now; --dry-run prints what would be sent
  enrol-code PERSON_ID  print a one-time code that links the person to the Zalo account that sends it
  officer-token create PERSON_ID [--days N] | list | revoke ID   officers' dashboard tokens
  zalo check [--to USER_ID] [--group GROUP_ID]  test the Zalo token and each message kind before going live
  demo --scale province|reduced [--token]  fill an EMPTY database with a generated province, to measure at scale

Configuration comes from the environment; see README.md.
`

// newLogger returns the JSON logger every part of the service writes to.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	log := slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
	// go-redis has one logger for the whole process, writing plain text to
	// stderr unless told otherwise.
	redis.SetLogger(store.NewRedisLog(log))
	return log
}

// healthcheck asks the local server's /healthz; a scratch image has no curl.
func healthcheck(ctx context.Context, cfg Config) error {
	addr := cfg.HTTPAddr
	if strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1" + addr
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: status %d", resp.StatusCode)
	}
	return nil
}
