// Package cnsbot holds the domain vocabulary shared by every part of the
// service: the events that arrive from Zalo, the messages the bot sends back,
// and one error vocabulary that each edge maps once (HTTP status for the
// webhook and admin API, a localized sentence for a chat user).
//
// The packages below it each own one dependency: bot speaks to Zalo, store
// remembers (GORM and Redis), flows decides what to say. Wiring lives in
// cmd/cnsbot only.
package cnsbot

import "time"

// Event is one Zalo OA webhook event, reduced to what the flows need.
// Ids are strings: Zalo's ids overflow float64.
type Event struct {
	// Name is Zalo's event_name, e.g. "user_send_text".
	Name string `json:"name"`
	// Kind is what the event is (one of the Kind* constants), set once by
	// the webhook from Name, so that every reader agrees on it.
	Kind string `json:"kind"`
	// Key identifies the event for de-duplication: the message's msg_id, or
	// event_name+sender+timestamp for events that carry none.
	Key string `json:"key"`
	// Route is the conversation the event belongs to: "u:<user id>" for a
	// private chat, "g:<group id>" for a group. Events of one route are
	// processed strictly in order.
	Route string `json:"route"`
	// UserID is the OA-scoped id of the person who acted (sender, follower).
	UserID string `json:"user_id,omitempty"`
	// GroupID is set for group events (recipient.id of user_send_group_*).
	GroupID string `json:"group_id,omitempty"`
	// AdminID is set when a human agent wrote from the OA chat tool.
	AdminID string `json:"admin_id,omitempty"`
	// Text is the message text, or a tapped button's payload.
	Text        string       `json:"text,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	// Info is the answer to a request_user_info form (user_submit_info).
	Info *UserInfo `json:"info,omitempty"`
	// Time is when Zalo says the event happened.
	Time time.Time `json:"time"`
}

// Event kinds derived from Zalo's event names (bot.Kind).
const (
	KindText     = "text"
	KindFollow   = "follow"
	KindUnfollow = "unfollow"
	KindSubmit   = "submit_info"
	KindMedia    = "media" // image, file, audio, video, sticker, gif, link, location, business card
	KindEcho     = "echo"  // oa_send_*: something the OA itself sent
	KindGroup    = "group" // group membership and lifecycle events
	KindOther    = "other" // seen, received, reactions, unknown names
)

// IsGroup reports whether the event happened in a Zalo group.
func (e Event) IsGroup() bool { return e.GroupID != "" }

// Attachment is one item of message.attachments.
type Attachment struct {
	Type      string  `json:"type"` // image, location, file, link, audio, video, sticker, gif
	URL       string  `json:"url,omitempty"`
	Thumbnail string  `json:"thumbnail,omitempty"`
	Name      string  `json:"name,omitempty"`
	Latitude  float64 `json:"lat,omitempty"`
	Longitude float64 `json:"lng,omitempty"`
}

// UserInfo is what a person shared through a request_user_info form.
// Phone is as Zalo sends it (e.g. "84912345678"); normalize before storing.
type UserInfo struct {
	Name     string `json:"name,omitempty"`
	Phone    string `json:"phone,omitempty"`
	Address  string `json:"address,omitempty"`
	Ward     string `json:"ward,omitempty"`
	District string `json:"district,omitempty"`
	City     string `json:"city,omitempty"`
}

// Recipient is where an outgoing message goes: exactly one of the fields is set.
type Recipient struct {
	UserID  string `json:"user_id,omitempty"`
	GroupID string `json:"group_id,omitempty"`
}

// String returns the route form of the recipient ("u:…" or "g:…").
func (r Recipient) String() string {
	if r.GroupID != "" {
		return "g:" + r.GroupID
	}
	return "u:" + r.UserID
}

// Outgoing message kinds.
const (
	MsgText        = "text"
	MsgList        = "list"         // a list template with buttons
	MsgRequestInfo = "request_info" // request_user_info template
	// MsgImage is a guide's picture: Image names it, ImageURL is where
	// Zalo can fetch it when an upload is refused.
	MsgImage = "image"
)

// Outgoing is one message the bot wants delivered. It is data, so that it
// can be committed together with the session that produced it and sent later.
type Outgoing struct {
	// ID makes sending idempotent: it is derived from the event (or the
	// reminder) that produced the message and its position.
	ID   string    `json:"id"`
	To   Recipient `json:"to"`
	Kind string    `json:"kind"`
	// Text is the message text, or the list's title for MsgList and the
	// form's title for MsgRequestInfo.
	Text     string `json:"text"`
	Subtitle string `json:"subtitle,omitempty"`
	ImageURL string `json:"image_url,omitempty"`
	// Image is the stored picture of a MsgImage: the SHA-256 of its bytes
	// (see content.Image).
	Image   string   `json:"image,omitempty"`
	Buttons []Button `json:"buttons,omitempty"`
	// Purpose says why the message exists: "reply", "notify", "reminder".
	// Reminders and notifications have fallbacks when a private message is refused.
	Purpose string `json:"purpose,omitempty"`
	// Ref links the message to a domain record (a reminder, a help request).
	Ref string `json:"ref,omitempty"`
	// FallbackGroup, when set, is the group to post to if Zalo refuses the
	// private message because the person is outside the messaging window.
	FallbackGroup string `json:"fallback_group,omitempty"`
	// Lang is the recipient's language, kept for re-rendering notes.
	Lang string `json:"lang,omitempty"`
	// Released marks a message that was held (for the night) and put back
	// on the outbox: its delivery log row must be brought up to date.
	Released bool `json:"released,omitempty"`
}

// Button is a list-template button. Payload is sent back as the user's
// text when tapped, so every payload is also a valid typed command.
type Button struct {
	Title   string `json:"title"`
	Payload string `json:"payload,omitempty"`
	URL     string `json:"url,omitempty"`   // oa.open.url
	Phone   string `json:"phone,omitempty"` // oa.open.phone
}
