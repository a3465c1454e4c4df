package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/camau-cns/cnsbot"
	"gorm.io/gorm/clause"
)

// tokenRowID is the primary key of the one OA token row.
const tokenRowID = 1

// ErrTokenKey is returned (wrapped) when the stored token pair cannot be
// read with the configured key: the key is wrong, or missing while the
// pair is encrypted. It is never ENOTFOUND, so the token refresher cannot
// mistake it for "nothing stored" and fall back to another pair.
var ErrTokenKey = errors.New("wrong or missing TOKEN_KEY")

// sealedPrefix starts a token stored encrypted: "enc1:" and the base64 of
// the nonce and the AES-GCM ciphertext. Zalo's tokens never contain a
// colon, so a pair stored in plain text before is recognised as such.
const sealedPrefix = "enc1:"

// tokenSealer encrypts the token pair with AES-256-GCM.
type tokenSealer struct{ aead cipher.AEAD }

// ParseTokenKey decodes TOKEN_KEY: 32 random bytes in base64 (standard or
// URL alphabet, padded or not), e.g. from `openssl rand -base64 32`.
func ParseTokenKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil {
			if len(key) != 32 {
				return nil, fmt.Errorf("TOKEN_KEY is %d bytes, want 32 (openssl rand -base64 32)", len(key))
			}
			return key, nil
		}
	}
	return nil, errors.New("TOKEN_KEY is not base64 (openssl rand -base64 32 makes one)")
}

// SetTokenKey makes LoadToken and SaveToken keep the OA token pair
// encrypted with key (32 bytes, AES-256-GCM). Call it before the first
// token is read. A pair stored in plain text before is encrypted the
// first time it is read.
func (db *DB) SetTokenKey(key []byte) error {
	block, err := aes.NewCipher(key)
	if err != nil {
		return fmt.Errorf("token key: %w", err)
	}
	if len(key) != 32 {
		return fmt.Errorf("token key is %d bytes, want 32", len(key))
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return fmt.Errorf("token key: %w", err)
	}
	db.sealer = &tokenSealer{aead: aead}
	return nil
}

// seal encrypts a token; field (the column) is bound as additional data,
// so that an access token cannot pass for the refresh token.
func (s *tokenSealer) seal(field, plain string) (string, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal token: %w", err)
	}
	out := s.aead.Seal(nonce, nonce, []byte(plain), []byte(field))
	return sealedPrefix + base64.StdEncoding.EncodeToString(out), nil
}

func (s *tokenSealer) open(field, sealed string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sealed, sealedPrefix))
	if err != nil || len(raw) < s.aead.NonceSize() {
		return "", fmt.Errorf("stored %s token is damaged: %w", field, ErrTokenKey)
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(field))
	if err != nil {
		return "", fmt.Errorf("stored %s token does not decrypt with TOKEN_KEY (another key sealed it): %w", field, ErrTokenKey)
	}
	return string(plain), nil
}

// LoadToken returns the stored token pair, or an ENOTFOUND *cnsbot.Error when
// none has been stored yet. A pair that cannot be decrypted with the key
// is an error wrapping ErrTokenKey.
func (db *DB) LoadToken(ctx context.Context) (cnsbot.Token, error) {
	var row OAToken
	err := takeOne(db.orm.WithContext(ctx).Where("id = ?", tokenRowID), &row, "stored OA token")
	if err != nil {
		return cnsbot.Token{}, err
	}
	t := cnsbot.Token{Access: row.Access, Refresh: row.Refresh, ExpiresAt: row.ExpiresAt, UpdatedAt: row.UpdatedAt}
	sealed := strings.HasPrefix(row.Access, sealedPrefix) || strings.HasPrefix(row.Refresh, sealedPrefix)
	switch {
	case sealed && db.sealer == nil:
		return cnsbot.Token{}, fmt.Errorf("load token: the stored pair is encrypted and TOKEN_KEY is not set: %w", ErrTokenKey)
	case sealed:
		if t.Access, err = db.sealer.open("access", row.Access); err != nil {
			return cnsbot.Token{}, fmt.Errorf("load token: %w", err)
		}
		if t.Refresh, err = db.sealer.open("refresh", row.Refresh); err != nil {
			return cnsbot.Token{}, fmt.Errorf("load token: %w", err)
		}
	case db.sealer != nil:
		db.resealToken(ctx, row)
	}
	return t, nil
}

// resealToken encrypts a pair stored in plain text before a key was set.
// It changes the row only if it still holds that pair: a replica that
// refreshed meanwhile stored a newer one, which must not be overwritten
// (Zalo's refresh tokens are single-use). A failure leaves the pair as it
// was, to be encrypted at the next read.
func (db *DB) resealToken(ctx context.Context, row OAToken) {
	access, err := db.sealer.seal("access", row.Access)
	if err != nil {
		db.log.Warn("token pair not encrypted yet", "err", err)
		return
	}
	refresh, err := db.sealer.seal("refresh", row.Refresh)
	if err != nil {
		db.log.Warn("token pair not encrypted yet", "err", err)
		return
	}
	res := db.orm.WithContext(ctx).Model(&OAToken{}).
		Where("id = ? AND access = ? AND refresh = ?", tokenRowID, row.Access, row.Refresh).
		Updates(map[string]any{"access": access, "refresh": refresh})
	if res.Error != nil {
		db.log.Warn("token pair not encrypted yet", "err", res.Error)
		return
	}
	if res.RowsAffected == 1 {
		db.log.Info("OA token pair stored in plain text is now encrypted with TOKEN_KEY")
	}
}

// SaveToken stores t, replacing the previous pair, encrypted when a key
// is set. UpdatedAt is set to now when t leaves it zero.
func (db *DB) SaveToken(ctx context.Context, t cnsbot.Token) error {
	updated := t.UpdatedAt
	if updated.IsZero() {
		updated = time.Now()
	}
	row := OAToken{
		ID:        tokenRowID,
		Access:    t.Access,
		Refresh:   t.Refresh,
		ExpiresAt: t.ExpiresAt.UTC(),
		UpdatedAt: updated.UTC(),
	}
	if db.sealer != nil {
		var err error
		if row.Access, err = db.sealer.seal("access", t.Access); err != nil {
			return fmt.Errorf("save token: %w", err)
		}
		if row.Refresh, err = db.sealer.seal("refresh", t.Refresh); err != nil {
			return fmt.Errorf("save token: %w", err)
		}
	}
	err := db.orm.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "id"}},
		DoUpdates: clause.AssignmentColumns([]string{"access", "refresh", "expires_at", "updated_at"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("save token: %w", err)
	}
	return nil
}
