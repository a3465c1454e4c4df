package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/store"
)

// zaloCmd runs the Zalo subcommands:
//
//	cnsbot zalo check [--to USER_ID] [--group GROUP_ID] [--refresh]
func zaloCmd(ctx context.Context, args []string, stdout io.Writer, cfg Config, log *slog.Logger) error {
	if len(args) == 0 || args[0] != "check" {
		return errors.New("usage: cnsbot zalo check [--to USER_ID] [--group GROUP_ID] [--refresh]")
	}
	fs := flag.NewFlagSet("zalo check", flag.ContinueOnError)
	fs.SetOutput(stdout)
	to := fs.String("to", "", "an admin's own Zalo user id (OA-scoped): send one message of each kind to it")
	group := fs.String("group", "", "a team's Zalo group id: send one text to it")
	refresh := fs.Bool("refresh", false, "spend the refresh token (it is single-use) to prove it works, and store the new pair as serve does")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("zalo check: unexpected arguments %q", fs.Args())
	}
	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir, log)
	if err != nil {
		return fmt.Errorf("zalo check: open database: %w", err)
	}
	defer db.Close()
	if cfg.Migrate {
		if err := db.Migrate(ctx); err != nil {
			return fmt.Errorf("zalo check: migrate: %w", err)
		}
	}
	if err := useTokenKey(ctx, cfg.PrivacyConfig, db, log); err != nil {
		return err
	}
	// The refresh lock is the one serve takes, so that a check run beside
	// a running service never spends the single-use refresh token twice.
	var locks bot.Locker
	if cfg.RedisURL != "" {
		rdb, closeRedis, err := store.ConnectRedis(ctx, cfg.RedisURL, log)
		if err != nil {
			return fmt.Errorf("zalo check: connect redis: %w", err)
		}
		defer closeRedis()
		locks = store.NewLocks(rdb, cfg.RedisPrefix)
	}
	hc := bot.NewHTTPClient(15 * time.Second)
	tokens := bot.NewTokens(bot.TokenConfig{
		AppID: cfg.ZaloAppID, AppSecret: cfg.ZaloAppSecret, OAuthBase: cfg.ZaloOAuthBase,
		Initial: cnsbot.Token{Access: cfg.ZaloAccessToken, Refresh: cfg.ZaloRefreshToken},
	}, db, locks, hc, log, nil)
	client := bot.NewClient(cfg.ZaloAPIBase, tokens, hc, nil)
	rows, err := zaloCheck(ctx, client, tokens, db, zaloCheckTargets{user: *to, group: *group, image: cfg.infoImageURL(),
		transaction: cfg.ReminderChannel == "transaction", refresh: *refresh})
	printCheck(stdout, rows)
	return err
}

// zaloCheckTargets are where the check sends its test messages.
type zaloCheckTargets struct {
	user, group string
	// image is a public picture for the image and form rows.
	image string
	// transaction adds a transaction message (REMINDER_CHANNEL=transaction).
	transaction bool
	// refresh spends the refresh token to prove it (--refresh).
	refresh bool
}

// checkStore is where the check finds the token pair and writes what it
// learnt; *store.DB is one.
type checkStore interface {
	bot.CapabilityStore
	bot.TokenStore
}

// checkRow is one line of the check's table.
type checkRow struct {
	what   string
	ok     bool
	code   int
	detail string
	// feature is the capability the row teaches ("" for none).
	feature string
	// skipped rows were not tried (no --to, no image).
	skipped bool
}

// errCheckFailed is returned when something the service cannot work
// without failed: the token, the OA profile, or a text to --to.
var errCheckFailed = errors.New("zalo check: Zalo refused something the service needs (see the table)")

// zaloCheck verifies the token (the client refreshes an expired one and
// the new pair is stored), reads the OA's profile and sends one message of
// each kind the service uses. It saves what it learnt of each kind as a
// capability, for serve to start with.
//
// The refresh token is proven only by spending it: Zalo's refresh tokens
// are single-use, and no endpoint tells whether one is alive. So its row
// says "refreshed" when the check had to refresh (an expired access token,
// or --refresh, which refreshes through the token keeper under the lock
// serve takes, storing the new pair before using it), "dead" when Zalo
// refused it, and otherwise "skipped": not checked without spending it.
func zaloCheck(ctx context.Context, c *bot.Client, tokens *bot.Tokens, caps checkStore, t zaloCheckTargets) ([]checkRow, error) {
	var rows []checkRow
	row := func(what, feature string, detail string, err error) checkRow {
		r := checkRow{what: what, ok: err == nil, feature: feature, detail: detail}
		if err != nil {
			r.code, r.detail = bot.Code(err), checkReason(err)
			if oauth := oauthError(err); oauth != nil {
				// The refresh after Zalo's -216 failed: that is the news.
				r.code, r.detail = bot.Code(oauth), "token refresh refused: "+checkReason(oauth)
			}
		}
		return r
	}
	failed := false
	before, _ := caps.LoadToken(ctx)

	access, err := tokens.Token(ctx)
	rows = append(rows, row("access token", "", "loaded", err))
	if err != nil {
		return rows, errCheckFailed
	}
	refreshed := func() bool {
		after, err := caps.LoadToken(ctx)
		return err == nil && after.Refresh != "" && after.Refresh != before.Refresh
	}
	if t.refresh {
		if refreshed() {
			// Token just spent it for an expired access token: once is proof.
			rows = append(rows, checkRow{what: "refresh token", ok: true, detail: "refreshed (the access token had expired); the new pair is stored"})
		} else {
			_, err := tokens.Refresh(ctx, access)
			rows = append(rows, row("refresh token", "", "refreshed (--refresh); the new pair is stored", err))
			failed = failed || err != nil
		}
	}
	oa, err := c.OAProfile(ctx)
	detail := fmt.Sprintf("%s (id %s, verified %v", oa.Name, oa.OAID, oa.Verified)
	if oa.Package != "" {
		detail += ", package " + oa.Package
	}
	rows = append(rows, row("OA profile (token works)", "", detail+")", err))
	if err != nil {
		failed = true
	}
	switch need, _, why := tokens.Health(); {
	case t.refresh:
		// Its row is written.
	case need:
		rows = append(rows, checkRow{what: "refresh token", detail: "dead: re-authorise the OA (" + why + ")"})
		failed = true
	default:
		if refreshed() {
			rows = append(rows, checkRow{what: "refresh token", ok: true, detail: "refreshed (the access token had expired); the new pair is stored"})
		} else {
			rows = append(rows, checkRow{what: "refresh token", skipped: true,
				detail: "not checked: it is single-use, so only spending it proves it; --refresh spends it and stores the new pair"})
		}
	}

	if t.user == "" {
		rows = append(rows, checkRow{what: "messages", skipped: true, detail: "not tried: give --to with an admin's own Zalo id"})
	} else {
		to := cnsbot.Recipient{UserID: t.user}
		stamp := time.Now().Format("15:04")
		_, err := c.SendText(ctx, to, "cnsbot zalo check "+stamp+": text")
		rows = append(rows, row("text", bot.FeatureText, "", err))
		failed = failed || err != nil
		_, err = c.SendList(ctx, to, "cnsbot zalo check "+stamp+": list", "",
			[]cnsbot.Button{{Title: "menu", Payload: "#menu"}, {Title: "help", Payload: "#giup"}})
		rows = append(rows, row("list (buttons)", bot.FeatureList, "", err))
		if t.image == "" {
			rows = append(rows, checkRow{what: "request_user_info (form)", skipped: true, feature: "",
				detail: "not tried: no PUBLIC_URL or ZALO_INFO_IMAGE_URL; forms are asked as text"})
			rows = append(rows, checkRow{what: "image", skipped: true, detail: "not tried: no public image URL"})
		} else {
			_, err = c.RequestUserInfo(ctx, t.user, "cnsbot zalo check "+stamp+": form",
				"A test of the share form; no need to send it.", t.image)
			rows = append(rows, row("request_user_info (form)", bot.FeatureRequestInfo, "", err))
			_, err = c.SendImage(ctx, to, t.image)
			rows = append(rows, row("image", bot.FeatureImage, "", err))
		}
		if t.transaction {
			_, err = c.SendTransaction(ctx, t.user, "vi", "cnsbot zalo check "+stamp+": transaction",
				"REMINDER_CHANNEL=transaction", []cnsbot.Button{{Title: "menu", Payload: "#menu"}})
			rows = append(rows, row("transaction (reminders)", bot.FeatureTransaction, "", err))
		}
	}
	if t.group != "" {
		_, err := c.SendText(ctx, cnsbot.Recipient{GroupID: t.group}, "cnsbot zalo check: group text")
		rows = append(rows, row("group text", bot.FeatureGroupText, "", err))
	}

	now := time.Now()
	textOK := false
	for _, r := range rows {
		textOK = textOK || (r.feature == bot.FeatureText && r.ok)
	}
	for i, r := range rows {
		// A setup code on transaction messages alone (the text went) is
		// the OA lacking that paid API: learnt, as the sender does.
		setupOfKind := r.feature == bot.FeatureTransaction && textOK &&
			bot.Classify(&bot.APIError{Code: r.code}) == bot.ClassSetup
		if r.feature == "" || r.skipped || (!r.ok && !refusal(r.code) && !setupOfKind) {
			// Only Zalo's verdict on a kind is learnt, not a network error.
			continue
		}
		code := 0
		if !r.ok {
			code = r.code
		}
		if err := caps.SaveCapability(ctx, r.feature, bot.Capability{Refused: !r.ok, Code: code, CheckedAt: now}); err != nil {
			rows[i].detail += " (not saved: " + err.Error() + ")"
		}
	}
	if failed {
		return rows, errCheckFailed
	}
	return rows, nil
}

// refusal reports whether code is Zalo refusing the message kind itself
// (what the sender learns), not the recipient or the OA's setup.
func refusal(code int) bool {
	return code != 0 && bot.Classify(&bot.APIError{Code: code}) == bot.ClassBug
}

// checkReason words an error for the table: the reason and, for setup
// faults, what to do.
func checkReason(err error) string {
	r := bot.Reason(err)
	switch bot.Classify(err) {
	case bot.ClassSetup:
		return r + ": the OA is not set up for this API in Zalo's console"
	case bot.ClassPermanent:
		return r + ": write to the OA from that Zalo account first, then check again"
	case bot.ClassGroupGone:
		return r + ": add the OA to the group"
	}
	if bot.NeedsReauth(err) {
		return r + ": re-authorise the OA"
	}
	return r
}

// oauthError returns the OAuth error (code -14xxx, or a dead refresh
// token) in err's tree, or nil.
func oauthError(err error) error {
	if err == nil {
		return nil
	}
	var ae *bot.APIError
	if errors.As(err, &ae) && ae.Code <= -14000 {
		return err
	}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if o := oauthError(e); o != nil {
				return o
			}
		}
	case interface{ Unwrap() error }:
		return oauthError(u.Unwrap())
	}
	if bot.NeedsReauth(err) && bot.Code(err) == 0 {
		return err
	}
	return nil
}

// printCheck writes the table.
func printCheck(w io.Writer, rows []checkRow) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tRESULT\tCODE\tDETAIL")
	for _, r := range rows {
		result, code := "accepted", ""
		switch {
		case r.skipped:
			result = "skipped"
		case !r.ok:
			result = "REFUSED"
			if r.code != 0 {
				code = fmt.Sprint(r.code)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.what, result, code, strings.TrimSpace(r.detail))
	}
	_ = tw.Flush()
}
