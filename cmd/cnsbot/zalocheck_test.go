package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/bot/zalotest"
	"github.com/camau-cns/cnsbot/store"
)

const (
	checkAdmin = "5510185758261927999"
	checkGroup = "8423195712086419999"
)

// runCheck runs `cnsbot zalo check` with args and returns its table, its
// error and the capabilities it stored.
func runCheck(t *testing.T, cfg Config, args ...string) (string, error, map[string]bot.Capability) {
	t.Helper()
	var out bytes.Buffer
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	err := zaloCmd(context.Background(), append([]string{"check"}, args...), &out, cfg, log)
	db, oerr := store.Open(context.Background(), cfg.DatabaseURL, "", log)
	if oerr != nil {
		t.Fatal(oerr)
	}
	defer db.Close()
	caps, cerr := db.LoadCapabilities(context.Background())
	if cerr != nil {
		t.Fatal(cerr)
	}
	return out.String(), err, caps
}

// rowOf returns the table's line for check what, with its columns
// separated by single spaces.
func rowOf(t *testing.T, table, what string) string {
	t.Helper()
	for _, line := range strings.Split(table, "\n") {
		if strings.HasPrefix(line, what+"  ") {
			return strings.Join(strings.Fields(line), " ")
		}
	}
	t.Fatalf("no row %q in\n%s", what, table)
	return ""
}

// TestZaloCheck runs the go-live self-test against the fake Zalo in each of
// its modes and checks every row of the table, the exit, the refreshed
// token pair and the capabilities written for serve.
func TestZaloCheck(t *testing.T) {
	args := []string{"--to", checkAdmin, "--group", checkGroup}
	t.Run("all accepted, expired token refreshed and stored", func(t *testing.T) {
		z := zalotest.Start(t, zalotest.WithApp(e2eAppID, "check-app-secret"))
		z.SetOA(zalotest.OA{Name: "Tổ CNS Cà Mau", Verified: true, Package: "Nâng cao"})
		cfg := testConfig(t, z)
		cfg.ReminderChannel = "transaction"
		z.ExpireToken()
		table, err, caps := runCheck(t, cfg, args...)
		if err != nil {
			t.Fatalf("got %v, want success:\n%s", err, table)
		}
		for what, want := range map[string]string{
			"access token":             "access token accepted loaded",
			"OA profile (token works)": "OA profile (token works) accepted Tổ CNS Cà Mau (id " + z.OAID() + ", verified true, package Nâng cao)",
			"text":                     "text accepted",
			"list (buttons)":           "list (buttons) accepted",
			"request_user_info (form)": "request_user_info (form) accepted",
			"image":                    "image accepted",
			"group text":               "group text accepted",
			"transaction (reminders)":  "transaction (reminders) accepted",
			"refresh token":            "refresh token accepted refreshed (the access token had expired); the new pair is stored",
		} {
			if got := rowOf(t, table, what); got != want {
				t.Errorf("row %q: got %q, want %q", what, got, want)
			}
		}
		if z.Refreshes() != 1 {
			t.Errorf("got %d refreshes, want 1 (the token had expired)", z.Refreshes())
		}
		db, err := store.Open(context.Background(), cfg.DatabaseURL, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		stored, err := db.LoadToken(context.Background())
		access, refresh, _ := z.Tokens()
		if err != nil || stored.Access != access || stored.Refresh != refresh {
			t.Errorf("stored pair %v (%v) is not the refreshed one", stored.Access == access, err)
		}
		for _, f := range []string{bot.FeatureText, bot.FeatureList, bot.FeatureRequestInfo, bot.FeatureImage, bot.FeatureGroupText} {
			if c, ok := caps[f]; !ok || c.Refused {
				t.Errorf("capability %s: got %+v (%v), want accepted", f, c, ok)
			}
		}
		if n := len(z.MessagesTo(checkAdmin)); n != 5 {
			t.Errorf("admin got %d messages, want 5 (text, list, form, image, transaction)", n)
		}
	})
	t.Run("lists, forms and images refused", func(t *testing.T) {
		z := zalotest.Start(t, zalotest.WithApp(e2eAppID, "check-app-secret"))
		cfg := testConfig(t, z)
		z.Refuse(zalotest.KindList, -201)
		z.Refuse(zalotest.KindRequestInfo, -201)
		z.Refuse(zalotest.KindImage, -233)
		z.Refuse(zalotest.KindTransaction, -224)
		cfg.ReminderChannel = "transaction"
		table, err, caps := runCheck(t, cfg, args...)
		if err != nil {
			t.Fatalf("got %v, want success (text works; the rest degrades):\n%s", err, table)
		}
		for what, want := range map[string]string{
			"list (buttons)":           "list (buttons) REFUSED -201 invalid_request",
			"request_user_info (form)": "request_user_info (form) REFUSED -201 invalid_request",
			"image":                    "image REFUSED -233 zalo_233",
			"transaction (reminders)":  "transaction (reminders) REFUSED -224 package_needed: the OA is not set up for this API in Zalo's console",
			"text":                     "text accepted",
		} {
			if got := rowOf(t, table, what); got != want {
				t.Errorf("row %q: got %q, want %q", what, got, want)
			}
		}
		if c := caps[bot.FeatureList]; !c.Refused || c.Code != -201 {
			t.Errorf("list capability %+v, want refused -201", c)
		}
		if c := caps[bot.FeatureTransaction]; !c.Refused || c.Code != -224 {
			t.Errorf("transaction capability %+v, want refused -224", c)
		}
		if c := caps[bot.FeatureImage]; !c.Refused || c.Code != -233 {
			t.Errorf("image capability %+v, want refused -233", c)
		}

		// serve starts with what the check learnt: the menu goes as
		// numbered text at once, without trying a list first.
		before := z.Rejected()[-201]
		r := start(t, cfg, true)
		body, sig := signedEvent("user_send_text", "5510185758261927916", "chk1", "menu")
		if got := post(t, r.url, body, sig); got != http.StatusOK {
			t.Fatalf("webhook: %d", got)
		}
		msgs := waitMessages(t, z, "5510185758261927916", 1)
		if msgs[0].Kind != zalotest.KindText || !strings.Contains(msgs[0].Text, "\n1. ") {
			t.Errorf("got a %s %q, want the menu as numbered text", msgs[0].Kind, msgs[0].Text)
		}
		if got := z.Rejected()[-201]; got != before {
			t.Errorf("serve tried a list Zalo is known to refuse (%d refusals, want %d)", got, before)
		}
	})
	t.Run("setup fault", func(t *testing.T) {
		z := zalotest.Start(t, zalotest.WithApp(e2eAppID, "check-app-secret"))
		cfg := testConfig(t, z)
		z.SetupFault(-224)
		table, err, caps := runCheck(t, cfg, args...)
		if err == nil {
			t.Fatalf("a setup fault passed the check:\n%s", table)
		}
		if got := rowOf(t, table, "OA profile (token works)"); !strings.HasPrefix(got, "OA profile (token works) REFUSED -224 package_needed: the OA is not set up") {
			t.Errorf("got %q", got)
		}
		if got := rowOf(t, table, "text"); !strings.HasPrefix(got, "text REFUSED -224") {
			t.Errorf("got %q", got)
		}
		if len(caps) != 0 {
			t.Errorf("a setup fault was learnt as capabilities %v; it says nothing of the kinds", caps)
		}
	})
	t.Run("dead refresh token", func(t *testing.T) {
		z := zalotest.Start(t, zalotest.WithApp(e2eAppID, "check-app-secret"))
		cfg := testConfig(t, z)
		z.ExpireToken()
		z.KillRefreshToken(zalotest.RefreshEmptyBody)
		table, err, _ := runCheck(t, cfg)
		if err == nil {
			t.Fatalf("a dead refresh token passed the check:\n%s", table)
		}
		if got := rowOf(t, table, "refresh token"); !strings.Contains(got, "re-authorise the OA") {
			t.Errorf("got %q, want re-authorise", got)
		}
		if got := rowOf(t, table, "messages"); !strings.Contains(got, "skipped") {
			t.Errorf("without --to got %q, want the messages skipped", got)
		}
	})
	t.Run("refresh token not spent, no picture", func(t *testing.T) {
		z := zalotest.Start(t, zalotest.WithApp(e2eAppID, "check-app-secret"))
		cfg := testConfig(t, z)
		cfg.ZaloInfoImageURL = "off"
		table, err, caps := runCheck(t, cfg, "--to", checkAdmin)
		if err != nil {
			t.Fatalf("got %v, want success:\n%s", err, table)
		}
		for what, want := range map[string]string{
			"refresh token":            "refresh token skipped not checked: it is single-use, so only spending it proves it; --refresh spends it and stores the new pair",
			"request_user_info (form)": "request_user_info (form) skipped not tried: no PUBLIC_URL or ZALO_INFO_IMAGE_URL; forms are asked as text",
			"image":                    "image skipped not tried: no public image URL",
		} {
			if got := rowOf(t, table, what); got != want {
				t.Errorf("row %q: got %q, want %q", what, got, want)
			}
		}
		if n := z.Refreshes(); n != 0 {
			t.Errorf("the refresh token was spent %d times without --refresh", n)
		}
		if _, ok := caps[bot.FeatureRequestInfo]; ok {
			t.Errorf("a form not tried was learnt: %v", caps)
		}
	})
	t.Run("--refresh spends the refresh token and stores the new pair", func(t *testing.T) {
		z := zalotest.Start(t, zalotest.WithApp(e2eAppID, "check-app-secret"))
		cfg := testConfig(t, z)
		_, oldRefresh, _ := z.Tokens()
		table, err, _ := runCheck(t, cfg, "--refresh")
		if err != nil {
			t.Fatalf("got %v, want success:\n%s", err, table)
		}
		if got, want := rowOf(t, table, "refresh token"), "refresh token accepted refreshed (--refresh); the new pair is stored"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
		if n := z.Refreshes(); n != 1 {
			t.Errorf("got %d refreshes, want 1", n)
		}
		db, err := store.Open(context.Background(), cfg.DatabaseURL, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		stored, err := db.LoadToken(context.Background())
		access, refresh, _ := z.Tokens()
		if err != nil || stored.Access != access || stored.Refresh != refresh || refresh == oldRefresh {
			t.Errorf("stored pair is not the new one (access %v, refresh %v, changed %v; %v)",
				stored.Access == access, stored.Refresh == refresh, refresh != oldRefresh, err)
		}
		// serve starts with the stored pair, not the spent one from the
		// environment: its first send needs no refresh.
		r := start(t, cfg, true)
		body, sig := signedEvent("user_send_text", "5510185758261927916", "chk-r1", "menu")
		if got := post(t, r.url, body, sig); got != http.StatusOK {
			t.Fatalf("webhook: %d", got)
		}
		if msgs := waitMessages(t, z, "5510185758261927916", 1); msgs[0].AccessToken != access {
			t.Errorf("serve sent with another token than the stored one")
		}
	})
	t.Run("--refresh with a dead refresh token", func(t *testing.T) {
		z := zalotest.Start(t, zalotest.WithApp(e2eAppID, "check-app-secret"))
		cfg := testConfig(t, z)
		z.KillRefreshToken(zalotest.RefreshCode14014)
		table, err, _ := runCheck(t, cfg, "--refresh")
		if err == nil {
			t.Fatalf("a dead refresh token passed the check:\n%s", table)
		}
		if got := rowOf(t, table, "refresh token"); !strings.HasPrefix(got, "refresh token REFUSED -14014 token refresh refused") ||
			!strings.Contains(got, "re-authorise the OA") {
			t.Errorf("got %q, want refused -14014 and re-authorise", got)
		}
	})
	t.Run("no token at all", func(t *testing.T) {
		z := zalotest.Start(t, zalotest.WithApp(e2eAppID, "check-app-secret"))
		cfg := testConfig(t, z)
		cfg.ZaloAccessToken, cfg.ZaloRefreshToken = "", ""
		table, err, _ := runCheck(t, cfg, args...)
		if err == nil {
			t.Fatalf("a check without a token passed:\n%s", table)
		}
		if got := rowOf(t, table, "access token"); !strings.HasPrefix(got, "access token REFUSED") {
			t.Errorf("got %q", got)
		}
		if z.Count() != 0 {
			t.Errorf("%d messages sent without a token", z.Count())
		}
	})
	t.Run("OA not in the group", func(t *testing.T) {
		z := zalotest.Start(t, zalotest.WithApp(e2eAppID, "check-app-secret"))
		cfg := testConfig(t, z)
		z.SetFault(zalotest.FailUsers(-403, checkGroup))
		table, err, caps := runCheck(t, cfg, "--group", checkGroup)
		if err != nil {
			t.Fatalf("got %v; a group the OA is not in should not fail the check (teams add it later):\n%s", err, table)
		}
		if got, want := rowOf(t, table, "group text"), "group text REFUSED -403 oa_not_in_group: add the OA to the group"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
		if _, ok := caps[bot.FeatureGroupText]; ok {
			t.Errorf("one group's refusal was learnt as the OA's: %v", caps)
		}
	})
	t.Run("recipient outside the window", func(t *testing.T) {
		z := zalotest.Start(t, zalotest.WithApp(e2eAppID, "check-app-secret"))
		cfg := testConfig(t, z)
		z.SetFault(zalotest.FailUsers(-230, checkAdmin))
		table, err, caps := runCheck(t, cfg, "--to", checkAdmin)
		if err == nil {
			t.Fatalf("a refused text passed the check:\n%s", table)
		}
		if got := rowOf(t, table, "text"); !strings.Contains(got, "-230 outside_window: write to the OA") {
			t.Errorf("got %q", got)
		}
		if _, ok := caps[bot.FeatureList]; ok {
			t.Errorf("a refusal of the recipient was learnt as a capability: %v", caps)
		}
	})
}
