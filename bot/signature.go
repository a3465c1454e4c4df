package bot

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
)

// SignatureHeader is the request header in which Zalo sends an event's signature.
const SignatureHeader = "X-ZEvent-Signature"

// Sign returns the signature Zalo puts on a webhook event: the lower-case hex
// SHA-256 of app_id + raw body + timestamp + OA secret key. It is a plain
// hash of the concatenation, not an HMAC; that is Zalo's scheme, not ours.
func Sign(appID string, body []byte, timestamp, secret string) string {
	sum := signatureSum(appID, body, timestamp, secret)
	return hex.EncodeToString(sum[:])
}

// Verify reports whether header is a valid signature of body for the given
// app id, event timestamp and OA secret key.
//
// Zalo documents the header as "mac=<64 lower-case hex>". Community
// integrations disagree on whether the "mac=" prefix is always present and on
// the hex case, and a wrongly refused event is re-sent by Zalo for hours before
// the webhook is disabled, so a bare hex value and upper-case hex are accepted
// too. Neither widens what an attacker can forge: the 32 bytes compared are the
// same. An empty secret never verifies, so an unconfigured service cannot be
// fooled by someone who hashes without one.
func Verify(appID, secret string, body []byte, timestamp, header string) bool {
	if secret == "" {
		return false
	}
	mac := strings.TrimSpace(header)
	if len(mac) >= 4 && strings.EqualFold(mac[:4], "mac=") {
		mac = strings.TrimSpace(mac[4:])
	}
	var got [sha256.Size]byte
	if len(mac) != 2*sha256.Size {
		return false
	}
	if _, err := hex.Decode(got[:], []byte(mac)); err != nil {
		return false
	}
	want := signatureSum(appID, body, timestamp, secret)
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// signatureSum hashes the four parts in one pass. Concatenating them into one
// buffer costs a copy of the body but keeps the hash state on the stack, and
// a typical event fits in a stack buffer: no allocation on the hot path.
func signatureSum(appID string, body []byte, timestamp, secret string) [sha256.Size]byte {
	var stack [2048]byte
	buf := stack[:0]
	if n := len(appID) + len(body) + len(timestamp) + len(secret); n > len(stack) {
		buf = make([]byte, 0, n)
	}
	buf = append(buf, appID...)
	buf = append(buf, body...)
	buf = append(buf, timestamp...)
	buf = append(buf, secret...)
	return sha256.Sum256(buf)
}
