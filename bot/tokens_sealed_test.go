package bot_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/bot/zalotest"
	"github.com/camau-cns/cnsbot/store"
)

// A replica whose TOKEN_KEY cannot read the stored pair never refreshes:
// not with garbage from the row, nor with the pair from the environment.
// Zalo's refresh tokens are single-use, so either would lock the OA out.
func TestWrongTokenKeyNeverRefreshes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func() *store.DB {
		db, err := store.Open(ctx, "", dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			t.Fatal(err)
		}
		if err := db.SetTokenKey(key); err != nil {
			t.Fatal(err)
		}
		return db
	}
	z := zalotest.Start(t)
	access, refresh, exp := z.Tokens()
	if err := open().SaveToken(ctx, cnsbot.Token{Access: access, Refresh: refresh, ExpiresAt: exp}); err != nil {
		t.Fatal(err)
	}
	z.ExpireToken()
	tokens := bot.NewTokens(bot.TokenConfig{AppID: z.AppID(), AppSecret: z.AppSecret(), OAuthBase: z.URL(),
		Initial: cnsbot.Token{Access: access, Refresh: refresh}}, open(), nil, nil, nil, nil)
	client := bot.NewClient(z.URL(), tokens, nil, nil)
	_, err := client.SendText(ctx, cnsbot.Recipient{UserID: "u1"}, "x")
	if err == nil || !strings.Contains(err.Error(), "TOKEN_KEY") {
		t.Errorf("send with the wrong key: %v, want an error naming TOKEN_KEY", err)
	}
	if _, err := tokens.Refresh(ctx, access); err == nil {
		t.Error("refresh with the wrong key succeeded")
	}
	if n := z.Refreshes(); n != 0 {
		t.Errorf("%d refreshes with a pair that could not be read, want 0", n)
	}
}
