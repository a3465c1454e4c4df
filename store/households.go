package store

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/vn"
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// householdListMigrations add the hamlets' household lists (issue 16) and
// the household of the list a visit went to.
func householdListMigrations() []*gormigrate.Migration {
	// A frozen copy of cnsbot.ListedHousehold as of this migration.
	type listedHousehold struct {
		ID         int64  `gorm:"primaryKey"`
		HamletID   int64  `gorm:"uniqueIndex:idx_listed_households_hamlet_key,priority:1;index:idx_listed_households_hamlet_number,priority:1;not null"`
		Key        string `gorm:"size:500;uniqueIndex:idx_listed_households_hamlet_key,priority:2;not null"`
		Address    string `gorm:"size:300;not null"`
		Number     int    `gorm:"index:idx_listed_households_hamlet_number,priority:2"`
		Head       string `gorm:"size:200;not null"`
		Phone      string `gorm:"size:20"`
		Members    int    //
		Note       string `gorm:"size:500"`
		Pending    bool   //
		AddedBy    *int64 //
		AssignedTo *int64 `gorm:"index:idx_listed_households_assigned_to"`
		GuidedAt   *time.Time
		CreatedAt  time.Time
		UpdatedAt  time.Time
	}
	type visit struct {
		ListedHouseholdID *int64 `gorm:"index:idx_visits_listed_household_id"`
	}
	return []*gormigrate.Migration{{
		ID: "2026120930_households",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Table("listed_households").Migrator().CreateTable(&listedHousehold{}); err != nil {
				return fmt.Errorf("create listed_households: %w", err)
			}
			m := tx.Table("visits").Migrator()
			if err := m.AddColumn(&visit{}, "ListedHouseholdID"); err != nil {
				return fmt.Errorf("add visits.listed_household_id: %w", err)
			}
			if err := tx.Exec(`CREATE INDEX idx_visits_listed_household_id ON visits (listed_household_id)`).Error; err != nil {
				return fmt.Errorf("index visits.listed_household_id: %w", err)
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error {
			if err := tx.Exec(`DROP INDEX idx_visits_listed_household_id`).Error; err != nil {
				return err
			}
			if err := tx.Table("visits").Migrator().DropColumn(&visit{}, "ListedHouseholdID"); err != nil {
				return err
			}
			return tx.Migrator().DropTable("listed_households")
		},
	}}
}

// HouseholdsOfHamlet is the one place that says how many households a
// hamlet has, as SQL over the units row aliased u: the confirmed
// households of its list once it has one, else the units import's "Số
// hộ". The report, the reminders, the dashboard and a team's progress all
// read the count through it (or through HamletHouseholds).
// The list's count is kept in hamlet_lists (countLists, listedrollups.go).
func householdsOf(u string) string {
	return `COALESCE(NULLIF((SELECT hl.households FROM hamlet_lists hl WHERE hl.hamlet_id = ` + u +
		`.id), 0), ` + u + `.households, 0)`
}

// listedOf is SQL that is 1 when the hamlet aliased u has a household
// list, else 0: the figures say which base they used.
func listedOf(u string) string {
	return `(CASE WHEN EXISTS (SELECT 1 FROM hamlet_lists hl WHERE hl.hamlet_id = ` + u +
		`.id AND hl.households > 0) THEN 1 ELSE 0 END)`
}

// HamletHouseholds returns the number of households of a hamlet (see
// householdsOf) and whether it comes from the hamlet's list.
func (db *DB) HamletHouseholds(ctx context.Context, hamletID int64) (n int, listed bool, err error) {
	var row struct {
		N      int64
		Listed int64
	}
	err = db.orm.WithContext(ctx).Raw(`SELECT `+householdsOf("u")+` AS n, `+listedOf("u")+` AS listed
		FROM units u WHERE u.id = ?`, hamletID).Scan(&row).Error
	if err != nil {
		return 0, false, fmt.Errorf("hamlet households: %w", err)
	}
	return int(row.N), row.Listed == 1, nil
}

// listedKey is the household key of visits that name a listed household:
// the same household counts once however it was typed.
func listedKey(id int64) string { return "ds:" + strconv.FormatInt(id, 10) }

// Column keys of the household list file.
const (
	colAddress = "address"
	colHead    = "head of household"
	colMembers = "members"
	colNote    = "note"
	// A household's place: latitude and longitude in two columns, or
	// both (or a Google Maps link) in one.
	colLat   = "latitude"
	colLng   = "longitude"
	colPlace = "coordinates"
)

var householdColumns = []column{
	{name: colCommune, aliases: communeAliases, required: true},
	{name: colHamlet, aliases: hamletAliases, required: true},
	{name: colAddress, aliases: []string{"Số nhà", "Địa chỉ", "Số nhà/Địa chỉ", "Địa chỉ/Số nhà", "Số nhà, đường",
		"Nơi ở", "address", "house number", "house"}, required: true},
	{name: colHead, aliases: []string{"Chủ hộ", "Họ tên chủ hộ", "Họ và tên chủ hộ", "Tên chủ hộ", "head",
		"household head", "head of household"}, required: true},
	{name: colPhone, aliases: []string{"Số điện thoại", "Điện thoại", "SĐT", "Số ĐT", "ĐT", "phone",
		"phone number", "mobile"}},
	{name: colMembers, aliases: []string{"Số thành viên", "Số nhân khẩu", "Nhân khẩu", "Số người", "Số khẩu",
		"members", "household members"}},
	{name: colNote, aliases: []string{"Ghi chú", "note", "notes"}},
	{name: colLat, aliases: []string{"Vĩ độ", "Vĩ độ (lat)", "Lat", "latitude"}},
	{name: colLng, aliases: []string{"Kinh độ", "Kinh độ (long)", "Kinh độ (lng)", "Lng", "Long", "Lon", "longitude"}},
	{name: colPlace, aliases: []string{"Tọa độ", "Vị trí", "Định vị", "Tọa độ GPS", "GPS", "Google Maps", "Bản đồ",
		"Link bản đồ", "Link Google Maps", "coordinates", "location", "place", "map"}},
}

// householdRow is one good row of a household list.
type householdRow struct {
	line     int
	hamletID int64
	h        cnsbot.ListedHousehold
}

// ImportHouseholds reads hamlets' household lists (commune, hamlet,
// address or house number, head of household, optional phone, members and
// note) and adds or updates each household of a hamlet, matched by its
// folded address and head, so that importing again changes nothing. A
// household missing from a later file stays: visits name it. Old visits
// whose typed household matches exactly one listed household are linked
// to it. Nothing is written unless every row is good.
func (db *DB) ImportHouseholds(ctx context.Context, r io.Reader, filename string) (ImportReport, error) {
	var rep ImportReport
	recs, bad, err := readTable(r, filename)
	if err != nil || len(bad) > 0 {
		rep.Errors = bad
		return rep, importFailed(&rep, err)
	}
	cols, rows, bad := mapColumns(recs, householdColumns)
	if len(bad) > 0 {
		rep.Errors = bad
		return rep, importFailed(&rep, nil)
	}
	rep.Rows = len(rows)

	tx := db.orm.WithContext(ctx)
	places := map[string]placeResult{}
	var parsed []householdRow
	seen := map[string]int{}
	for _, rec := range rows {
		h := cnsbot.ListedHousehold{
			Address: rec.get(cols, colAddress), Head: vn.NameCase(rec.get(cols, colHead)), Note: rec.get(cols, colNote)}
		bad := householdCells(rec, cols, &h)
		communeName, hamletName := rec.get(cols, colCommune), rec.get(cols, colHamlet)
		if vn.Fold(communeName) == "" || vn.Fold(hamletName) == "" {
			bad = append(bad, RowProblem{Code: RowPlaceRequired})
		}
		if len(bad) == 0 {
			commune, p, err := findPlace(tx, places, cnsbot.UnitCommune, nil, communeName)
			if err == nil && p == nil {
				var hamlet cnsbot.Unit
				hamlet, p, err = findPlace(tx, places, cnsbot.UnitHamlet, &commune.ID, hamletName)
				h.HamletID = hamlet.ID
			}
			if err != nil {
				return rep, importFailed(&rep, err)
			}
			bad = append(bad, p...)
		}
		if len(bad) == 0 {
			h.Key = householdListKey(h.Address, h.Head)
			h.Number = houseNumber(h.Address)
			k := strconv.FormatInt(h.HamletID, 10) + "|" + h.Key
			if prev, dup := seen[k]; dup {
				bad = append(bad, RowProblem{Code: RowSameHousehold, Other: prev})
			}
			seen[k] = rec.line
		}
		if len(bad) > 0 {
			rep.Errors = append(rep.Errors, RowError{Line: rec.line, Problems: bad})
			continue
		}
		parsed = append(parsed, householdRow{line: rec.line, hamletID: h.HamletID, h: h})
	}
	if len(rep.Errors) > 0 {
		return rep, importFailed(&rep, nil)
	}

	err = tx.Transaction(func(tx *gorm.DB) error {
		byHamlet := map[int64][]householdRow{}
		var hamlets []int64
		for _, r := range parsed {
			if _, ok := byHamlet[r.hamletID]; !ok {
				hamlets = append(hamlets, r.hamletID)
			}
			byHamlet[r.hamletID] = append(byHamlet[r.hamletID], r)
		}
		now := time.Now().UTC()
		for _, hamletID := range hamlets {
			var existing []cnsbot.ListedHousehold
			if err := tx.Where("hamlet_id = ?", hamletID).Find(&existing).Error; err != nil {
				return fmt.Errorf("load household list: %w", err)
			}
			byKey := make(map[string]cnsbot.ListedHousehold, len(existing))
			for _, e := range existing {
				byKey[e.Key] = e
			}
			var fresh []*cnsbot.ListedHousehold
			confirmed := false
			for _, r := range byHamlet[hamletID] {
				h := r.h
				old, ok := byKey[h.Key]
				if !ok {
					h.CreatedAt, h.UpdatedAt = now, now
					fresh = append(fresh, &h)
					continue
				}
				updates := map[string]any{}
				if old.Address != h.Address {
					updates["address"] = h.Address
				}
				if old.Head != h.Head {
					updates["head"] = h.Head
				}
				if old.Phone != h.Phone {
					updates["phone"] = h.Phone
				}
				if old.Members != h.Members {
					updates["members"] = h.Members
				}
				if old.Note != h.Note {
					updates["note"] = h.Note
				}
				if p, ok := h.Place(); ok {
					// The list's place replaces one a visit gave; a row
					// without one keeps the household's.
					if op, had := old.Place(); !had || op != p || old.PlacedFrom != cnsbot.PlacedFromList {
						updates["latitude"], updates["longitude"], updates["placed_from"] = p.Lat, p.Lng, cnsbot.PlacedFromList
					}
				}
				if old.Pending {
					// The list now has the household a member added.
					updates["pending"] = false
					confirmed = true
				}
				if len(updates) == 0 {
					continue
				}
				updates["updated_at"] = now
				if err := tx.Model(&cnsbot.ListedHousehold{}).Where("id = ?", old.ID).Updates(updates).Error; err != nil {
					return fmt.Errorf("update household: %w", err)
				}
				rep.Updated++
			}
			// Batched: a large commune's list is tens of thousands of rows.
			if len(fresh) > 0 {
				if err := tx.CreateInBatches(fresh, 500).Error; err != nil {
					return fmt.Errorf("create households: %w", err)
				}
				rep.Created += len(fresh)
			}
			if err := linkOldVisits(tx, hamletID, now); err != nil {
				return err
			}
			// Visits to a household confirmed now count (listedrollups.go).
			if confirmed {
				if err := recountListed(tx, []int64{hamletID}); err != nil {
					return err
				}
			}
		}
		return countLists(tx, hamlets)
	})
	if err != nil {
		return rep, importFailed(&rep, err)
	}
	return rep, nil
}

// Limits of a household list's cells, in characters, and of a
// household's members.
const (
	maxAddress = 300
	maxHead    = 200
	maxNote    = 500
	maxMembers = 99
)

// householdCells checks a household row's own cells and fills h's phone,
// members and place from them; it returns what is wrong with them.
func householdCells(rec record, cols map[string]int, h *cnsbot.ListedHousehold) []RowProblem {
	var bad []RowProblem
	if vn.Fold(h.Head) == "" {
		bad = append(bad, RowProblem{Code: RowEmpty, Column: colHead})
	}
	for _, c := range []struct {
		column, v string
		limit     int
	}{{colAddress, h.Address, maxAddress}, {colHead, h.Head, maxHead}, {colNote, h.Note, maxNote}} {
		if len([]rune(c.v)) > c.limit {
			bad = append(bad, RowProblem{Code: RowTooLong, Column: c.column, Max: c.limit})
		}
	}
	if cell := rec.get(cols, colPhone); cell != "" {
		phone, p := parseRosterPhone(cell)
		if p != nil {
			bad = append(bad, *p)
		}
		h.Phone = phone
	}
	if cell := rec.get(cols, colMembers); cell != "" {
		n, p := parseCount(cell, colMembers, maxMembers)
		if p != nil {
			bad = append(bad, *p)
		}
		h.Members = n
	}
	if place, ok, p := rowPlace(rec, cols); p != nil {
		bad = append(bad, *p)
	} else if ok {
		h.Latitude, h.Longitude, h.PlacedFrom = &place.Lat, &place.Lng, cnsbot.PlacedFromList
	}
	return bad
}

// rowPlace reads a row's place: the latitude and longitude columns, else
// the one cell of both (or a map link). ok is false when the row gives
// none. A place outside Vietnam is refused.
func rowPlace(rec record, cols map[string]int) (p cnsbot.Place, ok bool, bad *RowProblem) {
	lat, lng, cell := rec.get(cols, colLat), rec.get(cols, colLng), rec.get(cols, colPlace)
	switch {
	case lat != "" || lng != "":
		if lat == "" || lng == "" {
			return p, false, &RowProblem{Code: RowPlaceHalf}
		}
		var okLat, okLng bool
		if p.Lat, okLat = parseDegree(lat); !okLat {
			return p, false, &RowProblem{Code: RowDegreeNotNumber, Column: colLat}
		}
		if p.Lng, okLng = parseDegree(lng); !okLng {
			return p, false, &RowProblem{Code: RowDegreeNotNumber, Column: colLng}
		}
	case cell != "":
		if p, bad = parsePlace(cell); bad != nil {
			return p, false, bad
		}
	default:
		return p, false, nil
	}
	if bad := checkPlace(p); bad != nil {
		return p, false, bad
	}
	return p, true, nil
}

// householdListKey identifies a listed household within its hamlet.
func householdListKey(address, head string) string {
	return vn.Fold(address) + "|" + vn.Fold(head)
}

// houseNumber returns the first number of an address ("Số 12/3, tổ 4" is
// 12), 0 when it has none: the order a paper round walks in.
func houseNumber(address string) int {
	n, _ := numberToken(address)
	v, _ := strconv.Atoi(strings.SplitN(n, "/", 2)[0])
	return v
}

// numberToken returns the first run of digits (with "/" and digits after
// it, "12/3") in s.
func numberToken(s string) (string, bool) {
	start := strings.IndexFunc(s, unicode.IsDigit)
	if start < 0 {
		return "", false
	}
	end := start
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '/' && end+1 < len(s) && s[end+1] >= '0' && s[end+1] <= '9') {
		end++
	}
	return s[start:end], true
}

// honorifics are the words members put before a name ("ông Năm", "nhà bà
// Tư") that the list does not have. One is dropped only when a name
// follows it: "ông Ba" is Mr Ba.
var honorifics = map[string]bool{"nha": true, "ho": true, "gia": true, "dinh": true, "so": true, "ong": true,
	"ba": true, "co": true, "chu": true, "bac": true, "anh": true, "chi": true, "em": true, "cu": true,
	"di": true, "thim": true}

// particles name no one even alone: "nhà" typed by itself matches nothing.
var particles = map[string]bool{"nha": true, "so": true, "gia": true, "dinh": true}

// householdQuery is what a member typed for a household, read.
type householdQuery struct {
	phone  string
	number string   // house number, "12" or "12/3"
	words  []string // folded name words, honorifics dropped
}

func readHouseholdQuery(text string) householdQuery {
	var q householdQuery
	if p, ok := vn.FindPhone(text); ok {
		q.phone = p
		return q
	}
	q.number, _ = numberToken(text)
	var words []string
	for _, w := range vn.Words(text) {
		if strings.IndexFunc(w, unicode.IsDigit) < 0 {
			words = append(words, w)
		}
	}
	for len(words) > 1 && honorifics[words[0]] {
		words = words[1:]
	}
	if len(words) == 1 && particles[words[0]] {
		words = nil
	}
	q.words = words
	return q
}

func (q householdQuery) empty() bool { return q.phone == "" && q.number == "" && len(q.words) == 0 }

// matches reports whether a listed household fits the query: the same
// phone; or the same house number and every name word in its head or
// address.
func (q householdQuery) matches(h cnsbot.ListedHousehold) bool {
	if q.empty() {
		return false
	}
	if q.phone != "" {
		return h.Phone == q.phone
	}
	if q.number != "" {
		n, _ := numberToken(h.Address)
		if n != q.number && !(strings.IndexByte(q.number, '/') < 0 && strings.SplitN(n, "/", 2)[0] == q.number) {
			return false
		}
	}
	if len(q.words) == 0 {
		return true
	}
	have := vn.Words(h.Head + " " + h.Address)
	for _, w := range q.words {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// MatchHouseholds returns the households of a hamlet's list (those members
// added too) that fit what a member typed: a phone, a house number, a name
// ("ông Năm") or a number and a name. The house number's order comes first.
func (db *DB) MatchHouseholds(ctx context.Context, hamletID int64, text string) ([]cnsbot.ListedHousehold, error) {
	q := readHouseholdQuery(text)
	if q.empty() {
		return nil, nil
	}
	list, err := hamletList(db.orm.WithContext(ctx), hamletID)
	if err != nil {
		return nil, err
	}
	var out []cnsbot.ListedHousehold
	for _, h := range list {
		if q.matches(h) {
			out = append(out, h)
		}
	}
	return out, nil
}

// hamletList returns a hamlet's whole list in the order of a round.
func hamletList(tx *gorm.DB, hamletID int64) ([]cnsbot.ListedHousehold, error) {
	var list []cnsbot.ListedHousehold
	err := tx.Select("id", "hamlet_id", "address", "number", "head", "phone", "pending", "guided_at").
		Where("hamlet_id = ?", hamletID).Order("number, address, id").Find(&list).Error
	if err != nil {
		return nil, fmt.Errorf("household list: %w", err)
	}
	return list, nil
}

// HasHouseholdList reports whether a hamlet has a household list (or
// households members added), so that visits there name one.
func (db *DB) HasHouseholdList(ctx context.Context, hamletID int64) (bool, error) {
	var ids []int64
	err := db.orm.WithContext(ctx).Model(&cnsbot.ListedHousehold{}).Where("hamlet_id = ?", hamletID).
		Limit(1).Pluck("id", &ids).Error
	if err != nil {
		return false, fmt.Errorf("has household list: %w", err)
	}
	return len(ids) > 0, nil
}

// ListedHousehold returns one household of a list.
func (db *DB) ListedHousehold(ctx context.Context, id int64) (cnsbot.ListedHousehold, error) {
	var h cnsbot.ListedHousehold
	err := takeOne(db.orm.WithContext(ctx).Where("id = ?", id), &h, "household %d", id)
	return h, err
}

// AddHousehold adds a household a member found that is not on the list
// ("hộ mới"), pending until the team leader confirms it. The same text
// added twice is one household.
func (db *DB) AddHousehold(ctx context.Context, hamletID int64, text string, addedBy int64) (cnsbot.ListedHousehold, error) {
	text = cleanCell(text)
	if vn.Fold(text) == "" {
		return cnsbot.ListedHousehold{}, cnsbot.Errorf(cnsbot.EINVALID, "household without a name")
	}
	head, address := text, ""
	if n, ok := numberToken(text); ok {
		// "12 ông Năm": the number is the address.
		address = n
		head = strings.TrimSpace(strings.Replace(text, n, "", 1))
	}
	now := time.Now().UTC()
	h := cnsbot.ListedHousehold{HamletID: hamletID, Key: householdListKey(address, head), Address: vn.Clip(address, 300),
		Number: houseNumber(address), Head: vn.Clip(head, 200), Pending: true, AddedBy: &addedBy, CreatedAt: now, UpdatedAt: now}
	err := db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var found []cnsbot.ListedHousehold
		if err := tx.Where(&cnsbot.ListedHousehold{HamletID: hamletID, Key: h.Key}).Limit(1).Find(&found).Error; err != nil {
			return fmt.Errorf("find household: %w", err)
		}
		if len(found) > 0 {
			h = found[0]
			return nil
		}
		if err := tx.Create(&h).Error; err != nil {
			return fmt.Errorf("add household: %w", err)
		}
		return nil
	})
	return h, err
}

// PendingHouseholds returns the households members added to a hamlet that
// its leader has not confirmed.
func (db *DB) PendingHouseholds(ctx context.Context, hamletID int64) ([]cnsbot.ListedHousehold, error) {
	var list []cnsbot.ListedHousehold
	err := db.orm.WithContext(ctx).Where("hamlet_id = ? AND pending = ?", hamletID, true).Order("id").Find(&list).Error
	if err != nil {
		return nil, fmt.Errorf("pending households: %w", err)
	}
	return list, nil
}

// ConfirmHousehold puts a household a member added on its hamlet's list:
// its visits, earlier ones included, count from now on, so the hamlet's
// listed counters are counted again with it.
func (db *DB) ConfirmHousehold(ctx context.Context, hamletID, id int64) error {
	return db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&cnsbot.ListedHousehold{}).Where("id = ? AND hamlet_id = ?", id, hamletID).
			Updates(map[string]any{"pending": false, "updated_at": time.Now().UTC()})
		if res.Error != nil {
			return fmt.Errorf("confirm household: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return cnsbot.Errorf(cnsbot.ENOTFOUND, "household %d", id)
		}
		return recountListed(tx, []int64{hamletID})
	})
}

// UnvisitedHouseholds returns a page of a hamlet's listed households that
// no visit has named yet, by house number: the next houses of a round.
// With assignedTo set, only those a leader gave that member. total counts
// them all.
func (db *DB) UnvisitedHouseholds(ctx context.Context, hamletID, assignedTo int64, offset, limit int) (list []cnsbot.ListedHousehold, total int, err error) {
	q := func() *gorm.DB {
		q := db.orm.WithContext(ctx).Model(&cnsbot.ListedHousehold{}).
			Where("hamlet_id = ? AND pending = ? AND guided_at IS NULL", hamletID, false)
		if assignedTo != 0 {
			q = q.Where("assigned_to = ?", assignedTo)
		}
		return q
	}
	var n int64
	if err := q().Count(&n).Error; err != nil {
		return nil, 0, fmt.Errorf("count unvisited households: %w", err)
	}
	if limit > 0 {
		err = q().Order("number, address, id").Offset(offset).Limit(limit).Find(&list).Error
		if err != nil {
			return nil, 0, fmt.Errorf("unvisited households: %w", err)
		}
	}
	return list, int(n), nil
}

// AssignedHouseholds counts the households of a hamlet a leader gave a
// member, visited or not: whether the member has a share of the round.
func (db *DB) AssignedHouseholds(ctx context.Context, hamletID, personID int64) (int, error) {
	var n int64
	err := db.orm.WithContext(ctx).Model(&cnsbot.ListedHousehold{}).
		Where("hamlet_id = ? AND assigned_to = ?", hamletID, personID).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("assigned households: %w", err)
	}
	return int(n), nil
}

// SplitHouseholds shares a hamlet's unvisited households among members,
// in runs of neighbouring house numbers of nearly equal size, in the
// members' order, replacing any earlier split of them.
func (db *DB) SplitHouseholds(ctx context.Context, hamletID int64, members []int64) ([]cnsbot.HouseholdShare, error) {
	if len(members) == 0 {
		return nil, cnsbot.Errorf(cnsbot.EINVALID, "no member to share the households with")
	}
	var shares []cnsbot.HouseholdShare
	err := db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var list []cnsbot.ListedHousehold
		err := tx.Select("id", "address", "number", "head").
			Where("hamlet_id = ? AND pending = ? AND guided_at IS NULL", hamletID, false).
			Order("number, address, id").Find(&list).Error
		if err != nil {
			return fmt.Errorf("unvisited households: %w", err)
		}
		now := time.Now().UTC()
		start := 0
		for i, person := range members {
			n := len(list) / len(members)
			if i < len(list)%len(members) {
				n++
			}
			part := list[start : start+n]
			start += n
			s := cnsbot.HouseholdShare{PersonID: person, Count: n}
			if n > 0 {
				s.From, s.To = part[0], part[n-1]
				ids := make([]int64, n)
				for k, h := range part {
					ids[k] = h.ID
				}
				for k := 0; k < len(ids); k += reportBatch {
					batch := ids[k:min(k+reportBatch, len(ids))]
					err := tx.Model(&cnsbot.ListedHousehold{}).Where("id IN ?", batch).
						Updates(map[string]any{"assigned_to": person, "updated_at": now}).Error
					if err != nil {
						return fmt.Errorf("assign households: %w", err)
					}
				}
			}
			shares = append(shares, s)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return shares, nil
}

// UnmatchedVisits returns the households typed in a hamlet's visits that
// name no listed household, most visited first.
func (db *DB) UnmatchedVisits(ctx context.Context, hamletID int64, limit int) ([]cnsbot.UnmatchedVisit, error) {
	tx := db.orm.WithContext(ctx)
	var rows []struct {
		HouseholdKey string
		Household    string
		N            int64
	}
	err := tx.Raw(`SELECT household_key, MIN(household) AS household, COUNT(*) AS n FROM visits
		WHERE hamlet_id = ? AND listed_household_id IS NULL GROUP BY household_key ORDER BY n DESC, household_key LIMIT ?`,
		hamletID, limit).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("unmatched visits: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	list, err := hamletList(tx, hamletID)
	if err != nil {
		return nil, err
	}
	out := make([]cnsbot.UnmatchedVisit, 0, len(rows))
	for _, r := range rows {
		q := readHouseholdQuery(r.Household)
		u := cnsbot.UnmatchedVisit{Key: r.HouseholdKey, Household: r.Household, Visits: int(r.N)}
		for _, h := range list {
			if q.matches(h) {
				u.Matches++
			}
		}
		out = append(out, u)
	}
	return out, nil
}

// linkOldVisits links the hamlet's visits that name no listed household to
// the one household their text matches, when exactly one does, and moves
// their team's count of the household onto it. The rest stay as typed
// (see UnmatchedVisits).
func linkOldVisits(tx *gorm.DB, hamletID int64, now time.Time) error {
	var keys []struct {
		HouseholdKey string
		Household    string
	}
	err := tx.Raw(`SELECT household_key, MIN(household) AS household FROM visits
		WHERE hamlet_id = ? AND listed_household_id IS NULL GROUP BY household_key`, hamletID).Scan(&keys).Error
	if err != nil {
		return fmt.Errorf("old visits: %w", err)
	}
	if len(keys) == 0 {
		return nil
	}
	list, err := hamletList(tx, hamletID)
	if err != nil {
		return err
	}
	var teams []int64
	for _, k := range keys {
		q := readHouseholdQuery(k.Household)
		var match *cnsbot.ListedHousehold
		n := 0
		for i := range list {
			if q.matches(list[i]) {
				n++
				match = &list[i]
			}
		}
		if n != 1 {
			continue
		}
		moved, _, err := relinkVisits(tx, hamletID, k.HouseholdKey, *match, now)
		if err != nil {
			return err
		}
		teams = append(teams, moved...)
	}
	// The linked visits left their typed key for the listed household's:
	// the rollups of their teams are counted again, once per import.
	return rebuildTeamRollups(tx, teams)
}

// relinkVisits points the visits of a hamlet typed as oldKey at a listed
// household, and moves each team's household count onto its key. It
// returns the teams whose visits moved: their rollups must be counted
// again (rebuildTeamRollups), which the caller does once for all its keys,
// and how many visits it linked.
func relinkVisits(tx *gorm.DB, hamletID int64, oldKey string, h cnsbot.ListedHousehold, now time.Time) ([]int64, int, error) {
	newKey := listedKey(h.ID)
	var visits []cnsbot.Visit
	err := tx.Select("id", "team_id", "visited_at").Where("hamlet_id = ? AND household_key = ? AND listed_household_id IS NULL", hamletID, oldKey).
		Order("visited_at").Find(&visits).Error
	if err != nil || len(visits) == 0 {
		return nil, 0, err
	}
	err = tx.Model(&cnsbot.Visit{}).Where("hamlet_id = ? AND household_key = ? AND listed_household_id IS NULL", hamletID, oldKey).
		Updates(map[string]any{"listed_household_id": h.ID, "household_key": newKey, "updated_at": now}).Error
	if err != nil {
		return nil, 0, fmt.Errorf("link visits: %w", err)
	}
	if h.GuidedAt == nil || visits[0].VisitedAt.Before(*h.GuidedAt) {
		if err := tx.Model(&cnsbot.ListedHousehold{}).Where("id = ?", h.ID).Update("guided_at", visits[0].VisitedAt.UTC()).Error; err != nil {
			return nil, 0, fmt.Errorf("mark household guided: %w", err)
		}
	}
	if err := relinkAreaHouseholds(tx, hamletID, oldKey, newKey); err != nil {
		return nil, 0, err
	}
	teams := map[int64]bool{}
	for _, v := range visits {
		teams[v.TeamID] = true
	}
	var moved []int64
	for team := range teams {
		moved = append(moved, team)
	}
	return moved, len(visits), moveHouseholdCounts(tx, moved, oldKey, newKey, now)
}

// moveHouseholdCounts moves each team's Household row of oldKey onto
// newKey, merging it with the row already there.
func moveHouseholdCounts(tx *gorm.DB, teams []int64, oldKey, newKey string, now time.Time) error {
	for _, team := range teams {
		var old []Household
		if err := tx.Where(&Household{TeamID: team, Key: oldKey}).Find(&old).Error; err != nil {
			return fmt.Errorf("load household count: %w", err)
		}
		if len(old) == 0 {
			continue
		}
		var cur []Household
		if err := tx.Where(&Household{TeamID: team, Key: newKey}).Find(&cur).Error; err != nil {
			return fmt.Errorf("load household count: %w", err)
		}
		if len(cur) == 0 {
			if err := tx.Model(&old[0]).Updates(map[string]any{"key": newKey, "updated_at": now}).Error; err != nil {
				return fmt.Errorf("move household count: %w", err)
			}
			continue
		}
		merged := map[string]any{"visits": cur[0].Visits + old[0].Visits, "updated_at": now}
		if old[0].FirstGuidedAt.Before(cur[0].FirstGuidedAt) {
			merged["first_guided_at"] = old[0].FirstGuidedAt
		}
		if old[0].LastVisitAt.After(cur[0].LastVisitAt) {
			merged["last_visit_at"] = old[0].LastVisitAt
		}
		if err := tx.Model(&cur[0]).Updates(merged).Error; err != nil {
			return fmt.Errorf("merge household count: %w", err)
		}
		if err := tx.Delete(&old[0]).Error; err != nil {
			return fmt.Errorf("merge household count: %w", err)
		}
	}
	return nil
}

// markGuided notes the first visit to a listed household: it leaves the
// round's list of houses still to visit.
func markGuided(tx *gorm.DB, v *cnsbot.Visit) error {
	if v.ListedHouseholdID == nil {
		return nil
	}
	var n int64
	err := tx.Model(&cnsbot.ListedHousehold{}).Where("id = ? AND hamlet_id = ?", *v.ListedHouseholdID, v.HamletID).Count(&n).Error
	if err != nil {
		return fmt.Errorf("check household: %w", err)
	}
	if n == 0 {
		return cnsbot.Errorf(cnsbot.EINVALID, "household %d is not on the list of the visit's hamlet", *v.ListedHouseholdID)
	}
	err = tx.Model(&cnsbot.ListedHousehold{}).
		Where("id = ? AND (guided_at IS NULL OR guided_at > ?)", *v.ListedHouseholdID, v.VisitedAt).
		Update("guided_at", v.VisitedAt).Error
	if err != nil {
		return fmt.Errorf("mark household guided: %w", err)
	}
	return nil
}

// LinkUnmatched points the visits of a hamlet typed as householdKey (see
// UnmatchedVisits) at a listed household a leader chose, and counts the
// moved teams' rollups again. It returns how many visits it linked: 0 when
// none were left under that key (another leader linked them first). A
// pending household ("hộ mới") is refused: its leader confirms it first,
// so that an unconfirmed household never gathers counted visits.
func (db *DB) LinkUnmatched(ctx context.Context, hamletID int64, householdKey string, listedID int64) (visits int, err error) {
	if householdKey == "" {
		return 0, cnsbot.Errorf(cnsbot.EINVALID, "household key is empty")
	}
	now := time.Now().UTC()
	err = db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var h cnsbot.ListedHousehold
		if err := takeOne(tx.Where("id = ? AND hamlet_id = ?", listedID, hamletID), &h, "household %d", listedID); err != nil {
			return err
		}
		if h.Pending {
			return cnsbot.Errorf(cnsbot.EINVALID, "household %d is not confirmed", listedID)
		}
		teams, n, err := relinkVisits(tx, hamletID, householdKey, h, now)
		if err != nil {
			return err
		}
		visits = n
		return rebuildTeamRollups(tx, teams)
	})
	if err != nil {
		return 0, err
	}
	return visits, nil
}
