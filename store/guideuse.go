package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/camau-cns/cnsbot"
)

// What residents do in a guide, as GuideEvent.Kind.
const (
	GuideStart = "start" // opened the guide (its first step)
	GuideStep  = "step"  // reached a step
	GuideStuck = "stuck" // said "still stuck" at a step
	GuideCome  = "come"  // then asked a team member to come
	GuideDone  = "done"  // said it worked, at the last step
)

// guideKinds orders the kinds; an event records each kind at most once.
var guideKinds = []string{GuideStart, GuideStep, GuideStuck, GuideCome, GuideDone}

// RecordGuideUse counts one thing a resident did in a guide at a version
// and step, once per source event and kind. Who did it is not kept.
func (db *DB) RecordGuideUse(ctx context.Context, guide string, version, step int, kind, sourceEvent string) error {
	seq := slices.Index(guideKinds, kind)
	if seq < 0 || guide == "" || sourceEvent == "" {
		return cnsbot.Errorf(cnsbot.EINVALID, "guide use %q of %q", kind, guide)
	}
	row := GuideEvent{Guide: clip(guide, 64), Version: version, Step: step, Kind: kind, SourceEvent: clip(sourceEvent, 255),
		Seq: seq, CreatedAt: time.Now().UTC()}
	var err error
	if db.guideUse != nil {
		err = db.guideUse.Add(ctx, row)
	} else {
		err = db.insertGuideEvents(ctx, []GuideEvent{row})
	}
	if err != nil {
		return fmt.Errorf("record guide use: %w", err)
	}
	return nil
}

// guideWriteTimeout bounds one INSERT of guide events.
const guideWriteTimeout = 5 * time.Second

// maxGuideBatch bounds the rows of one INSERT.
const maxGuideBatch = 64

// writeGuideEvents inserts the guide events that concurrent turns recorded
// in one statement: most residents' first messages open a guide, and a
// statement each, through GORM and the driver, was 6% of the service's CPU
// under the load test (issue 19). Each turn still waits for its row. When
// the statement fails, each row is tried alone, so that a row the database
// refuses fails its own event only.
func (db *DB) writeGuideEvents(rows []GuideEvent, errs []error) {
	ctx, cancel := context.WithTimeout(context.Background(), guideWriteTimeout)
	defer cancel()
	err := db.insertGuideEvents(ctx, rows)
	if err == nil || len(rows) == 1 {
		for i := range errs {
			errs[i] = err
		}
		return
	}
	for i := range rows {
		errs[i] = db.insertGuideEvents(ctx, rows[i:i+1])
	}
}

// insertGuideEvents inserts rows in one statement, skipping those of an
// event already counted. One INSERT is atomic by itself: without GORM's
// default transaction around it, it costs one round trip instead of three
// (BEGIN, INSERT, COMMIT).
func (db *DB) insertGuideEvents(ctx context.Context, rows []GuideEvent) error {
	one := db.orm.Session(&gorm.Session{SkipDefaultTransaction: true})
	return one.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error
}

// StepUse is how residents fared at one step of a guide.
type StepUse struct {
	Step    int `json:"step"`
	Reached int `json:"reached"`
	Stuck   int `json:"stuck"`
	Come    int `json:"come"`
}

// GuideUse is how residents used one guide, all versions together: how
// many opened it, finished it (said it worked), got stuck, asked a team
// member to come, and rated it; and the same per step, so officers see
// which step to fix first.
type GuideUse struct {
	Guide    string    `json:"guide"`
	Started  int       `json:"started"`
	Finished int       `json:"finished"`
	Stuck    int       `json:"stuck"`
	Come     int       `json:"come"`
	Ratings  int       `json:"ratings"`
	Average  float64   `json:"average"`
	Steps    []StepUse `json:"steps"`
}

// GuidesUse returns the use of every guide that was used or rated, by
// guide name.
func (db *DB) GuidesUse(ctx context.Context) (map[string]*GuideUse, error) {
	var rows []struct {
		Guide string
		Step  int
		Kind  string
		N     int
	}
	err := db.orm.WithContext(ctx).Table("guide_events").Select("guide, step, kind, COUNT(*) AS n").
		Group("guide, step, kind").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("guide use: %w", err)
	}
	out := map[string]*GuideUse{}
	use := func(g string) *GuideUse {
		if out[g] == nil {
			out[g] = &GuideUse{Guide: g}
		}
		return out[g]
	}
	for _, r := range rows {
		u := use(r.Guide)
		i := slices.IndexFunc(u.Steps, func(s StepUse) bool { return s.Step == r.Step })
		if i < 0 && r.Step > 0 {
			u.Steps = append(u.Steps, StepUse{Step: r.Step})
			i = len(u.Steps) - 1
		}
		switch r.Kind {
		case GuideStart:
			u.Started += r.N
		case GuideStep:
			u.Steps[i].Reached += r.N
		case GuideStuck:
			u.Stuck += r.N
			u.Steps[i].Stuck += r.N
		case GuideCome:
			u.Come += r.N
			u.Steps[i].Come += r.N
		case GuideDone:
			u.Finished += r.N
		}
	}
	scores, err := db.GuideScores(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range scores {
		u := use(s.Guide)
		u.Ratings, u.Average = s.Count, s.Average
	}
	for _, u := range out {
		slices.SortFunc(u.Steps, func(a, b StepUse) int { return a.Step - b.Step })
	}
	return out, nil
}
