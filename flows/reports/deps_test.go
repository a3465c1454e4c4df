package reports_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoJobMachinery keeps the chat flow free of the reminder job's
// machinery: reading a tapped "Đã nộp" needs the calendar's words, not
// River and the PostgreSQL driver.
func TestNoJobMachinery(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the package's dependencies")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "riverqueue") || strings.Contains(dep, "jackc/pgx") {
			t.Errorf("flows/reports depends on %s", dep)
		}
	}
}
