package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"
)

// Zalo's published pages and the public integrations disagree on event
// names and fields, and no page shows every payload. The webhook therefore
// counts what it does not know (cnsbot_webhook_unknown_total{event}) and
// logs the shape of such a payload now and then, so that real traffic tells
// the operator what the documents did not. The shape is keys and JSON types
// only: never a value, so never a name, phone or message.

// knownFields is the tree of fields the service knows in a webhook body:
// a key maps to the fields known inside its object (or inside each object
// of its array), or to nil when its value is not looked into.
type knownFields map[string]knownFields

var (
	partyFields      = knownFields{"id": nil, "admin_id": nil, "group_id": nil}
	attachmentFields = knownFields{
		"type": nil,
		"payload": {
			"url": nil, "thumbnail": nil, "name": nil, "size": nil, "type": nil, "id": nil,
			"description": nil, "checksum": nil,
			"coordinates": {"latitude": nil, "longitude": nil},
		},
	}
	eventFields = knownFields{
		"event_name": nil, "app_id": nil, "oa_id": nil, "timestamp": nil,
		"user_id": nil, "user_id_by_app": nil, "group_id": nil, "source": nil,
		"sender": partyFields, "recipient": partyFields, "follower": partyFields,
		"message": {
			"msg_id": nil, "msg_ids": nil, "text": nil, "attachments": attachmentFields,
			// user_reacted_message and user_feedback.
			"react_icon": nil, "note": nil, "rate": nil, "submit_time": nil, "feedbacks": nil,
		},
		"info": {
			"name": nil, "phone": nil, "address": nil, "city": nil, "district": nil, "ward": nil,
			"user_dob": nil, "gender": nil,
			"full_address": {"user_address": nil, "user_ward": nil, "user_district": nil, "user_city": nil},
		},
	}
)

// Bounds on what an unknown payload can cost: labels (and so metric
// series) per process, paths reported per event, and the shape's size.
const (
	maxUnknownLabels = 50
	maxUnknownPaths  = 20
	maxShapeDepth    = 5
	maxShapeBytes    = 1 << 10
)

// DefaultUnknownLogEvery is how often, per event label, the shape of a
// payload that is not fully understood is logged.
const DefaultUnknownLogEvery = 10 * time.Minute

// unknownWatch counts and logs events with an unknown name or fields.
type unknownWatch struct {
	m     *Metrics
	log   *slog.Logger
	every time.Duration
	now   func() time.Time

	mu     sync.Mutex
	labels map[string]bool
	logged map[string]time.Time
}

func newUnknownWatch(m *Metrics, log *slog.Logger, every time.Duration) *unknownWatch {
	if every <= 0 {
		every = DefaultUnknownLogEvery
	}
	return &unknownWatch{m: m, log: log, every: every, now: time.Now,
		labels: map[string]bool{}, logged: map[string]time.Time{}}
}

// observe checks one accepted body whose event_name is name.
func (u *unknownWatch) observe(ctx context.Context, name string, body []byte) {
	known := knownEvent(name)
	var paths []string
	if known {
		paths = unknownPaths(body, eventFields)
		if len(paths) == 0 {
			return
		}
	}
	label := u.label(name, known)
	u.m.Unknown.WithLabelValues(label).Inc()
	if !u.due(label) {
		return
	}
	attrs := []slog.Attr{slog.String("event", label), slog.Bool("unknown_name", !known)}
	if !known && label == "other" {
		// The name itself may be anything: say only how long it is.
		attrs = append(attrs, slog.Int("name_bytes", len(name)))
	}
	if len(paths) > 0 {
		attrs = append(attrs, slog.String("unknown_fields", strings.Join(paths, ",")))
	}
	attrs = append(attrs, slog.String("shape", Shape(body)))
	u.log.LogAttrs(ctx, slog.LevelWarn, "zalo event not fully understood; its shape, without values", attrs...)
}

// label is the metric label for an event: its name when it looks like an
// event name, while the number of unknown labels stays small; else "other".
func (u *unknownWatch) label(name string, known bool) string {
	if known {
		return name
	}
	if !plainKey(name) {
		return "other"
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.labels[name] {
		return name
	}
	if len(u.labels) >= maxUnknownLabels {
		return "other"
	}
	u.labels[name] = true
	return name
}

// due reports whether a log line for label may be written now.
func (u *unknownWatch) due(label string) bool {
	now := u.now()
	u.mu.Lock()
	defer u.mu.Unlock()
	if last, ok := u.logged[label]; ok && now.Sub(last) < u.every {
		return false
	}
	u.logged[label] = now
	return true
}

// unknownPaths returns the dotted paths of the keys of body (a JSON
// object) that known does not list, at most maxUnknownPaths. Keys that are
// not plain names are reported as "?", since a key could itself carry an id.
// body must be valid JSON (the webhook has decoded it already): the scan
// reads it once, without decoding values, and allocates only for what it
// reports, since every event goes through it.
func unknownPaths(body []byte, known knownFields) []string {
	s := jsonScan{b: body}
	s.ws()
	var out []string
	s.value(known, &out)
	sort.Strings(out)
	return out
}

// jsonScan walks a valid JSON text.
type jsonScan struct {
	b []byte
	i int
	// path holds the keys of the known objects the scan is in, so that a
	// path is built only when something unknown is found.
	path  [maxShapeDepth][]byte
	depth int
}

// pathTo returns the dotted path of key in the current object.
func (s *jsonScan) pathTo(key []byte) string {
	var b strings.Builder
	for _, k := range s.path[:s.depth] {
		b.Write(k)
		b.WriteByte('.')
	}
	b.WriteString(safeKey(string(key)))
	return b.String()
}

func (s *jsonScan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value reads one value; objects (and objects in arrays) are checked
// against known when it is not nil.
func (s *jsonScan) value(known knownFields, out *[]string) {
	if s.i >= len(s.b) {
		return
	}
	switch s.b[s.i] {
	case '{':
		s.i++
		for {
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] == '}' {
				s.i++
				return
			}
			if s.b[s.i] == ',' {
				s.i++
				continue
			}
			key := s.str()
			s.ws()
			s.i++ // ':'
			s.ws()
			if known == nil {
				s.value(nil, out)
				continue
			}
			sub, ok := known[string(key)]
			if !ok && len(*out) < maxUnknownPaths {
				*out = appendPath(*out, s.pathTo(key))
			}
			if sub != nil && s.depth < len(s.path) {
				s.path[s.depth] = key
				s.depth++
				s.value(sub, out)
				s.depth--
			} else {
				s.value(nil, out)
			}
		}
	case '[':
		s.i++
		for {
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] == ']' {
				s.i++
				return
			}
			if s.b[s.i] == ',' {
				s.i++
				continue
			}
			s.value(known, out)
		}
	case '"':
		s.str()
	default:
		// A number, true, false or null: up to the next delimiter.
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return
			}
			s.i++
		}
	}
}

// str reads a string and returns its raw bytes between the quotes.
func (s *jsonScan) str() []byte {
	s.i++ // '"'
	start := s.i
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			s.i += 2
			continue
		case '"':
			raw := s.b[start:s.i]
			s.i++
			return raw
		}
		s.i++
	}
	return s.b[start:]
}

func appendPath(out []string, p string) []string {
	for _, q := range out {
		if q == p {
			return out
		}
	}
	return append(out, p)
}

// Shape describes a JSON body by its keys and value types only, e.g.
// {"app_id":string,"message":{"msg_ids":[string]}}: enough to see what an
// unknown payload carries without logging any of it. Keys that are not plain
// names show as "?"; arrays show their first element's shape.
func Shape(body []byte) string {
	var v any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return "invalid"
	}
	var b strings.Builder
	writeShape(&b, v, 0)
	s := b.String()
	if len(s) > maxShapeBytes {
		s = s[:maxShapeBytes] + "…"
	}
	return s
}

func writeShape(b *strings.Builder, v any, depth int) {
	switch x := v.(type) {
	case map[string]any:
		if depth >= maxShapeDepth {
			b.WriteString("{…}")
			return
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"` + safeKey(k) + `":`)
			writeShape(b, x[k], depth+1)
		}
		b.WriteByte('}')
	case []any:
		if len(x) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteByte('[')
		writeShape(b, x[0], depth+1)
		b.WriteByte(']')
	case string:
		b.WriteString("string")
	case json.Number:
		b.WriteString("number")
	case bool:
		b.WriteString("bool")
	default:
		b.WriteString("null")
	}
}

// safeKey returns k when it is a plain field name, else "?".
func safeKey(k string) string {
	if plainKey(k) {
		return k
	}
	return "?"
}

// plainKey reports whether k looks like a field or event name: lower-case
// letters, digits and underscores, starting with a letter, at most 40 bytes,
// and not a long run of hex digits. Ids and anything typed by a person fail it.
func plainKey(k string) bool {
	if len(k) == 0 || len(k) > 40 || k[0] < 'a' || k[0] > 'z' {
		return false
	}
	hex := true
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
		hex = hex && (c >= '0' && c <= '9' || c >= 'a' && c <= 'f')
	}
	// Group and message ids are hex strings of 20 or more characters.
	return !(hex && len(k) >= 12)
}
