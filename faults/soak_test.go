package faults

import (
	"context"
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/faults/loadgen"
)

// soakSample is one reading of the service during the soak.
type soakSample struct {
	at         time.Duration
	rssMB      float64
	goroutines float64
	heapMB     float64
	events     int
}

// TestSoak runs the service under a steady moderate load for
// SOAK_DURATION (unset: the test is skipped; scripts/soak.sh sets it) and
// samples its resident memory (from /proc) and goroutines (from /metrics)
// every SOAK_EVERY. Both must be flat: the average of the last third of
// the samples within SOAK_TOLERANCE percent (default 20) of the middle
// third's (the first third is warm-up). Every event must still be
// answered once, in order.
func TestSoak(t *testing.T) {
	if os.Getenv("SOAK_DURATION") == "" {
		t.Skip("soak run: set SOAK_DURATION (scripts/soak.sh does)")
	}
	duration := envDuration(t, "SOAK_DURATION", 10*time.Minute)
	every := envDuration(t, "SOAK_EVERY", 10*time.Second)
	rate := envFloat(t, "SOAK_RATE", 50)
	users := envInt(t, "SOAK_USERS", 500)
	tolerance := envFloat(t, "SOAK_TOLERANCE", 20)

	s := prepareStage(t, "soak", map[string]string{"LOG_LEVEL": "warn"})
	svc := startService(t, s.e, "soak", s.vars)
	gen, err := loadgen.New(loadgen.Config{Targets: []string{svc.webhook()}, AppID: appID, SecretKey: secretKey,
		Users: users, Rate: rate, Redeliver: 0.02})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tr, err := gen.Learn(ctx, s.rec, 400*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("soak: %s at %.0f events/s from %d returning users, sampling every %s (pid %d)\n",
		duration, rate, users, every, svc.pid())
	fmt.Printf("%8s  %9s  %10s  %9s  %8s\n", "elapsed", "RSS MB", "goroutines", "heap MB", "events")
	sample := func(start time.Time) soakSample {
		sm := soakSample{at: time.Since(start).Round(time.Second), events: gen.Stats().Events}
		if kb, err := rssKB(svc.pid()); err == nil {
			sm.rssMB = float64(kb) / 1024
		}
		sm.goroutines, _ = metric(svc.url(), "go_goroutines")
		if b, err := metric(svc.url(), "go_memstats_heap_inuse_bytes"); err == nil {
			sm.heapMB = b / (1 << 20)
		}
		fmt.Printf("%8s  %9.1f  %10.0f  %9.1f  %8d\n", sm.at, sm.rssMB, sm.goroutines, sm.heapMB, sm.events)
		return sm
	}
	start := time.Now()
	gen.Start(ctx)
	var samples []soakSample
	tick := time.NewTicker(every)
	for time.Since(start) < duration {
		<-tick.C
		samples = append(samples, sample(start))
	}
	tick.Stop()
	st := gen.Stop()
	gen.WaitAnswered(ctx, tr, s.rec, time.Minute)
	time.Sleep(2 * time.Second)
	v := gen.Check(tr, s.rec, nil)
	fmt.Printf("load: %d events (%.0f/s), %d acknowledged, non-200 %s, ack p50 %s p99 %s\n",
		st.Events, float64(st.Events)/st.Seconds, st.Acked, statuses(st.Status), st.AckP50.Round(10*time.Microsecond), st.AckP99.Round(10*time.Microsecond))
	fmt.Printf("answers: %s\n", v)
	if !v.OK() || v.Changed > 0 {
		t.Errorf("answers: %s", v)
	}

	if len(samples) < 6 {
		t.Fatalf("only %d samples: run longer than 6×SOAK_EVERY", len(samples))
	}
	third := len(samples) / 3
	mid, last := samples[third:2*third], samples[len(samples)-third:]
	avg := func(ss []soakSample, f func(soakSample) float64) float64 {
		sum := 0.0
		for _, s := range ss {
			sum += f(s)
		}
		return sum / float64(len(ss))
	}
	flat := true
	for _, m := range []struct {
		name string
		f    func(soakSample) float64
	}{
		{"resident memory (MB)", func(s soakSample) float64 { return s.rssMB }},
		{"goroutines", func(s soakSample) float64 { return s.goroutines }},
	} {
		a, b := avg(mid, m.f), avg(last, m.f)
		change := 100 * (b - a) / math.Max(a, 1)
		verdict := "flat"
		if change > tolerance {
			verdict, flat = "GROWING", false
		}
		fmt.Printf("%s: middle third %.1f, last third %.1f (%+.1f%%, tolerance %.0f%%): %s\n", m.name, a, b, change, tolerance, verdict)
	}
	if flat {
		fmt.Println("verdict: flat")
	} else {
		fmt.Println("verdict: GROWING")
		t.Errorf("resident memory or goroutines grew by more than %.0f%% between the middle and the last third", tolerance)
	}
}
