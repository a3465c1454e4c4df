package store

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/vn"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/unicode/norm"
	"gorm.io/gorm"
)

// ImportReport says what an import did. When Errors is not empty nothing
// was written, and Created and Updated are zero.
type ImportReport struct {
	// Rows counts the data rows read (blank rows are skipped).
	Rows int
	// Created counts rows that added a hamlet (units) or a person (roster);
	// Updated counts rows that changed something that existed. The rest
	// were already imported as they are.
	Created int
	Updated int
	Errors  []RowError
}

// RowError is what is wrong with one line of an imported file: one or
// more problems, as codes and facts that the reader's language renders
// (Texts).
type RowError struct {
	// Line is 1-based and counts the header: the first data row of a file
	// whose header is on line 1 is line 2. For CSV it is the line where the
	// record starts; for .xlsx the sheet's row number.
	Line     int
	Problems []RowProblem
}

// MaxImportBytes bounds an imported file. A province's roster is a few
// hundred kilobytes.
const MaxImportBytes = 32 << 20

// headerSearchRows is how many rows may precede the header: officers'
// sheets often start with a title and a date.
const headerSearchRows = 10

// teamNamePrefix starts the name of the team an import creates for a
// hamlet: "Tổ CNSCĐ" is how the plan writes "community digital technology
// team", and the name is stored data that officers may change.
const teamNamePrefix = "Tổ CNSCĐ "

// errRowErrors rolls an import back when any row is bad.
var errRowErrors = errors.New("import has row errors")

// column is one column an import understands.
type column struct {
	// name is the column's key (its name in locales/imports.*.toml) and an
	// English alias.
	name string
	// aliases are headers officers write; they are compared folded.
	aliases  []string
	required bool
}

// Column keys of the units and roster files.
const (
	colProvince   = "province"
	colDistrict   = "district"
	colCommune    = "commune"
	colHamlet     = "hamlet"
	colHouseholds = "households"
	colFormer     = "former names"
	colTeam       = "team"
	colName       = "full name"
	colPhone      = "phone"
	colRole       = "role"
	colZalo       = "zalo id"
)

var (
	communeAliases = []string{"Xã/Phường", "Xã", "Phường", "Xã/Phường/Thị trấn", "Xã/Phường/Đặc khu",
		"Tên xã", "commune", "ward", "commune/ward"}
	hamletAliases = []string{"Ấp/Khóm", "Ấp", "Khóm", "Ấp/Khóm/Khu phố", "Ấp/Khu phố", "Tên ấp",
		"hamlet", "village"}

	unitColumns = []column{
		{name: colProvince, aliases: []string{"Tỉnh", "Tỉnh/Thành phố", "Tỉnh/Thành", "province"}, required: true},
		{name: colDistrict, aliases: []string{"Huyện", "Quận/Huyện", "Huyện/Thị xã/Thành phố", "district"}},
		{name: colCommune, aliases: communeAliases, required: true},
		{name: colHamlet, aliases: hamletAliases, required: true},
		{name: colHouseholds, aliases: []string{"Số hộ", "Số hộ gia đình", "Tổng số hộ", "households",
			"number of households", "household count"}, required: true},
		// The commune's or ward's names before the 2025 merger, separated
		// by ";": residents keep using them.
		{name: colFormer, aliases: []string{"Tên cũ", "Tên cũ xã/phường", "Tên trước sáp nhập", "former names", "former name"}},
	}
	rosterColumns = []column{
		{name: colCommune, aliases: communeAliases, required: true},
		{name: colHamlet, aliases: hamletAliases, required: true},
		{name: colTeam, aliases: []string{"Tổ", "Tên tổ", "Mã tổ", "Tổ CNSCĐ", "team", "team code", "team name"}},
		{name: colName, aliases: []string{"Họ và tên", "Họ tên", "Tên", "name", "full name"}, required: true},
		{name: colPhone, aliases: []string{"Số điện thoại", "Điện thoại", "SĐT", "Số ĐT", "ĐT", "phone",
			"phone number", "mobile"}, required: true},
		{name: colRole, aliases: []string{"Vai trò", "Chức vụ", "Chức danh", "role"}, required: true},
		{name: colZalo, aliases: []string{"Zalo ID", "Zalo", "Zalo user ID", "ID Zalo", "Mã Zalo"}},
	}
)

// roleNames maps folded role spellings to roles.
var roleNames = map[string]string{
	"thanh vien":       cnsbot.RoleMember,
	"tv":               cnsbot.RoleMember,
	"member":           cnsbot.RoleMember,
	"to truong":        cnsbot.RoleLeader,
	"tt":               cnsbot.RoleLeader,
	"leader":           cnsbot.RoleLeader,
	"team leader":      cnsbot.RoleLeader,
	"can bo xa":        cnsbot.RoleCommuneOfficer,
	"can bo phuong":    cnsbot.RoleCommuneOfficer,
	"can bo xa phuong": cnsbot.RoleCommuneOfficer,
	"commune officer":  cnsbot.RoleCommuneOfficer,
	"ward officer":     cnsbot.RoleCommuneOfficer,
	"can bo tinh":      cnsbot.RoleProvinceOfficer,
	"province officer": cnsbot.RoleProvinceOfficer,
	"quan tri":         cnsbot.RoleAdmin,
	"quan tri vien":    cnsbot.RoleAdmin,
	"admin":            cnsbot.RoleAdmin,
}

// parseRole returns the role a roster cell names, compared folded, so
// "Tổ trưởng", "to truong" and "TỔ TRƯỞNG" are one.
func parseRole(s string) (string, bool) {
	r, ok := roleNames[vn.Fold(s)]
	return r, ok
}

// record is one non-blank row of an imported table.
type record struct {
	line  int
	cells []string
}

// get returns the cleaned cell of the named column, "" when the column or
// the cell is missing.
func (r record) get(cols map[string]int, name string) string {
	i, ok := cols[name]
	if !ok || i >= len(r.cells) {
		return ""
	}
	return cleanCell(r.cells[i])
}

// cleanCell normalizes a cell to NFC, drops invisible format characters
// (byte order marks, zero-width spaces) and collapses white space,
// non-breaking spaces included.
func cleanCell(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(norm.NFC.String(s)), " ")
}

// ImportUnits reads a units file (province, optional district, commune,
// hamlet, household count) and creates the administrative tree, matching
// existing units by folded name under the same parent, so that importing
// again only updates household counts. Every hamlet without a team gets
// one. The file is CSV or .xlsx (by extension or content); nothing is
// written unless every row is good.
func (db *DB) ImportUnits(ctx context.Context, r io.Reader, filename string) (ImportReport, error) {
	var rep ImportReport
	recs, bad, err := readTable(r, filename)
	if err != nil || len(bad) > 0 {
		rep.Errors = bad
		return rep, importFailed(&rep, err)
	}
	cols, rows, bad := mapColumns(recs, unitColumns)
	if len(bad) > 0 {
		rep.Errors = bad
		return rep, importFailed(&rep, nil)
	}
	rep.Rows = len(rows)

	type unitRow struct {
		line                                int
		province, district, commune, hamlet string
		households                          int
		former                              string
	}
	var parsed []unitRow
	seen := map[string]int{}
	for _, rec := range rows {
		u := unitRow{line: rec.line,
			province: rec.get(cols, colProvince), district: rec.get(cols, colDistrict),
			commune: rec.get(cols, colCommune), hamlet: rec.get(cols, colHamlet),
			former: cnsbot.JoinFormerNames(cnsbot.SplitFormerNames(rec.get(cols, colFormer)))}
		if len([]rune(u.former)) > maxFormerNames {
			rep.Errors = append(rep.Errors, RowError{Line: rec.line,
				Problems: []RowProblem{{Code: RowFormerNamesTooLong, Max: maxFormerNames}}})
			continue
		}
		var problems []RowProblem
		for _, f := range []struct{ name, v string }{
			{colProvince, u.province}, {colCommune, u.commune}, {colHamlet, u.hamlet}} {
			if vn.Fold(f.v) == "" {
				problems = append(problems, RowProblem{Code: RowEmpty, Column: f.name})
			}
		}
		n, bad := parseCount(rec.get(cols, colHouseholds), colHouseholds, maxHamletHouseholds)
		if bad != nil {
			problems = append(problems, *bad)
		}
		u.households = n
		if len(problems) == 0 {
			key := strings.Join([]string{vn.Fold(u.province), vn.Fold(u.district), vn.Fold(u.commune), vn.Fold(u.hamlet)}, "|")
			if prev, dup := seen[key]; dup {
				problems = append(problems, RowProblem{Code: RowSameHamlet, Other: prev})
			}
			seen[key] = rec.line
		}
		if len(problems) > 0 {
			rep.Errors = append(rep.Errors, RowError{Line: rec.line, Problems: problems})
			continue
		}
		parsed = append(parsed, u)
	}
	if len(rep.Errors) > 0 {
		return rep, importFailed(&rep, nil)
	}

	err = db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		im := newUnitImporter(tx)
		for _, u := range parsed {
			province, _, err := im.ensure(cnsbot.UnitProvince, nil, u.province, 0)
			if err != nil {
				return err
			}
			parent := province
			if vn.Fold(u.district) != "" {
				if parent, _, err = im.ensure(cnsbot.UnitDistrict, &province.ID, u.district, 0); err != nil {
					return err
				}
			}
			commune, _, err := im.ensure(cnsbot.UnitCommune, &parent.ID, u.commune, 0)
			if err != nil {
				return err
			}
			formerChanged, err := im.setFormerNames(&parent.ID, commune, u.former)
			if err != nil {
				return err
			}
			hamlet, state, err := im.ensure(cnsbot.UnitHamlet, &commune.ID, u.hamlet, u.households)
			if err != nil {
				return err
			}
			teamAdded, err := im.ensureTeam(province, commune, hamlet)
			if err != nil {
				return err
			}
			switch {
			case state == unitCreated:
				rep.Created++
			case state == unitChanged || teamAdded || formerChanged:
				rep.Updated++
			}
		}
		return nil
	})
	if err != nil {
		return rep, importFailed(&rep, err)
	}
	return rep, nil
}

// importFailed zeroes the counts of a report whose import wrote nothing and
// returns the error to go with it: err itself, or an EINVALID error naming
// how many rows are bad.
func importFailed(rep *ImportReport, err error) error {
	rep.Created, rep.Updated = 0, 0
	if err != nil && !errors.Is(err, errRowErrors) {
		return fmt.Errorf("import: %w", err)
	}
	if len(rep.Errors) == 1 {
		return cnsbot.Errorf(cnsbot.EINVALID, "1 error in the file; nothing was imported")
	}
	return cnsbot.Errorf(cnsbot.EINVALID, "%d errors in the file; nothing was imported", len(rep.Errors))
}

// Limits of a units file's cells. Cà Mau's largest wards have a few
// thousand households per khóm; six digits is a typo or a commune's total.
const (
	maxFormerNames      = 500
	maxHamletHouseholds = 99999
)

// parseCount reads the count in column as officers write it: "450",
// "1.250" or "1,250" (thousands separators), "450.0" from a spreadsheet.
// A count above limit is refused: a hamlet's households or a household's
// members, as column says.
func parseCount(s, column string, limit int) (int, *RowProblem) {
	if s == "" {
		return 0, &RowProblem{Code: RowEmpty, Column: column}
	}
	notNumber := &RowProblem{Code: RowNotWholeNumber, Column: column, Value: s}
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ReplaceAll(s, " ", ""), ".0"), ",0")
	if parts := strings.FieldsFunc(t, func(r rune) bool { return r == '.' || r == ',' }); len(parts) > 1 {
		ok := len(parts[0]) >= 1 && len(parts[0]) <= 3
		for _, p := range parts[1:] {
			ok = ok && len(p) == 3
		}
		if !ok {
			return 0, notNumber
		}
		t = strings.Join(parts, "")
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 {
		return 0, notNumber
	}
	if n > limit {
		code := RowHouseholdsTooMany
		if column == colMembers {
			code = RowMembersTooMany
		}
		return 0, &RowProblem{Code: code, Column: column, Value: strconv.Itoa(n), Max: limit}
	}
	return n, nil
}

// unitState says what ensure did to a unit.
type unitState int

const (
	unitSame unitState = iota
	unitCreated
	unitChanged
)

// unitImporter creates units and teams inside an import's transaction and
// remembers what it has seen, so that a file with many hamlets per commune
// does not look the commune up again for each.
type unitImporter struct {
	tx    *gorm.DB
	units map[string]cnsbot.Unit
	codes map[string]bool
}

func newUnitImporter(tx *gorm.DB) *unitImporter {
	return &unitImporter{tx: tx, units: map[string]cnsbot.Unit{}, codes: map[string]bool{}}
}

// ensure finds the unit of kind named name (folded) under parentID, or
// creates it. A hamlet's household count, and a unit's spelling, are
// updated to the file's.
func (im *unitImporter) ensure(kind string, parentID *int64, name string, households int) (cnsbot.Unit, unitState, error) {
	folded := vn.Fold(name)
	var pid int64
	if parentID != nil {
		pid = *parentID
	}
	key := fmt.Sprintf("%s|%d|%s", kind, pid, folded)
	u, cached := im.units[key]
	if !cached {
		q := im.tx.Where("kind = ? AND folded = ?", kind, folded)
		if parentID == nil {
			q = q.Where("parent_id IS NULL")
		} else {
			q = q.Where("parent_id = ?", pid)
		}
		var found []cnsbot.Unit
		if err := q.Limit(1).Find(&found).Error; err != nil {
			return u, unitSame, fmt.Errorf("find %s: %w", kind, err)
		}
		if len(found) == 0 {
			now := time.Now().UTC()
			u = cnsbot.Unit{Kind: kind, Name: name, Folded: folded, ParentID: parentID, CreatedAt: now, UpdatedAt: now}
			if kind == cnsbot.UnitHamlet {
				u.Households = households
			}
			if err := im.tx.Create(&u).Error; err != nil {
				return u, unitSame, fmt.Errorf("create %s: %w", kind, err)
			}
			im.units[key] = u
			return u, unitCreated, nil
		}
		u = found[0]
	}
	updates := map[string]any{}
	if u.Name != name {
		updates["name"] = name
	}
	if kind == cnsbot.UnitHamlet && u.Households != households {
		updates["households"] = households
	}
	state := unitSame
	if len(updates) > 0 {
		updates["updated_at"] = time.Now().UTC()
		if err := im.tx.Model(&cnsbot.Unit{}).Where("id = ?", u.ID).Updates(updates).Error; err != nil {
			return u, unitSame, fmt.Errorf("update %s: %w", kind, err)
		}
		u.Name = name
		if kind == cnsbot.UnitHamlet {
			u.Households = households
		}
		state = unitChanged
	}
	im.units[key] = u
	return u, state, nil
}

// setFormerNames stores a commune's former names when the file gives some
// that differ from the stored ones; a file without them leaves them alone.
func (im *unitImporter) setFormerNames(parentID *int64, u cnsbot.Unit, former string) (bool, error) {
	if former == "" || former == u.FormerNames {
		return false, nil
	}
	err := im.tx.Model(&cnsbot.Unit{}).Where("id = ?", u.ID).
		Updates(map[string]any{"former_names": former, "updated_at": time.Now().UTC()}).Error
	if err != nil {
		return false, fmt.Errorf("update former names: %w", err)
	}
	u.FormerNames = former
	im.units[fmt.Sprintf("%s|%d|%s", u.Kind, *parentID, u.Folded)] = u
	return true, nil
}

// ensureTeam gives a hamlet its first team when it has none, and reports
// whether it did.
func (im *unitImporter) ensureTeam(province, commune, hamlet cnsbot.Unit) (bool, error) {
	var n int64
	if err := im.tx.Model(&cnsbot.Team{}).Where("hamlet_id = ?", hamlet.ID).Count(&n).Error; err != nil {
		return false, fmt.Errorf("count teams: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	code, err := im.freeCode(province.Folded, commune.Folded, hamlet.Folded)
	if err != nil {
		return false, err
	}
	now := time.Now().UTC()
	team := cnsbot.Team{HamletID: hamlet.ID, Name: teamNamePrefix + hamlet.Name, Code: code, CreatedAt: now, UpdatedAt: now}
	if err := im.tx.Create(&team).Error; err != nil {
		return false, fmt.Errorf("create team: %w", err)
	}
	return true, nil
}

// freeCode returns the first of a hamlet's derived team codes that no team
// uses yet.
func (im *unitImporter) freeCode(province, commune, hamlet string) (string, error) {
	for attempt := range 1000 {
		code := teamCode(province, commune, hamlet, attempt)
		if im.codes[code] {
			continue
		}
		var n int64
		if err := im.tx.Model(&cnsbot.Team{}).Where("code = ?", code).Count(&n).Error; err != nil {
			return "", fmt.Errorf("check team code: %w", err)
		}
		im.codes[code] = true
		if n == 0 {
			return code, nil
		}
	}
	return "", errors.New("no free team code")
}

// ImportRoster reads a commune's member list (commune, hamlet, team, full
// name, phone, role, optional Zalo user id) and stores the people and their
// roles, matching people by phone, so that importing again changes nothing.
// Places must exist already (import the units first): an unknown commune or
// hamlet is a row error, not a new place. A pending member who enrolled from
// chat is approved by appearing on the roster. The file is CSV or .xlsx;
// nothing is written unless every row is good.
//
// Members and leaders belong to a team: the named one (by name or code) or
// the hamlet's first. Commune officers belong to the commune and ignore the
// hamlet and team columns; province officers and admins belong to the
// commune's province, or to the only province when the commune is empty.
func (db *DB) ImportRoster(ctx context.Context, r io.Reader, filename string) (ImportReport, error) {
	var rep ImportReport
	recs, bad, err := readTable(r, filename)
	if err != nil || len(bad) > 0 {
		rep.Errors = bad
		return rep, importFailed(&rep, err)
	}
	cols, rows, bad := mapColumns(recs, rosterColumns)
	if len(bad) > 0 {
		rep.Errors = bad
		return rep, importFailed(&rep, nil)
	}
	rep.Rows = len(rows)

	err = db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		im := &rosterImporter{tx: tx, places: map[string]placeResult{}, teams: map[int64][]cnsbot.Team{},
			phones: map[string]rosterPerson{}, zalos: map[string]string{}, roles: map[string]int{}}
		for _, rec := range rows {
			state, problems, err := im.row(rec, cols)
			if err != nil {
				return err
			}
			switch {
			case len(problems) > 0:
				rep.Errors = append(rep.Errors, RowError{Line: rec.line, Problems: problems})
			case state == unitCreated:
				rep.Created++
			case state == unitChanged:
				rep.Updated++
			}
		}
		if len(rep.Errors) > 0 {
			return errRowErrors
		}
		return nil
	})
	if err != nil {
		return rep, importFailed(&rep, err)
	}
	return rep, nil
}

// rosterImporter imports roster rows inside one transaction and checks the
// file's rows against each other.
type rosterImporter struct {
	tx     *gorm.DB
	places map[string]placeResult
	teams  map[int64][]cnsbot.Team
	// phones, zalos and roles remember earlier rows of the file.
	phones map[string]rosterPerson
	zalos  map[string]string
	roles  map[string]int
}

type rosterPerson struct {
	line   int
	folded string
	zalo   string
}

type placeResult struct {
	unit cnsbot.Unit
	bad  []RowProblem
}

// row imports one roster row. A bad row returns its problems; err is kept
// for database failures, which end the import.
func (im *rosterImporter) row(rec record, cols map[string]int) (state unitState, bad []RowProblem, err error) {
	var (
		communeName = rec.get(cols, colCommune)
		hamletName  = rec.get(cols, colHamlet)
		teamName    = rec.get(cols, colTeam)
		name        = rec.get(cols, colName)
		phoneCell   = rec.get(cols, colPhone)
		roleCell    = rec.get(cols, colRole)
		zalo        = rec.get(cols, colZalo)
	)
	if vn.Fold(name) == "" {
		bad = append(bad, RowProblem{Code: RowEmpty, Column: colName})
	}
	phone, p := parseRosterPhone(phoneCell)
	if p != nil {
		bad = append(bad, *p)
	}
	role, ok := parseRole(roleCell)
	switch {
	case roleCell == "":
		bad = append(bad, RowProblem{Code: RowEmpty, Column: colRole})
	case !ok:
		bad = append(bad, RowProblem{Code: RowUnknownRole, Column: colRole, Value: roleCell})
	}
	if zalo != "" {
		if code := checkZaloCell(zalo); code != "" {
			bad = append(bad, RowProblem{Code: code, Column: colZalo})
		}
	}
	if len(bad) > 0 {
		return unitSame, bad, nil
	}

	// Where the role lives.
	var (
		unit   cnsbot.Unit
		teamID *int64
	)
	switch role {
	case cnsbot.RoleMember, cnsbot.RoleLeader:
		if vn.Fold(communeName) == "" || vn.Fold(hamletName) == "" {
			return unitSame, one(RowPlaceRequired), nil
		}
		commune, bad, err := im.place(cnsbot.UnitCommune, nil, communeName)
		if err != nil || bad != nil {
			return unitSame, bad, err
		}
		hamlet, bad, err := im.place(cnsbot.UnitHamlet, &commune.ID, hamletName)
		if err != nil || bad != nil {
			return unitSame, bad, err
		}
		team, bad, err := im.team(hamlet, teamName)
		if err != nil || bad != nil {
			return unitSame, bad, err
		}
		unit, teamID = hamlet, &team.ID
	case cnsbot.RoleCommuneOfficer:
		if vn.Fold(communeName) == "" {
			return unitSame, one(RowCommuneRequired), nil
		}
		commune, bad, err := im.place(cnsbot.UnitCommune, nil, communeName)
		if err != nil || bad != nil {
			return unitSame, bad, err
		}
		unit = commune
	default:
		province, bad, err := im.province(communeName)
		if err != nil || bad != nil {
			return unitSame, bad, err
		}
		unit = province
	}

	// Consistency with earlier rows of the file.
	folded := vn.Fold(name)
	if prev, ok := im.phones[phone]; ok {
		if prev.folded != folded {
			return unitSame, []RowProblem{{Code: RowPhoneOtherName, Other: prev.line}}, nil
		}
		if zalo != "" && prev.zalo != "" && zalo != prev.zalo {
			return unitSame, []RowProblem{{Code: RowPhoneOtherZalo, Other: prev.line}}, nil
		}
	}
	if zalo != "" {
		if other, ok := im.zalos[zalo]; ok && other != phone {
			return unitSame, one(RowZaloOtherPhone), nil
		}
	}
	roleKey := fmt.Sprintf("%s|%s|%d", phone, role, unit.ID)
	if teamID != nil {
		roleKey += "|" + strconv.FormatInt(*teamID, 10)
	}
	if prev, ok := im.roles[roleKey]; ok {
		return unitSame, []RowProblem{{Code: RowSameRow, Other: prev}}, nil
	}
	im.roles[roleKey] = rec.line
	if _, ok := im.phones[phone]; !ok || zalo != "" {
		im.phones[phone] = rosterPerson{line: rec.line, folded: folded, zalo: zalo}
	}
	if zalo != "" {
		im.zalos[zalo] = phone
	}

	// The person, by phone.
	var found []cnsbot.Person
	if err := im.tx.Where("phone = ?", phone).Limit(1).Find(&found).Error; err != nil {
		return unitSame, nil, fmt.Errorf("find person: %w", err)
	}
	var person cnsbot.Person
	state = unitSame
	if zalo != "" {
		var owners []cnsbot.Person
		if err := im.tx.Where("zalo_user_id = ? AND phone <> ?", zalo, phone).Limit(1).Find(&owners).Error; err != nil {
			return unitSame, nil, fmt.Errorf("check zalo id: %w", err)
		}
		if len(owners) > 0 {
			return unitSame, one(RowZaloTaken), nil
		}
	}
	now := time.Now().UTC()
	if len(found) == 0 {
		person = cnsbot.Person{FullName: name, Phone: phone, CreatedAt: now, UpdatedAt: now}
		if zalo != "" {
			person.ZaloUserID = &zalo
		}
		if err := im.tx.Create(&person).Error; err != nil {
			return unitSame, nil, fmt.Errorf("create person: %w", err)
		}
		state = unitCreated
	} else {
		person = found[0]
		updates := map[string]any{}
		if person.FullName != name {
			updates["full_name"] = name
		}
		if zalo != "" && (person.ZaloUserID == nil || *person.ZaloUserID != zalo) {
			updates["zalo_user_id"] = zalo
		}
		if len(updates) > 0 {
			updates["updated_at"] = now
			if err := im.tx.Model(&cnsbot.Person{}).Where("id = ?", person.ID).Updates(updates).Error; err != nil {
				return unitSame, nil, fmt.Errorf("update person: %w", err)
			}
			state = unitChanged
		}
	}
	created, changed, err := ensureRole(im.tx, cnsbot.Role{PersonID: person.ID, Role: role, UnitID: unit.ID,
		TeamID: teamID, Approved: true})
	if err != nil {
		return unitSame, nil, err
	}
	if state == unitSame && (created || changed) {
		state = unitChanged
	}
	return state, nil, nil
}

// one is a row's only problem, one without facts.
func one(code string) []RowProblem { return []RowProblem{{Code: code}} }

// place finds a commune (anywhere) or a hamlet (in its commune) by name.
func (im *rosterImporter) place(kind string, parentID *int64, name string) (cnsbot.Unit, []RowProblem, error) {
	return findPlace(im.tx, im.places, kind, parentID, name)
}

// findPlace finds a commune (anywhere) or a hamlet (in its commune) by
// name for an import, and remembers the answer in places: a file names
// the same few places on every row.
func findPlace(tx *gorm.DB, places map[string]placeResult, kind string, parentID *int64, name string) (cnsbot.Unit, []RowProblem, error) {
	key := kind + "|" + vn.Fold(name)
	if parentID != nil {
		key += "|" + strconv.FormatInt(*parentID, 10)
	}
	if p, ok := places[key]; ok {
		return p.unit, p.bad, nil
	}
	u, err := findUnit(tx, kind, parentID, name)
	column := colCommune
	if kind == cnsbot.UnitHamlet {
		column = colHamlet
	}
	var p placeResult
	switch cnsbot.ErrorCode(err) {
	case "":
		p.unit = u
	case cnsbot.ENOTFOUND:
		code := RowUnknownCommune
		if kind == cnsbot.UnitHamlet {
			code = RowUnknownHamlet
		}
		p.bad = []RowProblem{{Code: code, Column: column, Value: name}}
	case cnsbot.ECONFLICT, cnsbot.EINVALID:
		p.bad = []RowProblem{{Code: RowAmbiguousPlace, Column: column, Value: name}}
	default:
		return u, nil, err
	}
	places[key] = p
	return p.unit, p.bad, nil
}

// team finds the hamlet's team named in the cell (by code or by name), or
// its first team when the cell is empty.
func (im *rosterImporter) team(hamlet cnsbot.Unit, cell string) (cnsbot.Team, []RowProblem, error) {
	teams, ok := im.teams[hamlet.ID]
	if !ok {
		if err := im.tx.Where("hamlet_id = ?", hamlet.ID).Order("id").Find(&teams).Error; err != nil {
			return cnsbot.Team{}, nil, fmt.Errorf("list teams: %w", err)
		}
		im.teams[hamlet.ID] = teams
	}
	if len(teams) == 0 {
		return cnsbot.Team{}, one(RowHamletNoTeam), nil
	}
	if vn.Fold(cell) == "" {
		return teams[0], nil, nil
	}
	code, folded := normalizeCode(cell), vn.Fold(cell)
	for _, t := range teams {
		if t.Code == code || vn.Fold(t.Name) == folded {
			return t, nil, nil
		}
	}
	return cnsbot.Team{}, []RowProblem{{Code: RowUnknownTeam, Column: colTeam, Value: cell}}, nil
}

// province finds the province of a province officer: the commune's, or the
// only one.
func (im *rosterImporter) province(communeName string) (cnsbot.Unit, []RowProblem, error) {
	if vn.Fold(communeName) != "" {
		u, bad, err := im.place(cnsbot.UnitCommune, nil, communeName)
		if err != nil || bad != nil {
			return u, bad, err
		}
		for u.Kind != cnsbot.UnitProvince {
			if u.ParentID == nil {
				return u, one(RowCommuneNoProvince), nil
			}
			if err := im.tx.Where("id = ?", *u.ParentID).Take(&u).Error; err != nil {
				return u, nil, fmt.Errorf("load parent unit: %w", err)
			}
		}
		return u, nil, nil
	}
	var provinces []cnsbot.Unit
	if err := im.tx.Where("kind = ?", cnsbot.UnitProvince).Limit(2).Find(&provinces).Error; err != nil {
		return cnsbot.Unit{}, nil, fmt.Errorf("list provinces: %w", err)
	}
	if len(provinces) != 1 {
		return cnsbot.Unit{}, one(RowProvinceUnclear), nil
	}
	return provinces[0], nil, nil
}

// parseRosterPhone validates a phone cell. A spreadsheet that stored the
// number as a number has dropped its leading 0, so nine bare digits get it
// back. The problem never carries the number: reports end up in logs.
func parseRosterPhone(s string) (string, *RowProblem) {
	if s == "" {
		return "", &RowProblem{Code: RowEmpty, Column: colPhone}
	}
	if len(s) == 9 && strings.Trim(s, "0123456789") == "" {
		s = "0" + s
	}
	p, err := vn.ParsePhone(s)
	if err != nil {
		code := RowPhoneInvalid
		var pe *vn.PhoneError
		if errors.As(err, &pe) && phoneProblems[pe.Problem] != "" {
			code = phoneProblems[pe.Problem]
		}
		return "", &RowProblem{Code: code, Column: colPhone}
	}
	return p, nil
}

// checkZaloCell returns the code of why a Zalo id cell is unusable, or "".
func checkZaloCell(s string) string {
	if strings.ContainsAny(s, "Ee") && strings.ContainsAny(s, "+.,") {
		return RowZaloRounded
	}
	if len(s) > 64 || strings.Trim(s, "0123456789") != "" {
		return RowZaloNotDigits
	}
	return ""
}

// readTable reads a CSV or .xlsx file into its non-blank rows. A file that
// cannot be parsed at a given line comes back as row errors; err is for
// files that are not tables at all.
func readTable(r io.Reader, filename string) ([]record, []RowError, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", filepath.Base(filename), err)
	}
	if len(data) > MaxImportBytes {
		return nil, nil, cnsbot.Errorf(cnsbot.ETOOLARGE, "file is larger than %d MiB", MaxImportBytes>>20)
	}
	ext := strings.ToLower(filepath.Ext(filename))
	switch {
	case bytes.HasPrefix(data, []byte("PK\x03\x04")), ext == ".xlsx", ext == ".xlsm":
		recs, bad, err := readXLSX(data)
		return recs, bad, refused(FileNotWorkbook, err)
	case bytes.HasPrefix(data, []byte("\xD0\xCF\x11\xE0")), ext == ".xls":
		return nil, nil, refused(FileOldXLS, cnsbot.Errorf(cnsbot.EINVALID, "old .xls workbooks are not supported"))
	}
	return readCSV(data)
}

func readCSV(data []byte) ([]record, []RowError, error) {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	if !utf8.Valid(data) {
		return nil, nil, refused(FileNotUTF8, cnsbot.Errorf(cnsbot.EINVALID, "file is not UTF-8 text"))
	}
	delim := detectDelimiter(data)
	if err := checkCSV(data, delim); err != nil {
		return nil, nil, err
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	var recs []record
	for {
		cells, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, []RowError{{Line: pe.StartLine, Problems: one(RowCSVUnreadable)}}, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read csv: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if !blank(cells) {
			recs = append(recs, record{line: line, cells: cells})
		}
	}
	return recs, nil, nil
}

// detectDelimiter picks ';' (what Excel writes where the decimal separator
// is a comma, as in Vietnamese settings), tab or ',' by counting them
// outside quotes on the first non-blank line.
func detectDelimiter(data []byte) rune {
	counts := map[rune]int{}
	inQuotes, started := false, false
	for _, r := range string(data) {
		if r == '"' {
			inQuotes = !inQuotes
		}
		if r == '\n' && !inQuotes {
			if started {
				break
			}
			continue
		}
		if !unicode.IsSpace(r) || r == '\t' {
			started = true
		}
		if !inQuotes {
			counts[r]++
		}
	}
	best := ','
	for _, d := range []rune{';', '\t'} {
		if counts[d] > counts[best] {
			best = d
		}
	}
	return best
}

func readXLSX(data []byte) ([]record, []RowError, error) {
	if err := checkWorkbook(data); err != nil {
		return nil, nil, err
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: maxImportUnzipped})
	if err != nil {
		return nil, nil, cnsbot.Errorf(cnsbot.EINVALID, "cannot open the workbook: %v", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, nil, cnsbot.Errorf(cnsbot.EINVALID, "the workbook has no sheet")
	}
	sheet := sheets[0]
	// Raw values: a number format must not turn 450 into "450.00" or a
	// phone into "9.12E+08".
	rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, nil, cnsbot.Errorf(cnsbot.EINVALID, "cannot read the first sheet: %v", err)
	}
	// Officers merge the commune cell over its hamlets' rows; only the
	// first cell of a merged range holds the value, so spread it.
	merged, err := f.GetMergeCells(sheet)
	if err != nil {
		return nil, nil, cnsbot.Errorf(cnsbot.EINVALID, "cannot read merged cells: %v", err)
	}
	for _, m := range merged {
		c1, r1, err1 := excelize.CellNameToCoordinates(m.GetStartAxis())
		c2, r2, err2 := excelize.CellNameToCoordinates(m.GetEndAxis())
		if err1 != nil || err2 != nil {
			continue
		}
		v := m.GetCellValue()
		for row := r1; row <= r2 && row <= len(rows); row++ {
			for col := c1; col <= c2; col++ {
				for len(rows[row-1]) < col {
					rows[row-1] = append(rows[row-1], "")
				}
				rows[row-1][col-1] = v
			}
		}
	}
	var recs []record
	for i, cells := range rows {
		if !blank(cells) {
			recs = append(recs, record{line: i + 1, cells: cells})
		}
	}
	return recs, nil, nil
}

func blank(cells []string) bool {
	for _, c := range cells {
		if cleanCell(c) != "" {
			return false
		}
	}
	return true
}

// headerKey is the form headers are compared in: folded, with punctuation
// as spaces ("Xã/Phường" → "xa phuong").
func headerKey(s string) string { return vn.Fold(s) }

// mapColumns finds the header among the first rows and maps each known
// column to its index. It returns the data rows after the header; a missing
// required column or a column given twice is a row error on the header line.
func mapColumns(recs []record, spec []column) (map[string]int, []record, []RowError) {
	lookup := map[string]string{}
	for _, c := range spec {
		lookup[headerKey(c.name)] = c.name
		for _, a := range c.aliases {
			lookup[headerKey(a)] = c.name
		}
	}
	if len(recs) == 0 {
		return nil, nil, []RowError{{Line: 1, Problems: one(RowFileEmpty)}}
	}
	type candidate struct {
		at      int
		cols    map[string]int
		dups    []string
		missing []string
	}
	var best *candidate
	for at := 0; at < len(recs) && at < headerSearchRows; at++ {
		c := &candidate{at: at, cols: map[string]int{}}
		for i, cell := range recs[at].cells {
			name, ok := lookup[headerKey(cell)]
			if !ok {
				continue
			}
			if _, dup := c.cols[name]; dup {
				c.dups = append(c.dups, name)
				continue
			}
			c.cols[name] = i
		}
		for _, col := range spec {
			if _, ok := c.cols[col.name]; col.required && !ok {
				c.missing = append(c.missing, col.name)
			}
		}
		if len(c.missing) == 0 {
			best = c
			break
		}
		if best == nil || len(c.cols) > len(best.cols) {
			best = c
		}
	}
	var bad []RowProblem
	for _, c := range best.missing {
		bad = append(bad, RowProblem{Code: RowMissingColumn, Column: c})
	}
	for _, c := range best.dups {
		bad = append(bad, RowProblem{Code: RowColumnTwice, Column: c})
	}
	if len(bad) > 0 {
		return nil, nil, []RowError{{Line: recs[best.at].line, Problems: bad}}
	}
	return best.cols, recs[best.at+1:], nil
}
