package bot_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot"
)

const (
	evUser  = "5510185758261927916"
	evOA    = "1646843870823903717"
	evGroup = "8423195712086419251"
	evAdmin = "7311123400998877665"
)

func evTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// TestParseEventExamples parses every example payload in testdata/events and
// fails for any file that has no expectation, so that a new example is tested.
func TestParseEventExamples(t *testing.T) {
	tests := map[string]cnsbot.Event{
		"user_send_text": {
			Name: "user_send_text", Kind: cnsbot.KindText, Key: "e2a641af6661713b2874", Route: "u:" + evUser, UserID: evUser,
			Text: "Helo", Time: evTime(1717061839659),
		},
		"user_send_text_numeric_ids": {
			Name: "user_send_text", Kind: cnsbot.KindText, Key: "f00dfeedbeef01234567", Route: "u:" + evUser, UserID: evUser,
			Text: "Xin chào", Time: evTime(1717061839659),
		},
		"user_send_text_button": {
			Name: "user_send_text", Kind: cnsbot.KindText, Key: "9d1c0e7c2b6a45f3e810", Route: "u:" + evUser, UserID: evUser,
			Text: "#vneid", Time: evTime(1717061840001),
		},
		"user_send_image": {
			Name: "user_send_image", Kind: cnsbot.KindMedia, Key: "img0000000000000001", Route: "u:" + evUser, UserID: evUser,
			Text: "ảnh giấy tờ", Time: evTime(1717061841000),
			Attachments: []cnsbot.Attachment{{Type: "image", URL: "https://photo-stal.zdn.vn/a.jpg", Thumbnail: "https://photo-stal.zdn.vn/a_t.jpg"}},
		},
		"user_send_link": {
			Name: "user_send_link", Kind: cnsbot.KindMedia, Key: "lnk0000000000000001", Route: "u:" + evUser, UserID: evUser,
			Text: "https://dichvucong.gov.vn", Time: evTime(1717061842000),
			Attachments: []cnsbot.Attachment{{Type: "link", URL: "https://dichvucong.gov.vn", Thumbnail: "https://t.zdn.vn/l.jpg"}},
		},
		"user_send_audio": {
			Name: "user_send_audio", Kind: cnsbot.KindMedia, Key: "aud0000000000000001", Route: "u:" + evUser, UserID: evUser,
			Time:        evTime(1717061843000),
			Attachments: []cnsbot.Attachment{{Type: "audio", URL: "https://voice.zdn.vn/v.aac"}},
		},
		"user_send_video": {
			Name: "user_send_video", Kind: cnsbot.KindMedia, Key: "vid0000000000000001", Route: "u:" + evUser, UserID: evUser,
			Time:        evTime(1717061844000),
			Attachments: []cnsbot.Attachment{{Type: "video", URL: "https://video.zdn.vn/v.mp4", Thumbnail: "https://video.zdn.vn/v.jpg"}},
		},
		"user_send_sticker": {
			Name: "user_send_sticker", Kind: cnsbot.KindMedia, Key: "stk0000000000000001", Route: "u:" + evUser, UserID: evUser,
			Time:        evTime(1717061845000),
			Attachments: []cnsbot.Attachment{{Type: "sticker", URL: "https://zalo-api.zadn.vn/api/emoticon/sticker/webpc?eid=46991"}},
		},
		"user_send_gif": {
			Name: "user_send_gif", Kind: cnsbot.KindMedia, Key: "gif0000000000000001", Route: "u:" + evUser, UserID: evUser,
			Time:        evTime(1717061846000),
			Attachments: []cnsbot.Attachment{{Type: "gif", URL: "https://g.zdn.vn/x.gif", Thumbnail: "https://g.zdn.vn/x.jpg"}},
		},
		"user_send_location": {
			Name: "user_send_location", Kind: cnsbot.KindMedia, Key: "loc0000000000000001", Route: "u:" + evUser, UserID: evUser,
			Time:        evTime(1717061847000),
			Attachments: []cnsbot.Attachment{{Type: "location", Latitude: 9.1768, Longitude: 105.1524}},
		},
		"user_send_location_numbers": {
			Name: "user_send_location", Kind: cnsbot.KindMedia, Key: "loc0000000000000002", Route: "u:" + evUser, UserID: evUser,
			Time:        evTime(1717061847500),
			Attachments: []cnsbot.Attachment{{Type: "location", Latitude: 9.1768, Longitude: 105.1524}},
		},
		"user_send_business_card": {
			Name: "user_send_business_card", Kind: cnsbot.KindMedia, Key: "bcd0000000000000001", Route: "u:" + evUser, UserID: evUser,
			Time:        evTime(1717061848000),
			Attachments: []cnsbot.Attachment{{Type: "business_card", Thumbnail: "https://s.zdn.vn/qr.jpg"}},
		},
		"user_send_file": {
			Name: "user_send_file", Kind: cnsbot.KindMedia, Key: "fil0000000000000001", Route: "u:" + evUser, UserID: evUser,
			Time:        evTime(1717061849000),
			Attachments: []cnsbot.Attachment{{Type: "file", URL: "https://f.zdn.vn/giay-to.pdf", Name: "giay-to.pdf"}},
		},
		"follow": {
			Name: "follow", Kind: cnsbot.KindFollow, Key: "follow:" + evUser + ":1717061850000", Route: "u:" + evUser, UserID: evUser,
			Time: evTime(1717061850000),
		},
		"unfollow": {
			Name: "unfollow", Kind: cnsbot.KindUnfollow, Key: "unfollow:" + evUser + ":1717061851000", Route: "u:" + evUser, UserID: evUser,
			Time: evTime(1717061851000),
		},
		"user_submit_info_flat": {
			Name: "user_submit_info", Kind: cnsbot.KindSubmit, Key: "user_submit_info:" + evUser + ":1717061852000", Route: "u:" + evUser, UserID: evUser,
			Time: evTime(1717061852000),
			Info: &cnsbot.UserInfo{Name: "Nguyễn Văn A", Phone: "84912345678", Address: "12 Lý Thường Kiệt", Ward: "Phường 5", District: "TP Cà Mau", City: "Cà Mau"},
		},
		"user_submit_info_nested": {
			Name: "user_submit_info", Kind: cnsbot.KindSubmit, Key: "user_submit_info:" + evUser + ":1717061853000", Route: "u:" + evUser, UserID: evUser,
			Time: evTime(1717061853000),
			Info: &cnsbot.UserInfo{Name: "Trần Thị B", Phone: "84987654321", Address: "Ấp 3", Ward: "Xã Tân Thành", City: "Cà Mau"},
		},
		"oa_send_text": {
			Name: "oa_send_text", Kind: cnsbot.KindEcho, Key: "oa00000000000000001", Route: "u:" + evUser, UserID: evUser,
			Text: "Chào bạn", Time: evTime(1717061854000),
		},
		"oa_send_text_admin": {
			Name: "oa_send_text", Kind: cnsbot.KindEcho, Key: "oa00000000000000002", Route: "u:" + evUser, UserID: evUser, AdminID: evAdmin,
			Text: "Mình là cán bộ hỗ trợ", Time: evTime(1717061855000),
		},
		"oa_send_image": {
			Name: "oa_send_image", Kind: cnsbot.KindEcho, Key: "oa00000000000000003", Route: "u:" + evUser, UserID: evUser,
			Time:        evTime(1717061855500),
			Attachments: []cnsbot.Attachment{{Type: "image", URL: "https://p.zdn.vn/m.jpg"}},
		},
		"user_send_group_text": {
			Name: "user_send_group_text", Kind: cnsbot.KindText, Key: "grp0000000000000001", Route: "g:" + evGroup, UserID: evUser, GroupID: evGroup,
			Text: "Tổ 3 đã xong", Time: evTime(1717061856000),
		},
		"user_send_group_image": {
			Name: "user_send_group_image", Kind: cnsbot.KindMedia, Key: "grp0000000000000002", Route: "g:" + evGroup, UserID: evUser, GroupID: evGroup,
			Time:        evTime(1717061857000),
			Attachments: []cnsbot.Attachment{{Type: "image", URL: "https://p.zdn.vn/g.jpg", Thumbnail: "https://p.zdn.vn/g_t.jpg"}},
		},
		"user_send_group_location": {
			Name: "user_send_group_location", Kind: cnsbot.KindMedia, Key: "grp0000000000000003", Route: "g:" + evGroup, UserID: evUser, GroupID: evGroup,
			Time:        evTime(1717061857500),
			Attachments: []cnsbot.Attachment{{Type: "location", Latitude: 9.18, Longitude: 105.15}},
		},
		"oa_send_group_text": {
			Name: "oa_send_group_text", Kind: cnsbot.KindEcho, Key: "grp0000000000000004", Route: "g:" + evGroup, GroupID: evGroup, AdminID: evAdmin,
			Text: "Nhắc lịch họp", Time: evTime(1717061858000),
		},
		"create_group": {
			Name: "create_group", Kind: cnsbot.KindGroup, Key: "create_group:" + evOA + ":1717061859000", Route: "g:" + evGroup, UserID: evOA, GroupID: evGroup,
			Time: evTime(1717061859000),
		},
		"user_join_group": {
			Name: "user_join_group", Kind: cnsbot.KindGroup, Key: "user_join_group:" + evUser + ":1717061860000", Route: "g:" + evGroup, UserID: evUser, GroupID: evGroup,
			Time: evTime(1717061860000),
		},
		"user_out_group": {
			Name: "user_out_group", Kind: cnsbot.KindGroup, Key: "user_out_group:" + evUser + ":1717061861000", Route: "g:" + evGroup, UserID: evUser, GroupID: evGroup,
			Time: evTime(1717061861000),
		},
		"add_group_admin": {
			Name: "add_group_admin", Kind: cnsbot.KindGroup, Key: "add_group_admin:" + evOA + ":1717061862000", Route: "g:" + evGroup, UserID: evOA, GroupID: evGroup,
			Time: evTime(1717061862000),
		},
		"remove_group_admin": {
			Name: "remove_group_admin", Kind: cnsbot.KindGroup, Key: "remove_group_admin:" + evOA + ":1717061863000", Route: "g:" + evGroup, UserID: evOA, GroupID: evGroup,
			Time: evTime(1717061863000),
		},
		"update_group_info": {
			Name: "update_group_info", Kind: cnsbot.KindGroup, Key: "update_group_info:" + evOA + ":1717061864000", Route: "g:" + evGroup, UserID: evOA, GroupID: evGroup,
			Time: evTime(1717061864000),
		},
		"delete_group": {
			Name: "delete_group", Kind: cnsbot.KindGroup, Key: "delete_group:" + evOA + ":1717061865000", Route: "g:" + evGroup, UserID: evOA, GroupID: evGroup,
			Time: evTime(1717061865000),
		},
		"disperse_group": {
			Name: "delete_group", Kind: cnsbot.KindGroup, Key: "delete_group:" + evOA + ":1717061865500", Route: "g:" + evGroup, UserID: evOA, GroupID: evGroup,
			Time: evTime(1717061865500),
		},
		"user_leave_group": {
			Name: "user_out_group", Kind: cnsbot.KindGroup, Key: "user_out_group:" + evUser + ":1717061861500", Route: "g:" + evGroup, UserID: evUser, GroupID: evGroup,
			Time: evTime(1717061861500),
		},
		"react_request_join_group_accept": {
			Name: "accept_request_join_group", Kind: cnsbot.KindGroup, Key: "accept_request_join_group:" + evUser + ":1717061860500", Route: "g:" + evGroup, UserID: evUser, GroupID: evGroup,
			Time: evTime(1717061860500),
		},
		"user_seen_message": {
			Name: "user_seen_message", Kind: cnsbot.KindOther, Key: "user_seen_message:" + evUser + ":1717061866000", Route: "u:" + evUser, UserID: evUser,
			Time: evTime(1717061866000),
		},
		"user_received_message": {
			Name: "user_received_message", Kind: cnsbot.KindOther, Key: "user_received_message:" + evUser + ":1717061867000", Route: "u:" + evUser, UserID: evUser,
			Time: evTime(1717061867000),
		},
		"user_click_chatnow": {
			Name: "user_click_chatnow", Kind: cnsbot.KindOther, Key: "user_click_chatnow:" + evUser + ":1717061868000", Route: "u:" + evUser, UserID: evUser,
			Time: evTime(1717061868000),
		},
		"user_reacted_message": {
			Name: "user_reacted_message", Kind: cnsbot.KindOther, Key: "user_reacted_message:" + evUser + ":1717061869000", Route: "u:" + evUser, UserID: evUser,
			Time: evTime(1717061869000),
		},
		"user_feedback": {
			Name: "user_feedback", Kind: cnsbot.KindOther, Key: "user_feedback:" + evUser + ":1717061870000", Route: "u:" + evUser, UserID: evUser,
			Time: evTime(1717061870000),
		},
		"unknown_with_sender": {
			Name: "anonymous_send_text", Kind: cnsbot.KindOther, Key: "anonymous_send_text:2ab3c4d5e6f7:1717061871000", Route: "u:2ab3c4d5e6f7", UserID: "2ab3c4d5e6f7",
			Text: "hi", Time: evTime(1717061871000),
		},
		"unknown_without_sender": {
			Name: "change_template_status", Kind: cnsbot.KindOther, Key: "change_template_status::1717061872000", Route: bot.RouteOA,
			Time: evTime(1717061872000),
		},
	}

	files, err := filepath.Glob(filepath.Join("testdata", "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			want, ok := tests[name]
			if !ok {
				t.Fatalf("no expectation for %s: add one to the table", file)
			}
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := bot.ParseEvent(body)
			if err != nil {
				t.Fatalf("ParseEvent: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ParseEvent(%s)\n got %+v\nwant %+v", file, got, want)
			}
			if _, err := json.Marshal(got); err != nil {
				t.Errorf("marshal parsed event: %v", err)
			}
		})
	}
	for name := range tests {
		if !seen[name] {
			t.Errorf("expectation %q has no file testdata/events/%s.json", name, name)
		}
	}
}

func TestParseEventInvalid(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"empty", ``},
		{"not JSON", `hello`},
		{"truncated", `{"event_name":"user_send_text","timestamp":"1717061839659"`},
		{"trailing garbage", `{"event_name":"follow","follower":{"id":"1"},"timestamp":"1"} x`},
		{"null", `null`},
		{"array", `[{"event_name":"follow"}]`},
		{"string", `"user_send_text"`},
		{"no event_name", `{"sender":{"id":"1"},"timestamp":"1717061839659"}`},
		{"event_name not a string", `{"event_name":7,"sender":{"id":"1"},"timestamp":"1717061839659"}`},
		{"no timestamp", `{"event_name":"user_send_text","sender":{"id":"1"}}`},
		{"empty timestamp", `{"event_name":"user_send_text","sender":{"id":"1"},"timestamp":""}`},
		{"timestamp not digits", `{"event_name":"user_send_text","sender":{"id":"1"},"timestamp":"yesterday"}`},
		{"timestamp float", `{"event_name":"user_send_text","sender":{"id":"1"},"timestamp":1.7e12}`},
		{"timestamp negative", `{"event_name":"user_send_text","sender":{"id":"1"},"timestamp":"-5"}`},
		{"timestamp past year 9999", `{"event_name":"user_send_text","sender":{"id":"1"},"timestamp":"999999999999999999"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := bot.ParseEvent([]byte(tt.body))
			if err == nil {
				t.Fatalf("ParseEvent(%q) = %+v, want an error", tt.body, ev)
			}
			if got := cnsbot.ErrorCode(err); got != cnsbot.EINVALID {
				t.Errorf("error code: got %v, want %v (%v)", got, cnsbot.EINVALID, err)
			}
		})
	}
}

// TestParseEventLenient checks that surprises in fields the service does not
// depend on are skipped rather than refused.
func TestParseEventLenient(t *testing.T) {
	tests := []struct {
		name string
		body string
		want cnsbot.Event
	}{
		{
			name: "message is a string",
			body: `{"event_name":"user_send_text","sender":{"id":"7"},"message":"hi","timestamp":"1000"}`,
			want: cnsbot.Event{Name: "user_send_text", Kind: cnsbot.KindText, Key: "user_send_text:7:1000", Route: "u:7", UserID: "7", Time: evTime(1000)},
		},
		{
			name: "text is a number",
			body: `{"event_name":"user_send_text","sender":{"id":"7"},"message":{"text":42,"msg_id":"m1"},"timestamp":"1000"}`,
			want: cnsbot.Event{Name: "user_send_text", Kind: cnsbot.KindText, Key: "m1", Route: "u:7", UserID: "7", Time: evTime(1000)},
		},
		{
			name: "id as a 19-digit number keeps every digit",
			body: `{"event_name":"user_send_text","sender":{"id":9223372036854775807},"message":{"text":"a","msg_id":12345678901234567890},"timestamp":1000}`,
			want: cnsbot.Event{Name: "user_send_text", Kind: cnsbot.KindText, Key: "12345678901234567890", Route: "u:9223372036854775807", UserID: "9223372036854775807", Text: "a", Time: evTime(1000)},
		},
		{
			name: "id is an object",
			body: `{"event_name":"follow","follower":{"id":{"x":1}},"sender":{"id":"8"},"timestamp":"1000"}`,
			want: cnsbot.Event{Name: "follow", Kind: cnsbot.KindFollow, Key: "follow:8:1000", Route: "u:8", UserID: "8", Time: evTime(1000)},
		},
		{
			name: "escaped strings",
			body: `{"event_name":"user_send_text","sender":{"id":"\u0037"},"message":{"text":"a\nb \"c\"","msg_id":"m2"},"timestamp":"1000"}`,
			want: cnsbot.Event{Name: "user_send_text", Kind: cnsbot.KindText, Key: "m2", Route: "u:7", UserID: "7", Text: "a\nb \"c\"", Time: evTime(1000)},
		},
		{
			name: "bad coordinates read as zero",
			body: `{"event_name":"user_send_location","sender":{"id":"7"},"message":{"msg_id":"m3","attachments":[{"type":"location","payload":{"coordinates":{"latitude":"NaN","longitude":"1e999"}}}]},"timestamp":"1000"}`,
			want: cnsbot.Event{Name: "user_send_location", Kind: cnsbot.KindMedia, Key: "m3", Route: "u:7", UserID: "7", Time: evTime(1000),
				Attachments: []cnsbot.Attachment{{Type: "location"}}},
		},
		{
			name: "attachment without type takes the event's",
			body: `{"event_name":"user_send_group_file","sender":{"id":"7"},"recipient":{"id":"9"},"message":{"msg_id":"m4","attachments":[{"payload":{"url":"u"}}]},"timestamp":"1000"}`,
			want: cnsbot.Event{Name: "user_send_group_file", Kind: cnsbot.KindMedia, Key: "m4", Route: "g:9", UserID: "7", GroupID: "9", Time: evTime(1000),
				Attachments: []cnsbot.Attachment{{Type: "file", URL: "u"}}},
		},
		{
			name: "full_address as a string",
			body: `{"event_name":"user_submit_info","sender":{"id":"7"},"info":{"name":"A","phone":"84912345678","full_address":"Ấp 1"},"timestamp":"1000"}`,
			want: cnsbot.Event{Name: "user_submit_info", Kind: cnsbot.KindSubmit, Key: "user_submit_info:7:1000", Route: "u:7", UserID: "7", Time: evTime(1000),
				Info: &cnsbot.UserInfo{Name: "A", Phone: "84912345678", Address: "Ấp 1"}},
		},
		{
			name: "group message prefers recipient.group_id",
			body: `{"event_name":"user_send_group_text","sender":{"id":"7"},"recipient":{"id":"oa","group_id":"55"},"message":{"text":"x","msg_id":"m5"},"timestamp":"1000"}`,
			want: cnsbot.Event{Name: "user_send_group_text", Kind: cnsbot.KindText, Key: "m5", Route: "g:55", UserID: "7", GroupID: "55", Text: "x", Time: evTime(1000)},
		},
		{
			name: "echo without recipient routes to the OA",
			body: `{"event_name":"oa_send_text","sender":{"id":"oa"},"message":{"text":"x","msg_id":"m6"},"timestamp":"1000"}`,
			want: cnsbot.Event{Name: "oa_send_text", Kind: cnsbot.KindEcho, Key: "m6", Route: bot.RouteOA, Text: "x", Time: evTime(1000)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := bot.ParseEvent([]byte(tt.body))
			if err != nil {
				t.Fatalf("ParseEvent: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseEvent\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestKind(t *testing.T) {
	tests := map[string]string{
		"user_send_text":            cnsbot.KindText,
		"user_send_group_text":      cnsbot.KindText,
		"follow":                    cnsbot.KindFollow,
		"unfollow":                  cnsbot.KindUnfollow,
		"user_submit_info":          cnsbot.KindSubmit,
		"user_send_image":           cnsbot.KindMedia,
		"user_send_business_card":   cnsbot.KindMedia,
		"user_send_group_sticker":   cnsbot.KindMedia,
		"user_send_group_file":      cnsbot.KindMedia,
		"oa_send_text":              cnsbot.KindEcho,
		"oa_send_list":              cnsbot.KindEcho,
		"oa_send_group_text":        cnsbot.KindEcho,
		"create_group":              cnsbot.KindGroup,
		"user_join_group":           cnsbot.KindGroup,
		"user_out_group":            cnsbot.KindGroup,
		"add_group_admin":           cnsbot.KindGroup,
		"remove_group_admin":        cnsbot.KindGroup,
		"update_group_info":         cnsbot.KindGroup,
		"delete_group":              cnsbot.KindGroup,
		"user_seen_message":         cnsbot.KindOther,
		"user_received_message":     cnsbot.KindOther,
		"user_click_chatnow":        cnsbot.KindOther,
		"user_reacted_message":      cnsbot.KindOther,
		"user_feedback":             cnsbot.KindOther,
		"user_send_hologram":        cnsbot.KindOther,
		"change_template_status":    cnsbot.KindOther,
		"":                          cnsbot.KindOther,
		"USER_SEND_TEXT":            cnsbot.KindOther,
		"anonymous_send_text":       cnsbot.KindOther,
		"user_request_join_group":   cnsbot.KindGroup,
		"accept_request_join_group": cnsbot.KindGroup,
		// Other names public lists give for the same lifecycle events.
		"disperse_group":                  cnsbot.KindGroup,
		"user_leave_group":                cnsbot.KindGroup,
		"react_request_join_group":        cnsbot.KindGroup,
		"react_request_join_group_accept": cnsbot.KindGroup,
		"react_request_join_group_reject": cnsbot.KindGroup,
		"oa_reacted_message":              cnsbot.KindOther,
	}
	for name, want := range tests {
		if got := bot.Kind(name); got != want {
			t.Errorf("Kind(%q): got %v, want %v", name, got, want)
		}
	}
}

// TestFuzzCorpusMatchesExamples keeps the committed fuzz seed corpus in step
// with the example payloads it is built from.
func TestFuzzCorpusMatchesExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		body, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		seed, err := readFuzzSeed(filepath.Join("testdata", "fuzz", "FuzzParseEvent", name))
		if err != nil {
			t.Errorf("seed for %s: %v (regenerate the corpus from testdata/events)", file, err)
			continue
		}
		if string(seed) != string(body) {
			t.Errorf("seed %s differs from %s: regenerate it", name, file)
		}
	}
}

// readFuzzSeed reads a one-value []byte file in the "go test fuzz v1" format.
func readFuzzSeed(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.SplitN(strings.TrimSpace(string(data)), "\n", 2)
	if len(lines) != 2 || lines[0] != "go test fuzz v1" {
		return nil, &os.PathError{Op: "parse", Path: path, Err: os.ErrInvalid}
	}
	lit := strings.TrimSpace(lines[1])
	if !strings.HasPrefix(lit, "[]byte(") || !strings.HasSuffix(lit, ")") {
		return nil, &os.PathError{Op: "parse", Path: path, Err: os.ErrInvalid}
	}
	s, err := strconv.Unquote(lit[len("[]byte(") : len(lit)-1])
	if err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// FuzzParseEvent checks that no body makes ParseEvent panic, and that every
// event it accepts can be routed, de-duplicated and queued.
func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(`{"event_name":"user_send_text","sender":{"id":1},"timestamp":1}`))
	f.Add([]byte(`{"event_name":"x","timestamp":"1","message":{"attachments":[{"payload":{"coordinates":{"latitude":"-0x1p-2"}}}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := bot.ParseEvent(body)
		if err != nil {
			if code := cnsbot.ErrorCode(err); code != cnsbot.EINVALID {
				t.Fatalf("error code: got %v, want %v", code, cnsbot.EINVALID)
			}
			return
		}
		if ev.Key == "" || ev.Route == "" {
			t.Fatalf("accepted event without key or route: %+v", ev)
		}
		if ev.Name == "" {
			t.Fatalf("accepted event without name: %+v", ev)
		}
		if _, err := json.Marshal(ev); err != nil {
			t.Fatalf("accepted event does not marshal: %v", err)
		}
	})
}
