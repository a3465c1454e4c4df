package zalotest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// Message kinds recorded in Sent.Kind.
const (
	KindText        = "text"
	KindList        = "list"
	KindRequestInfo = "request_info"
	KindImage       = "image"
	// KindTransaction is a transaction message (/v3.0/oa/message/transaction).
	KindTransaction = "transaction"
	// KindGroupText is a text to a group, for Refuse only (recorded as KindText).
	KindGroupText = "group_text"
)

// MaxTransactionButtonTitle is the longest button title of a transaction
// message (Zalo's v3 page).
const MaxTransactionButtonTitle = 35

// Zalo's v3 limits of a request_user_info element (title, subtitle and
// image_url are all required).
const (
	MaxFormTitle    = 100
	MaxFormSubtitle = 500
)

// Sent is one message the fake accepted.
type Sent struct {
	// MessageID is the id the fake answered with.
	MessageID string
	// UserID or GroupID is the recipient.
	UserID  string
	GroupID string
	// Kind is KindText, KindList, KindRequestInfo or KindImage.
	Kind string
	// Text is the message text, or the first element's title of a template.
	Text     string
	Subtitle string
	ImageURL string
	// AttachmentID is an image's uploaded picture (see UploadImage), when
	// it was sent by id rather than ImageURL.
	AttachmentID string
	Buttons      []Button
	// AccessToken is the token the request carried.
	AccessToken string
	// Body is the request body as received.
	Body json.RawMessage
	Time time.Time
}

// Button is one list-template button as it arrived on the wire.
type Button struct {
	Title string
	Type  string // oa.query.show, oa.query.hide, oa.open.url, oa.open.phone, oa.open.sms
	// Payload is the string payload of oa.query.* buttons.
	Payload string
	URL     string // oa.open.url
	Phone   string // oa.open.phone, oa.open.sms
	Content string // oa.open.sms
}

// OnMessage calls f (outside the fake's lock) for every accepted message,
// e.g. to time replies in a load test. nil removes it.
func (s *Server) OnMessage(f func(Sent)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onMessage = f
}

// Messages returns a copy of every accepted message, in order.
func (s *Server) Messages() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// MessagesTo returns the accepted messages whose recipient (user or group) is id.
func (s *Server) MessagesTo(id string) []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Sent
	for _, m := range s.sent {
		if m.UserID == id || m.GroupID == id {
			out = append(out, m)
		}
	}
	return out
}

// Count returns how many messages were accepted.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// WaitFor waits until at least n messages were accepted and returns them,
// or returns ctx's error with what arrived so far.
func (s *Server) WaitFor(ctx context.Context, n int) ([]Sent, error) {
	for {
		s.mu.Lock()
		if s.count >= n {
			out := append([]Sent(nil), s.sent...)
			s.mu.Unlock()
			return out, nil
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return s.Messages(), fmt.Errorf("wait for %d messages: %w", n, ctx.Err())
		}
	}
}

// wire types of the message endpoints. Unknown fields are kept in maps so
// that the fake can refuse shapes Zalo would not understand.
type wireMessage struct {
	Recipient map[string]json.RawMessage `json:"recipient"`
	Message   *struct {
		Text       *string `json:"text"`
		Attachment *struct {
			Type    string `json:"type"`
			Payload struct {
				TemplateType string `json:"template_type"`
				Elements     []struct {
					Title        string `json:"title"`
					Subtitle     string `json:"subtitle"`
					ImageURL     string `json:"image_url"`
					MediaType    string `json:"media_type"`
					URL          string `json:"url"`
					AttachmentID string `json:"attachment_id"`
				} `json:"elements"`
				Buttons []wireButton `json:"buttons"`
			} `json:"payload"`
		} `json:"attachment"`
	} `json:"message"`
}

// wireButton is a template's button as the OA API takes it, in the
// consultation and the transaction messages alike.
type wireButton struct {
	Title   string          `json:"title"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
	// ImageIcon is required on a transaction message's buttons.
	ImageIcon *string `json:"image_icon"`
}

// parse reads and validates a message body. It returns the recorded form
// and whether Zalo would accept it.
func parseMessage(body []byte, group bool) (Sent, bool) {
	var m wireMessage
	if err := json.Unmarshal(body, &m); err != nil || m.Message == nil {
		return Sent{}, false
	}
	var out Sent
	idKey := "user_id"
	if group {
		idKey = "group_id"
	}
	for k, v := range m.Recipient {
		switch {
		case k == idKey:
			var id string
			if json.Unmarshal(v, &id) != nil || id == "" {
				return Sent{}, false
			}
			if group {
				out.GroupID = id
			} else {
				out.UserID = id
			}
		case k == "message_id" && !group:
			// A reply quoting a user's message: allowed.
		default:
			return Sent{}, false
		}
	}
	if out.UserID == "" && out.GroupID == "" {
		return Sent{}, false
	}
	msg := m.Message
	switch {
	case msg.Text != nil && msg.Attachment == nil:
		n := utf8.RuneCountInString(*msg.Text)
		if n == 0 || n > MaxText || !utf8.ValidString(*msg.Text) {
			return Sent{}, false
		}
		out.Kind, out.Text = KindText, *msg.Text
	case msg.Attachment != nil && msg.Text == nil:
		a := msg.Attachment
		if a.Type != "template" {
			return Sent{}, false
		}
		p := a.Payload
		switch p.TemplateType {
		case "list":
			if group || len(p.Elements) == 0 || len(p.Elements) > 5 || len(p.Buttons) > MaxButtons {
				return Sent{}, false
			}
			for _, e := range p.Elements {
				if e.Title == "" {
					return Sent{}, false
				}
			}
			out.Kind, out.Text = KindList, p.Elements[0].Title
			out.Subtitle, out.ImageURL = p.Elements[0].Subtitle, p.Elements[0].ImageURL
			for _, b := range p.Buttons {
				btn, ok := parseButton(b.Title, b.Type, b.Payload)
				if !ok {
					return Sent{}, false
				}
				out.Buttons = append(out.Buttons, btn)
			}
		case "request_user_info":
			if group || len(p.Elements) != 1 || len(p.Buttons) > 0 {
				return Sent{}, false
			}
			e := p.Elements[0]
			if e.Title == "" || e.Subtitle == "" || !strings.HasPrefix(e.ImageURL, "http") ||
				utf8.RuneCountInString(e.Title) > MaxFormTitle || utf8.RuneCountInString(e.Subtitle) > MaxFormSubtitle {
				return Sent{}, false
			}
			out.Kind, out.Text = KindRequestInfo, p.Elements[0].Title
			out.Subtitle, out.ImageURL = p.Elements[0].Subtitle, p.Elements[0].ImageURL
		case "media":
			// An image is a picture's address or an uploaded picture's
			// attachment id, one of the two.
			e := p.Elements[0]
			if len(p.Elements) != 1 || e.MediaType != "image" || (e.URL == "") == (e.AttachmentID == "") {
				return Sent{}, false
			}
			out.Kind, out.ImageURL, out.AttachmentID = KindImage, e.URL, e.AttachmentID
		default:
			return Sent{}, false
		}
	default:
		return Sent{}, false
	}
	return out, true
}

func parseButton(title, typ string, payload json.RawMessage) (Button, bool) {
	b := Button{Title: title, Type: typ}
	if title == "" {
		return b, false
	}
	switch typ {
	case "oa.query.show", "oa.query.hide":
		if json.Unmarshal(payload, &b.Payload) != nil || b.Payload == "" {
			return b, false
		}
	case "oa.open.url":
		var p struct {
			URL string `json:"url"`
		}
		if json.Unmarshal(payload, &p) != nil || !strings.HasPrefix(p.URL, "http") {
			return b, false
		}
		b.URL = p.URL
	case "oa.open.phone", "oa.open.sms":
		var p struct {
			PhoneCode string `json:"phone_code"`
			Content   string `json:"content"`
		}
		if json.Unmarshal(payload, &p) != nil || p.PhoneCode == "" {
			return b, false
		}
		for _, c := range p.PhoneCode {
			if c < '0' || c > '9' {
				return b, false
			}
		}
		if typ == "oa.open.sms" && p.Content == "" {
			return b, false
		}
		b.Phone, b.Content = p.PhoneCode, p.Content
	default:
		return b, false
	}
	return b, true
}

func (s *Server) handleCS(w http.ResponseWriter, r *http.Request)    { s.handleMessage(w, r, false) }
func (s *Server) handleGroup(w http.ResponseWriter, r *http.Request) { s.handleMessage(w, r, true) }

func (s *Server) handleMessage(w http.ResponseWriter, r *http.Request, group bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	sent, valid := parseMessage(body, group)
	if !s.begin(w, r, Request{Kind: sent.Kind, UserID: sent.UserID, GroupID: sent.GroupID, Text: sent.Text}, true) {
		return
	}
	kind := sent.Kind
	if group && kind == KindText {
		kind = KindGroupText
	}
	tok, ok := s.admit(w, r, kind)
	if !ok {
		return
	}
	if !valid || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		s.fail(w, r, -201)
		return
	}
	if sent.AttachmentID != "" {
		// Zalo knows only the pictures uploaded to it.
		s.mu.Lock()
		_, known := s.uploads[sent.AttachmentID]
		s.mu.Unlock()
		if !known {
			s.fail(w, r, -201)
			return
		}
	}
	s.mu.Lock()
	if !group && s.users[sent.UserID].NotFollower {
		s.mu.Unlock()
		s.fail(w, r, -213)
		return
	}
	s.mu.Unlock()
	s.record(w, r, sent, tok, body)
}

// record keeps an accepted message and answers with its id.
func (s *Server) record(w http.ResponseWriter, r *http.Request, sent Sent, tok string, body []byte) {
	s.mu.Lock()
	s.seq++
	sent.MessageID = fmt.Sprintf("%016x%s", s.seq, randHex(8))
	sent.AccessToken = tok
	sent.Body = body
	sent.Time = s.now()
	s.count++
	if !s.noRecord {
		s.sent = append(s.sent, sent)
	}
	close(s.changed)
	s.changed = make(chan struct{})
	on := s.onMessage
	s.mu.Unlock()
	if on != nil {
		on(sent)
	}
	data := map[string]any{"message_id": sent.MessageID}
	if sent.UserID != "" {
		data["user_id"] = sent.UserID
	}
	s.answer(w, r, http.StatusOK, 0, "Success", data)
}

// handleTransaction accepts transaction messages: a template whose type
// starts with "transaction_", with elements (Text records the header's
// content, Subtitle the text's) and at most four buttons, each with an
// image_icon and a title of at most 35 characters. Refuse
// (KindTransaction, code) makes it refuse them, as for an OA without the
// paid templates.
func (s *Server) handleTransaction(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	var m struct {
		Recipient struct {
			UserID string `json:"user_id"`
		} `json:"recipient"`
		Message struct {
			Attachment struct {
				Payload struct {
					TemplateType string `json:"template_type"`
					Elements     []struct {
						Type    string `json:"type"`
						Content any    `json:"content"`
					} `json:"elements"`
					Buttons []wireButton `json:"buttons"`
				} `json:"payload"`
			} `json:"attachment"`
		} `json:"message"`
	}
	decErr := json.Unmarshal(body, &m)
	sent := Sent{UserID: m.Recipient.UserID, Kind: KindTransaction}
	p := m.Message.Attachment.Payload
	for _, e := range p.Elements {
		c, _ := e.Content.(string)
		switch e.Type {
		case "header":
			sent.Text = c
		case "text":
			sent.Subtitle = c
		}
	}
	if !s.begin(w, r, Request{Kind: KindTransaction, UserID: sent.UserID, Text: sent.Text}, true) {
		return
	}
	tok, ok := s.admit(w, r, KindTransaction)
	if !ok {
		return
	}
	valid := decErr == nil && sent.UserID != "" && strings.HasPrefix(p.TemplateType, "transaction_") &&
		sent.Text != "" && len(p.Buttons) <= 4
	for _, b := range p.Buttons {
		btn, ok := parseButton(b.Title, b.Type, b.Payload)
		// Zalo's v3 page: image_icon required ("default" or empty for
		// Zalo's icon), titles at most 35 characters.
		valid = valid && ok && b.ImageIcon != nil && utf8.RuneCountInString(b.Title) <= MaxTransactionButtonTitle
		sent.Buttons = append(sent.Buttons, btn)
	}
	if !valid {
		s.fail(w, r, -201)
		return
	}
	s.record(w, r, sent, tok, body)
}

// admit answers what Zalo refuses before it reads a request of kind: a bad
// token (-216), the OA's setup fault, a refusal a test set for the kind. It
// returns the token when the request may go on.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, kind string) (string, bool) {
	tok, ok := s.checkToken(r)
	if !ok {
		s.fail(w, r, -216)
		return "", false
	}
	s.mu.Lock()
	setup, refused := s.setupFault, s.refuse[kind]
	s.mu.Unlock()
	if setup != 0 {
		s.fail(w, r, setup)
		return "", false
	}
	if refused != 0 {
		s.fail(w, r, refused)
		return "", false
	}
	return tok, true
}
