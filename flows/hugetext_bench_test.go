package flows_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/bot/zaloevent"
)

// BenchmarkEngineHugeText is a returning user sending a 900 kB text, as
// the webhook hands it on: parsed by bot.ParseEvent, then decided by the
// engine (folding and typo-tolerant matching). The webhook's 1 MiB body cap
// lets such a text through; what it costs here is what one hostile message
// costs the partition that handles it.
func BenchmarkEngineHugeText(b *testing.B) {
	e, _ := benchEngine(b)
	ctx := context.Background()
	if err := e.HandleEvent(ctx, payload(b, "1", "warm-1", "menu")); err != nil {
		b.Fatal(err)
	}
	words := strings.Repeat("tôi quên mật khẩu vneid ", 900<<10/len("tôi quên mật khẩu vneid "))
	b.ReportAllocs()
	for i := range b.N {
		b.StopTimer()
		oa := zaloevent.OA{AppID: "1", OAID: "2"}
		body, _ := oa.Sign(oa.Text("1", "huge"+strconv.Itoa(i), words, time.Now()))
		b.StartTimer()
		ev, err := bot.ParseEvent(body)
		if err != nil {
			b.Fatal(err)
		}
		p, err := json.Marshal(ev)
		if err != nil {
			b.Fatal(err)
		}
		if err := e.HandleEvent(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
}
