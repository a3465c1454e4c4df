package store

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/vn"
	"gorm.io/gorm"
)

// Communes returns every commune, ward and town, sorted by name (numbers in
// names in numeric order, so "Phường 2" comes before "Phường 10").
func (db *DB) Communes(ctx context.Context) ([]cnsbot.Unit, error) {
	var units []cnsbot.Unit
	if err := db.orm.WithContext(ctx).Where("kind = ?", cnsbot.UnitCommune).Find(&units).Error; err != nil {
		return nil, fmt.Errorf("list communes: %w", err)
	}
	sortUnits(units)
	return units, nil
}

// Hamlets returns the hamlets (ấp, khóm) of a commune, sorted by name.
func (db *DB) Hamlets(ctx context.Context, communeID int64) ([]cnsbot.Unit, error) {
	var units []cnsbot.Unit
	err := db.orm.WithContext(ctx).Where("kind = ? AND parent_id = ?", cnsbot.UnitHamlet, communeID).Find(&units).Error
	if err != nil {
		return nil, fmt.Errorf("list hamlets: %w", err)
	}
	sortUnits(units)
	return units, nil
}

// Unit returns the unit with the given id.
func (db *DB) Unit(ctx context.Context, id int64) (cnsbot.Unit, error) {
	var u cnsbot.Unit
	if err := takeOne(db.orm.WithContext(ctx).Where("id = ?", id), &u, "unit %d", id); err != nil {
		return cnsbot.Unit{}, err
	}
	return u, nil
}

// FindUnit returns the unit of the given kind whose name matches name,
// ignoring case, diacritics and spacing. A nil parentID searches every unit
// of that kind; otherwise only the children of parentID.
//
// When no name matches exactly, an administrative word in front of the
// name on one side only is ignored ("Xã Tân Thành" finds "Tân Thành", "3"
// finds "Ấp 3", "Khóm 3" does not find "Ấp 3"). Several matches are an
// ECONFLICT error, none an ENOTFOUND error.
func (db *DB) FindUnit(ctx context.Context, kind string, parentID *int64, name string) (cnsbot.Unit, error) {
	return findUnit(db.orm.WithContext(ctx), kind, parentID, name)
}

func findUnit(tx *gorm.DB, kind string, parentID *int64, name string) (cnsbot.Unit, error) {
	folded := vn.Fold(name)
	if folded == "" {
		return cnsbot.Unit{}, cnsbot.Errorf(cnsbot.EINVALID, "empty %s name", kind)
	}
	scope := func() *gorm.DB {
		q := tx.Where("kind = ?", kind)
		if parentID != nil {
			q = q.Where("parent_id = ?", *parentID)
		}
		return q.Order("id")
	}
	// The exact folded name uses the index; only a miss reads all the
	// candidates to compare them without their administrative word.
	var candidates []cnsbot.Unit
	if err := scope().Where("folded = ?", folded).Find(&candidates).Error; err != nil {
		return cnsbot.Unit{}, fmt.Errorf("find %s: %w", kind, err)
	}
	if len(candidates) == 0 {
		if err := scope().Find(&candidates).Error; err != nil {
			return cnsbot.Unit{}, fmt.Errorf("find %s: %w", kind, err)
		}
	}
	var exact, loose []cnsbot.Unit
	word, bare := splitUnitName(kind, folded)
	for _, u := range candidates {
		if u.Folded == folded {
			exact = append(exact, u)
			continue
		}
		// "Tân Dân" finds "Ấp Tân Dân" and "Xã Tân Thành" finds "Tân
		// Thành", but "Khóm 1" never finds "Ấp 1".
		w, b := splitUnitName(kind, u.Folded)
		if b == bare && (w == "" || word == "") {
			loose = append(loose, u)
		}
	}
	if len(exact) == 0 {
		exact = loose
	}
	switch len(exact) {
	case 0:
		return cnsbot.Unit{}, cnsbot.Errorf(cnsbot.ENOTFOUND, "no %s named %q", kind, name)
	case 1:
		return exact[0], nil
	default:
		return cnsbot.Unit{}, cnsbot.Errorf(cnsbot.ECONFLICT, "%d units of kind %s are named %q", len(exact), kind, name)
	}
}

// unitPrefixes are the folded administrative words that officers write in
// front of a unit's name, or leave out.
var unitPrefixes = map[string][]string{
	cnsbot.UnitProvince: {"tinh", "thanh pho"},
	cnsbot.UnitDistrict: {"huyen", "quan", "thi xa", "thanh pho"},
	cnsbot.UnitCommune:  {"xa", "phuong", "thi tran", "dac khu"},
	cnsbot.UnitHamlet:   {"ap", "khom", "khu pho", "to dan pho", "thon", "ban"},
}

// splitUnitName splits the administrative word in front of a folded name
// from the rest.
func splitUnitName(kind, folded string) (word, rest string) {
	for _, p := range unitPrefixes[kind] {
		if rest, ok := strings.CutPrefix(folded, p+" "); ok && rest != "" {
			return p, rest
		}
	}
	return "", folded
}

// sortUnits orders units by folded name, comparing runs of digits as numbers.
func sortUnits(units []cnsbot.Unit) {
	slices.SortStableFunc(units, func(a, b cnsbot.Unit) int {
		if c := naturalCompare(a.Folded, b.Folded); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// naturalCompare compares strings with embedded numbers in numeric order.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitPrefix(a), digitPrefix(b)
		if da != "" && db != "" {
			na, _ := strconv.ParseUint(strings.TrimLeft(da, "0")+"0", 10, 64)
			nb, _ := strconv.ParseUint(strings.TrimLeft(db, "0")+"0", 10, 64)
			if na != nb {
				if na < nb {
					return -1
				}
				return 1
			}
			a, b = a[len(da):], b[len(db):]
			continue
		}
		if a[0] != b[0] {
			if a[0] < b[0] {
				return -1
			}
			return 1
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digitPrefix(s string) string {
	i := 0
	for i < len(s) && i < 18 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// TeamByCode returns the team with the given code, ignoring case and spaces.
func (db *DB) TeamByCode(ctx context.Context, code string) (cnsbot.Team, error) {
	var t cnsbot.Team
	c := normalizeCode(code)
	if c == "" {
		return t, cnsbot.Errorf(cnsbot.EINVALID, "empty team code")
	}
	if err := takeOne(db.orm.WithContext(ctx).Where("code = ?", c), &t, "team %q", c); err != nil {
		return cnsbot.Team{}, err
	}
	return t, nil
}

// TeamsOfHamlet returns the teams of a hamlet, the first created first.
func (db *DB) TeamsOfHamlet(ctx context.Context, hamletID int64) ([]cnsbot.Team, error) {
	var teams []cnsbot.Team
	if err := db.orm.WithContext(ctx).Where("hamlet_id = ?", hamletID).Order("id").Find(&teams).Error; err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	return teams, nil
}

// TeamByGroup returns the team whose Zalo group is groupID.
func (db *DB) TeamByGroup(ctx context.Context, groupID string) (cnsbot.Team, error) {
	var t cnsbot.Team
	if groupID == "" {
		return t, cnsbot.Errorf(cnsbot.EINVALID, "empty group id")
	}
	if err := takeOne(db.orm.WithContext(ctx).Where("group_id = ?", groupID).Order("id"), &t, "team of group"); err != nil {
		return cnsbot.Team{}, err
	}
	return t, nil
}

// Team returns the team with the given id.
func (db *DB) Team(ctx context.Context, id int64) (cnsbot.Team, error) {
	var t cnsbot.Team
	if err := takeOne(db.orm.WithContext(ctx).Where("id = ?", id), &t, "team %d", id); err != nil {
		return cnsbot.Team{}, err
	}
	return t, nil
}

// LinkGroup links a Zalo group to a team. A group belongs to one team at a
// time, so a previous link of the same group to another team is removed.
func (db *DB) LinkGroup(ctx context.Context, teamID int64, groupID string) error {
	if groupID == "" {
		return cnsbot.Errorf(cnsbot.EINVALID, "empty group id")
	}
	return db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&cnsbot.Team{}).Where("id = ?", teamID).Update("group_id", groupID)
		if res.Error != nil {
			return fmt.Errorf("link group: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return cnsbot.Errorf(cnsbot.ENOTFOUND, "team %d", teamID)
		}
		err := tx.Model(&cnsbot.Team{}).Where("group_id = ? AND id <> ?", groupID, teamID).Update("group_id", "").Error
		if err != nil {
			return fmt.Errorf("unlink group from other teams: %w", err)
		}
		return nil
	})
}

// normalizeCode upper-cases a typed code and drops spaces and dashes.
func normalizeCode(code string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '-' || r == '_' || r == '.' {
			return -1
		}
		return unicode.ToUpper(r)
	}, code)
}

// codeAlphabet has no 0/O or 1/I, which people read and type for each other.
const codeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// teamCode derives a team's code from its place: the province's initials
// and four characters hashed from the commune and hamlet names, so that the
// same units file gives the same codes on any installation. attempt moves to
// another code when the first one is taken.
func teamCode(provinceFolded, communeFolded, hamletFolded string, attempt int) string {
	var prefix strings.Builder
	for _, w := range strings.Fields(provinceFolded) {
		if c := w[0]; c >= 'a' && c <= 'z' && prefix.Len() < 3 {
			prefix.WriteByte(c - 'a' + 'A')
		}
	}
	if prefix.Len() == 0 {
		prefix.WriteString("T")
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%s|%d", communeFolded, hamletFolded, attempt)
	n := h.Sum64()
	b := []byte(prefix.String())
	for range 4 {
		b = append(b, codeAlphabet[n%uint64(len(codeAlphabet))])
		n /= uint64(len(codeAlphabet))
	}
	return string(b)
}
