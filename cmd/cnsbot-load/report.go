package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// printTable writes the report for a person: one column per target.
func printTable(w io.Writer, rep *Report) {
	c := rep.Config
	texts := "text " + c.Text
	if c.Texts > 1 {
		texts = fmt.Sprintf("texts %s (%d)", c.Text, c.Texts)
	}
	fmt.Fprintf(w, "\ncnsbot-load: %d events, %d senders, %d users, redeliver %.2f, %s, %d partitions, database %s\n\n",
		c.Events, c.Senders, c.Users, c.Redeliver, texts, c.Partitions, c.Database)
	var rs []*Result
	for _, r := range []*Result{rep.Floor, rep.Cnsbot} {
		if r != nil {
			rs = append(rs, r)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	row := func(label string, cell func(r *Result) string) {
		cells := []string{label}
		for _, r := range rs {
			cells = append(cells, cell(r))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	observed := func(f func(r *Result) string) func(r *Result) string {
		return func(r *Result) string {
			if !r.Observed {
				return "not observed"
			}
			return f(r)
		}
	}
	process := func(f func(p *ProcessStats) string) func(r *Result) string {
		return func(r *Result) string {
			if r.Process == nil {
				return "-"
			}
			return f(r.Process)
		}
	}
	row("", func(r *Result) string { return r.Target })
	row("events sent", func(r *Result) string { return fmt.Sprint(r.Sent) })
	row("redelivered copies", func(r *Result) string { return fmt.Sprint(r.Redelivered) })
	row("acknowledged (2xx)", func(r *Result) string { return fmt.Sprint(r.Acked) })
	row("non-2xx answers", func(r *Result) string { return statuses(r.Non2xx) })
	row("acknowledged/s", func(r *Result) string { return fmt.Sprintf("%.0f", r.AckPerSec) })
	row("ack p50 / p99 / max", func(r *Result) string { return latency(r.AckLatency) })
	row("messages per event (new / again)", observed(func(r *Result) string {
		again := "-" // not measured: every event came from a new user
		if r.MessagesAgain > 0 {
			again = mean(r.MessagesAgain)
		}
		return fmt.Sprintf("%s / %s", mean(r.MessagesFirst), again)
	}))
	row("answered", observed(func(r *Result) string { return fmt.Sprint(r.Answered) }))
	row("answered/s", observed(func(r *Result) string { return fmt.Sprintf("%.0f", r.AnsweredPerSec) }))
	row("reply p50 / p99 / max", observed(func(r *Result) string { return latency(r.ReplyLatency) }))
	row("lost", observed(func(r *Result) string { return fmt.Sprint(r.Lost) }))
	row("duplicates (users / messages)", observed(func(r *Result) string {
		return fmt.Sprintf("%d / %d", r.DuplicateUsers, r.DuplicateMessages)
	}))
	row("stray messages", observed(func(r *Result) string { return fmt.Sprint(r.Stray) }))
	row("Redis CPU", func(r *Result) string {
		if r.RedisCPUSeconds == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2fs", r.RedisCPUSeconds)
	})
	row("process CPU", process(func(p *ProcessStats) string { return fmt.Sprintf("%.2fs", p.CPUSeconds) }))
	row("peak RSS", process(func(p *ProcessStats) string {
		if p.PeakRSSMB == 0 {
			return "?"
		}
		return fmt.Sprintf("%.1f MB", p.PeakRSSMB)
	}))
	row("goroutines (max / end)", process(func(p *ProcessStats) string {
		if p.GoroutinesMax == 0 {
			return "?"
		}
		return fmt.Sprintf("%d / %d", p.GoroutinesMax, p.GoroutinesEnd)
	}))
	row("log warnings / errors", process(func(p *ProcessStats) string {
		return fmt.Sprintf("%d / %d", p.LogWarnings, p.LogErrors)
	}))
	row("shutdown (exit code, time)", process(func(p *ProcessStats) string {
		return fmt.Sprintf("%d, %.2fs", p.ExitCode, p.StopSeconds)
	}))
	tw.Flush()

	if c := rep.Cnsbot; c != nil && c.Process != nil {
		for _, l := range []struct {
			level string
			msgs  []string
		}{{"errors", c.Process.FirstErrors}, {"warnings", c.Process.FirstWarnings}} {
			if len(l.msgs) == 0 {
				continue
			}
			fmt.Fprintf(w, "\ncnsbot logged %s (distinct, first %d):\n", l.level, len(l.msgs))
			for _, m := range l.msgs {
				fmt.Fprintln(w, "  ", m)
			}
		}
	}
	fmt.Fprintln(w)
	if rep.Ratio != nil {
		fmt.Fprintf(w, "answered/s cnsbot / floor: %.2f\n", *rep.Ratio)
	}
	if rep.OK {
		fmt.Fprintln(w, "result: OK")
		return
	}
	fmt.Fprintln(w, "result: FAILED")
	for _, f := range rep.Failures {
		fmt.Fprintln(w, "  -", f)
	}
}

func statuses(m map[string]int) string {
	if len(m) == 0 {
		return "0"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s:%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

func latency(l Latency) string {
	return fmt.Sprintf("%s / %s / %s", round(l.P50), round(l.P99), round(l.Max))
}

// round shows a latency with about three significant digits.
func round(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	default:
		return d.Round(10 * time.Microsecond).String()
	}
}

// mean prints a mean number of messages: "1" for one text, "2.37" for a
// corpus.
func mean(x float64) string { return strconv.FormatFloat(math.Round(x*100)/100, 'f', -1, 64) }
