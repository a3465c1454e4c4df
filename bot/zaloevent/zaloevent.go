// Package zaloevent builds and signs Zalo webhook events in Zalo's wire
// format, for everything that plays Zalo towards the webhook: the
// simulator, the load generators and the end-to-end tests. One encoder
// means they cannot drift apart from each other, and a change of shape is
// made (and reviewed) once.
//
// Every id and the timestamp are strings on the wire (epoch ms for the
// timestamp): Zalo's ids overflow float64. The signature is bot.Sign's, so
// the signing side and the verifying side share one implementation.
package zaloevent

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/camau-cns/cnsbot/bot"
)

// Event is one webhook event as Zalo posts it. The field order is the
// order Zalo writes them in its samples.
type Event struct {
	Name        string   `json:"event_name"`
	AppID       string   `json:"app_id"`
	OAID        string   `json:"oa_id,omitempty"`
	Sender      *ID      `json:"sender,omitempty"`
	Recipient   *ID      `json:"recipient,omitempty"`
	Follower    *ID      `json:"follower,omitempty"`
	Source      string   `json:"source,omitempty"`
	GroupID     string   `json:"group_id,omitempty"`
	Message     *Message `json:"message,omitempty"`
	Info        *Info    `json:"info,omitempty"`
	Timestamp   string   `json:"timestamp"`
	UserIDByApp string   `json:"user_id_by_app,omitempty"`
}

// ID is a party of an event: {"id": "…"}; an echo of a human agent's
// message also names the agent ({"id": "<OA>", "admin_id": "…"}).
type ID struct {
	ID      string `json:"id"`
	AdminID string `json:"admin_id,omitempty"`
}

// Message is a text message's body; a read receipt carries msg_ids instead.
type Message struct {
	Text   string   `json:"text,omitempty"`
	MsgID  string   `json:"msg_id,omitempty"`
	MsgIDs []string `json:"msg_ids,omitempty"`
}

// Info is the flat answer to a request_user_info form (user_submit_info).
// Phones come as Zalo sends them: 84912345678.
type Info struct {
	Name    string `json:"name"`
	Phone   string `json:"phone"`
	Address string `json:"address,omitempty"`
	City    string `json:"city,omitempty"`
}

// OA is the Official Account the events are addressed to, and the keys
// that sign them (SecretKey is the OA secret key, not the app secret).
type OA struct {
	AppID, OAID, SecretKey string
}

// Stamp writes t as Zalo's timestamp: epoch milliseconds, as a string.
func Stamp(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// AppScoped makes the user_id_by_app Zalo sends beside the OA-scoped id:
// same length, another first digit. The service does not read it; it is
// there because Zalo sends it.
func AppScoped(userID string) string {
	if userID == "" {
		return ""
	}
	return "9" + userID[1:]
}

// Text is user_send_text: userID wrote text to the OA.
func (oa OA) Text(userID, msgID, text string, at time.Time) Event {
	return Event{Name: "user_send_text", AppID: oa.AppID, Sender: &ID{ID: userID}, Recipient: &ID{ID: oa.OAID},
		Message: &Message{Text: text, MsgID: msgID}, Timestamp: Stamp(at), UserIDByApp: AppScoped(userID)}
}

// GroupText is user_send_group_text: userID wrote text in the group
// (recipient.id is the group's id).
func (oa OA) GroupText(userID, groupID, msgID, text string, at time.Time) Event {
	return Event{Name: "user_send_group_text", AppID: oa.AppID, Sender: &ID{ID: userID}, Recipient: &ID{ID: groupID},
		Message: &Message{Text: text, MsgID: msgID}, Timestamp: Stamp(at)}
}

// Echo is oa_send_text: the OA sent text to userID, through the API or, with
// adminID set, a human agent from the OA chat tool. The OA is the sender.
func (oa OA) Echo(userID, adminID, msgID, text string, at time.Time) Event {
	return Event{Name: "oa_send_text", AppID: oa.AppID, Sender: &ID{ID: oa.OAID, AdminID: adminID}, Recipient: &ID{ID: userID},
		Message: &Message{Text: text, MsgID: msgID}, Timestamp: Stamp(at)}
}

// Seen is user_seen_message: userID read the OA's messages msgIDs. The OA
// is the sender and the user the recipient, as Zalo sends receipts.
func (oa OA) Seen(userID string, msgIDs []string, at time.Time) Event {
	return Event{Name: "user_seen_message", AppID: oa.AppID, Sender: &ID{ID: oa.OAID}, Recipient: &ID{ID: userID},
		Message: &Message{MsgIDs: msgIDs}, Timestamp: Stamp(at)}
}

// Follow is follow: userID followed the OA from its profile.
func (oa OA) Follow(userID string, at time.Time) Event {
	return Event{Name: "follow", AppID: oa.AppID, OAID: oa.OAID, Follower: &ID{ID: userID}, Source: "oa_profile",
		Timestamp: Stamp(at), UserIDByApp: AppScoped(userID)}
}

// Unfollow is unfollow: userID stopped following the OA.
func (oa OA) Unfollow(userID string, at time.Time) Event {
	ev := oa.Follow(userID, at)
	ev.Name = "unfollow"
	return ev
}

// SubmitInfo is user_submit_info: userID answered a request_user_info form.
func (oa OA) SubmitInfo(userID string, info Info, at time.Time) Event {
	return Event{Name: "user_submit_info", AppID: oa.AppID, Sender: &ID{ID: userID}, Recipient: &ID{ID: oa.OAID},
		Info: &info, Timestamp: Stamp(at), UserIDByApp: AppScoped(userID)}
}

// JoinGroup is user_join_group: userID joined groupID.
func (oa OA) JoinGroup(userID, groupID string, at time.Time) Event {
	return Event{Name: "user_join_group", AppID: oa.AppID, Sender: &ID{ID: userID}, Recipient: &ID{ID: oa.OAID},
		GroupID: groupID, Timestamp: Stamp(at)}
}

// Sign encodes ev and returns the body and the value of the
// X-ZEvent-Signature header for it ("mac=<hex>"), signed with the OA's
// secret key over the event's own timestamp.
func (oa OA) Sign(ev Event) (body []byte, mac string) {
	body, err := json.Marshal(ev)
	if err != nil {
		// Only strings and pointers to structs of strings: Marshal cannot fail.
		panic("zaloevent: " + err.Error())
	}
	return body, "mac=" + bot.Sign(oa.AppID, body, ev.Timestamp, oa.SecretKey)
}

// NewRequest is the POST Zalo makes to url with a signed body: JSON with
// the signature header.
func NewRequest(ctx context.Context, url string, body []byte, mac string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(bot.SignatureHeader, mac)
	return req, nil
}
