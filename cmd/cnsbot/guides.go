package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/content"
	"github.com/camau-cns/cnsbot/store"
)

// seedGuides publishes the repository's guides (content/guides) that the
// database has never had: all of them on first start. Officers own them
// after that; a release that changes a seeded guide's text does not
// overwrite what they published.
func seedGuides(ctx context.Context, db *store.DB, log *slog.Logger) error {
	seed, err := content.Seed()
	if err != nil {
		return fmt.Errorf("read the repository's guides: %w", err)
	}
	if err := db.SeedGuides(ctx, seed); err != nil {
		return err
	}
	log.Debug("guides seeded", "in_repository", len(seed))
	return nil
}

// guidesCmd runs `cnsbot guides import DIR`: every folder under DIR that
// holds a guide.toml is a guide, published as a new version unless it is
// the current one already. Guides that cannot be published are listed
// with every reason, and the command fails; the others are published.
func guidesCmd(ctx context.Context, args []string, stdout io.Writer, cfg Config, log *slog.Logger) error {
	fs := flag.NewFlagSet("guides", flag.ContinueOnError)
	fs.SetOutput(stdout)
	by := fs.String("by", "", "who publishes (shown in the guide's history); default the system user")
	usage := errors.New("usage: cnsbot guides import [--by NAME] DIR")
	if len(args) == 0 || args[0] != "import" {
		return usage
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usage
	}
	dir := fs.Arg(0)
	folders, err := content.ReadDir(os.DirFS(dir), ".")
	if err != nil {
		return fmt.Errorf("guides import: %w", err)
	}
	if len(folders) == 0 {
		return fmt.Errorf("guides import: no guide.toml under %s", dir)
	}
	who := *by
	if who == "" {
		who = "cli:" + os.Getenv("USER")
	}
	db, err := openStore(ctx, cfg, log)
	if err != nil {
		return fmt.Errorf("guides import: %w", err)
	}
	defer db.Close()
	failed := 0
	for _, r := range db.ImportGuides(ctx, folders, who, "import") {
		switch {
		case r.Err != nil:
			failed++
			msg := r.Err.Error()
			if cnsbot.ErrorCode(r.Err) == cnsbot.EINVALID {
				msg = cnsbot.ErrorMessage(r.Err)
			}
			fmt.Fprintf(stdout, "✗ %s (%s):\n  %s\n", r.Guide, r.Dir, strings.ReplaceAll(msg, "\n", "\n  "))
		case r.Changed:
			fmt.Fprintf(stdout, "✓ %s: version %d published\n", r.Guide, r.Version)
		default:
			fmt.Fprintf(stdout, "= %s: unchanged (version %d)\n", r.Guide, r.Version)
		}
	}
	if failed > 0 {
		return fmt.Errorf("guides import: %d of %d guides not published", failed, len(folders))
	}
	return nil
}

// guideImagePath is where the guides' pictures are served to anyone: Zalo
// fetches a picture there when its upload was refused. A picture's name is
// the SHA-256 of its bytes, so the address of one cannot be guessed from
// another's and its content never changes.
const guideImagePath = "/guides/images/"

// serveGuideImage serves a guide's picture by its name.
func serveGuideImage(db *store.DB) gin.HandlerFunc {
	return func(c *gin.Context) {
		sha := strings.TrimSuffix(strings.TrimSuffix(c.Param("sha"), ".jpg"), ".png")
		if len(sha) != 64 || strings.Trim(sha, "0123456789abcdef") != "" {
			c.Status(http.StatusNotFound)
			return
		}
		im, err := db.GuideImage(c.Request.Context(), sha)
		switch {
		case cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND:
			c.Status(http.StatusNotFound)
			return
		case err != nil:
			c.Status(http.StatusServiceUnavailable)
			return
		}
		c.Header("Cache-Control", "public, max-age=31536000, immutable")
		c.Data(http.StatusOK, im.ContentType, im.Data)
	}
}

// guidePictures gives the sender the guides' pictures from the database,
// and their address under base (PUBLIC_URL).
type guidePictures struct {
	db   *store.DB
	base string
}

func (p guidePictures) Picture(ctx context.Context, sha string) (bot.Picture, error) {
	im, err := p.db.GuideImage(ctx, sha)
	if err != nil {
		return bot.Picture{}, err
	}
	pic := bot.Picture{Data: im.Data, ContentType: im.ContentType, AttachmentID: im.AttachmentID}
	if im.AttachedAt != nil {
		pic.AttachedAt = *im.AttachedAt
	}
	return pic, nil
}

func (p guidePictures) KeepAttachment(ctx context.Context, sha, id string, at time.Time) error {
	return p.db.SetGuideImageAttachment(ctx, sha, id, at)
}

func (p guidePictures) URL(sha string) string {
	if p.base == "" {
		return ""
	}
	return strings.TrimRight(p.base, "/") + guideImagePath + sha
}
