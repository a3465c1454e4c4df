package reports

import (
	"testing"

	"github.com/camau-cns/cnsbot/store"
)

// The copies' IDs are the delivery log's keys: both sides must agree.
func TestCopyPrefix(t *testing.T) {
	if copyPrefix != store.CopyPrefix {
		t.Errorf("copyPrefix %q, store.CopyPrefix %q", copyPrefix, store.CopyPrefix)
	}
}
