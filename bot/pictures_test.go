package bot_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/bot/zalotest"
)

// memPictures keeps pictures and their attachment ids in memory, as the
// store does.
type memPictures struct {
	mu   sync.Mutex
	pics map[string]bot.Picture
	kept int
	url  string
}

func (m *memPictures) Picture(_ context.Context, sha string) (bot.Picture, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.pics[sha]
	if !ok {
		return p, cnsbot.Errorf(cnsbot.ENOTFOUND, "no picture")
	}
	return p, nil
}

func (m *memPictures) KeepAttachment(_ context.Context, sha, id string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.pics[sha]
	p.AttachmentID, p.AttachedAt = id, at
	m.pics[sha] = p
	m.kept++
	return nil
}

func (m *memPictures) URL(sha string) string {
	if m.url == "" {
		return ""
	}
	return m.url + "/guides/images/" + sha
}

const picSHA = "7f83b1657ff1fc53b92dc18148a1d65dfc2d4b1fa3d677284addd200126d9069"

func newPictureSender(t *testing.T, now *time.Time, url string) (*senderSetup, *bot.Sender, *memPictures) {
	t.Helper()
	s := newSender(t, morning, nil)
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	pics := &memPictures{pics: map[string]bot.Picture{picSHA: {Data: b.Bytes(), ContentType: "image/png"}}, url: url}
	snd := bot.NewSender(s.client, nil, s.dlog, bot.SenderConfig{Now: func() time.Time { return *now }, Location: ict,
		Pictures: pics}, slog.New(slog.NewJSONHandler(s.logs, nil)), s.m)
	return s, snd, pics
}

func picture(id string) cnsbot.Outgoing {
	return cnsbot.Outgoing{ID: id, To: user, Kind: cnsbot.MsgImage, Image: picSHA, Purpose: bot.PurposeReply, Lang: "vi"}
}

// A guide's picture is uploaded once, with the real wire format, and sent
// by its attachment id; the id is kept and used again, until Zalo may have
// dropped the upload.
func TestPictureUploadedOnce(t *testing.T) {
	now := morning
	s, snd, pics := newPictureSender(t, &now, "https://cnsbot.example")
	ctx := context.Background()
	for _, id := range []string{"e1:0", "e2:0"} {
		if err := snd.Deliver(ctx, picture(id)); err != nil {
			t.Fatal(err)
		}
	}
	msgs := s.z.Messages()
	if len(msgs) != 2 || s.z.Uploads() != 1 || pics.kept != 1 {
		t.Fatalf("%d messages, %d uploads, %d ids kept; want 2 sent from 1 upload", len(msgs), s.z.Uploads(), pics.kept)
	}
	for _, m := range msgs {
		up, ok := s.z.Uploaded(m.AttachmentID)
		if m.Kind != zalotest.KindImage || !ok || m.ImageURL != "" || !bytes.Equal(up.Data, pics.pics[picSHA].Data) ||
			up.ContentType != "image/png" {
			t.Errorf("sent %+v, want the uploaded picture by attachment id", m)
		}
	}
	now = now.Add(bot.AttachmentTTL + time.Hour)
	if err := snd.Deliver(ctx, picture("e3:0")); err != nil {
		t.Fatal(err)
	}
	if s.z.Uploads() != 2 {
		t.Errorf("%d uploads after a week, want a fresh one", s.z.Uploads())
	}
}

// When Zalo refuses the upload, the picture goes by its public address;
// when it refuses pictures altogether, nothing is sent and nothing fails:
// the step's text follows on its own.
func TestPictureFallsBack(t *testing.T) {
	now := morning
	s, snd, _ := newPictureSender(t, &now, "https://cnsbot.example")
	ctx := context.Background()
	s.z.Refuse(zalotest.KindUpload, -201)
	if err := snd.Deliver(ctx, picture("e1:0")); err != nil {
		t.Fatal(err)
	}
	msgs := s.z.Messages()
	if len(msgs) != 1 || msgs[0].Kind != zalotest.KindImage || msgs[0].ImageURL != "https://cnsbot.example/guides/images/"+picSHA {
		t.Fatalf("got %+v, want the picture by its address", msgs)
	}
	if got := counterValue(t, s.m.Degraded.WithLabelValues("image", "url")); got != 1 {
		t.Errorf("%v pictures counted as sent by address, want 1", got)
	}
	s.z.Refuse(zalotest.KindImage, -201)
	if err := snd.Deliver(ctx, picture("e2:0")); err != nil {
		t.Fatalf("a refused picture failed the delivery: %v", err)
	}
	if err := snd.Deliver(ctx, cnsbot.Outgoing{ID: "e2:1", To: user, Kind: cnsbot.MsgText, Text: "Bước 3/5: …", Purpose: bot.PurposeReply}); err != nil {
		t.Fatal(err)
	}
	msgs = s.z.Messages()
	if len(msgs) != 2 || msgs[1].Kind != zalotest.KindText {
		t.Errorf("got %+v, want the text alone after the refused picture", msgs)
	}
	if got := counterValue(t, s.m.Degraded.WithLabelValues("image", "text_only")); got != 1 {
		t.Errorf("%v pictures counted as dropped, want 1", got)
	}
	// A network failure is not a refusal: the sender retries as usual.
	s.z.Refuse(zalotest.KindImage, 0)
	s.z.Refuse(zalotest.KindUpload, 0)
	s.z.FailNext(1, 503)
	if err := snd.Deliver(ctx, picture("e3:0")); err == nil {
		t.Errorf("a 503 was swallowed: want the error, for a retry")
	}
}
