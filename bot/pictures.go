package bot

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"time"

	"github.com/camau-cns/cnsbot"
)

// MaxUploadBytes is the largest picture Zalo's upload API takes (JPEG or
// PNG, 1 MB: developers.zalo.me, "Upload hình ảnh").
const MaxUploadBytes = 1 << 20

// AttachmentTTL is how long an uploaded picture's attachment id is used.
// Zalo keeps an uploaded picture for at most 7 days after it is sent
// ("Upload hình ảnh"); an older id is uploaded again rather than risk a
// resident seeing "the picture no longer exists".
const AttachmentTTL = 6 * 24 * time.Hour

// UploadImage uploads a JPEG or PNG picture to Zalo
// (POST /v2.0/oa/upload/image, multipart field "file") and returns its
// attachment id, for SendImageAttachment.
func (c *Client) UploadImage(ctx context.Context, data []byte, contentType string) (string, error) {
	ext := map[string]string{"image/jpeg": "jpg", "image/png": "png"}[contentType]
	if ext == "" {
		return "", cnsbot.Errorf(cnsbot.EINVALID, "upload a JPEG or PNG, not %s", contentType)
	}
	if len(data) > MaxUploadBytes {
		return "", cnsbot.Errorf(cnsbot.EINVALID, "picture of %d bytes: Zalo takes at most 1 MB", len(data))
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="guide.`+ext+`"`)
	h.Set("Content-Type", contentType)
	part, err := w.CreatePart(h)
	if err != nil {
		return "", err
	}
	if _, err := part.Write(data); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	var out struct {
		AttachmentID flexString `json:"attachment_id"`
	}
	if err := c.callAs(ctx, http.MethodPost, "/v2.0/oa/upload/image", body.Bytes(), w.FormDataContentType(), &out); err != nil {
		return "", fmt.Errorf("upload image: %w", err)
	}
	if out.AttachmentID == "" {
		return "", &APIError{Status: http.StatusBadGateway, Message: "upload answered no attachment_id"}
	}
	return string(out.AttachmentID), nil
}

// SendImageAttachment sends an uploaded picture to a user or a group, as a
// media template.
func (c *Client) SendImageAttachment(ctx context.Context, to cnsbot.Recipient, attachmentID string) (string, error) {
	id, err := c.sendMessage(ctx, to, outMessage{Attachment: &outAttachment{Type: "template", Payload: outTemplate{
		TemplateType: "media",
		Elements:     []outElement{{MediaType: "image", AttachmentID: attachmentID}},
	}}})
	if err != nil {
		return "", fmt.Errorf("send image: %w", err)
	}
	return id, nil
}

// Picture is a stored picture as the sender needs it.
type Picture struct {
	Data        []byte
	ContentType string
	// AttachmentID is what Zalo's upload returned for it, at AttachedAt;
	// empty when it was never uploaded.
	AttachmentID string
	AttachedAt   time.Time
}

// Pictures are the guides' pictures (a store behind an adapter). Picture
// returns an ENOTFOUND *cnsbot.Error for an unknown picture.
type Pictures interface {
	Picture(ctx context.Context, sha string) (Picture, error)
	KeepAttachment(ctx context.Context, sha, attachmentID string, at time.Time) error
	// URL is where Zalo can fetch the picture, under PUBLIC_URL; "" when
	// the service has no public address.
	URL(sha string) string
}

// sendImage sends a guide's picture (m.Image): uploaded once and sent by
// its attachment id; when Zalo refuses the upload or the attachment, by its
// public URL; when Zalo refuses that too, not at all, since the step's text
// follows as its own message and stands alone. Only a refusal of the
// message's shape (ClassBug) moves to the next way: anything else (the
// network, the token, a person Zalo cannot reach) is the sender's usual
// business.
func (s *Sender) sendImage(ctx context.Context, m cnsbot.Outgoing, p *progress) error {
	pics := s.cfg.Pictures
	if pics == nil {
		s.logger.Warn("guide picture not sent: no pictures configured")
		s.countImage("none")
		return nil
	}
	pic, err := pics.Picture(ctx, m.Image)
	if cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND {
		s.logger.Warn("guide picture not sent: not stored", "image", short(m.Image))
		s.countImage("none")
		return nil
	}
	if err != nil {
		return fmt.Errorf("guide picture: %w", err)
	}
	sent := func(id, how string) error {
		p.ids = append(p.ids, id)
		s.sentIDs(ctx, m, []string{id})
		s.countImage(how)
		return nil
	}
	att := pic.AttachmentID
	if att == "" || s.cfg.Now().Sub(pic.AttachedAt) > AttachmentTTL {
		att, err = s.c.UploadImage(ctx, pic.Data, pic.ContentType)
		switch {
		case err == nil:
			if kerr := pics.KeepAttachment(ctx, m.Image, att, s.cfg.Now()); kerr != nil {
				// Sent all the same; the next send uploads again.
				s.logger.Warn("picture attachment not kept", "image", short(m.Image), "err", kerr)
			}
		case Classify(err) != ClassBug:
			return err
		default:
			s.logger.Warn("zalo refused a picture upload; sending its address", "image", short(m.Image), "code", Code(err))
			att = ""
		}
	}
	if att != "" {
		id, err := s.c.SendImageAttachment(ctx, m.To, att)
		if err == nil {
			return sent(id, "attachment")
		}
		if Classify(err) != ClassBug {
			return err
		}
		s.logger.Warn("zalo refused an uploaded picture; sending its address", "image", short(m.Image), "code", Code(err))
	}
	if u := pics.URL(m.Image); u != "" {
		id, err := s.c.SendImage(ctx, m.To, u)
		if err == nil {
			return sent(id, "url")
		}
		if Classify(err) != ClassBug {
			return err
		}
		s.logger.Warn("zalo refused a picture's address; the step goes as text alone", "image", short(m.Image), "code", Code(err))
	}
	s.countImage("text_only")
	return nil
}

// countImage counts a picture sent another way than by its upload, as a
// degraded message of feature "image" (reason url, text_only or none).
func (s *Sender) countImage(how string) {
	if s.m != nil && how != "attachment" {
		s.m.Degraded.WithLabelValues("image", how).Inc()
	}
}

// short names a picture in logs.
func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
