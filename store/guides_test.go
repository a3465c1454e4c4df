package store_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/content"
	"github.com/camau-cns/cnsbot/store"
)

func seedFolders(t *testing.T) []content.Folder {
	t.Helper()
	seed, err := content.Seed()
	if err != nil {
		t.Fatal(err)
	}
	return seed
}

func pngBytes(t *testing.T, w, h int, c color.Color) []byte {
	t.Helper()
	im := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			im.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, im); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestGuideVersions seeds the repository's guides once, publishes an
// edit with a picture, rolls it back, and sees every replica's library
// follow without a restart.
func TestGuideVersions(t *testing.T) {
	for name, open := range calendarDialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			ctx := context.Background()
			seed := seedFolders(t)
			for range 2 {
				if err := db.SeedGuides(ctx, seed); err != nil {
					t.Fatal(err)
				}
			}
			cur, gen, err := db.CurrentGuides(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(cur) != len(seed) || gen == 0 {
				t.Fatalf("%d current guides at generation %d, want the %d seeded once", len(cur), gen, len(seed))
			}
			lib := store.NewGuideLibrary(db, time.Millisecond)
			other := store.NewGuideLibrary(db, time.Hour) // a replica that polls rarely
			if _, _, err := other.Guides(ctx); err != nil {
				t.Fatal(err)
			}

			var g content.Guide
			for _, v := range cur {
				if v.Guide.Key() == "vneid/password" {
					g, _ = v.Guide, v.Version
				}
			}
			// An edit with a picture, through an imported folder.
			g.Steps[2].Text = map[string]string{"vi": "Bấm **Xác nhận**.", "en": "Tap **Confirm**."}
			g.Steps[2].Image = "buoc3.png"
			res := db.ImportGuides(ctx, []content.Folder{{Guide: g, Images: map[string][]byte{"buoc3.png": pngBytes(t, 40, 30, color.White)}}},
				"officer:lan", "edit")
			if len(res) != 1 || res[0].Err != nil || !res[0].Changed || res[0].Version != 2 {
				t.Fatalf("import: %+v, want version 2 published", res)
			}
			// The same folder again changes nothing.
			res = db.ImportGuides(ctx, []content.Folder{{Guide: g, Images: map[string][]byte{"buoc3.png": pngBytes(t, 40, 30, color.White)}}},
				"officer:lan", "edit")
			if res[0].Err != nil || res[0].Changed || res[0].Version != 2 {
				t.Errorf("import again: %+v, want unchanged version 2", res)
			}
			time.Sleep(2 * time.Millisecond)
			now, _, err := lib.Guides(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var sha string
			for _, v := range now {
				if v.Guide.Key() == "vneid/password" {
					if v.Version != 2 || v.Guide.Steps[2].Text["vi"] != "Bấm **Xác nhận**." {
						t.Errorf("library has v%d %q, want v2 with the edit", v.Version, v.Guide.Steps[2].Text["vi"])
					}
					sha = v.Guide.Steps[2].Image
				}
			}
			im, err := db.GuideImage(ctx, sha)
			if err != nil || im.Width != 40 || im.ContentType != "image/png" {
				t.Fatalf("picture %q: %+v, %v", sha, im, err)
			}
			if err := db.SetGuideImageAttachment(ctx, sha, "att-1", time.Now()); err != nil {
				t.Fatal(err)
			}
			if im, _ := db.GuideImage(ctx, sha); im.AttachmentID != "att-1" || im.AttachedAt == nil {
				t.Errorf("attachment not kept: %+v", im)
			}
			// The rare poller still serves version 1 until it looks again.
			stale, _, _ := other.Guides(ctx)
			for _, v := range stale {
				if v.Guide.Key() == "vneid/password" && v.Version != 1 {
					t.Errorf("a replica that has not polled yet serves v%d", v.Version)
				}
			}
			other.Refresh()
			fresh, _, _ := other.Guides(ctx)
			for _, v := range fresh {
				if v.Guide.Key() == "vneid/password" && v.Version != 2 {
					t.Errorf("after refresh the replica serves v%d, want 2", v.Version)
				}
			}
			// A version a resident started stays readable.
			if old, err := lib.Guide(ctx, "vneid/password", 1); err != nil || strings.Contains(old.Steps[2].Text["vi"], "**") {
				t.Errorf("version 1: %v, %q", err, old.Steps[2].Text["vi"])
			}
			if _, err := lib.Guide(ctx, "vneid/password", 9); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
				t.Errorf("version 9: %v, want ENOTFOUND", err)
			}

			v, err := db.RollbackGuide(ctx, "vneid/password", 1, "admin:minh")
			if err != nil || v != 3 {
				t.Fatalf("rollback: v%d, %v; want version 3", v, err)
			}
			hist, err := db.GuideHistory(ctx, "vneid/password")
			if err != nil {
				t.Fatal(err)
			}
			if len(hist) != 3 || hist[0].Note != "rollback to 1" || hist[0].By != "admin:minh" || hist[1].By != "officer:lan" ||
				hist[2].By != "seed" || hist[0].Guide.Steps[2].Image != "" {
				t.Errorf("history %+v", hist)
			}

			// A guide without a source is refused, with the reason.
			g.Source = ""
			if _, _, err := db.PublishGuide(ctx, g, "officer:lan", "edit"); cnsbot.ErrorCode(err) != cnsbot.EINVALID ||
				!strings.Contains(err.Error(), "no source") {
				t.Errorf("no source: %v, want EINVALID naming it", err)
			}
		})
	}
}

// TestGuidesUse counts what residents did per guide and step, once per
// event, with the ratings beside.
func TestGuidesUse(t *testing.T) {
	for name, open := range calendarDialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			ctx := context.Background()
			for _, e := range []struct {
				step  int
				kind  string
				event string
			}{
				{1, store.GuideStart, "a1"}, {1, store.GuideStep, "a1"}, {2, store.GuideStep, "a2"}, {2, store.GuideStuck, "a3"},
				{2, store.GuideCome, "a4"}, {2, store.GuideCome, "a4"}, // re-delivered
				{1, store.GuideStart, "b1"}, {1, store.GuideStep, "b1"}, {2, store.GuideStep, "b2"}, {2, store.GuideDone, "b3"},
			} {
				if err := db.RecordGuideUse(ctx, "vneid/otp", 1, e.step, e.kind, e.event); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.RecordGuideUse(ctx, "vneid/otp", 1, 1, "clicked", "x"); cnsbot.ErrorCode(err) != cnsbot.EINVALID {
				t.Errorf("unknown kind: %v", err)
			}
			if err := db.RateGuide(ctx, "u", "vneid/otp", 4, "r1"); err != nil {
				t.Fatal(err)
			}
			use, err := db.GuidesUse(ctx)
			if err != nil {
				t.Fatal(err)
			}
			u := use["vneid/otp"]
			if u == nil || u.Started != 2 || u.Finished != 1 || u.Stuck != 1 || u.Come != 1 || u.Ratings != 1 || u.Average != 4 ||
				len(u.Steps) != 2 || u.Steps[1] != (store.StepUse{Step: 2, Reached: 2, Stuck: 1, Come: 1}) {
				t.Errorf("use %+v", u)
			}
		})
	}
}

// TestGuideUseConcurrent: turns that count at once share INSERTs, each
// row once however many times its event is counted, and each caller gets
// its own answer.
func TestGuideUseConcurrent(t *testing.T) {
	for name, open := range calendarDialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			ctx := context.Background()
			const events = 150
			var wg sync.WaitGroup
			errs := make(chan error, 3*events)
			for i := range events {
				for range 2 { // each event counted twice, as a re-delivery would
					wg.Go(func() {
						errs <- db.RecordGuideUse(ctx, "vneid/otp", 1, 1, store.GuideStart, "e"+strconv.Itoa(i))
					})
				}
				wg.Go(func() {
					errs <- db.RecordGuideUse(ctx, "vneid/otp", 1, 1, "clicked", "e"+strconv.Itoa(i))
				})
			}
			wg.Wait()
			close(errs)
			invalid := 0
			for err := range errs {
				switch {
				case cnsbot.ErrorCode(err) == cnsbot.EINVALID:
					invalid++
				case err != nil:
					t.Fatal(err)
				}
			}
			if invalid != events {
				t.Errorf("%d refusals of an unknown kind, want %d", invalid, events)
			}
			use, err := db.GuidesUse(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if u := use["vneid/otp"]; u == nil || u.Started != events {
				t.Errorf("use %+v, want %d started", u, events)
			}
		})
	}
}
