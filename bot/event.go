package bot

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/camau-cns/cnsbot"
)

// RouteOA is the route of events that concern no user and no group, such as
// a template's status change. They still need a route so that they are
// acknowledged, de-duplicated and processed in order like every other event.
const RouteOA = "oa"

// eventKinds maps the event names Zalo documents to their kind. Names that
// start with "oa_send_" are echoes (see Kind); every other name is KindOther.
var eventKinds = func() map[string]string {
	m := map[string]string{
		"user_send_text":       cnsbot.KindText,
		"user_send_group_text": cnsbot.KindText,
		"follow":               cnsbot.KindFollow,
		"unfollow":             cnsbot.KindUnfollow,
		"user_submit_info":     cnsbot.KindSubmit,
	}
	for _, media := range []string{"image", "link", "audio", "video", "sticker", "gif", "location", "business_card", "file"} {
		m["user_send_"+media] = cnsbot.KindMedia
		m["user_send_group_"+media] = cnsbot.KindMedia
	}
	for _, name := range []string{
		"create_group", "delete_group", "update_group_info", "user_join_group", "user_out_group",
		"add_group_admin", "remove_group_admin",
		// Join requests appear in integrations' event lists next to the
		// documented group events; they concern membership as well.
		"user_request_join_group", "accept_request_join_group", "reject_request_join_group",
		"react_request_join_group",
	} {
		m[name] = cnsbot.KindGroup
	}
	for variant := range groupAliases {
		m[variant] = cnsbot.KindGroup
	}
	for _, name := range []string{
		"user_seen_message", "user_received_message", "user_click_chatnow",
		"user_reacted_message", "user_feedback",
		// Published in public integrations' event lists; nothing the flows
		// act on, but known, so that they are not counted as unknown.
		"anonymous_send_text", "anonymous_send_image", "anonymous_send_file", "anonymous_send_sticker",
		"user_call_oa", "oa_call_user", "oa_reacted_message", "user_reply_consent",
		"permission_revoked", "add_user_to_tag", "shop_has_order",
		"change_oa_daily_quota", "change_oa_template_tags", "change_template_quality",
		"change_template_quota", "change_template_status",
		"event_journey_acknowledged", "event_journey_time_out",
	} {
		m[name] = cnsbot.KindOther
	}
	return m
}()

// groupAliases maps the other names that public lists give for a group
// lifecycle event to the name the service uses (Event.Name), so that a flow
// compares against one name whichever Zalo sends (unsure which it does).
var groupAliases = map[string]string{
	"disperse_group":                  "delete_group",
	"user_leave_group":                "user_out_group",
	"react_request_join_group_accept": "accept_request_join_group",
	"react_request_join_group_reject": "reject_request_join_group",
}

// oaToUser lists the events other than echoes in which the OA is sender.id
// and the user recipient.id: delivery and read receipts (Zalo's ZNS example
// and chatwoot's parser agree), and the OA's own reactions and calls.
var oaToUser = map[string]bool{
	"user_received_message": true,
	"user_seen_message":     true,
	"oa_reacted_message":    true,
	"oa_call_user":          true,
}

// Kind returns the cnsbot.Kind* constant for a Zalo event name. Unknown names
// are KindOther, so that a new Zalo event is acknowledged and ignored rather
// than refused.
func Kind(eventName string) string {
	if k, ok := eventKinds[eventName]; ok {
		return k
	}
	if strings.HasPrefix(eventName, "oa_send_") {
		return cnsbot.KindEcho
	}
	return cnsbot.KindOther
}

// knownEvent reports whether name is one Zalo documents; metrics label other
// names as "other" so that their cardinality stays bounded.
func knownEvent(name string) bool {
	_, ok := eventKinds[name]
	return ok || strings.HasPrefix(name, "oa_send_")
}

// inGroup reports whether an event happens in a group conversation, where
// recipient.id is the group rather than the OA or a user.
func inGroup(name string) bool {
	return strings.HasPrefix(name, "user_send_group_") ||
		strings.HasPrefix(name, "oa_send_group_") ||
		Kind(name) == cnsbot.KindGroup
}

// ParseEvent parses one webhook body into a cnsbot.Event. It is strict about
// what the service needs (valid JSON, event_name, a timestamp in epoch
// milliseconds, something to route by) and lenient about the rest: a field
// of an unexpected type is skipped, so that a change in a part of a payload
// the bot ignores does not turn into a refusal that Zalo re-sends for hours.
// Every error is a *cnsbot.Error with code EINVALID.
func ParseEvent(body []byte) (cnsbot.Event, error) {
	w, err := decodeEvent(body)
	if err != nil {
		return cnsbot.Event{}, err
	}
	return w.event()
}

// decodeEvent decodes the wire form of an event. The webhook calls it once and
// uses the result both to find the signed timestamp and to build the event.
func decodeEvent(body []byte) (*wireEvent, error) {
	w := new(wireEvent)
	if err := json.Unmarshal(body, w); err != nil {
		// json.Unmarshal validates the whole input before decoding, so any
		// error other than a type mismatch means the body is not JSON. On a
		// type mismatch it skips that field and decodes the rest.
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			return nil, cnsbot.Errorf(cnsbot.EINVALID, "event is not valid JSON")
		}
	}
	return w, nil
}

// maxAttachments caps the attachments kept from one message. Zalo sends one
// or a few; the cap only keeps a strange body from growing into a queue entry
// several times its size.
const maxAttachments = 20

// maxMillis bounds timestamps to years that time.Time marshals to JSON.
const maxMillis = 253402300799999 // 9999-12-31T23:59:59.999Z

// MaxText is how many bytes of a message's text (and of each field of a
// user_submit_info form) the service keeps; the rest is cut, on a rune
// boundary, before anything folds or matches it. Zalo caps what an OA sends
// at 2000 characters, and no flow reads more than a few hundred; the
// webhook's 1 MiB body cap alone let a 900 kB text through, which cost a
// second of CPU in folding and typo-tolerant matching.
const MaxText = 4 << 10

// MaxID is the longest id (user, OA, app, group, admin, message) and event
// name accepted; an event with a longer one is refused with 400. Zalo's
// user, OA and app ids are decimal 64-bit numbers (at most 20 digits), its
// group and message ids hex strings of 20 to 32 characters, and its event
// names under 40 characters. 64 leaves room for a longer format without
// letting a body put kilobytes into a route, a Redis key or a log line.
const MaxID = 64

// event builds the cnsbot.Event from the decoded wire form.
func (w *wireEvent) event() (cnsbot.Event, error) {
	if w.EventName == "" {
		return cnsbot.Event{}, cnsbot.Errorf(cnsbot.EINVALID, "event has no event_name")
	}
	ts := string(w.Timestamp)
	if ts == "" {
		return cnsbot.Event{}, cnsbot.Errorf(cnsbot.EINVALID, "event %s has no timestamp", w.EventName)
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || ms < 0 || ms > maxMillis {
		return cnsbot.Event{}, cnsbot.Errorf(cnsbot.EINVALID, "event %s: timestamp is not epoch milliseconds", w.EventName)
	}

	if field := w.longID(); field != "" {
		return cnsbot.Event{}, cnsbot.Errorf(cnsbot.EINVALID, "event has a %s longer than %d bytes", field, MaxID)
	}

	name := w.EventName
	if canonical, ok := groupAliases[name]; ok {
		name = canonical
	}
	ev := cnsbot.Event{
		Name: name,
		Text: clip(w.Message.Text, MaxText),
		Time: time.UnixMilli(ms).UTC(),
	}
	kind := Kind(name)
	ev.Kind = kind
	if inGroup(name) {
		// The spec says recipient.id is the group; community code also reads
		// recipient.group_id and a top-level group_id (unsure), so an explicit
		// group_id wins where one is sent.
		ev.GroupID = wireFirst(w.Recipient.GroupID, w.GroupID, w.Recipient.ID)
	}
	if kind == cnsbot.KindEcho {
		// An echo is sent by the OA: the person of the conversation is the
		// recipient, and admin_id marks a human agent writing from the OA
		// chat tool, which the flows use to pause the bot for that user.
		ev.AdminID = string(w.Sender.AdminID)
		if ev.GroupID == "" {
			ev.UserID = string(w.Recipient.ID)
		}
	} else if oaToUser[name] {
		// Receipts come from the OA's side: routing them by sender.id would
		// put every receipt of every user into the OA's one partition.
		ev.UserID = wireFirst(w.Recipient.ID, w.UserID, w.Sender.ID)
	} else {
		// follow/unfollow name the user in follower.id.
		ev.UserID = wireFirst(w.Follower.ID, w.Sender.ID, w.UserID)
	}

	switch {
	case ev.GroupID != "":
		ev.Route = "g:" + ev.GroupID
	case ev.UserID != "":
		ev.Route = "u:" + ev.UserID
	default:
		ev.Route = RouteOA
	}

	// msg_id identifies a message only in the events that carry a message;
	// receipts and reactions quote the msg_id of the message they concern,
	// which would collide with that message's own key.
	if id := string(w.Message.MsgID); id != "" && (strings.HasPrefix(name, "user_send_") || strings.HasPrefix(name, "oa_send_")) {
		ev.Key = id
	} else {
		actor := wireFirst(w.Sender.ID, w.Follower.ID, w.UserID, w.Recipient.ID, w.GroupID)
		if oaToUser[name] && ev.UserID != "" {
			// The sender is the OA for all of them: two users' receipts
			// in the same millisecond must not collide.
			actor = ev.UserID
		}
		ev.Key = name + ":" + actor + ":" + ts
	}

	atts := w.Message.Attachments
	if len(atts) > maxAttachments {
		atts = atts[:maxAttachments]
	}
	for i := range atts {
		ev.Attachments = append(ev.Attachments, atts[i].attachment(name))
	}
	if w.Info != nil {
		ev.Info = w.Info.userInfo()
	}
	return ev, nil
}

// longID names the first id of the event longer than MaxID, or returns "".
func (w *wireEvent) longID() string {
	if len(w.EventName) > MaxID {
		return "event_name"
	}
	for _, f := range []struct {
		name string
		v    wireString
	}{
		{"app_id", w.AppID}, {"user_id", w.UserID}, {"group_id", w.GroupID},
		{"sender.id", w.Sender.ID}, {"sender.admin_id", w.Sender.AdminID}, {"sender.group_id", w.Sender.GroupID},
		{"recipient.id", w.Recipient.ID}, {"recipient.admin_id", w.Recipient.AdminID}, {"recipient.group_id", w.Recipient.GroupID},
		{"follower.id", w.Follower.ID}, {"message.msg_id", w.Message.MsgID},
	} {
		if len(f.v) > MaxID {
			return f.name
		}
	}
	return ""
}

// clip returns s cut to at most n bytes, at a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// wireFirst returns the first non-empty value.
func wireFirst(vals ...wireString) string {
	for _, v := range vals {
		if v != "" {
			return string(v)
		}
	}
	return ""
}

// wireEvent is the part of Zalo's webhook body that the service reads.
type wireEvent struct {
	EventName string     `json:"event_name"`
	AppID     wireString `json:"app_id"`
	Timestamp wireString `json:"timestamp"`
	UserID    wireString `json:"user_id"`
	GroupID   wireString `json:"group_id"`
	Sender    wireParty  `json:"sender"`
	Recipient wireParty  `json:"recipient"`
	Follower  wireParty  `json:"follower"`
	Message   struct {
		MsgID       wireString       `json:"msg_id"`
		Text        string           `json:"text"`
		Attachments []wireAttachment `json:"attachments"`
	} `json:"message"`
	Info *wireInfo `json:"info"`
}

type wireParty struct {
	ID      wireString `json:"id"`
	AdminID wireString `json:"admin_id"`
	GroupID wireString `json:"group_id"`
}

type wireAttachment struct {
	Type    string `json:"type"`
	Payload struct {
		URL         string `json:"url"`
		Thumbnail   string `json:"thumbnail"`
		Name        string `json:"name"`
		Coordinates struct {
			Latitude  wireFloat `json:"latitude"`
			Longitude wireFloat `json:"longitude"`
		} `json:"coordinates"`
	} `json:"payload"`
}

// attachment converts one attachment. A business card's payload is left out
// on purpose: it carries the card owner's phone number, which the bot does
// not need and must not keep.
func (a *wireAttachment) attachment(eventName string) cnsbot.Attachment {
	t := a.Type
	if t == "" {
		t = strings.TrimPrefix(strings.TrimPrefix(eventName, "user_send_group_"), "user_send_")
	}
	p := &a.Payload
	out := cnsbot.Attachment{Type: t, URL: p.URL, Thumbnail: p.Thumbnail, Name: p.Name}
	if t == "business_card" {
		return cnsbot.Attachment{Type: t, Thumbnail: p.Thumbnail}
	}
	out.Latitude = float64(p.Coordinates.Latitude)
	out.Longitude = float64(p.Coordinates.Longitude)
	return out
}

// wireInfo reads both shapes of user_submit_info: the flat one
// {name, phone, address, city, district, ward} and the nested one
// {name, phone, user_dob, gender, full_address:{user_city, user_ward, user_address}}.
// Date of birth and gender are not read: no flow needs them.
type wireInfo struct {
	Name        wireString  `json:"name"`
	Phone       wireString  `json:"phone"`
	Address     wireString  `json:"address"`
	City        wireString  `json:"city"`
	District    wireString  `json:"district"`
	Ward        wireString  `json:"ward"`
	FullAddress wireAddress `json:"full_address"`
}

func (i *wireInfo) userInfo() *cnsbot.UserInfo {
	return &cnsbot.UserInfo{
		Name:     clip(string(i.Name), MaxText),
		Phone:    clip(string(i.Phone), MaxText),
		Address:  clip(wireFirst(i.Address, i.FullAddress.Address), MaxText),
		Ward:     clip(wireFirst(i.Ward, i.FullAddress.Ward), MaxText),
		District: clip(wireFirst(i.District, i.FullAddress.District), MaxText),
		City:     clip(wireFirst(i.City, i.FullAddress.City), MaxText),
	}
}

// wireAddress is the nested full_address of user_submit_info. A plain string
// is read as the street address, in case a payload flattens it (unsure).
type wireAddress struct {
	Address  wireString `json:"user_address"`
	Ward     wireString `json:"user_ward"`
	District wireString `json:"user_district"`
	City     wireString `json:"user_city"`
}

// UnmarshalJSON accepts an object or a string and ignores anything else.
func (a *wireAddress) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) > 0 && b[0] == '{':
		type plain wireAddress
		var p plain
		if err := json.Unmarshal(b, &p); err != nil {
			var te *json.UnmarshalTypeError
			if !errors.As(err, &te) {
				return err
			}
		}
		*a = wireAddress(p)
	case len(b) > 0 && b[0] == '"':
		var s wireString
		if err := s.UnmarshalJSON(b); err != nil {
			return err
		}
		*a = wireAddress{Address: s}
	}
	return nil
}

// wireString is a JSON value read as a string. Zalo sends ids and timestamps
// as strings, but ids have up to 19 digits and must never pass through a
// float64 if a payload sends them as numbers: a number keeps its literal text.
// null, booleans, objects and arrays read as "".
type wireString string

// UnmarshalJSON implements json.Unmarshaler. It never fails: b is valid JSON,
// checked by the decoder before any UnmarshalJSON is called.
func (s *wireString) UnmarshalJSON(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	switch c := b[0]; {
	case c == '"':
		*s = wireString(unquoteJSON(b))
	case c == '-' || (c >= '0' && c <= '9'):
		*s = wireString(b)
	default:
		*s = ""
	}
	return nil
}

// unquoteJSON unquotes a valid JSON string literal. Most of Zalo's strings
// have no escapes and are copied without a second decoder pass; escapes and
// invalid UTF-8 (replaced like encoding/json does) take the slow path.
func unquoteJSON(b []byte) string {
	inner := b[1 : len(b)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner)
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return ""
	}
	return v
}

// wireFloat is a coordinate sent as a JSON number or a string. Values that
// do not parse, and NaN or infinities (which cannot be marshalled back to
// JSON), read as 0.
type wireFloat float64

// UnmarshalJSON implements json.Unmarshaler; it never fails.
func (f *wireFloat) UnmarshalJSON(b []byte) error {
	var s string
	switch {
	case len(b) > 0 && b[0] == '"':
		s = strings.TrimSpace(unquoteJSON(b))
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		s = string(b)
	default:
		*f = 0
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	*f = wireFloat(v)
	return nil
}
