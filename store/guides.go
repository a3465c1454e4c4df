package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/content"
)

// GuideVersion is one published version of a guide. Versions are never
// changed or deleted: an edit and a rollback each add one, so the history
// shows who published what and when, and a resident half-way through a
// guide can still be shown the version they started.
type GuideVersion struct {
	ID      int64  `gorm:"primaryKey"`
	Guide   string `gorm:"size:64;not null;uniqueIndex:uniq_guide_versions,priority:1"`
	Version int    `gorm:"not null;uniqueIndex:uniq_guide_versions,priority:2"`
	// Body is the content.Guide as JSON.
	Body        string    `gorm:"type:text;not null"`
	PublishedBy string    `gorm:"size:128;not null"`
	Note        string    `gorm:"size:128;not null"`
	CreatedAt   time.Time `gorm:"not null"`
}

// GuideImage is a picture of a guide's step, named by the SHA-256 of its
// bytes: a changed picture is a new row, so the Zalo attachment id kept
// with it belongs to exactly these bytes.
type GuideImage struct {
	SHA         string `gorm:"primaryKey;size:64"`
	ContentType string `gorm:"size:32;not null"`
	Data        []byte `gorm:"not null"`
	Width       int    `gorm:"not null"`
	Height      int    `gorm:"not null"`
	// AttachmentID is what Zalo's upload API returned for the picture,
	// and AttachedAt when: Zalo keeps an upload for a limited time.
	AttachmentID string `gorm:"size:255;not null;default:''"`
	AttachedAt   *time.Time
	CreatedAt    time.Time `gorm:"not null"`
}

// GuideEvent is one thing a resident did in a guide: started it, reached a
// step, got stuck at one, asked a team member to come, finished it. Who did
// it is not kept: the figures are about the guide.
type GuideEvent struct {
	ID      int64  `gorm:"primaryKey"`
	Guide   string `gorm:"size:64;not null;index:idx_guide_events_guide"`
	Version int    `gorm:"not null"`
	Step    int    `gorm:"not null"`
	Kind    string `gorm:"size:16;not null"`
	// SourceEvent is the key of the event it happened in: a re-delivered
	// event counts once.
	SourceEvent string    `gorm:"size:255;not null;uniqueIndex:uniq_guide_events_source,priority:1"`
	Seq         int       `gorm:"not null;uniqueIndex:uniq_guide_events_source,priority:2"`
	CreatedAt   time.Time `gorm:"not null"`
}

// guideMigrations returns the migration of the guides' tables, with frozen
// copies of their models.
func guideMigrations() []*gormigrate.Migration {
	return []*gormigrate.Migration{{
		ID: "2026120940_guides",
		Migrate: func(tx *gorm.DB) error {
			type guideVersion struct {
				ID          int64     `gorm:"primaryKey"`
				Guide       string    `gorm:"size:64;not null;uniqueIndex:uniq_guide_versions,priority:1"`
				Version     int       `gorm:"not null;uniqueIndex:uniq_guide_versions,priority:2"`
				Body        string    `gorm:"type:text;not null"`
				PublishedBy string    `gorm:"size:128;not null"`
				Note        string    `gorm:"size:128;not null"`
				CreatedAt   time.Time `gorm:"not null"`
			}
			type guideImage struct {
				SHA          string `gorm:"primaryKey;size:64"`
				ContentType  string `gorm:"size:32;not null"`
				Data         []byte `gorm:"not null"`
				Width        int    `gorm:"not null"`
				Height       int    `gorm:"not null"`
				AttachmentID string `gorm:"size:255;not null;default:''"`
				AttachedAt   *time.Time
				CreatedAt    time.Time `gorm:"not null"`
			}
			type guideEvent struct {
				ID          int64     `gorm:"primaryKey"`
				Guide       string    `gorm:"size:64;not null;index:idx_guide_events_guide"`
				Version     int       `gorm:"not null"`
				Step        int       `gorm:"not null"`
				Kind        string    `gorm:"size:16;not null"`
				SourceEvent string    `gorm:"size:255;not null;uniqueIndex:uniq_guide_events_source,priority:1"`
				Seq         int       `gorm:"not null;uniqueIndex:uniq_guide_events_source,priority:2"`
				CreatedAt   time.Time `gorm:"not null"`
			}
			for table, model := range map[string]any{"guide_versions": &guideVersion{}, "guide_images": &guideImage{},
				"guide_events": &guideEvent{}} {
				if err := tx.Table(table).Migrator().CreateTable(model); err != nil {
					return fmt.Errorf("create table %s: %w", table, err)
				}
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Migrator().DropTable("guide_versions", "guide_images", "guide_events")
		},
	}}
}

// PublishGuide checks g (content.Guide.Check) and stores it as the guide's
// next version, published by by. It returns the version, and false when g
// is the current version already (nothing is stored: importing the same
// folder twice adds nothing). Two officers publishing the same guide at
// once: one wins, the other gets ECONFLICT.
func (db *DB) PublishGuide(ctx context.Context, g content.Guide, by, note string) (int, bool, error) {
	if err := g.Check(); err != nil {
		return 0, false, err
	}
	body, err := json.Marshal(g)
	if err != nil {
		return 0, false, fmt.Errorf("publish guide: %w", err)
	}
	var version int
	changed := false
	err = db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var last GuideVersion
		err := tx.Where("guide = ?", g.Key()).Order("version DESC").Limit(1).Take(&last).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
		case err != nil:
			return err
		case bytes.Equal([]byte(last.Body), body):
			version = last.Version
			return nil
		}
		version, changed = last.Version+1, true
		row := GuideVersion{Guide: g.Key(), Version: version, Body: string(body), PublishedBy: clip(by, 128),
			Note: clip(note, 128), CreatedAt: time.Now().UTC()}
		return tx.Create(&row).Error
	})
	if err != nil {
		if isUniqueViolation(err) {
			return 0, false, cnsbot.Errorf(cnsbot.ECONFLICT, "guide %s was published meanwhile: reload it", g.Key())
		}
		return 0, false, fmt.Errorf("publish guide %s: %w", g.Key(), err)
	}
	return version, changed, nil
}

// isUniqueViolation reports a unique constraint's refusal, in either
// database's words.
func isUniqueViolation(err error) bool {
	s := err.Error()
	return errors.Is(err, gorm.ErrDuplicatedKey) || strings.Contains(s, "23505") ||
		strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "duplicate key")
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n]
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// RollbackGuide publishes version of the guide again, as its newest
// version, noting where it came from. An unknown version is ENOTFOUND.
func (db *DB) RollbackGuide(ctx context.Context, key string, version int, by string) (int, error) {
	old, err := db.GuideAt(ctx, key, version)
	if err != nil {
		return 0, err
	}
	v, _, err := db.PublishGuide(ctx, old, by, "rollback to "+strconv.Itoa(version))
	return v, err
}

// GuideAt returns a version of a guide; ENOTFOUND when there is none.
func (db *DB) GuideAt(ctx context.Context, key string, version int) (content.Guide, error) {
	var row GuideVersion
	err := db.orm.WithContext(ctx).Where("guide = ? AND version = ?", key, version).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return content.Guide{}, cnsbot.Errorf(cnsbot.ENOTFOUND, "guide %s has no version %d", key, version)
	}
	if err != nil {
		return content.Guide{}, fmt.Errorf("guide %s v%d: %w", key, version, err)
	}
	return decodeGuide(row)
}

func decodeGuide(row GuideVersion) (content.Guide, error) {
	var g content.Guide
	if err := json.Unmarshal([]byte(row.Body), &g); err != nil {
		return g, fmt.Errorf("guide %s v%d: %w", row.Guide, row.Version, err)
	}
	return g, nil
}

// GuideHistory returns a guide's versions, newest first.
func (db *DB) GuideHistory(ctx context.Context, key string) ([]content.Version, error) {
	var rows []GuideVersion
	if err := db.orm.WithContext(ctx).Where("guide = ?", key).Order("version DESC").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("guide history: %w", err)
	}
	out := make([]content.Version, 0, len(rows))
	for _, r := range rows {
		g, err := decodeGuide(r)
		if err != nil {
			return nil, err
		}
		out = append(out, content.Version{Guide: g, Version: r.Version, By: r.PublishedBy, At: r.CreatedAt, Note: r.Note})
	}
	return out, nil
}

// CurrentGuides returns the newest version of every guide, by flow and
// order, and the generation of the guides: the id of the newest version
// row, which grows with every publish on any replica.
func (db *DB) CurrentGuides(ctx context.Context) ([]content.Version, int64, error) {
	gen, err := db.guideGeneration(ctx)
	if err != nil {
		return nil, 0, err
	}
	var rows []GuideVersion
	err = db.orm.WithContext(ctx).
		Where("version = (SELECT MAX(w.version) FROM guide_versions w WHERE w.guide = guide_versions.guide)").
		Find(&rows).Error
	if err != nil {
		return nil, 0, fmt.Errorf("current guides: %w", err)
	}
	out := make([]content.Version, 0, len(rows))
	for _, r := range rows {
		g, err := decodeGuide(r)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, content.Version{Guide: g, Version: r.Version, By: r.PublishedBy, At: r.CreatedAt, Note: r.Note})
	}
	slices.SortFunc(out, func(a, b content.Version) int {
		if c := strings.Compare(a.Guide.Flow, b.Guide.Flow); c != 0 {
			return c
		}
		if a.Guide.Order != b.Guide.Order {
			return a.Guide.Order - b.Guide.Order
		}
		return strings.Compare(a.Guide.ID, b.Guide.ID)
	})
	return out, gen, nil
}

func (db *DB) guideGeneration(ctx context.Context) (int64, error) {
	var gen int64
	if err := db.orm.WithContext(ctx).Raw("SELECT COALESCE(MAX(id), 0) FROM guide_versions").Scan(&gen).Error; err != nil {
		return 0, fmt.Errorf("guide generation: %w", err)
	}
	return gen, nil
}

// PutGuideImage stores a picture (already fitted, see content.FitImage);
// storing the same bytes again changes nothing.
func (db *DB) PutGuideImage(ctx context.Context, im content.Image) error {
	row := GuideImage{SHA: im.SHA, ContentType: im.ContentType, Data: im.Data, Width: im.Width, Height: im.Height,
		CreatedAt: time.Now().UTC()}
	if err := db.orm.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return fmt.Errorf("store guide picture: %w", err)
	}
	return nil
}

// GuideImage returns a stored picture; ENOTFOUND when there is none.
func (db *DB) GuideImage(ctx context.Context, sha string) (GuideImage, error) {
	var row GuideImage
	err := db.orm.WithContext(ctx).Where("sha = ?", sha).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return row, cnsbot.Errorf(cnsbot.ENOTFOUND, "no guide picture %.12s", sha)
	}
	if err != nil {
		return row, fmt.Errorf("guide picture: %w", err)
	}
	return row, nil
}

// SetGuideImageAttachment keeps the attachment id Zalo gave the picture.
func (db *DB) SetGuideImageAttachment(ctx context.Context, sha, attachmentID string, at time.Time) error {
	at = at.UTC()
	err := db.orm.WithContext(ctx).Model(&GuideImage{}).Where("sha = ?", sha).
		Updates(map[string]any{"attachment_id": attachmentID, "attached_at": &at}).Error
	if err != nil {
		return fmt.Errorf("keep picture attachment: %w", err)
	}
	return nil
}

// ImportResult says what importing one guide did.
type ImportResult struct {
	Guide   string
	Dir     string
	Version int
	Changed bool
	Err     error
}

// ImportGuides stores the pictures of each folder's guide (fitted to
// Zalo's limit) and publishes it by by, unless it is the current version
// already. A guide that cannot be published does not stop the others: its
// result holds the reason.
func (db *DB) ImportGuides(ctx context.Context, folders []content.Folder, by, note string) []ImportResult {
	out := make([]ImportResult, 0, len(folders))
	for _, f := range folders {
		r := ImportResult{Guide: f.Guide.Key(), Dir: f.Dir}
		r.Version, r.Changed, r.Err = db.importGuide(ctx, f, by, note)
		out = append(out, r)
	}
	return out
}

func (db *DB) importGuide(ctx context.Context, f content.Folder, by, note string) (int, bool, error) {
	g := f.Guide
	g.Steps = slices.Clone(g.Steps)
	names := map[string]string{}
	for i, st := range g.Steps {
		if st.Image == "" {
			continue
		}
		sha, ok := names[st.Image]
		if !ok {
			im, err := content.FitImage(f.Images[st.Image])
			if err != nil {
				return 0, false, fmt.Errorf("step %d, picture %s: %w", i+1, st.Image, err)
			}
			if err := db.PutGuideImage(ctx, im); err != nil {
				return 0, false, err
			}
			sha, names[st.Image] = im.SHA, im.SHA
		}
		st.Text = maps.Clone(st.Text)
		st.Image = sha
		g.Steps[i] = st
	}
	return db.PublishGuide(ctx, g, by, note)
}

// SeedGuides publishes, from folders (content.Seed), every guide the
// database has never had: on first start all of them, later the guides a
// release adds. A guide officers already changed is left alone.
func (db *DB) SeedGuides(ctx context.Context, folders []content.Folder) error {
	var have []string
	if err := db.orm.WithContext(ctx).Model(&GuideVersion{}).Distinct("guide").Pluck("guide", &have).Error; err != nil {
		return fmt.Errorf("seed guides: %w", err)
	}
	var todo []content.Folder
	for _, f := range folders {
		if !slices.Contains(have, f.Guide.Key()) {
			todo = append(todo, f)
		}
	}
	for _, r := range db.ImportGuides(ctx, todo, "seed", "seed") {
		if r.Err != nil && cnsbot.ErrorCode(r.Err) != cnsbot.ECONFLICT {
			return fmt.Errorf("seed guide %s: %w", r.Guide, r.Err)
		}
	}
	return nil
}

// GuideLibrary serves the current guides from memory, and any version ever
// published, to the conversations. Every replica keeps its own copy and
// asks the database at most once per Every whether anything was published
// (one indexed MAX); a publish on any replica is then seen by all within
// that time, without a restart.
type GuideLibrary struct {
	db    *DB
	every time.Duration
	now   func() time.Time

	mu      sync.Mutex
	checked time.Time
	gen     int64
	current []content.Version
	// versions caches versions by "key@n"; they never change.
	versions map[string]content.Guide
}

// DefaultGuidePoll is how often a replica looks for a newer publish.
const DefaultGuidePoll = 2 * time.Second

// NewGuideLibrary returns a library over db that looks for new versions
// every every (DefaultGuidePoll when 0).
func NewGuideLibrary(db *DB, every time.Duration) *GuideLibrary {
	if every <= 0 {
		every = DefaultGuidePoll
	}
	return &GuideLibrary{db: db, every: every, now: time.Now, versions: map[string]content.Guide{}}
}

// Guides returns the newest version of every guide and their generation.
func (l *GuideLibrary) Guides(ctx context.Context) ([]content.Version, int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.current != nil && now.Sub(l.checked) < l.every {
		return l.current, l.gen, nil
	}
	gen, err := l.db.guideGeneration(ctx)
	if err != nil {
		if l.current != nil {
			// The database is away: the guides residents are reading
			// stay as they were rather than fail.
			return l.current, l.gen, nil
		}
		return nil, 0, err
	}
	if l.current == nil || gen != l.gen {
		cur, g, err := l.db.CurrentGuides(ctx)
		if err != nil {
			return nil, 0, err
		}
		l.current, l.gen = cur, g
	}
	l.checked = now
	return l.current, l.gen, nil
}

// Refresh makes the next Guides ask the database: this replica just
// published.
func (l *GuideLibrary) Refresh() {
	l.mu.Lock()
	l.checked = time.Time{}
	l.mu.Unlock()
}

// Guide returns a version of a guide; ENOTFOUND when there is none.
func (l *GuideLibrary) Guide(ctx context.Context, key string, version int) (content.Guide, error) {
	id := key + "@" + strconv.Itoa(version)
	l.mu.Lock()
	g, ok := l.versions[id]
	l.mu.Unlock()
	if ok {
		return g, nil
	}
	g, err := l.db.GuideAt(ctx, key, version)
	if err != nil {
		return g, err
	}
	l.mu.Lock()
	if len(l.versions) > 2000 {
		clear(l.versions)
	}
	l.versions[id] = g
	l.mu.Unlock()
	return g, nil
}
