package cnsbot

import "time"

// Session is the whole conversation state of one route (a user's private
// chat or a group). It is data: the engine reads it, decides, and writes it
// back whole, together with the messages it produced, in one commit.
// Timeouts are stored deadlines, never goroutines.
type Session struct {
	// Key is the route: "u:<user id>" or "g:<group id>".
	Key  string `json:"key"`
	Flow string `json:"flow,omitempty"`
	Step string `json:"step,omitempty"`
	// Data holds the answers given so far in the current flow.
	Data map[string]string `json:"data,omitempty"`
	// Notes are facts about the person kept across flows (e.g. that they
	// have an open help request), so common screens need no database query.
	Notes map[string]string `json:"notes,omitempty"`
	// History is the stack of steps visited in the current flow, for "back".
	History []string `json:"history,omitempty"`
	// Lang is the user's language ("vi" or "en"); empty means Vietnamese.
	Lang string `json:"lang,omitempty"`
	// Misses counts consecutive inputs the current step did not understand.
	Misses int `json:"misses,omitempty"`
	// PausedUntil silences the bot while a human agent talks to the user
	// from the OA chat tool.
	PausedUntil time.Time `json:"paused_until,omitempty"`
	// LastEvent is the key of the last event applied to this session, so a
	// redelivered event whose effects were already committed is skipped.
	LastEvent string `json:"last_event,omitempty"`
	// Version increases by one with each commit (optimistic concurrency).
	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Token is the OA's access/refresh token pair. Zalo's refresh tokens are
// single-use: a new pair must be stored before it is used.
type Token struct {
	Access    string
	Refresh   string
	ExpiresAt time.Time
	UpdatedAt time.Time
}
