package cnsbot

import "time"

// ListedHousehold is a household on its hamlet's list, as the hamlet head
// keeps it and officers import it ("cnsbot import households"), or one a
// member added at the door ("hộ mới"), which waits for the team leader to
// confirm it. Visits name it, so that the 80% target counts real
// households: one hamlet may have many "ông Năm".
type ListedHousehold struct {
	ID       int64 `json:"id" gorm:"primaryKey"`
	HamletID int64 `json:"hamlet_id" gorm:"uniqueIndex:idx_listed_households_hamlet_key,priority:1;index:idx_listed_households_hamlet_number,priority:1;not null"`
	// Key identifies the household within its hamlet across imports: the
	// folded address and head of household.
	Key string `json:"-" gorm:"size:500;uniqueIndex:idx_listed_households_hamlet_key,priority:2;not null"`
	// Address is the house number or address as written ("Số 12, tổ 3").
	Address string `json:"address" gorm:"size:300;not null"`
	// Number is the address's first number (12 for "12/3 Lý Thường
	// Kiệt"), by which a round walks the hamlet; 0 when it has none.
	Number int `json:"number" gorm:"index:idx_listed_households_hamlet_number,priority:2"`
	// Head is the head of household's name (Chủ hộ).
	Head string `json:"head" gorm:"size:200;not null"`
	// Phone is E.164, or empty. It is personal data: never log it, and
	// show it masked.
	Phone   string `json:"-" gorm:"size:20"`
	Members int    `json:"members,omitempty"`
	Note    string `json:"note,omitempty" gorm:"size:500"`
	// Pending marks a household a member added that the leader has not
	// confirmed yet; AddedBy is that member.
	Pending bool   `json:"pending,omitempty"`
	AddedBy *int64 `json:"added_by,omitempty"`
	// AssignedTo is the member a leader gave the household to ("chia nhà").
	AssignedTo *int64 `json:"assigned_to,omitempty" gorm:"index"`
	// GuidedAt is the time of the first visit that named it.
	GuidedAt *time.Time `json:"guided_at,omitempty"`
	// Latitude and Longitude are the household's place, from the list's
	// coordinate columns or from the first visit that carried a location;
	// nil when it has none. Personal data: never log them, and they stay
	// out of JSON.
	Latitude  *float64 `json:"-"`
	Longitude *float64 `json:"-"`
	// PlacedFrom says where the place came from: PlacedFromList or
	// PlacedFromVisit ("" without a place).
	PlacedFrom string    `json:"-" gorm:"size:8"`
	CreatedAt  time.Time `json:"-"`
	UpdatedAt  time.Time `json:"-"`
}

// Where a listed household's place came from. The list's word wins: an
// import with coordinates replaces a place a visit gave; a visit gives a
// place only to a household that has none.
const (
	PlacedFromList  = "list"
	PlacedFromVisit = "visit"
)

// Place returns the household's place, ok false when it has none.
func (h ListedHousehold) Place() (Place, bool) {
	if h.Latitude == nil || h.Longitude == nil {
		return Place{}, false
	}
	return Place{Lat: *h.Latitude, Lng: *h.Longitude}, true
}

// Label is how a household is shown to a member: its head and address,
// which tell the "ông Năm"s apart. It never shows the phone.
func (h ListedHousehold) Label() string {
	switch {
	case h.Address == "":
		return h.Head
	case h.Head == "":
		return h.Address
	}
	return h.Head + " – " + h.Address
}

// HouseholdShare is one member's part of a hamlet's round, when a leader
// splits the households not visited yet among the team ("chia nhà").
type HouseholdShare struct {
	PersonID int64
	Count    int
	// From and To are the first and last household of the part.
	From, To ListedHousehold
}

// UnmatchedVisit is a household typed in visits before the hamlet had a
// list that the import could not match to exactly one listed household:
// the leader resolves it.
type UnmatchedVisit struct {
	// Key is the visits' household_key, by which the leader's choice
	// links them (DB.LinkUnmatched).
	Key       string
	Household string
	Visits    int
	// Matches is how many listed households it could be (0: none).
	Matches int
}

// VisitPlace is what became of a location a member shared just after
// recording a visit.
type VisitPlace struct {
	// Visit is the member's visit the location went to.
	Visit Visit
	// Placed reports that the visit's listed household now has this
	// place (it had none, or had this one).
	Placed bool
}
