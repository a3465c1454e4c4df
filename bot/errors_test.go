package bot_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot"
)

func TestClassifyZaloCodes(t *testing.T) {
	// Every code of zalo-oa.md's table, plus the edges.
	tests := []struct {
		code   int
		want   bot.Class
		reason string
	}{
		{-32, bot.ClassRetry, "rate_limited"},
		{-216, bot.ClassRefresh, "zalo_216"},
		{-220, bot.ClassRefresh, "zalo_220"},
		{-124, bot.ClassRefresh, "zalo_124"},
		{-213, bot.ClassPermanent, "not_follower"},
		{-217, bot.ClassPermanent, "blocked"},
		{-227, bot.ClassPermanent, "inactive"},
		{-244, bot.ClassPermanent, "restricted"},
		{-230, bot.ClassPermanent, "outside_window"},
		{-232, bot.ClassPermanent, "outside_window"},
		{-234, bot.ClassNight, "night"},
		{-211, bot.ClassQuota, "quota"},
		{-218, bot.ClassUserQuota, "user_quota"},
		{-209, bot.ClassSetup, "app_not_active"},
		{-224, bot.ClassSetup, "package_needed"},
		{-403, bot.ClassGroupGone, "oa_not_in_group"},
		{-237, bot.ClassGroupGone, "group_disabled"},
		{-201, bot.ClassBug, "invalid_request"},
		{-999, bot.ClassBug, "zalo_999"},
		{-14020, bot.ClassRetry, "zalo_14020"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			err := fmt.Errorf("send text: %w", &bot.APIError{Code: tt.code, Message: "m"})
			if got := bot.Classify(err); got != tt.want {
				t.Errorf("Classify(%d): got %v, want %v", tt.code, got, tt.want)
			}
			if got := bot.Code(err); got != tt.code {
				t.Errorf("Code: got %d, want %d", got, tt.code)
			}
			if got := bot.Reason(err); got != tt.reason {
				t.Errorf("Reason: got %q, want %q", got, tt.reason)
			}
		})
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

var _ net.Error = timeoutErr{}

func TestClassifyOtherErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bot.Class
	}{
		{"nil", nil, bot.ClassNone},
		{"HTTP 500", &bot.APIError{Status: 500}, bot.ClassRetry},
		{"HTTP 502", &bot.APIError{Status: 502}, bot.ClassRetry},
		{"HTTP 429", &bot.APIError{Status: 429}, bot.ClassRetry},
		{"HTTP 404 from a proxy", &bot.APIError{Status: 404}, bot.ClassRetry},
		{"HTTP 500 with a Zalo code", &bot.APIError{Status: 500, Code: -230}, bot.ClassPermanent},
		{"deadline", fmt.Errorf("send: %w", context.DeadlineExceeded), bot.ClassRetry},
		{"canceled", context.Canceled, bot.ClassRetry},
		{"net timeout", &url.Error{Op: "Post", URL: "x", Err: timeoutErr{}}, bot.ClassRetry},
		{"connection refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, bot.ClassRetry},
		{"invalid request", cnsbot.Errorf(cnsbot.EINVALID, "6 buttons"), bot.ClassBug},
		{"no token yet", cnsbot.Errorf(cnsbot.EUNAVAILABLE, "no token"), bot.ClassRetry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := bot.Classify(tt.err); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRetryDelay(t *testing.T) {
	tests := []struct {
		err  error
		want time.Duration
	}{
		{&bot.APIError{Code: -32}, time.Minute},
		{&bot.APIError{Code: -211}, 15 * time.Minute},
		{&bot.APIError{Status: 429}, 5 * time.Second},
		{&bot.APIError{Status: 500}, 0},
		{context.DeadlineExceeded, 0},
	}
	for _, tt := range tests {
		if got := bot.RetryDelay(tt.err); got != tt.want {
			t.Errorf("RetryDelay(%v): got %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestAPIErrorText(t *testing.T) {
	tests := []struct {
		err  *bot.APIError
		want string
	}{
		{&bot.APIError{Code: -230, Message: "no interaction"}, "zalo error -230: no interaction"},
		{&bot.APIError{Status: 503, Message: "Service Unavailable"}, "zalo HTTP 503: Service Unavailable"},
		{&bot.APIError{Code: -32, Status: 429, Message: "slow down"}, "zalo error -32 (HTTP 429): slow down"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}
