// Package machine tells the tests that time things whether the machine
// had the cores to give: a wall-clock figure taken while other builds
// hold the CPU measures the machine, not the code, and such a test should
// say it could not measure rather than fail.
package machine

import (
	"os"
	"runtime"
	"strconv"
	"strings"
)

// LoadAverage is the load average over the last minute as /proc/loadavg
// gives it, or "" where there is none.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// Starved reports whether other work keeps the cores busy: at a load
// average over twice the number of cores a runnable thread waits most of
// the time. Where the load average is unknown it reports false, so that
// a timing test keeps its meaning.
func Starved() bool {
	l, err := strconv.ParseFloat(LoadAverage(), 64)
	return err == nil && l > 2*float64(runtime.NumCPU())
}
