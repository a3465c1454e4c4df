package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestBinaryDoesNotLinkTesting keeps the testing package (its flags, its
// init) out of the production binary. The simulator serves the fake Zalo
// of bot/zalotest and posts events built by bot/zaloevent, so neither may
// import testing, nor may anything else the service links.
func TestBinaryDoesNotLinkTesting(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the binary's packages")
	}
	out, err := exec.Command(gobin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, want := range []string{"github.com/camau-cns/cnsbot/bot/zalotest", "github.com/camau-cns/cnsbot/bot/zaloevent"} {
		if !slices.Contains(deps, want) {
			t.Errorf("%s is no longer linked: this test no longer proves anything about it", want)
		}
	}
	if slices.Contains(deps, "testing") {
		t.Error("the cnsbot binary links the testing package; find who imports it with: go list -f '{{.ImportPath}} {{.Imports}}' -deps ./cmd/cnsbot | grep ' testing'")
	}
}
