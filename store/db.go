// Package store is the service's memory: GORM models and repositories on
// Postgres (or an embedded SQLite file), and the Redis side — the event
// queue with its sessions, locks and the shared rate limiter.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/camau-cns/cnsbot"
)

// Dialects reported by DB.Dialect.
const (
	DialectPostgres = "postgres"
	DialectSQLite   = "sqlite"
)

// SQLiteFile is the name of the embedded database file inside the data directory.
const SQLiteFile = "cnsbot.db"

// DB is the relational store. Its GORM handle stays inside this package:
// callers see typed methods and the root package's error codes only.
type DB struct {
	orm     *gorm.DB
	dialect string
	log     *slog.Logger
	zalo    zaloIndex
	// sealer encrypts the OA token pair at rest (see SetTokenKey).
	sealer *tokenSealer
	// guideUse groups the guide events of concurrent turns into one
	// INSERT (see writeGuideEvents).
	guideUse *groupWriter[GuideEvent]
}

// Open connects to databaseURL (postgres:// or postgresql://), or, when it
// is empty, opens the embedded SQLite file dataDir/cnsbot.db, creating the
// directory. It checks the connection before returning.
func Open(ctx context.Context, databaseURL, dataDir string, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg := &gorm.Config{
		Logger: newGormLogger(log),
		// The ping below honours ctx; GORM's own would not.
		DisableAutomaticPing: true,
		NowFunc:              func() time.Time { return time.Now().UTC() },
	}

	var (
		dialector gorm.Dialector
		dialect   string
	)
	switch {
	case databaseURL == "":
		if dataDir == "" {
			dataDir = "data"
		}
		if err := os.MkdirAll(dataDir, 0o750); err != nil {
			return nil, fmt.Errorf("open database: create data directory: %w", err)
		}
		path := filepath.Join(dataDir, SQLiteFile)
		dialector = sqlite.Open(sqliteDSN(path))
		dialect = DialectSQLite
		log.Info("database: embedded SQLite file (set DATABASE_URL for Postgres)", "path", path)
	case strings.HasPrefix(databaseURL, "postgres://"), strings.HasPrefix(databaseURL, "postgresql://"):
		u, err := customPlans(databaseURL)
		if err != nil {
			return nil, fmt.Errorf("open database: DATABASE_URL: %w", err)
		}
		dialector = postgres.Open(u)
		dialect = DialectPostgres
	default:
		return nil, fmt.Errorf("open database: DATABASE_URL must start with postgres:// or postgresql://")
	}

	gdb, err := gorm.Open(dialector, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if dialect == DialectSQLite {
		// SQLite has one writer; a single connection turns lock contention
		// inside the process into queueing instead of SQLITE_BUSY errors.
		sqlDB.SetMaxOpenConns(1)
	} else {
		// As many idle connections as open ones: the queue's partitions
		// work at once, and reopening a Postgres session costs far more
		// than the query it serves.
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(32)
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	db := &DB{orm: gdb, dialect: dialect, log: log}
	db.guideUse = newGroupWriter(maxGuideBatch, db.writeGuideEvents)
	if err := db.Ping(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	if dialect == DialectSQLite {
		if err := enableWAL(ctx, gdb); err != nil {
			_ = sqlDB.Close()
			return nil, fmt.Errorf("open database: %w", err)
		}
	}
	return db, nil
}

// enableWAL switches the file to write-ahead logging, which lets readers of
// other processes (a `cnsbot report`, say) run beside the server. The mode
// is stored in the file. Switching needs a moment without any writer and
// SQLite does not wait for it (no busy timeout), so this retries while
// another process holds the lock.
func enableWAL(ctx context.Context, gdb *gorm.DB) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		var mode string
		err := gdb.WithContext(ctx).Raw("PRAGMA journal_mode=WAL").Scan(&mode).Error
		if err == nil {
			return nil
		}
		if !isBusy(err) || time.Now().After(deadline) {
			return fmt.Errorf("enable WAL: %w", err)
		}
		if !sleep(ctx, 50*time.Millisecond) {
			return fmt.Errorf("enable WAL: %w", ctx.Err())
		}
	}
}

func isBusy(err error) bool {
	s := err.Error()
	return strings.Contains(s, "SQLITE_BUSY") || strings.Contains(s, "database is locked")
}

// sqliteDSN builds the driver's DSN, whose pragmas apply to each new
// connection: busy_timeout makes a second process wait for the writer
// instead of failing; immediate transactions take the write lock at BEGIN,
// so two processes never deadlock upgrading a read lock. The driver stops
// reading parameters after _time_format, so it is not used: times are
// stored in UTC so that their text form sorts.
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// Dialect returns DialectPostgres or DialectSQLite.
func (db *DB) Dialect() string { return db.dialect }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	sqlDB, err := db.SQL()
	if err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// Close closes the connection pool.
func (db *DB) Close() error {
	sqlDB, err := db.SQL()
	if err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	return sqlDB.Close()
}

// takeOne loads the first row of q into dst. It is the one place where
// GORM's ErrRecordNotFound turns into the root vocabulary: a missing row
// becomes an ENOTFOUND error naming what was looked for.
func takeOne(q *gorm.DB, dst any, format string, args ...any) error {
	err := q.Take(dst).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return cnsbot.Errorf(cnsbot.ENOTFOUND, format, args...)
	}
	if err != nil {
		return fmt.Errorf("load "+format+": %w", append(args, err)...)
	}
	return nil
}

// gormLogger sends GORM's messages to slog without ever including the
// values bound to a statement: they can hold phone numbers and tokens.
type gormLogger struct {
	log  *slog.Logger
	slow time.Duration
}

func newGormLogger(log *slog.Logger) *gormLogger {
	return &gormLogger{log: log.With("component", "gorm"), slow: 500 * time.Millisecond}
}

func (l *gormLogger) LogMode(logger.LogLevel) logger.Interface { return l }

func (l *gormLogger) Info(ctx context.Context, msg string, args ...any) {
	l.log.DebugContext(ctx, "gorm: "+msg)
}

func (l *gormLogger) Warn(ctx context.Context, msg string, args ...any) {
	l.log.WarnContext(ctx, "gorm: "+msg)
}

func (l *gormLogger) Error(ctx context.Context, msg string, args ...any) {
	l.log.ErrorContext(ctx, "gorm: "+msg)
}

// Trace logs slow statements. Failed ones are logged at debug level only:
// the error goes back to the caller, who decides whether it matters.
func (l *gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	switch {
	case err != nil && !errors.Is(err, gorm.ErrRecordNotFound) && l.log.Enabled(ctx, slog.LevelDebug):
		sql, _ := fc()
		l.log.DebugContext(ctx, "sql failed", "sql", sql, "elapsed", elapsed, "err", err)
	case elapsed > l.slow:
		sql, rows := fc()
		l.log.WarnContext(ctx, "slow sql", "sql", sql, "rows", rows, "elapsed", elapsed)
	}
}

// ParamsFilter drops the bound values, so that Trace sees placeholders only.
func (l *gormLogger) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}

// customPlans sets plan_cache_mode=force_custom_plan on the sessions of
// databaseURL unless the URL sets it. The driver prepares every statement,
// and after five runs Postgres may switch a prepared statement to a generic
// plan, which checks a long "team_id IN (…)" list value by value: a
// province's indicators went from 0.6 s to 9.6 s on their sixth run (issue
// 19). Planning each run anew costs far less than that.
func customPlans(databaseURL string) (string, error) {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return "", errors.New("not a valid URL")
	}
	q := u.Query()
	if q.Has("plan_cache_mode") {
		return databaseURL, nil
	}
	q.Set("plan_cache_mode", "force_custom_plan")
	u.RawQuery = q.Encode()
	return u.String(), nil
}
