package zaloevent_test

import (
	"context"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/bot/zaloevent"
)

var oa = zaloevent.OA{AppID: "50554360515256678", OAID: "1646843870823903717", SecretKey: "oa-secret-key"}

// at is the timestamp of Zalo's documented sample, 1717061839659.
var at = time.UnixMilli(1717061839659)

// TestWireFormat pins the bytes of each event to Zalo's shape: every id
// and the timestamp are strings, in the order Zalo writes them.
func TestWireFormat(t *testing.T) {
	doc := oa.Text("5510185758261927916", "e2a641af6661713b2874", "Helo", at)
	doc.UserIDByApp = "3611371994410983884"
	tests := []struct {
		name string
		ev   zaloevent.Event
		want string
	}{
		{"Zalo's documented sample", doc,
			`{"event_name":"user_send_text","app_id":"50554360515256678","sender":{"id":"5510185758261927916"},"recipient":{"id":"1646843870823903717"},"message":{"text":"Helo","msg_id":"e2a641af6661713b2874"},"timestamp":"1717061839659","user_id_by_app":"3611371994410983884"}`},
		{"follow", oa.Follow("5510185758261927916", at),
			`{"event_name":"follow","app_id":"50554360515256678","oa_id":"1646843870823903717","follower":{"id":"5510185758261927916"},"source":"oa_profile","timestamp":"1717061839659","user_id_by_app":"9510185758261927916"}`},
		{"submit info", oa.SubmitInfo("5510185758261927916", zaloevent.Info{Name: "Lan", Phone: "84912345678", City: "Cà Mau"}, at),
			`{"event_name":"user_submit_info","app_id":"50554360515256678","sender":{"id":"5510185758261927916"},"recipient":{"id":"1646843870823903717"},"info":{"name":"Lan","phone":"84912345678","city":"Cà Mau"},"timestamp":"1717061839659","user_id_by_app":"9510185758261927916"}`},
		{"group text", oa.GroupText("5510185758261927916", "g1", "m1", "hi", at),
			`{"event_name":"user_send_group_text","app_id":"50554360515256678","sender":{"id":"5510185758261927916"},"recipient":{"id":"g1"},"message":{"text":"hi","msg_id":"m1"},"timestamp":"1717061839659"}`},
		{"join group", oa.JoinGroup("5510185758261927916", "g1", at),
			`{"event_name":"user_join_group","app_id":"50554360515256678","sender":{"id":"5510185758261927916"},"recipient":{"id":"1646843870823903717"},"group_id":"g1","timestamp":"1717061839659"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, mac := oa.Sign(tt.ev)
			if string(body) != tt.want {
				t.Errorf("body:\n got %s\nwant %s", body, tt.want)
			}
			if !bot.Verify(oa.AppID, oa.SecretKey, body, "1717061839659", mac) {
				t.Errorf("bot.Verify refuses the signature %q", mac)
			}
		})
	}
}

// TestParsedByTheWebhook checks that what the builders make is read by the
// service's own parser as the event it stands for.
func TestParsedByTheWebhook(t *testing.T) {
	tests := []struct {
		ev                 zaloevent.Event
		user, group, key   string
		text, phone, route string
	}{
		{ev: oa.Text("u1", "m1", "menu", at), user: "u1", key: "m1", text: "menu", route: "u:u1"},
		{ev: oa.GroupText("u1", "g1", "m2", "#lienket", at), user: "u1", group: "g1", key: "m2", text: "#lienket", route: "g:g1"},
		{ev: oa.Follow("u1", at), user: "u1", key: "follow:u1:1717061839659", route: "u:u1"},
		{ev: oa.Unfollow("u1", at), user: "u1", key: "unfollow:u1:1717061839659", route: "u:u1"},
		{ev: oa.SubmitInfo("u1", zaloevent.Info{Name: "Lan", Phone: "84912345678"}, at), user: "u1", phone: "84912345678",
			key: "user_submit_info:u1:1717061839659", route: "u:u1"},
		{ev: oa.JoinGroup("u1", "g1", at), user: "u1", group: "g1", key: "user_join_group:u1:1717061839659", route: "g:g1"},
	}
	for _, tt := range tests {
		body, _ := oa.Sign(tt.ev)
		got, err := bot.ParseEvent(body)
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		phone := ""
		if got.Info != nil {
			phone = got.Info.Phone
		}
		if got.Name != tt.ev.Name || got.UserID != tt.user || got.GroupID != tt.group || got.Key != tt.key ||
			got.Text != tt.text || got.Route != tt.route || phone != tt.phone || !got.Time.Equal(at) {
			t.Errorf("%s parsed as %+v", body, got)
		}
	}
}

func TestNewRequest(t *testing.T) {
	body, mac := oa.Sign(oa.Text("u1", "m1", "menu", at))
	req, err := zaloevent.NewRequest(context.Background(), "http://127.0.0.1/webhooks/zalo", body, mac)
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != "POST" || req.Header.Get("Content-Type") != "application/json" || req.Header.Get(bot.SignatureHeader) != mac {
		t.Errorf("request: %s %v", req.Method, req.Header)
	}
}
