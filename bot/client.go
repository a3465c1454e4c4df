package bot

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/vn"
	json "github.com/goccy/go-json"
)

// Zalo's limits on outgoing messages.
const (
	// MaxTextLen is the longest text of one message. It is counted in UTF-16
	// code units, which equals characters for Vietnamese text and is the
	// safe reading where emoji count double (unsure how Zalo counts).
	MaxTextLen = 2000
	// MaxButtons is the most buttons a list template carries.
	MaxButtons = 5
)

// DefaultHTTPTimeout bounds one Zalo call when NewClient is given no
// http.Client: long enough for a slow answer, short enough that a stuck
// connection does not hold a partition's outbox for long.
const DefaultHTTPTimeout = 15 * time.Second

// maxAnswer caps how much of an answer is read; Zalo's are a few hundred bytes.
const maxAnswer = 1 << 20

// TokenProvider hands out the OA's access token. Refresh is called with the
// token Zalo just refused; it returns a newer token, refreshing only if
// nobody else already did.
type TokenProvider interface {
	Token(ctx context.Context) (string, error)
	Refresh(ctx context.Context, stale string) (string, error)
}

// Client speaks Zalo's OA OpenAPI. It checks the "error" of every answer,
// and on an invalid or expired token refreshes it and retries the call once.
type Client struct {
	base   string
	tokens TokenProvider
	hc     *http.Client
	m      *Metrics
	sent   *sentRecorder // see RememberSends
}

// DefaultIdleConns is how many idle connections to Zalo are kept open.
// Every partition's outbox sends to the same host at once; Go's default of
// two idle connections per host would make nearly every send dial (and,
// against the real API, handshake TLS) again.
const DefaultIdleConns = 64

// NewHTTPClient returns an http.Client for Zalo's APIs: timeout per call,
// and up to DefaultIdleConns connections kept for reuse.
func NewHTTPClient(timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = DefaultIdleConns
	tr.MaxIdleConnsPerHost = DefaultIdleConns
	return &http.Client{Timeout: timeout, Transport: tr}
}

// NewClient returns a client of the OpenAPI at apiBase (e.g.
// "https://openapi.zalo.me"). hc may be nil for NewHTTPClient with
// DefaultHTTPTimeout; m may be nil.
func NewClient(apiBase string, tokens TokenProvider, hc *http.Client, m *Metrics) *Client {
	if hc == nil {
		hc = NewHTTPClient(DefaultHTTPTimeout)
	}
	return &Client{base: strings.TrimRight(apiBase, "/"), tokens: tokens, hc: hc, m: m}
}

// Profile is what Zalo tells about a user.
type Profile struct {
	UserID      string
	DisplayName string
	Avatar      string
	IsFollower  bool
	// Shared is what the user shared through a request_user_info form, or nil.
	Shared *cnsbot.UserInfo
}

// Send delivers m by its Kind and returns Zalo's message ids (several when
// a long text was split).
func (c *Client) Send(ctx context.Context, m cnsbot.Outgoing) ([]string, error) {
	switch m.Kind {
	case cnsbot.MsgText, "":
		return c.SendText(ctx, m.To, m.Text)
	case cnsbot.MsgList:
		id, err := c.sendList(ctx, m.To, m.Text, m.Subtitle, m.ImageURL, m.Buttons)
		if err != nil {
			return nil, err
		}
		return []string{id}, nil
	case cnsbot.MsgRequestInfo:
		if m.To.UserID == "" {
			return nil, cnsbot.Errorf(cnsbot.EINVALID, "request_user_info needs a user recipient")
		}
		id, err := c.RequestUserInfo(ctx, m.To.UserID, m.Text, m.Subtitle, m.ImageURL)
		if err != nil {
			return nil, err
		}
		return []string{id}, nil
	}
	return nil, cnsbot.Errorf(cnsbot.EINVALID, "unknown message kind %q", m.Kind)
}

// SendText sends text to a user (consultation message) or a group, split
// into several messages when longer than MaxTextLen. If a later part fails,
// the ids of the parts already sent are returned with the error.
func (c *Client) SendText(ctx context.Context, to cnsbot.Recipient, text string) ([]string, error) {
	if strings.TrimSpace(text) == "" {
		return nil, cnsbot.Errorf(cnsbot.EINVALID, "empty text")
	}
	var ids []string
	for _, part := range SplitText(text, MaxTextLen) {
		id, err := c.sendMessage(ctx, to, outMessage{Text: part})
		if err != nil {
			return ids, fmt.Errorf("send text: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// SendList sends a list template with up to MaxButtons buttons. A button
// with a Payload becomes oa.query.hide (the tap comes back as the payload's
// text), one with a URL oa.open.url, one with a Phone oa.open.phone.
// Groups cannot take templates: they get a text with numbered options, each
// line showing the command that the button would have sent.
func (c *Client) SendList(ctx context.Context, to cnsbot.Recipient, title, subtitle string, buttons []cnsbot.Button) (string, error) {
	return c.sendList(ctx, to, title, subtitle, "", buttons)
}

// sendList is SendList with an optional header image (Outgoing.ImageURL).
func (c *Client) sendList(ctx context.Context, to cnsbot.Recipient, title, subtitle, imageURL string, buttons []cnsbot.Button) (string, error) {
	if title == "" {
		return "", cnsbot.Errorf(cnsbot.EINVALID, "list without a title")
	}
	if len(buttons) > MaxButtons {
		return "", cnsbot.Errorf(cnsbot.EINVALID, "%d buttons, at most %d", len(buttons), MaxButtons)
	}
	wire := make([]outButton, 0, len(buttons))
	for i, b := range buttons {
		w, err := toOutButton(b)
		if err != nil {
			return "", fmt.Errorf("button %d: %w", i+1, err)
		}
		wire = append(wire, w)
	}
	if to.GroupID != "" {
		ids, err := c.SendText(ctx, to, ListAsText(title, subtitle, buttons))
		if len(ids) > 0 {
			return ids[0], err
		}
		return "", err
	}
	id, err := c.sendMessage(ctx, to, outMessage{Attachment: &outAttachment{Type: "template", Payload: outTemplate{
		TemplateType: "list",
		Elements:     []outElement{{Title: title, Subtitle: subtitle, ImageURL: imageURL}},
		Buttons:      wire,
	}}})
	if err != nil {
		return "", fmt.Errorf("send list: %w", err)
	}
	return id, nil
}

// ListAsText renders a list for a group, where templates are not allowed:
// the title, the subtitle, then one numbered line per button with what
// typing would do the same (the payload command, the link, the number).
func ListAsText(title, subtitle string, buttons []cnsbot.Button) string {
	var b strings.Builder
	b.WriteString(title)
	if subtitle != "" {
		b.WriteString("\n")
		b.WriteString(subtitle)
	}
	for i, btn := range buttons {
		action := btn.Payload
		switch {
		case btn.URL != "":
			action = btn.URL
		case btn.Phone != "":
			action = btn.Phone
		}
		fmt.Fprintf(&b, "\n%d. %s", i+1, btn.Title)
		if action != "" && action != btn.Title {
			fmt.Fprintf(&b, " — %s", action)
		}
	}
	return b.String()
}

func toOutButton(b cnsbot.Button) (outButton, error) {
	if b.Title == "" {
		return outButton{}, cnsbot.Errorf(cnsbot.EINVALID, "button without a title")
	}
	switch {
	case b.Payload != "":
		return outButton{Title: b.Title, Type: "oa.query.hide", Payload: b.Payload}, nil
	case b.URL != "":
		return outButton{Title: b.Title, Type: "oa.open.url", Payload: map[string]string{"url": b.URL}}, nil
	case b.Phone != "":
		code := phoneCode(b.Phone)
		if code == "" {
			return outButton{}, cnsbot.Errorf(cnsbot.EINVALID, "button phone is not a number")
		}
		return outButton{Title: b.Title, Type: "oa.open.phone", Payload: map[string]string{"phone_code": code}}, nil
	}
	return outButton{}, cnsbot.Errorf(cnsbot.EINVALID, "button without payload, url or phone")
}

// The send API's request body, as types: encoding them costs a fraction
// of the maps they replace, on every message sent.
type (
	outBody struct {
		Recipient outRecipient `json:"recipient"`
		Message   outMessage   `json:"message"`
	}
	outRecipient struct {
		UserID  string `json:"user_id,omitempty"`
		GroupID string `json:"group_id,omitempty"`
	}
	// outMessage is a text or a template attachment.
	outMessage struct {
		Text       string         `json:"text,omitempty"`
		Attachment *outAttachment `json:"attachment,omitempty"`
	}
	outAttachment struct {
		Type    string      `json:"type"`
		Payload outTemplate `json:"payload"`
	}
	outTemplate struct {
		TemplateType string       `json:"template_type"`
		Elements     []outElement `json:"elements"`
		// Buttons is omitted for request_user_info, which has none.
		Buttons []outButton `json:"buttons,omitempty"`
	}
	outElement struct {
		Title    string `json:"title,omitempty"`
		Subtitle string `json:"subtitle,omitempty"`
		ImageURL string `json:"image_url,omitempty"`
		// MediaType and URL, or AttachmentID, are a media template's image.
		MediaType    string `json:"media_type,omitempty"`
		URL          string `json:"url,omitempty"`
		AttachmentID string `json:"attachment_id,omitempty"`
	}
	// outButton's Payload is a string (oa.query.*) or an object (oa.open.*).
	outButton struct {
		Title   string `json:"title"`
		Type    string `json:"type"`
		Payload any    `json:"payload"`
	}
)

// phoneCode turns "+84 91 234 5678", "0912345678" or "84912345678" into
// Zalo's "84912345678"; it returns "" when the input holds no digits.
// Short numbers (hotlines like 1900…, 113) are kept as they are.
func phoneCode(phone string) string {
	var d strings.Builder
	for _, r := range phone {
		if r >= '0' && r <= '9' {
			d.WriteRune(r)
		}
	}
	s := d.String()
	// Mobile numbers have 10 digits with the leading 0, landlines 11.
	if strings.HasPrefix(s, "0") && (len(s) == 10 || len(s) == 11) {
		s = "84" + s[1:]
	}
	return s
}

// RequestUserInfo sends the request_user_info template asking a user to
// share name, phone and address; the answer comes as user_submit_info.
func (c *Client) RequestUserInfo(ctx context.Context, userID, title, subtitle, imageURL string) (string, error) {
	if userID == "" || title == "" {
		return "", cnsbot.Errorf(cnsbot.EINVALID, "request_user_info needs a user and a title")
	}
	id, err := c.sendMessage(ctx, cnsbot.Recipient{UserID: userID}, outMessage{Attachment: &outAttachment{Type: "template", Payload: outTemplate{
		TemplateType: "request_user_info",
		Elements:     []outElement{{Title: title, Subtitle: subtitle, ImageURL: imageURL}},
	}}})
	if err != nil {
		return "", fmt.Errorf("request user info: %w", err)
	}
	return id, nil
}

// UserDetail fetches a user's profile. It accepts ids and phone numbers as
// strings or numbers, and the follower flag as a boolean, number or string.
func (c *Client) UserDetail(ctx context.Context, userID string) (Profile, error) {
	q, err := json.Marshal(map[string]string{"user_id": userID})
	if err != nil {
		return Profile{}, fmt.Errorf("user detail: %w", err)
	}
	var d struct {
		UserID      flexString `json:"user_id"`
		DisplayName flexString `json:"display_name"`
		Avatar      flexString `json:"avatar"`
		IsFollower  flexBool   `json:"user_is_follower"`
		SharedInfo  *struct {
			Name     flexString `json:"name"`
			Phone    flexString `json:"phone"`
			Address  flexString `json:"address"`
			Ward     flexString `json:"ward"`
			District flexString `json:"district"`
			City     flexString `json:"city"`
		} `json:"shared_info"`
	}
	path := "/v3.0/oa/user/detail?data=" + url.QueryEscape(string(q))
	if err := c.call(ctx, http.MethodGet, path, nil, &d); err != nil {
		return Profile{}, fmt.Errorf("user detail: %w", err)
	}
	p := Profile{
		UserID:      string(d.UserID),
		DisplayName: string(d.DisplayName),
		Avatar:      string(d.Avatar),
		IsFollower:  bool(d.IsFollower),
	}
	if p.UserID == "" {
		p.UserID = userID
	}
	if s := d.SharedInfo; s != nil {
		p.Shared = &cnsbot.UserInfo{
			Name: string(s.Name), Phone: string(s.Phone), Address: string(s.Address),
			Ward: string(s.Ward), District: string(s.District), City: string(s.City),
		}
	}
	return p, nil
}

// sendMessage posts one message to the user or group endpoint and returns its id.
func (c *Client) sendMessage(ctx context.Context, to cnsbot.Recipient, message outMessage) (string, error) {
	var path string
	switch {
	case to.UserID != "" && to.GroupID == "":
		path = "/v3.0/oa/message/cs"
	case to.GroupID != "" && to.UserID == "":
		path = "/v3.0/oa/group/message"
		// The service never means to mention anyone, and what it posts in
		// a group often quotes what a resident typed: "[@…]" would notify
		// a member, or the whole group.
		message.Text = vn.NoMention(message.Text)
	default:
		return "", cnsbot.Errorf(cnsbot.EINVALID, "recipient needs exactly one of user or group")
	}
	body, err := json.Marshal(outBody{Recipient: outRecipient{UserID: to.UserID, GroupID: to.GroupID}, Message: message})
	if err != nil {
		return "", err
	}
	var data struct {
		MessageID flexString `json:"message_id"`
	}
	if err := c.call(ctx, http.MethodPost, path, body, &data); err != nil {
		return "", err
	}
	c.sent.remember(ctx, to, string(data.MessageID))
	return string(data.MessageID), nil
}

// call performs one API call, refreshing the token and retrying once when
// Zalo says it is invalid or expired. out receives the answer's "data".
func (c *Client) call(ctx context.Context, method, path string, body []byte, out any) error {
	return c.callAs(ctx, method, path, body, "application/json", out)
}

// callAs is call with a body of another type (a multipart upload).
func (c *Client) callAs(ctx context.Context, method, path string, body []byte, ctype string, out any) error {
	tok, err := c.tokens.Token(ctx)
	if err != nil {
		return fmt.Errorf("access token: %w", err)
	}
	err = c.doAs(ctx, method, path, body, ctype, tok, out)
	if Classify(err) != ClassRefresh {
		return err
	}
	tok, rerr := c.tokens.Refresh(ctx, tok)
	if rerr != nil {
		return fmt.Errorf("refresh after %w: %w", err, rerr)
	}
	return c.doAs(ctx, method, path, body, ctype, tok, out)
}

// envelope is Zalo's answer: {"error":0,"message":"Success","data":{…}}.
type envelope struct {
	Error   flexInt         `json:"error"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

func (c *Client) doAs(ctx context.Context, method, path string, body []byte, ctype, tok string, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("access_token", tok)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", ctype)
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if c.m != nil {
		c.m.SendLatency.Observe(time.Since(start).Seconds())
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	var env envelope
	decErr := json.Unmarshal(raw, &env)
	if resp.StatusCode != http.StatusOK {
		ae := &APIError{Status: resp.StatusCode, Message: http.StatusText(resp.StatusCode)}
		if decErr == nil && env.Error != 0 {
			ae.Code, ae.Message = int(env.Error), env.Message
		}
		return ae
	}
	if decErr != nil {
		// A 200 that is not Zalo's JSON: a proxy's page, a truncated answer.
		return &APIError{Status: http.StatusBadGateway, Message: "answer is not JSON"}
	}
	if env.Error != 0 {
		return &APIError{Code: int(env.Error), Message: env.Message}
	}
	if out != nil && len(env.Data) > 0 && string(env.Data) != "null" {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return fmt.Errorf("decode answer data: %w", err)
		}
	}
	return nil
}

// SplitText cuts text into parts of at most max UTF-16 code units: at the
// last line break in the part's second half, else the last sentence end,
// else the last space, else (one very long word) anywhere that does not
// separate a letter from its combining marks. Break spaces are dropped.
func SplitText(text string, max int) []string {
	if max <= 0 || utf16Len(text) <= max {
		return []string{text}
	}
	var parts []string
	rest, units := text, utf16Len(text)
	for units > max {
		cut := breakAt(rest, prefixLen(rest, max))
		part := strings.TrimRightFunc(rest[:cut], unicode.IsSpace)
		if part == "" {
			cut = prefixLen(rest, max)
			part = rest[:cut]
		}
		parts = append(parts, part)
		next := strings.TrimLeftFunc(rest[cut:], unicode.IsSpace)
		units -= utf16Len(rest[:len(rest)-len(next)])
		rest = next
	}
	if rest != "" {
		parts = append(parts, rest)
	}
	return parts
}

// breakAt returns the byte offset at which to cut s, whose first end bytes
// fit in one message.
func breakAt(s string, end int) int {
	window := s[:end]
	half := len(window) / 2
	if i := strings.LastIndexByte(window, '\n'); i >= half {
		return i + 1
	}
	if i := lastSentenceEnd(window); i >= half {
		return i
	}
	if i := strings.LastIndexFunc(window, unicode.IsSpace); i > 0 {
		// The last space, even in the first half: never mid-word if avoidable.
		_, size := utf8.DecodeRuneInString(window[i:])
		return i + size
	}
	// One word longer than a message: cut it, but keep a letter with the
	// combining marks that follow it (decomposed Vietnamese).
	cut := end
	for cut > 0 {
		r, _ := utf8.DecodeRuneInString(s[cut:])
		if !unicode.Is(unicode.Mn, r) {
			break
		}
		_, size := utf8.DecodeLastRuneInString(s[:cut])
		cut -= size
	}
	if cut == 0 {
		return end
	}
	return cut
}

// lastSentenceEnd returns the offset just after the last ".", "!", "?" or
// "…" that is followed by a space, or -1.
func lastSentenceEnd(s string) int {
	for i := len(s) - 1; i > 0; i-- {
		if s[i] != ' ' {
			continue
		}
		switch r, _ := utf8.DecodeLastRuneInString(s[:i]); r {
		case '.', '!', '?', '…':
			return i
		}
	}
	return -1
}

// prefixLen returns the byte length of the longest prefix of s that is at
// most max UTF-16 code units.
func prefixLen(s string, max int) int {
	n := 0
	for i, r := range s {
		n += utf16.RuneLen(r)
		if n > max {
			return i
		}
	}
	return len(s)
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// flexString decodes a JSON string or number (kept as written, so that
// long ids and phone numbers do not pass through float64) or null.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"' && len(b) >= 2 && bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b):
		// No escapes: the text between the quotes is the string. Most
		// ids and names take this way, which skips a second decoder.
		*f = flexString(b[1 : len(b)-1])
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		*f = flexString(b)
	case string(b) == "true" || string(b) == "false":
		*f = flexString(b)
	default:
		// Objects and arrays where a scalar was expected: ignore, not fail.
		*f = ""
	}
	return nil
}

// flexBool decodes true/false, 1/0, "true"/"1" and null.
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	v, _ := strconv.ParseBool(strings.TrimSpace(string(s)))
	*f = flexBool(v)
	return nil
}

// flexInt decodes a number or a numeric string; anything else is an error.
type flexInt int

func (f *flexInt) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	if s == "" {
		*f = 0
		return nil
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(s)))
	if err != nil {
		return fmt.Errorf("not a number: %q", string(s))
	}
	*f = flexInt(v)
	return nil
}

// OAProfile is what Zalo tells about the Official Account itself.
type OAProfile struct {
	OAID        string
	Name        string
	Description string
	// Verified is Zalo's verification tick; group messages and several
	// APIs need a verified OA.
	Verified bool
	// Package is the name of the OA's paid package, when Zalo says one.
	Package string
}

// OAProfile reads the OA's own profile (GET /v2.0/oa/getoa): a cheap
// call that proves the access token works.
func (c *Client) OAProfile(ctx context.Context) (OAProfile, error) {
	var d struct {
		OAID        flexString `json:"oa_id"`
		Name        flexString `json:"name"`
		Description flexString `json:"description"`
		IsVerified  flexBool   `json:"is_verified"`
		PackageName flexString `json:"package_name"`
	}
	if err := c.call(ctx, http.MethodGet, "/v2.0/oa/getoa", nil, &d); err != nil {
		return OAProfile{}, fmt.Errorf("oa profile: %w", err)
	}
	return OAProfile{OAID: string(d.OAID), Name: string(d.Name), Description: string(d.Description),
		Verified: bool(d.IsVerified), Package: string(d.PackageName)}, nil
}

// SendImage sends the picture at imageURL (public, jpg or png) to a user
// or a group, as a media template.
func (c *Client) SendImage(ctx context.Context, to cnsbot.Recipient, imageURL string) (string, error) {
	if !strings.HasPrefix(imageURL, "https://") && !strings.HasPrefix(imageURL, "http://") {
		return "", cnsbot.Errorf(cnsbot.EINVALID, "image needs a public http(s) URL")
	}
	id, err := c.sendMessage(ctx, to, outMessage{Attachment: &outAttachment{Type: "template", Payload: outTemplate{
		TemplateType: "media",
		Elements:     []outElement{{MediaType: "image", URL: imageURL}},
	}}})
	if err != nil {
		return "", fmt.Errorf("send image: %w", err)
	}
	return id, nil
}
