package zalotest

import (
	"bytes"
	"io"
	"net/http"
	"strings"
)

// KindUpload is the request kind of a picture upload, for Refuse and fault
// functions.
const KindUpload = "upload_image"

// Upload is a picture uploaded to the fake, as Zalo keeps it.
type Upload struct {
	Data        []byte
	ContentType string
	Filename    string
}

// maxUpload is the upload API's limit: JPEG or PNG up to 1 MB
// (developers.zalo.me, "Upload hình ảnh").
const maxUpload = 1 << 20

// handleUploadImage takes POST /v2.0/oa/upload/image: a multipart form
// whose field "file" is a JPEG or PNG of at most 1 MB, answered with
// {"data":{"attachment_id":"…"},"error":0,"message":"Success"}. Anything
// else is refused with -201, as a field Zalo finds invalid.
func (s *Server) handleUploadImage(w http.ResponseWriter, r *http.Request) {
	if !s.begin(w, r, Request{Kind: KindUpload}, true) {
		return
	}
	if _, ok := s.admit(w, r, KindUpload); !ok {
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		s.fail(w, r, -201)
		return
	}
	if err := r.ParseMultipartForm(2 * maxUpload); err != nil {
		s.fail(w, r, -201)
		return
	}
	f, h, err := r.FormFile("file")
	if err != nil {
		s.fail(w, r, -201)
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxUpload+1))
	ct := http.DetectContentType(data)
	if err != nil || len(data) == 0 || len(data) > maxUpload || (ct != "image/jpeg" && ct != "image/png") {
		s.fail(w, r, -201)
		return
	}
	s.mu.Lock()
	s.seq++
	id := randHex(6) + "_" + randHex(12)
	s.uploads[id] = Upload{Data: bytes.Clone(data), ContentType: ct, Filename: h.Filename}
	s.mu.Unlock()
	s.answer(w, r, http.StatusOK, 0, "Success", map[string]any{"attachment_id": id})
}

// Uploaded returns the picture uploaded under attachment id.
func (s *Server) Uploaded(id string) (Upload, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.uploads[id]
	return u, ok
}

// Uploads returns how many pictures were uploaded.
func (s *Server) Uploads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.uploads)
}
