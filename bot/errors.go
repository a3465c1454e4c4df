package bot

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/camau-cns/cnsbot"
)

// APIError is an error answer from Zalo: a non-zero "error" in the body of
// an HTTP 200 answer, or an HTTP status other than 200.
type APIError struct {
	// Code is Zalo's error code; 0 when only the HTTP status failed.
	Code int
	// Message is Zalo's message (English, never shown to users).
	Message string
	// Status is the HTTP status when it was not 200, else 0.
	Status int
}

func (e *APIError) Error() string {
	switch {
	case e.Code != 0 && e.Status != 0:
		return fmt.Sprintf("zalo error %d (HTTP %d): %s", e.Code, e.Status, e.Message)
	case e.Code != 0:
		return fmt.Sprintf("zalo error %d: %s", e.Code, e.Message)
	default:
		return fmt.Sprintf("zalo HTTP %d: %s", e.Status, e.Message)
	}
}

// Class says what to do about a failed call.
type Class int

// Error classes, from zalo-oa.md's table.
const (
	// ClassNone is the class of a nil error.
	ClassNone Class = iota
	// ClassRetry: transient (rate limit -32, network, timeouts, 5xx, 429);
	// keep the message and retry with backoff.
	ClassRetry
	// ClassRefresh: the access token is invalid or expired (-216, -220);
	// refresh once and retry once.
	ClassRefresh
	// ClassPermanent: the user cannot be reached privately (-213, -217,
	// -227, -230, -232, -244); do not retry, record undeliverable, maybe
	// fall back to a group.
	ClassPermanent
	// ClassNight: no sending at night (-234); hold until the morning.
	ClassNight
	// ClassQuota: the OA's quota is used up (-211, -218); back off long, alert.
	ClassQuota
	// ClassBug: Zalo refused the request's shape (-201) or answered a code
	// this service does not know; do not retry, log the request's shape.
	ClassBug
	// ClassGroupGone: the OA is not in the group or the group is disabled
	// (-403, -237); do not retry, alert.
	ClassGroupGone
	// ClassUserQuota: the quota of messages to this one person is used up
	// (-218); hold that person's message, never the whole partition.
	ClassUserQuota
	// ClassSetup: the OA is not set up for this API (-209 app not active,
	// -212 API not registered, -221 OA not verified, -223 OA did not grant
	// the API, -224 a paid package is needed). Every message would fail
	// alike: hold them all and alert the operator, drop none.
	ClassSetup
)

var classNames = [...]string{"none", "retry", "refresh", "permanent", "night", "quota", "bug", "group_gone", "user_quota", "setup"}

func (c Class) String() string {
	if c >= 0 && int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// codeClasses maps Zalo's codes to classes. -124 is the access-token error
// of Zalo's older API versions, still seen in community code (unsure), so
// it is treated like -216.
var codeClasses = map[int]Class{
	-32:  ClassRetry,
	-124: ClassRefresh,
	-216: ClassRefresh,
	-220: ClassRefresh,
	-213: ClassPermanent,
	-217: ClassPermanent,
	-227: ClassPermanent,
	-230: ClassPermanent,
	-232: ClassPermanent,
	-244: ClassPermanent,
	-234: ClassNight,
	-211: ClassQuota,
	-218: ClassUserQuota,
	-209: ClassSetup,
	-212: ClassSetup,
	-221: ClassSetup,
	-223: ClassSetup,
	-224: ClassSetup,
	-201: ClassBug,
	-403: ClassGroupGone,
	-237: ClassGroupGone,
}

// reasons are stable, machine-readable words for the delivery log (an admin
// screen translates them; they are not shown to chat users as they are).
var reasons = map[int]string{
	-32:  "rate_limited",
	-201: "invalid_request",
	-211: "quota",
	-218: "user_quota",
	-209: "app_not_active",
	-212: "api_not_registered",
	-221: "oa_not_verified",
	-223: "api_not_granted",
	-224: "package_needed",
	-213: "not_follower",
	-217: "blocked",
	-227: "inactive",
	-230: "outside_window",
	-232: "outside_window",
	-244: "restricted",
	-234: "night",
	-403: "oa_not_in_group",
	-237: "group_disabled",
}

// SetupReasons are the delivery-log reasons of the OA setup faults: the
// messages held with them wait for the OA to be fixed, not for a time.
func SetupReasons() []string {
	var out []string
	for code, class := range codeClasses {
		if class == ClassSetup {
			out = append(out, reasons[code])
		}
	}
	slices.Sort(out)
	return out
}

// Classify returns what to do about err from a Client call.
//
// Zalo answers its own errors with HTTP 200, so an HTTP error without a
// Zalo code comes from something in between (a proxy, a load balancer, a
// wrong base URL): it is retried, so that a configuration mistake delays
// messages instead of losing them. OAuth errors (codes -14xxx, from a
// failed token refresh) are retried for the same reason: the messages wait
// until an admin re-authorises the OA. Unknown Zalo codes are ClassBug:
// retrying a deterministic refusal would block the recipient's queue.
func Classify(err error) Class {
	if err == nil {
		return ClassNone
	}
	var ae *APIError
	if errors.As(err, &ae) {
		if ae.Code != 0 {
			if c, ok := codeClasses[ae.Code]; ok {
				return c
			}
			if ae.Code <= -14000 && ae.Code > -15000 {
				return ClassRetry
			}
			return ClassBug
		}
		return ClassRetry
	}
	var ce *cnsbot.Error
	if errors.As(err, &ce) && ce.Code == cnsbot.EINVALID {
		return ClassBug
	}
	// Network errors, timeouts, cancellation, a token that cannot be had
	// right now: all transient from the message's point of view.
	return ClassRetry
}

// reauthCodes are the OAuth answers that mean the refresh token is dead
// (spent, revoked or expired): only a person re-authorising the OA helps.
var reauthCodes = map[int]bool{-14014: true, -14020: true}

// NeedsReauth reports whether err is a token refresh that failed because
// a person must re-authorise the OA (see Tokens.Health).
func NeedsReauth(err error) bool {
	if errors.Is(err, errReauth) {
		return true
	}
	var ae *APIError
	return errors.As(err, &ae) && reauthCodes[ae.Code]
}

// Code returns the Zalo error code in err's chain, or 0.
func Code(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return 0
}

// Reason returns a stable word describing err for the delivery log:
// "not_follower", "outside_window", "night", "invalid_request", and so on.
func Reason(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		if r, ok := reasons[ae.Code]; ok {
			return r
		}
		if ae.Code != 0 {
			return fmt.Sprintf("zalo_%d", -ae.Code)
		}
		return fmt.Sprintf("http_%d", ae.Status)
	}
	var ce *cnsbot.Error
	if errors.As(err, &ce) {
		return ce.Code
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "error"
}

// RetryDelay suggests the least time to wait before retrying err: a minute
// for Zalo's per-minute rate limit, a quarter of an hour for a used-up
// quota, Retry-After-like pauses for 429 and 503. Zero means the caller's
// own backoff is fine.
func RetryDelay(err error) time.Duration {
	var ae *APIError
	if !errors.As(err, &ae) {
		return 0
	}
	switch {
	case ae.Code == -32:
		return time.Minute
	case ae.Code == -211 || ae.Code == -218 || Classify(err) == ClassSetup:
		return 15 * time.Minute
	case ae.Code == 0 && (ae.Status == http.StatusTooManyRequests || ae.Status == http.StatusServiceUnavailable):
		return 5 * time.Second
	}
	return 0
}
