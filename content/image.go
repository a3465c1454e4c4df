package content

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"net/http"

	"golang.org/x/image/draw"

	"github.com/camau-cns/cnsbot"
)

// Image is a picture as stored for a guide: small enough for Zalo's upload
// API and named by its bytes' hash.
type Image struct {
	SHA         string
	ContentType string // image/jpeg or image/png
	Data        []byte
	Width       int
	Height      int
}

// Zalo's upload API takes JPEG or PNG up to 1 MB (developers.zalo.me,
// "Upload hình ảnh"). Pictures are kept a little under it, and no wider
// than a phone shows them.
const (
	MaxImageBytes = 1 << 20
	targetBytes   = 900 << 10
	maxImageSide  = 1280
)

// FitImage checks that data is a PNG or JPEG picture and makes it fit
// Zalo's limit: a picture larger than maxImageSide or than the limit is
// scaled down and saved as JPEG, at lower quality until it fits. A picture
// that already fits is kept as it is (a screenshot stays a sharp PNG).
// Anything else is EINVALID.
func FitImage(data []byte) (Image, error) {
	ct := http.DetectContentType(data)
	if ct != "image/png" && ct != "image/jpeg" {
		return Image{}, cnsbot.Errorf(cnsbot.EINVALID, "a picture must be PNG or JPEG, not %s", ct)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return Image{}, cnsbot.Errorf(cnsbot.EINVALID, "unreadable picture: %v", err)
	}
	if cfg.Width*cfg.Height > 50_000_000 {
		return Image{}, cnsbot.Errorf(cnsbot.EINVALID, "picture of %d×%d is too large", cfg.Width, cfg.Height)
	}
	if len(data) <= targetBytes && cfg.Width <= maxImageSide && cfg.Height <= maxImageSide {
		return named(Image{ContentType: ct, Data: data, Width: cfg.Width, Height: cfg.Height}), nil
	}
	var src image.Image
	if ct == "image/png" {
		src, err = png.Decode(bytes.NewReader(data))
	} else {
		src, err = jpeg.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return Image{}, cnsbot.Errorf(cnsbot.EINVALID, "unreadable picture: %v", err)
	}
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	if s := max(w, h); s > maxImageSide {
		w, h = max(1, w*maxImageSide/s), max(1, h*maxImageSide/s)
	}
	for range 4 {
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		// A white ground: JPEG has no transparency, and a transparent
		// screenshot's background would turn black.
		draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
		draw.CatmullRom.Scale(dst, dst.Bounds(), src, b, draw.Over, nil)
		for _, q := range []int{85, 70, 55} {
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: q}); err != nil {
				return Image{}, fmt.Errorf("encode picture: %w", err)
			}
			if buf.Len() <= targetBytes {
				return named(Image{ContentType: "image/jpeg", Data: buf.Bytes(), Width: w, Height: h}), nil
			}
		}
		w, h = max(1, w*3/4), max(1, h*3/4)
	}
	return Image{}, cnsbot.Errorf(cnsbot.EINVALID, "the picture cannot be made smaller than 1 MB")
}

func named(im Image) Image {
	sum := sha256.Sum256(im.Data)
	im.SHA = hex.EncodeToString(sum[:])
	return im
}
