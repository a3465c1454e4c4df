//go:build !linux

package main

import (
	"errors"
	"os/exec"
)

// setParentDeath has no portable equivalent outside Linux; the tool stops
// the service itself on every normal exit path.
func setParentDeath(*exec.Cmd) {}

// peakRSS needs /proc; elsewhere the report shows no figure.
func peakRSS(int) (int64, error) { return 0, errors.New("peak RSS is read from /proc (Linux only)") }
