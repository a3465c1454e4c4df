package machine

import (
	"os"
	"strconv"
	"testing"
)

func TestLoadAverage(t *testing.T) {
	if _, err := os.Stat("/proc/loadavg"); err != nil {
		if LoadAverage() != "" || Starved() {
			t.Fatal("without /proc/loadavg the load must be unknown and the machine not starved")
		}
		return
	}
	l, err := strconv.ParseFloat(LoadAverage(), 64)
	if err != nil || l < 0 {
		t.Fatalf("load average %q: %v", LoadAverage(), err)
	}
}
