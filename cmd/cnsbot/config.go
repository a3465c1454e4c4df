package main

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/camau-cns/cnsbot/bot"
)

// Config is the whole configuration of the service, read from the
// environment once, in main. Tests build it directly. The variable names are
// a contract with operators: the README documents each one.
type Config struct {
	HTTPAddr string `env:"HTTP_ADDR" envDefault:":8080"`
	// DatabaseURL selects Postgres ("postgres://…"); empty means an embedded
	// SQLite file under DataDir.
	DatabaseURL string `env:"DATABASE_URL"`
	DataDir     string `env:"DATA_DIR" envDefault:"./data"`
	// RedisURL selects Redis ("redis://…"); empty means an in-process store
	// that serves one replica and keeps nothing across restarts.
	RedisURL    string `env:"REDIS_URL"`
	RedisPrefix string `env:"REDIS_PREFIX" envDefault:"cnsbot:"`

	ZaloAppID        string `env:"ZALO_APP_ID"`
	ZaloOASecretKey  string `env:"ZALO_OA_SECRET_KEY"`
	ZaloAppSecret    string `env:"ZALO_APP_SECRET"`
	ZaloAccessToken  string `env:"ZALO_ACCESS_TOKEN"`
	ZaloRefreshToken string `env:"ZALO_REFRESH_TOKEN"`
	ZaloAPIBase      string `env:"ZALO_API_BASE" envDefault:"https://openapi.zalo.me"`
	ZaloOAuthBase    string `env:"ZALO_OAUTH_BASE" envDefault:"https://oauth.zaloapp.com"`
	// ZaloVerifierFile and ZaloVerifierContent serve the domain-verification
	// file Zalo asks an OA to publish (e.g. "zalo_verifierABC.html").
	ZaloVerifierFile    string `env:"ZALO_VERIFIER_FILE"`
	ZaloVerifierContent string `env:"ZALO_VERIFIER_CONTENT"`

	// AdminToken signs in the administrator; serve refuses one shorter
	// than web.MinTokenLength or obviously weak (web.CheckTokenStrength).
	AdminToken string `env:"ADMIN_TOKEN"`
	// MetricsAddr serves /metrics on a listener of its own (keep it on a
	// private network), never on HTTP_ADDR.
	MetricsAddr string `env:"METRICS_ADDR"`
	// MetricsToken serves /metrics on HTTP_ADDR to requests with
	// "Authorization: Bearer <token>" (and asks it on METRICS_ADDR too).
	// With neither set, /metrics is not served.
	MetricsToken string `env:"METRICS_TOKEN"`
	// TrustedProxies are the reverse proxies (IPs or CIDRs) whose
	// X-Forwarded-For names the client; the dashboard's sign-in limit
	// counts failures per client. Empty trusts none: the client is the
	// connection's address.
	// (A string, split by trustedProxies, so that Config stays comparable.)
	TrustedProxies string `env:"TRUSTED_PROXIES"`
	// PublicURL is where officers reach the dashboard (https://…); chat
	// answers link to report files under it when set.
	PublicURL string `env:"PUBLIC_URL"`
	// ZaloInfoImageURL is the picture of Zalo's request_user_info forms
	// (Zalo requires one). Empty: the picture the service serves itself
	// under PUBLIC_URL; "off", or neither set: forms are asked as text.
	ZaloInfoImageURL string `env:"ZALO_INFO_IMAGE_URL"`
	// ReminderChannel is how a reminder refused for the 7-day window is
	// tried again before the team's group: "cs" (not at all) or
	// "transaction" (Zalo's transaction message).
	ReminderChannel string `env:"REMINDER_CHANNEL" envDefault:"cs"`
	LogLevel        string `env:"LOG_LEVEL" envDefault:"info"`

	// Migrate runs the database migrations when serve starts.
	Migrate bool `env:"MIGRATE" envDefault:"true"`
	// Partitions is the number of inbox partitions: the most events processed
	// at once. Fixed for the life of a Redis; changing it needs a drained queue.
	Partitions int `env:"INBOX_PARTITIONS" envDefault:"16"`
	// SendRate is the outbound messages per second shared by all replicas.
	SendRate int `env:"SEND_RATE" envDefault:"50"`
	// CodeLookupsPerMinute and CodeLookupsPerHour bound how often one Zalo
	// user may look a help request up by its code; 0 turns a window off.
	CodeLookupsPerMinute int `env:"CODE_LOOKUPS_PER_MINUTE" envDefault:"10"`
	CodeLookupsPerHour   int `env:"CODE_LOOKUPS_PER_HOUR" envDefault:"30"`
	// UserRate is how many of one person's messages a minute are handled in
	// full, after a burst of UserBurst; the rest get one kind message a
	// minute and are otherwise only acknowledged. 0 turns the limit off.
	UserRate  int `env:"USER_RATE" envDefault:"20"`
	UserBurst int `env:"USER_BURST" envDefault:"20"`
	// PushQuietHours are the local hours "22-6" in which pushes (reminders,
	// notices) wait for the morning; "off" sends them at any hour.
	PushQuietHours string `env:"PUSH_QUIET_HOURS" envDefault:"22-6"`
	// HandoffPause is how long the bot stays quiet for a user after a human
	// agent wrote to them from the OA chat tool.
	HandoffPause time.Duration `env:"HANDOFF_PAUSE" envDefault:"30m"`
	// HandoffEscalateAfter is how much working time a resident's request
	// for a person may wait for a first answer before the team's leaders
	// and the commune's officers are told again.
	HandoffEscalateAfter time.Duration `env:"HANDOFF_ESCALATE_AFTER" envDefault:"4h"`
	// HandoffWorkingHours are the working hours of a weekday (Monday to
	// Friday, Asia/Ho_Chi_Minh) that HandoffEscalateAfter counts.
	HandoffWorkingHours string `env:"HANDOFF_WORKING_HOURS" envDefault:"07:00-11:30,13:30-17:00"`
	// NearestFirstFor is how long a location a team member shared sorts
	// their "nhà chưa đến" nearest first.
	NearestFirstFor time.Duration `env:"NEAREST_FIRST_FOR" envDefault:"2h"`
	// WebhookMaxAge refuses events older than this (replays); 0 turns it off.
	WebhookMaxAge time.Duration `env:"WEBHOOK_MAX_AGE" envDefault:"24h"`
	// PprofAddr, when set, serves net/http/pprof on a separate listener
	// (keep it on loopback: profiles show internals).
	PprofAddr string `env:"PPROF_ADDR"`
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"20s"`
	// EnrolCodeTTL is how long an officer's one-time enrol code works.
	EnrolCodeTTL time.Duration `env:"ENROL_CODE_TTL" envDefault:"72h"`
	// EnrolDoubtSharedPhone stops the phone Zalo sends through its share
	// form from proving who someone is at enrolment: only officers' codes
	// then do (and, for plain members, their leader's approval).
	EnrolDoubtSharedPhone bool `env:"ENROL_DOUBT_SHARED_PHONE" envDefault:"false"`

	// WebConfig is the simulator's and the dashboard's part: SIMULATOR, DEMO.
	WebConfig
	// PrivacyConfig is the personal-data part: RETENTION_*, TOKEN_KEY.
	PrivacyConfig
}

// LoadConfig reads the configuration from the environment.
func LoadConfig() (Config, error) {
	var c Config
	if err := env.Parse(&c); err != nil {
		return Config{}, fmt.Errorf("read configuration: %w", err)
	}
	return c, c.validate()
}

func (c Config) validate() error {
	if c.Partitions < 1 || c.Partitions > 1024 {
		return fmt.Errorf("INBOX_PARTITIONS must be between 1 and 1024, got %d", c.Partitions)
	}
	if c.EnrolCodeTTL < time.Minute {
		return fmt.Errorf("ENROL_CODE_TTL must be at least 1m, got %s", c.EnrolCodeTTL)
	}
	if _, _, _, err := c.quietHours(); err != nil {
		return err
	}
	if c.ReminderChannel != "" && c.ReminderChannel != "cs" && c.ReminderChannel != "transaction" {
		return fmt.Errorf("REMINDER_CHANNEL must be \"cs\" or \"transaction\", got %q", c.ReminderChannel)
	}
	if c.SendRate < 1 {
		return fmt.Errorf("SEND_RATE must be at least 1, got %d", c.SendRate)
	}
	if c.NearestFirstFor < 0 {
		return fmt.Errorf("NEAREST_FIRST_FOR must not be negative, got %s", c.NearestFirstFor)
	}
	if c.CodeLookupsPerMinute < 0 || c.CodeLookupsPerHour < 0 {
		return fmt.Errorf("CODE_LOOKUPS_PER_MINUTE and CODE_LOOKUPS_PER_HOUR must not be negative")
	}
	if err := c.PrivacyConfig.validate(); err != nil {
		return err
	}
	if err := c.validateAccess(); err != nil {
		return err
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return fmt.Errorf("DATABASE_URL must start with postgres:// (or be unset for the embedded SQLite)")
	}
	return nil
}

// webhookReady reports whether the webhook can verify signatures.
func (c Config) webhookReady() bool { return c.ZaloAppID != "" && c.ZaloOASecretKey != "" }

func (c Config) slogLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return slog.LevelInfo
	}
	return l
}

// quietHours reads PUSH_QUIET_HOURS: "off", or "START-END" in local hours.
func (c Config) quietHours() (start, end int, off bool, err error) {
	v := strings.TrimSpace(c.PushQuietHours)
	if strings.EqualFold(v, "off") {
		return 0, 0, true, nil
	}
	a, b, ok := strings.Cut(v, "-")
	start, err1 := strconv.Atoi(strings.TrimSpace(a))
	end, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || start < 0 || start > 23 || end < 0 || end > 23 || start == end {
		return 0, 0, false, fmt.Errorf("PUSH_QUIET_HOURS must be \"off\" or two different hours like \"22-6\", got %q", c.PushQuietHours)
	}
	return start, end, false, nil
}

// infoImageURL is the picture of request_user_info forms, "" for none.
func (c Config) infoImageURL() string {
	switch v := strings.TrimSpace(c.ZaloInfoImageURL); v {
	case "off":
		return ""
	case "":
		return bot.InfoImageURL(c.PublicURL)
	default:
		return v
	}
}
