package report

import (
	"context"
	"time"

	"github.com/camau-cns/cnsbot"
)

// CommuneSource is what a Source may also have: the help requests of one
// commune only (*store.DB has it). A commune's report then reads that
// commune's requests, not the province's (issue 19: a one-commune export
// read every request of the quarter).
type CommuneSource interface {
	ReportCommuneHelpRequests(ctx context.Context, communeID int64, from, to time.Time) ([]cnsbot.HelpRequest, error)
}

// helpRequests returns the help requests the report counts: those of the
// one commune when it is for one and the source can choose them.
func helpRequests(ctx context.Context, src Source, communes []cnsbot.Unit, from, to time.Time, one bool) ([]cnsbot.HelpRequest, error) {
	if cs, ok := src.(CommuneSource); ok && one && len(communes) == 1 {
		return cs.ReportCommuneHelpRequests(ctx, communes[0].ID, from, to)
	}
	return src.ReportHelpRequests(ctx, from, to)
}
