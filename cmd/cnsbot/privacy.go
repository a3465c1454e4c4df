package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/camau-cns/cnsbot/calendar/reminder"
	"github.com/camau-cns/cnsbot/store"
)

// PrivacyConfig is the personal-data part of the configuration: how long
// data is kept, and the key that encrypts the OA token pair at rest.
type PrivacyConfig struct {
	// RetentionRequests is how long a closed or cancelled help request
	// keeps the resident's name, phone, problem and photos.
	RetentionRequests period `env:"RETENTION_REQUESTS" envDefault:"12mo"`
	// RetentionDeadEvents is how long a dead event keeps its payload.
	RetentionDeadEvents period `env:"RETENTION_DEAD_EVENTS" envDefault:"30d"`
	// TokenKey (32 bytes, base64) encrypts the OA token pair in the
	// database; unset keeps it in plain text, with a warning at start.
	TokenKey string `env:"TOKEN_KEY"`
}

// period is a retention setting: whole months ("12mo"), days ("30d") or a
// Go duration ("720h"). A month is a twelfth of a year.
type period time.Duration

const month = time.Duration(365.25 / 12 * 24 * float64(time.Hour))

// UnmarshalText reads a period from the environment.
func (p *period) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	var d time.Duration
	switch {
	case strings.HasSuffix(s, "mo"):
		n, err := strconv.Atoi(strings.TrimSuffix(s, "mo"))
		if err != nil {
			return fmt.Errorf("period %q: want months like 12mo, days like 30d, or a duration like 720h", s)
		}
		d = time.Duration(n) * month
	case strings.HasSuffix(s, "d"):
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil {
			return fmt.Errorf("period %q: want months like 12mo, days like 30d, or a duration like 720h", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	default:
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return fmt.Errorf("period %q: want months like 12mo, days like 30d, or a duration like 720h", s)
		}
	}
	if d < 24*time.Hour {
		return fmt.Errorf("period %q: at least one day", s)
	}
	*p = period(d)
	return nil
}

func (c PrivacyConfig) validate() error {
	if c.TokenKey != "" {
		if _, err := store.ParseTokenKey(c.TokenKey); err != nil {
			return err
		}
	}
	return nil
}

// useTokenKey makes db keep the OA token pair encrypted, and refuses to
// start when the stored pair cannot be read with the key (or without one):
// a refresh must never start from a pair it could not read. Without a key
// the service runs, as the embedded default must, and says so.
func useTokenKey(ctx context.Context, c PrivacyConfig, db *store.DB, log *slog.Logger) error {
	if c.TokenKey == "" {
		log.Warn("TOKEN_KEY is not set: the OA token pair is stored in plain text in the database (set 32 random bytes in base64, e.g. openssl rand -base64 32)")
	} else {
		key, err := store.ParseTokenKey(c.TokenKey)
		if err != nil {
			return err
		}
		if err := db.SetTokenKey(key); err != nil {
			return err
		}
	}
	if _, err := db.LoadToken(ctx); errors.Is(err, store.ErrTokenKey) {
		return fmt.Errorf("OA token pair: %w", err)
	}
	return nil
}

// retention returns the retention pass of this configuration.
func retention(c PrivacyConfig, db *store.DB, sessions reminder.SessionDeleter) *reminder.Retention {
	return &reminder.Retention{Store: db, Sessions: sessions, Requests: time.Duration(c.RetentionRequests),
		DeadEvents: time.Duration(c.RetentionDeadEvents)}
}
