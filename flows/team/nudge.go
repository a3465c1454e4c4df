package team

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/camau-cns/cnsbot"
)

// NudgeAfter is how long a member may go without reporting a visit before
// they get a gentle nudge.
const NudgeAfter = 7 * 24 * time.Hour

// nudgeClaimTTL is how long a nudge's claim is kept: longer than any
// stretch anyone waits for, short enough that the claims do not pile up.
const nudgeClaimTTL = 90 * 24 * time.Hour

// Daytime, in Deps.Location, is when nudges go out.
const (
	nudgeFromHour = 8
	nudgeToHour   = 20
)

// Nudges returns one gentle message for each member who has reported no
// visit for NudgeAfter (see Visits.LastActivity), to be pushed by a
// periodic caller. Outside 08:00–20:00 in deps.Location it returns
// nothing, so a caller that runs every hour or so nudges in daytime only.
//
// A member gets one nudge per inactive stretch: the message's ID is
// "nudge:<person>:<week the stretch began>", the same however often
// Nudges runs. Each nudge is also claimed in deps.Once before it is
// returned, so a later run (on any replica) leaves it out; the claim is
// taken before the caller pushes, so a push that fails loses that nudge
// rather than sending it twice.
func Nudges(ctx context.Context, deps Deps, now time.Time) ([]cnsbot.Outgoing, error) {
	if deps.Once == nil || deps.Visits == nil {
		return nil, fmt.Errorf("nudges: Once and Visits are required")
	}
	local := now.In(deps.loc())
	if h := local.Hour(); h < nudgeFromHour || h >= nudgeToHour {
		return nil, nil
	}
	last, err := deps.Visits.LastActivity(ctx)
	if err != nil {
		return nil, fmt.Errorf("last activity: %w", err)
	}
	ids := make([]int64, 0, len(last))
	for id, at := range last {
		if now.Sub(at) >= NudgeAfter {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	stretch := make(map[int64]string, len(ids))
	for _, id := range ids {
		week := isoWeek(last[id].In(deps.loc()))
		_, ok, err := deps.Once.TryLock(ctx, "nudge:"+itoa(id)+":"+week, nudgeClaimTTL)
		if err != nil {
			return nil, fmt.Errorf("claim nudge: %w", err)
		}
		if !ok {
			continue
		}
		stretch[id] = week
	}
	if len(stretch) == 0 {
		return nil, nil
	}
	found, err := findMembers(ctx, deps, stretch)
	if err != nil {
		return nil, err
	}
	t := &teamFlows{deps: deps}
	var out []cnsbot.Outgoing
	for _, id := range ids {
		week, ok := stretch[id]
		f, seen := found[id]
		if !ok || !seen || f.person.ZaloUserID == nil || *f.person.ZaloUserID == "" {
			continue
		}
		lang := langOr(f.person.Lang)
		progress, err := t.progressText(ctx, lang, f.team)
		if err != nil {
			return nil, err
		}
		out = append(out, cnsbot.Outgoing{
			ID:   "nudge:" + itoa(id) + ":" + week,
			To:   cnsbot.Recipient{UserID: *f.person.ZaloUserID},
			Kind: cnsbot.MsgList,
			Text: deps.Texts.T(lang, "team.nudge.text", map[string]any{"name": givenName(f.person.FullName), "progress": progress}),
			Buttons: []cnsbot.Button{
				{Title: deps.Texts.T(lang, "team.menu.report", nil), Payload: "#" + cmdReport},
				{Title: deps.Texts.T(lang, "team.btn.progress", nil), Payload: "#" + cmdProgress},
			},
			Purpose: "reminder", Ref: "nudge", Lang: lang,
		})
	}
	if n := len(stretch) - len(out); n > 0 {
		deps.log().WarnContext(ctx, "claimed nudges for members not found on any team", "count", n)
	}
	return out, nil
}

type memberTeam struct {
	person cnsbot.Person
	team   cnsbot.Team
}

// findMembers finds the people of want on the teams, walking communes,
// hamlets and teams until all are found. The store has no lookup of
// people by id; the walk runs only when someone is due a nudge.
func findMembers(ctx context.Context, deps Deps, want map[int64]string) (map[int64]memberTeam, error) {
	found := make(map[int64]memberTeam, len(want))
	err := eachTeam(ctx, deps, func(tm cnsbot.Team) (bool, error) {
		people, err := deps.Roster.TeamMembers(ctx, tm.ID)
		if err != nil {
			return false, fmt.Errorf("team members: %w", err)
		}
		for _, p := range people {
			if _, ok := want[p.ID]; ok {
				if _, dup := found[p.ID]; !dup {
					found[p.ID] = memberTeam{person: p, team: tm}
				}
			}
		}
		return len(found) < len(want), nil
	})
	return found, err
}

// eachTeam calls fn with every team, commune by commune and hamlet by
// hamlet, until fn says to stop or fails.
func eachTeam(ctx context.Context, deps Deps, fn func(cnsbot.Team) (more bool, err error)) error {
	communes, err := deps.Places.Communes(ctx)
	if err != nil {
		return fmt.Errorf("communes: %w", err)
	}
	for _, cm := range communes {
		hamlets, err := deps.Places.Hamlets(ctx, cm.ID)
		if err != nil {
			return fmt.Errorf("hamlets: %w", err)
		}
		for _, h := range hamlets {
			teams, err := deps.Teams.TeamsOfHamlet(ctx, h.ID)
			if err != nil {
				return fmt.Errorf("teams of hamlet: %w", err)
			}
			for _, tm := range teams {
				if more, err := fn(tm); err != nil || !more {
					return err
				}
			}
		}
	}
	return nil
}

// isoWeek names the ISO week of t: "2026-W11".
func isoWeek(t time.Time) string {
	y, w := t.ISOWeek()
	return fmt.Sprintf("%d-W%02d", y, w)
}

// givenName is the last word of a Vietnamese full name, the name people
// are called by.
func givenName(full string) string {
	f := strings.Fields(full)
	if len(f) == 0 {
		return full
	}
	return f[len(f)-1]
}
