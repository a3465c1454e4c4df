package team_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot/flows/flowstest"
)

// TestAreasXongOnEveryPage: the areas question says “bấm Xong”; once an
// area is chosen, "Xong" opens every page of the list, so that a member
// who pages with “Thêm…” still finds it among the first five buttons.
func TestAreasXongOnEveryPage(t *testing.T) {
	f := newFixture(t, options{teamOnly: true})
	got := f.say(t, zMai, "#bc", "nhà ông Năm", "#vneid", "#them", "#them", "#giaoduc", "#xong")
	flowstest.Golden(t, filepath.Join("testdata", "visit_areas_pages.vi.golden"), got)
	for _, block := range strings.Split(got, "\n> ")[2:6] {
		lines := strings.Split(block, "\n")
		var buttons []string
		for _, l := range lines {
			if strings.HasPrefix(l, "    [") {
				buttons = append(buttons, l)
			}
		}
		if len(buttons) == 0 || len(buttons) > 5 || !strings.Contains(buttons[0], "[Xong] #xong") {
			t.Errorf("after %q: buttons %q, want at most five with Xong first", lines[0], buttons)
		}
	}
}
