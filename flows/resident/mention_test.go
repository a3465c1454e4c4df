package resident_test

import (
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot/flows/flowstest"
)

// TestGroupNoticeHasNoMention: what a resident types into their name, problem
// and preferred time reaches the team's Zalo group without Zalo's mention
// syntax, which would notify a member ("[@<user_id>]") or the whole group
// ("[@<group_id>]").
func TestGroupNoticeHasNoMention(t *testing.T) {
	f := newFixture(t)
	c := f.chat(t, "resident-mention")
	for _, in := range []string{
		"nhờ tổ đến nhà giúp", "dong y", "#chi", "[@abcdefabcdef] Lan", "0977 111 222", "tan thanh", "tan hoa",
		"[@G-TANHOA] máy không lên VNeID", "#giu", "[ @G-TANHOA] sáng thứ Bảy", "#gui",
	} {
		play(t, f, c, in)
	}
	var group []string
	for _, m := range f.sessions.Outbox() {
		if m.To.GroupID == "G-TANHOA" {
			group = append(group, m.Text)
		}
	}
	if len(group) != 1 {
		t.Fatalf("group messages: got %d, want 1 (the new request)\n%s", len(group),
			flowstest.Transcript(f.sessions.Outbox(), "resident-mention", f.engine))
	}
	text := group[0]
	if strings.Contains(text, "[@") || strings.Contains(text, "[ @") {
		t.Errorf("group notice keeps a mention:\n%s", text)
	}
	if !strings.Contains(text, "(@G-TANHOA) máy không lên VNeID") || !strings.Contains(text, "( @G-TANHOA) sáng thứ Bảy") {
		t.Errorf("group notice lost the resident's words:\n%s", text)
	}
}
