package zalotest

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Request kinds seen by a fault function, in Request.Kind, besides the
// message kinds (KindText, …).
const (
	KindUserDetail = "user_detail"
	KindOAProfile  = "oa_profile"
	KindRefresh    = "refresh_token"
	KindAuthCode   = "authorization_code"
)

// Request describes an incoming request to a fault function.
type Request struct {
	Method string
	Path   string
	// Kind is a message kind (KindText, …) or KindUserDetail, KindRefresh,
	// KindAuthCode; empty when the body could not be read.
	Kind    string
	UserID  string
	GroupID string
	Text    string
	// Time is the fake's clock when the request arrived.
	Time time.Time
}

// Fault is what a fault function wants done with a request. The zero Fault
// lets the request through.
type Fault struct {
	// Delay holds the answer back. If the client gives up meanwhile, the
	// request is dropped unprocessed (nothing recorded).
	Delay time.Duration
	// Status is an HTTP status to answer with instead of 200.
	Status int
	// Error is a Zalo error code to answer with (HTTP 200 unless Status is set).
	Error int
}

// FailNext makes the next n OpenAPI requests (messages and user detail, not
// OAuth) fail with code: a negative code is a Zalo error in an HTTP 200
// answer, a positive one an HTTP status (e.g. 503).
func (s *Server) FailNext(n int, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failNext = append(s.failNext, code)
	}
}

// SetFault installs f, consulted for every request (OAuth too) after
// FailNext is used up; nil removes it.
func (s *Server) SetFault(f func(Request) Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = f
}

// Requests returns how many requests reached the fake.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Rejected returns how many requests were answered with each Zalo error code.
func (s *Server) Rejected() map[int]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int]int, len(s.rejected))
	for k, v := range s.rejected {
		out[k] = v
	}
	return out
}

// FailUsers returns a fault function answering code to messages sent to
// any of the users or groups, e.g. -230 for users outside the window.
func FailUsers(code int, ids ...string) func(Request) Fault {
	set := make(map[string]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	return func(r Request) Fault {
		if r.Kind == KindUserDetail || r.Kind == KindRefresh || r.Kind == KindAuthCode {
			return Fault{}
		}
		if set[r.UserID] || set[r.GroupID] {
			return Fault{Error: code}
		}
		return Fault{}
	}
}

// Night returns a fault function answering -234 to private messages sent
// between 22:00 and 06:00 in loc, by the fake's clock.
func Night(loc *time.Location) func(Request) Fault {
	return func(r Request) Fault {
		if r.UserID == "" || r.Kind == KindUserDetail {
			return Fault{}
		}
		h := r.Time.In(loc).Hour()
		if h >= 22 || h < 6 {
			return Fault{Error: -234}
		}
		return Fault{}
	}
}

// errorMessages are Zalo's messages for the codes the fake answers with.
var errorMessages = map[int]string{
	-32:    "Request exceeds the rate limit",
	-201:   "Parameters are invalid",
	-211:   "Out of quota",
	-213:   "User has not followed OA",
	-216:   "Access token is invalid",
	-217:   "User has blocked invitations from the OA",
	-218:   "Out of quota for this message type",
	-220:   "Access token has expired",
	-227:   "User has been inactive for more than 45 days",
	-230:   "User has not interacted with the OA in the last 7 days",
	-232:   "User has not interacted with the OA recently",
	-234:   "Sending messages at night is not allowed",
	-237:   "Group is disabled",
	-244:   "User is restricted from receiving this type of message",
	-403:   "OA is not a member of the group",
	-404:   "Endpoint not found",
	-209:   "App is not active",
	-212:   "OA has not registered this API",
	-221:   "OA is not verified",
	-223:   "OA has not granted this API",
	-224:   "OA needs a package for this API",
	-233:   "Message type is not supported",
	-14001: "Invalid secret_key",
	-14002: "Invalid app_id",
	-14003: "Invalid parameter",
	-14014: "Invalid refresh token",
	-14019: "Invalid code or code_verifier",
	-14020: "Invalid refresh token",
}

func errorMessage(code int) string {
	if m, ok := errorMessages[code]; ok {
		return m
	}
	return "Error " + strconv.Itoa(code)
}

// begin counts the request and applies FailNext (OpenAPI only) and the
// fault function. It reports whether the caller should go on.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, req Request, openAPI bool) bool {
	req.Method, req.Path = r.Method, r.URL.Path
	s.mu.Lock()
	s.requests++
	req.Time = s.now()
	var f Fault
	if openAPI && len(s.failNext) > 0 {
		code := s.failNext[0]
		s.failNext = s.failNext[1:]
		if code > 0 {
			f.Status = code
		} else {
			f.Error = code
		}
	} else if s.fault != nil {
		fn := s.fault
		s.mu.Unlock()
		f = fn(req)
		s.mu.Lock()
	}
	log := s.log
	s.mu.Unlock()
	if log != nil {
		log.Debug("zalotest request", "method", req.Method, "path", req.Path, "kind", req.Kind,
			"fault_status", f.Status, "fault_error", f.Error, "delay", f.Delay)
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return false
		case <-s.done:
			return false
		}
	}
	if f.Status != 0 || f.Error != 0 {
		status := f.Status
		if status == 0 {
			status = http.StatusOK
		}
		code := f.Error
		if code == 0 {
			// A 5xx from a proxy in front of Zalo carries no Zalo body.
			w.WriteHeader(status)
			_, _ = io.WriteString(w, http.StatusText(status))
			return false
		}
		s.answer(w, r, status, code, errorMessage(code), nil)
		return false
	}
	return true
}

// answer writes Zalo's envelope.
func (s *Server) answer(w http.ResponseWriter, _ *http.Request, status, code int, msg string, data any) {
	if code != 0 {
		s.mu.Lock()
		s.rejected[code]++
		s.mu.Unlock()
	}
	body := map[string]any{"error": code, "message": msg}
	if data != nil {
		body["data"] = data
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, code int) {
	s.answer(w, r, http.StatusOK, code, errorMessage(code), nil)
}

// Refuse makes the fake refuse messages of one kind (KindList,
// KindRequestInfo, KindImage, KindText; KindGroupText for text to groups)
// with code, as an OA whose Zalo does not take them would; -201 is what a
// field Zalo does not know gets. Code 0 accepts the kind again.
func (s *Server) Refuse(kind string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		delete(s.refuse, kind)
		return
	}
	s.refuse[kind] = code
}

// SetupFault makes every OpenAPI request (messages and user detail) fail
// with code, as for an OA that is not set up for the API: -209 (app not
// active), -212 (API not registered), -221 (OA not verified), -223 (API not
// granted), -224 (package needed). Code 0 ends the fault.
func (s *Server) SetupFault(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setupFault = code
}

// DeadRefresh selects how the OAuth endpoint answers a refresh_token grant
// once the refresh token is dead, in each of the forms public integrations
// have seen. RefreshAlive (the default) answers normally.
type DeadRefresh int

// The forms of a dead refresh token's answer.
const (
	RefreshAlive       DeadRefresh = iota
	RefreshCode14014               // {"error":-14014,"error_name":"Invalid refresh token"}
	RefreshCode14020               // {"error":-14020,…}
	RefreshStringError             // {"error":"invalid_grant",…}
	RefreshEmptyBody               // HTTP 200 with an empty body
)

// KillRefreshToken makes every refresh_token grant from now on fail in
// form f, as after the refresh token expired or was revoked.
func (s *Server) KillRefreshToken(f DeadRefresh) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deadRefresh = f
}
