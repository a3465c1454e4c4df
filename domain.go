package cnsbot

import (
	"strings"
	"time"
)

// Unit kinds, from the top of the administrative tree down. Since 1 July
// 2025 Vietnam has no districts; a commune may then hang off the province.
const (
	UnitProvince = "province"
	UnitDistrict = "district"
	UnitCommune  = "commune" // xã, phường, thị trấn
	UnitHamlet   = "hamlet"  // ấp, khóm
)

// Unit is a place in the administrative tree. The struct tags let the store
// persist it directly; no package outside store reads them.
type Unit struct {
	ID     int64  `json:"id" gorm:"primaryKey"`
	Kind   string `json:"kind" gorm:"size:16;index;not null"`
	Name   string `json:"name" gorm:"size:200;not null"`
	Folded string `json:"-" gorm:"size:200;index"`
	// FormerNames are the names before the July 2025 merger, separated by
	// ";" ("Phường 5; Phường 6"): residents keep using them, and the place
	// pickers match them (the units import's "Tên cũ" column).
	FormerNames string `json:"former_names,omitempty" gorm:"size:500"`
	ParentID    *int64 `json:"parent_id,omitempty" gorm:"index"`
	// Households is the hamlet's household count, the 80% target's base.
	Households int       `json:"households"`
	Demo       bool      `json:"demo,omitempty"`
	CreatedAt  time.Time `json:"-"`
	UpdatedAt  time.Time `json:"-"`
}

// Team is a community digital technology team (Tổ công nghệ số cộng đồng),
// at least one per hamlet.
type Team struct {
	ID       int64  `json:"id" gorm:"primaryKey"`
	HamletID int64  `json:"hamlet_id" gorm:"index;not null"`
	Name     string `json:"name" gorm:"size:200;not null"`
	// Code is short and typeable: a leader links the team's Zalo group with it.
	Code string `json:"code" gorm:"size:32;uniqueIndex;not null"`
	// GroupID is the linked Zalo group, if any.
	GroupID   string    `json:"group_id,omitempty" gorm:"size:64;index"`
	Demo      bool      `json:"demo,omitempty"`
	CreatedAt time.Time `json:"-"`
	UpdatedAt time.Time `json:"-"`
}

// Roles a person can hold; one person may hold several, in several places.
const (
	RoleMember          = "member"
	RoleLeader          = "leader"
	RoleCommuneOfficer  = "commune_officer"
	RoleProvinceOfficer = "province_officer"
	RoleAdmin           = "admin"
)

// Person is someone on a roster: a team member, leader or officer.
type Person struct {
	ID       int64  `json:"id" gorm:"primaryKey"`
	FullName string `json:"full_name" gorm:"size:200;not null"`
	// Phone is E.164 (+84…). It is personal data: never log it.
	Phone      string    `json:"-" gorm:"size:20;uniqueIndex;not null"`
	ZaloUserID *string   `json:"-" gorm:"size:64;uniqueIndex"`
	Lang       string    `json:"lang,omitempty" gorm:"size:8"`
	Demo       bool      `json:"demo,omitempty"`
	CreatedAt  time.Time `json:"-"`
	UpdatedAt  time.Time `json:"-"`
}

// Role is one role of a person in one unit (and team, for members and leaders).
type Role struct {
	ID       int64  `json:"id" gorm:"primaryKey"`
	PersonID int64  `json:"person_id" gorm:"uniqueIndex:role_unique;not null"`
	Role     string `json:"role" gorm:"size:32;uniqueIndex:role_unique;not null"`
	UnitID   int64  `json:"unit_id" gorm:"uniqueIndex:role_unique;not null"`
	TeamID   *int64 `json:"team_id,omitempty" gorm:"uniqueIndex:role_unique"`
	// Approved is false for someone who enrolled but is not on the roster yet.
	Approved  bool      `json:"approved"`
	CreatedAt time.Time `json:"-"`
	UpdatedAt time.Time `json:"-"`
}

// Help request states.
const (
	HelpOpen      = "open"
	HelpTaken     = "taken"
	HelpClosed    = "closed"
	HelpCancelled = "cancelled"
)

// Outcomes of a closed help request: HelpRequest.Outcome holds one of these
// codes when the member tapped (or typed) a choice, shown in the reader's
// language (locale key "team.outcome.<code>"); anything else there is
// what the member typed, kept as written.
const (
	OutcomeDone = "done"
)

// Outcomes lists the outcome codes.
var Outcomes = []string{OutcomeDone}

// PreferredTimes are the times a resident can tap for a visit, stored in
// HelpRequest.PreferredTime and shown in the reader's language (locale key
// "resident.time.<code>"); anything else there is what the resident typed.
var PreferredTimes = []string{"morning", "afternoon", "evening", "any"}

// HelpRequest is a resident's request for a team member to come.
type HelpRequest struct {
	ID int64 `json:"id" gorm:"primaryKey"`
	// Code is the short reference the resident and members type
	// ("HT7K3QM2"; requests made before December 2026 have six characters).
	Code           string `json:"code" gorm:"size:16;uniqueIndex;not null"`
	ResidentUserID string `json:"-" gorm:"size:64;index;not null"`
	Name           string `json:"name" gorm:"size:200"`
	Phone          string `json:"-" gorm:"size:20"`
	CommuneID      int64  `json:"commune_id" gorm:"index"`
	HamletID       int64  `json:"hamlet_id" gorm:"index"`
	TeamID         *int64 `json:"team_id,omitempty" gorm:"index"`
	// Topic is what the resident needs help with (vneid, camaug, …).
	Topic         string     `json:"topic" gorm:"size:64"`
	Problem       string     `json:"problem" gorm:"size:1000"`
	PreferredTime string     `json:"preferred_time" gorm:"size:200"`
	Status        string     `json:"status" gorm:"size:16;index;not null"`
	TakenBy       *int64     `json:"taken_by,omitempty"`
	TakenAt       *time.Time `json:"taken_at,omitempty"`
	ClosedAt      *time.Time `json:"closed_at,omitempty"`
	EscalatedAt   *time.Time `json:"escalated_at,omitempty"`
	Outcome       string     `json:"outcome,omitempty" gorm:"size:1000"` // an Outcome* code, or what the member typed
	Rating        int        `json:"rating,omitempty"`
	// CancelledAt is when the resident cancelled the request.
	CancelledAt *time.Time `json:"cancelled_at,omitempty"`
	// SourceEvent makes creation idempotent when an event is processed again.
	SourceEvent string    `json:"-" gorm:"size:128;uniqueIndex"`
	Demo        bool      `json:"demo,omitempty"`
	CreatedAt   time.Time `json:"created_at" gorm:"index"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// HelpAttachment is a photo or location a resident sent with an open request.
type HelpAttachment struct {
	ID        int64     `json:"id" gorm:"primaryKey"`
	RequestID int64     `json:"request_id" gorm:"index;not null"`
	Type      string    `json:"type" gorm:"size:16"`
	URL       string    `json:"url,omitempty" gorm:"size:1000"`
	Latitude  float64   `json:"lat,omitempty"`
	Longitude float64   `json:"lng,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Areas a visit can cover: the plan's digital government, economy and
// society, plus online safety.
const (
	AreaVNeIDInstall = "vneid"
	AreaVNeIDLevel2  = "vneid2"
	AreaCaMauG       = "camaug"
	AreaPublicSvc    = "dvc" // dịch vụ công trực tuyến
	AreaECommerce    = "tmdt"
	AreaEPayment     = "ttkdtm" // thanh toán không dùng tiền mặt
	AreaHealth       = "yte"
	AreaEducation    = "giaoduc"
	AreaSafety       = "antoan"
	AreaOther        = "khac"
)

// Areas lists every visit area in display order.
var Areas = []string{AreaVNeIDInstall, AreaVNeIDLevel2, AreaCaMauG, AreaPublicSvc, AreaECommerce,
	AreaEPayment, AreaHealth, AreaEducation, AreaSafety, AreaOther}

// Visit is one household visit reported by a team member.
type Visit struct {
	ID       int64 `json:"id" gorm:"primaryKey"`
	PersonID int64 `json:"person_id" gorm:"index;not null"`
	TeamID   int64 `json:"team_id" gorm:"index;not null"`
	HamletID int64 `json:"hamlet_id" gorm:"index;not null"`
	// Household is what the member typed (address or head of household);
	// HouseholdKey is its folded form, so the same household counts once.
	Household    string `json:"household" gorm:"size:300;not null"`
	HouseholdKey string `json:"-" gorm:"size:300;index"`

	// ListedHouseholdID is the household of the hamlet's list the visit
	// went to, when the hamlet has a list and the member picked one.
	ListedHouseholdID *int64 `json:"listed_household_id,omitempty" gorm:"index"`

	// Areas is a comma-separated list of Area* values.
	Areas     string    `json:"areas" gorm:"size:200"`
	People    int       `json:"people"`
	Minutes   int       `json:"minutes"`
	PhotoURL  string    `json:"photo_url,omitempty" gorm:"size:1000"`
	Latitude  float64   `json:"lat,omitempty"`
	Longitude float64   `json:"lng,omitempty"`
	Note      string    `json:"note,omitempty" gorm:"size:1000"`
	HelpCode  string    `json:"help_code,omitempty" gorm:"size:16"`
	VisitedAt time.Time `json:"visited_at" gorm:"index"`
	// SourceEvent makes recording idempotent when an event is processed again.
	SourceEvent string    `json:"-" gorm:"size:128;uniqueIndex"`
	Demo        bool      `json:"demo,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// SplitFormerNames splits a unit's FormerNames ("Phường 5; Phường 6") into
// names, trimmed, without blanks or repeats (compared in lower case).
func SplitFormerNames(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range strings.Split(s, ";") {
		n = strings.Join(strings.Fields(n), " ")
		k := strings.ToLower(n)
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, n)
	}
	return out
}

// JoinFormerNames is the stored form of names: "Phường 5; Phường 6".
func JoinFormerNames(names []string) string { return strings.Join(names, "; ") }
