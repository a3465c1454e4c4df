package zalotest

import (
	"encoding/json"
	"net/http"
)

// UserDetail is what GET /v3.0/oa/user/detail answers for a user.
type UserDetail struct {
	DisplayName string
	Avatar      string
	// NotFollower makes the user an ex-follower: messages to them fail with -213.
	NotFollower bool
	// Shared is the info the user shared through a request_user_info form.
	Shared map[string]any
	// Raw, when set, replaces the whole "data" object of the answer, to test
	// tolerance of odd shapes (numbers as strings, and so on).
	Raw json.RawMessage
}

// SetUserDetail sets what the fake knows of a user. Users it does not know
// are followers with a made-up display name.
func (s *Server) SetUserDetail(userID string, d UserDetail) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[userID] = d
}

// Unfollow marks users as not following the OA: messages to them fail -213.
func (s *Server) Unfollow(userIDs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range userIDs {
		d := s.users[id]
		d.NotFollower = true
		s.users[id] = d
	}
}

func (s *Server) handleUserDetail(w http.ResponseWriter, r *http.Request) {
	var q struct {
		UserID string `json:"user_id"`
	}
	decodeErr := json.Unmarshal([]byte(r.URL.Query().Get("data")), &q)
	if !s.begin(w, r, Request{Kind: KindUserDetail, UserID: q.UserID}, true) {
		return
	}
	if _, ok := s.checkToken(r); !ok {
		s.fail(w, r, -216)
		return
	}
	s.mu.Lock()
	setup := s.setupFault
	s.mu.Unlock()
	if setup != 0 {
		s.fail(w, r, setup)
		return
	}
	if decodeErr != nil || q.UserID == "" {
		s.fail(w, r, -201)
		return
	}
	s.mu.Lock()
	d, known := s.users[q.UserID]
	s.mu.Unlock()
	if d.Raw != nil {
		s.answer(w, r, http.StatusOK, 0, "Success", d.Raw)
		return
	}
	if !known {
		d.DisplayName = "User " + lastN(q.UserID, 4)
	}
	data := map[string]any{
		"user_id":          q.UserID,
		"user_id_by_app":   q.UserID + "1",
		"display_name":     d.DisplayName,
		"avatar":           d.Avatar,
		"user_is_follower": !d.NotFollower,
	}
	if d.Shared != nil {
		data["shared_info"] = d.Shared
	}
	s.answer(w, r, http.StatusOK, 0, "Success", data)
}

func lastN(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// OA is what GET /v2.0/oa/getoa answers about the Official Account.
type OA struct {
	Name     string
	Verified bool
	Package  string
}

// SetOA sets the Official Account's profile.
func (s *Server) SetOA(oa OA) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oa = oa
}

func (s *Server) handleGetOA(w http.ResponseWriter, r *http.Request) {
	if !s.begin(w, r, Request{Kind: KindOAProfile}, true) {
		return
	}
	if _, ok := s.checkToken(r); !ok {
		s.fail(w, r, -216)
		return
	}
	s.mu.Lock()
	oa, setup := s.oa, s.setupFault
	s.mu.Unlock()
	if setup != 0 {
		s.fail(w, r, setup)
		return
	}
	if oa.Name == "" {
		oa.Name = "Tổ công nghệ số Cà Mau (fake)"
	}
	s.answer(w, r, http.StatusOK, 0, "Success", map[string]any{
		"oa_id": DefaultOAID, "name": oa.Name, "description": "", "is_verified": oa.Verified,
		"package_name": oa.Package, "num_follower": 0,
	})
}
