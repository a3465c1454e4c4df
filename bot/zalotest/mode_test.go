package zalotest_test

import (
	"testing"

	"github.com/camau-cns/cnsbot/bot/zalotest"
)

// TestModes sends one message of each kind in each mode and checks which
// the fake refuses, with which code, and that switching back to normal
// ends the mode's refusals.
func TestModes(t *testing.T) {
	const (
		text  = `{"recipient":{"user_id":"u1"},"message":{"text":"x"}}`
		list  = `{"recipient":{"user_id":"u1"},"message":{"attachment":{"type":"template","payload":{"template_type":"list","elements":[{"title":"t"}],"buttons":[{"title":"a","type":"oa.query.show","payload":"#a"}]}}}}`
		group = `{"recipient":{"group_id":"g1"},"message":{"text":"x"}}`
		trans = `{"recipient":{"user_id":"u1"},"message":{"attachment":{"type":"template","payload":{"template_type":"transaction_event","language":"VI","elements":[{"type":"header","content":"h"},{"type":"text","content":"t"}]}}}}`
	)
	sends := []struct{ kind, path, body string }{
		{"text", "/v3.0/oa/message/cs", text},
		{"list", "/v3.0/oa/message/cs", list},
		{"group", "/v3.0/oa/group/message", group},
		{"transaction", "/v3.0/oa/message/transaction", trans},
	}
	want := map[zalotest.Mode]map[string]int{
		zalotest.ModeNormal:             {},
		zalotest.ModeListsRefused:       {"list": zalotest.ListRefusedCode},
		zalotest.ModeTransactionRefused: {"transaction": zalotest.TransactionRefusedCode},
		zalotest.ModeSetupFault: {"text": zalotest.SetupFaultCode, "list": zalotest.SetupFaultCode,
			"group": zalotest.SetupFaultCode, "transaction": zalotest.SetupFaultCode},
	}
	for _, m := range zalotest.Modes {
		t.Run(string(m), func(t *testing.T) {
			z := zalotest.Start(t, zalotest.WithMode(m))
			if z.Mode() != m {
				t.Errorf("Mode() = %q, want %q", z.Mode(), m)
			}
			access, _, _ := z.Tokens()
			for _, s := range sends {
				if code, _ := post(t, z, s.path, access, s.body); code != want[m][s.kind] {
					t.Errorf("%s in mode %s: got code %d, want %d", s.kind, m, code, want[m][s.kind])
				}
			}
			z.SetMode(zalotest.ModeNormal)
			for _, s := range sends {
				if code, _ := post(t, z, s.path, access, s.body); code != 0 {
					t.Errorf("%s after leaving mode %s: got code %d, want 0", s.kind, m, code)
				}
			}
		})
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]zalotest.Mode{"": zalotest.ModeNormal, "Lists-Refused": zalotest.ModeListsRefused,
		" setup-fault": zalotest.ModeSetupFault, "transaction-refused": zalotest.ModeTransactionRefused} {
		if got, err := zalotest.ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := zalotest.ParseMode("lists"); err == nil {
		t.Error("ParseMode accepted an unknown mode")
	}
	t.Setenv(zalotest.ModeEnv, "transaction-refused")
	if m, err := zalotest.ModeFromEnv(); err != nil || m != zalotest.ModeTransactionRefused {
		t.Errorf("ModeFromEnv = %q, %v", m, err)
	}
}

// TestTransactionButtons: the fake takes a transaction message's buttons
// as Zalo's v3 page describes them (image_icon present, titles of at most
// 35 characters) and refuses others with -201.
func TestTransactionButtons(t *testing.T) {
	z := zalotest.Start(t)
	access, _, _ := z.Tokens()
	body := func(button string) string {
		return `{"recipient":{"user_id":"u1"},"message":{"attachment":{"type":"template","payload":{"template_type":"transaction_event",` +
			`"elements":[{"type":"header","content":"h"}],"buttons":[` + button + `]}}}}`
	}
	for button, want := range map[string]int{
		`{"title":"Nộp báo cáo","type":"oa.query.hide","payload":"#bc","image_icon":"default"}`:                      0,
		`{"title":"Nộp báo cáo","type":"oa.query.hide","payload":"#bc","image_icon":""}`:                             0,
		`{"title":"Nộp báo cáo","type":"oa.query.hide","payload":"#bc"}`:                                             -201,
		`{"title":"Một tiêu đề nút dài hơn ba mươi lăm chữ","type":"oa.query.hide","payload":"#bc","image_icon":""}`: -201,
	} {
		if code, _ := post(t, z, "/v3.0/oa/message/transaction", access, body(button)); code != want {
			t.Errorf("%s: got %d, want %d", button, code, want)
		}
	}
}
