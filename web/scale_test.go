package web

import (
	"fmt"
	"testing"
	"time"
)

// A page lists the first reporters of a long deadline, the late ones
// first, and counts them all; a short list stays as it is.
func TestTrimReporters(t *testing.T) {
	at := time.Now()
	var long []reporterView
	for i := range 100 {
		r := reporterView{Name: fmt.Sprintf("Tổ %d", i)}
		switch i % 3 {
		case 0:
			r.SubmittedAt = &at
		case 1:
			r.Late = true
		}
		long = append(long, r)
	}
	short := long[:5]
	got := trimReporters([]deadlineView{{Reporters: long}, {Reporters: short}})
	if d := got[0]; d.Total != 100 || d.More != 100-pageReporters || len(d.Reporters) != pageReporters {
		t.Errorf("long list: total %d, more %d, %d shown; want 100, %d, %d", d.Total, d.More, len(d.Reporters), 100-pageReporters, pageReporters)
	}
	for i, r := range got[0].Reporters[:33] {
		if !r.Late {
			t.Errorf("reporter %d shown (%s) is not late; the 33 late ones come first", i, r.Name)
		}
	}
	if d := got[1]; d.Total != 5 || d.More != 0 || len(d.Reporters) != 5 || d.Reporters[0].Name != "Tổ 0" {
		t.Errorf("short list: %+v, want it whole and in order", d)
	}
	if len(long) != 100 || long[0].Name != "Tổ 0" {
		t.Errorf("the caller's list changed")
	}
}
