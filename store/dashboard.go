package store

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/calendar"
)

// OfficerToken is a dashboard sign-in token of one officer. Only the
// token's SHA-256 is stored: a leaked database does not leak sign-ins.
type OfficerToken struct {
	ID        int64      `gorm:"primaryKey"`
	PersonID  int64      `gorm:"not null;index:idx_officer_tokens_person_id"`
	TokenHash string     `gorm:"size:64;not null;uniqueIndex:uniq_officer_tokens_token_hash"`
	CreatedAt time.Time  `gorm:"not null"`
	RevokedAt *time.Time `gorm:""`
	// ExpiresAt ends the token's use; a token without one (none after the
	// 2026120705 migration) is refused.
	ExpiresAt *time.Time `gorm:"index:idx_officer_tokens_expires_at"`
}

// dashboardMigrations returns the migrations of the dashboard's tables.
// Like the others, each declares a frozen copy of its model.
func dashboardMigrations() []*gormigrate.Migration {
	return []*gormigrate.Migration{{
		ID: "2026112706_officer_tokens",
		Migrate: func(tx *gorm.DB) error {
			type officerToken struct {
				ID        int64      `gorm:"primaryKey"`
				PersonID  int64      `gorm:"not null;index:idx_officer_tokens_person_id"`
				TokenHash string     `gorm:"size:64;not null;uniqueIndex:uniq_officer_tokens_token_hash"`
				CreatedAt time.Time  `gorm:"not null"`
				RevokedAt *time.Time `gorm:""`
			}
			if err := tx.Table("officer_tokens").Migrator().CreateTable(&officerToken{}); err != nil {
				return fmt.Errorf("create table officer_tokens: %w", err)
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error { return tx.Migrator().DropTable("officer_tokens") },
	}}
}

// officerTokenPrefix marks the tokens, so that one pasted in the wrong
// place is recognisable.
const officerTokenPrefix = "cno_"

// Officer is who an officer token signs in: the person and the communes
// they may see. Province is true for province officers, who see everything.
type Officer struct {
	TokenID    int64   `json:"token_id"`
	PersonID   int64   `json:"person_id"`
	Name       string  `json:"name"`
	Province   bool    `json:"province"`
	CommuneIDs []int64 `json:"commune_ids,omitempty"`
}

// Sees reports whether the officer may see the commune.
func (o Officer) Sees(communeID int64) bool {
	return o.Province || slices.Contains(o.CommuneIDs, communeID)
}

// CreateOfficerToken issues a new dashboard token for an officer (someone
// with an approved commune or province officer role) that lasts
// DefaultOfficerTokenTTL, and returns it. Only its hash is stored, so it
// cannot be shown again.
func (db *DB) CreateOfficerToken(ctx context.Context, personID int64) (string, error) {
	t, err := db.IssueOfficerToken(ctx, personID, 0)
	return t.Token, err
}

// TokenHash is the stored form of a token: hex SHA-256.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// OfficerByToken returns the officer a token signs in, or an
// EUNAUTHORIZED error for an unknown, expired or revoked token. The lookup is by
// the token's hash, so its time tells nothing about the token.
func (db *DB) OfficerByToken(ctx context.Context, token string) (Officer, error) {
	if !strings.HasPrefix(token, officerTokenPrefix) {
		return Officer{}, cnsbot.Errorf(cnsbot.EUNAUTHORIZED, "not an officer token")
	}
	return db.officerWhere(ctx, "token_hash = ?", TokenHash(token))
}

// OfficerByTokenID returns the officer of a token by its row id, for a
// session that names it; EUNAUTHORIZED once it is revoked or expired.
func (db *DB) OfficerByTokenID(ctx context.Context, id int64) (Officer, error) {
	return db.officerWhere(ctx, "id = ?", id)
}

func (db *DB) officerWhere(ctx context.Context, query string, arg any) (Officer, error) {
	tx := db.orm.WithContext(ctx)
	var rows []OfficerToken
	err := tx.Where(query, arg).Where("revoked_at IS NULL AND expires_at > ?", time.Now().UTC()).Limit(1).Find(&rows).Error
	if err != nil {
		return Officer{}, fmt.Errorf("find officer token: %w", err)
	}
	if len(rows) == 0 {
		return Officer{}, cnsbot.Errorf(cnsbot.EUNAUTHORIZED, "unknown, expired or revoked token")
	}
	o, err := officerScope(tx, rows[0].PersonID)
	if err != nil {
		if cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND {
			return Officer{}, cnsbot.Errorf(cnsbot.EUNAUTHORIZED, "the token's person is gone")
		}
		return Officer{}, err
	}
	o.TokenID = rows[0].ID
	return o, nil
}

// RevokeOfficerToken makes a token unusable at once and ends the
// dashboard sessions it opened.
func (db *DB) RevokeOfficerToken(ctx context.Context, id int64) error {
	return db.orm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := time.Now().UTC()
		res := tx.Model(&OfficerToken{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", now)
		if res.Error != nil {
			return fmt.Errorf("revoke officer token: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return cnsbot.Errorf(cnsbot.ENOTFOUND, "officer token %d", id)
		}
		err := tx.Model(&DashboardSession{}).Where("token_id = ? AND ended_at IS NULL", id).Update("ended_at", now).Error
		if err != nil {
			return fmt.Errorf("end the token's sessions: %w", err)
		}
		return nil
	})
}

// officerScope reads what a person may see from their approved roles.
func officerScope(tx *gorm.DB, personID int64) (Officer, error) {
	var p cnsbot.Person
	if err := takeOne(tx.Where("id = ?", personID), &p, "person %d", personID); err != nil {
		return Officer{}, err
	}
	var roles []cnsbot.Role
	err := tx.Where("person_id = ? AND approved = ? AND role IN ?", personID, true,
		[]string{cnsbot.RoleCommuneOfficer, cnsbot.RoleProvinceOfficer, cnsbot.RoleAdmin}).Order("id").Find(&roles).Error
	if err != nil {
		return Officer{}, fmt.Errorf("load officer roles: %w", err)
	}
	o := Officer{PersonID: p.ID, Name: p.FullName}
	for _, r := range roles {
		if r.Role == cnsbot.RoleCommuneOfficer {
			if !slices.Contains(o.CommuneIDs, r.UnitID) {
				o.CommuneIDs = append(o.CommuneIDs, r.UnitID)
			}
			continue
		}
		o.Province = true
	}
	return o, nil
}

// UnitProgress is a hamlet's progress toward guiding 80% of its
// households: Guided counts the distinct households its teams guided (in
// a hamlet with a list, its listed households, each once however many
// of its teams guided it: listedcounts.go).
type UnitProgress struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	ParentID   int64  `json:"parent_id"`
	Households int    `json:"households"`
	Guided     int    `json:"guided"`
	Teams      int    `json:"teams"`
	Demo       bool   `json:"demo,omitempty"`
	folded     string
}

// HamletProgress returns the progress of every hamlet of a commune, or of
// every hamlet when communeID is 0, sorted by commune and then name.
func (db *DB) HamletProgress(ctx context.Context, communeID int64) ([]UnitProgress, error) {
	// The households a team guided are the sum of those it guided for
	// the first time in each quarter, from the rollups (rollups.go): a few
	// rows per team. Counting the households table per hamlet took 1.3 s
	// at a province's 1,500 hamlets and 190 k households (issue 19). A
	// hamlet with a list counts the listed households its teams named,
	// from its own counters (listedrollups.go) the same way.
	q := `SELECT h.id, h.name, h.folded, COALESCE(h.parent_id, 0) AS parent_id, ` + householdsOf("h") + ` AS households, h.demo,
			COALESCE(c.teams, 0) AS teams,
			CASE WHEN ` + listedOf("h") + ` = 1 THEN COALESCE(l.guided, 0) ELSE COALESCE(g.guided, 0) END AS guided
		FROM units h
		LEFT JOIN (SELECT hamlet_id, COUNT(*) AS teams FROM teams GROUP BY hamlet_id) c ON c.hamlet_id = h.id
		LEFT JOIN (SELECT t.hamlet_id, SUM(r.new_households) AS guided
			FROM rollup_team_quarters r JOIN teams t ON t.id = r.team_id GROUP BY t.hamlet_id) g ON g.hamlet_id = h.id
		LEFT JOIN (SELECT hamlet_id, SUM(new_households) AS guided FROM rollup_hamlet_listed GROUP BY hamlet_id) l
			ON l.hamlet_id = h.id
		WHERE h.kind = ?`
	args := []any{cnsbot.UnitHamlet}
	if communeID != 0 {
		q += " AND h.parent_id = ?"
		args = append(args, communeID)
	}
	var rows []struct {
		ID         int64
		Name       string
		Folded     string
		ParentID   int64
		Households int
		Demo       bool
		Teams      int
		Guided     int
	}
	if err := db.orm.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("hamlet progress: %w", err)
	}
	out := make([]UnitProgress, 0, len(rows))
	for _, r := range rows {
		out = append(out, UnitProgress{ID: r.ID, Name: r.Name, ParentID: r.ParentID, Households: r.Households,
			Guided: r.Guided, Teams: r.Teams, Demo: r.Demo, folded: r.Folded})
	}
	slices.SortStableFunc(out, func(a, b UnitProgress) int {
		if c := cmp.Compare(a.ParentID, b.ParentID); c != 0 {
			return c
		}
		return naturalCompare(a.folded, b.folded)
	})
	return out, nil
}

// ProvinceName returns the name of the province unit, or "" when the
// units have none (communes at the top).
func (db *DB) ProvinceName(ctx context.Context) (string, error) {
	var names []string
	err := db.orm.WithContext(ctx).Model(&cnsbot.Unit{}).Where("kind = ?", cnsbot.UnitProvince).Order("id").Limit(1).Pluck("name", &names).Error
	if err != nil {
		return "", fmt.Errorf("province name: %w", err)
	}
	if len(names) == 0 {
		return "", nil
	}
	return names[0], nil
}

// teamsOfCommune returns the ids of the teams in a commune's hamlets, or
// of every team when communeID is 0.
func teamsOfCommune(tx *gorm.DB, communeID int64) ([]int64, error) {
	q := tx.Model(&cnsbot.Team{})
	if communeID != 0 {
		hamlets := tx.Model(&cnsbot.Unit{}).Select("id").Where("kind = ? AND parent_id = ?", cnsbot.UnitHamlet, communeID)
		q = q.Where("hamlet_id IN (?)", hamlets)
	}
	var ids []int64
	if err := q.Order("id").Pluck("id", &ids).Error; err != nil {
		return nil, fmt.Errorf("teams of commune: %w", err)
	}
	return ids, nil
}

// CommuneFigures compiles the quarter's figures of every team of a
// commune, or of the whole province when communeID is 0.
func (db *DB) CommuneFigures(ctx context.Context, communeID int64, q string, loc *time.Location) (calendar.Figures, error) {
	if f, ok, err := db.communeRolledFigures(ctx, communeID, q, loc); ok || err != nil {
		return f, err
	}
	ids, err := teamsOfCommune(db.orm.WithContext(ctx), communeID)
	if err != nil {
		return calendar.Figures{}, err
	}
	return db.figures(ctx, ids, q, loc)
}

// HelpFilter selects help requests for the dashboard.
type HelpFilter struct {
	// CommuneID limits the list to one commune; 0 is every commune.
	CommuneID int64
	// Statuses limits the list to these states; empty is every state.
	Statuses []string
	// Limit caps the list (default 200), newest first.
	Limit int
}

// HelpRow is a help request with the names the dashboard shows.
type HelpRow struct {
	cnsbot.HelpRequest
	CommuneName string `json:"commune_name"`
	HamletName  string `json:"hamlet_name"`
	TeamName    string `json:"team_name,omitempty"`
	TakenByName string `json:"taken_by_name,omitempty"`
}

// HelpRequests lists help requests with their places and helpers.
func (db *DB) HelpRequests(ctx context.Context, f HelpFilter) ([]HelpRow, error) {
	if f.Limit <= 0 {
		f.Limit = 200
	}
	tx := db.orm.WithContext(ctx)
	q := tx.Order("created_at DESC, id DESC").Limit(f.Limit)
	if f.CommuneID != 0 {
		q = q.Where("commune_id = ?", f.CommuneID)
	}
	if len(f.Statuses) > 0 {
		q = q.Where("status IN ?", f.Statuses)
	}
	var reqs []cnsbot.HelpRequest
	if err := q.Find(&reqs).Error; err != nil {
		return nil, fmt.Errorf("list help requests: %w", err)
	}
	var unitIDs, teamIDs, personIDs []int64
	for _, r := range reqs {
		unitIDs = append(unitIDs, r.CommuneID, r.HamletID)
		if r.TeamID != nil {
			teamIDs = append(teamIDs, *r.TeamID)
		}
		if r.TakenBy != nil {
			personIDs = append(personIDs, *r.TakenBy)
		}
	}
	n, err := loadNames(tx, unitIDs, teamIDs, personIDs)
	if err != nil {
		return nil, fmt.Errorf("list help requests: %w", err)
	}
	out := make([]HelpRow, 0, len(reqs))
	for _, r := range reqs {
		row := HelpRow{HelpRequest: r, CommuneName: n.units[r.CommuneID], HamletName: n.units[r.HamletID]}
		if r.TeamID != nil {
			row.TeamName = n.teams[*r.TeamID]
		}
		if r.TakenBy != nil {
			row.TakenByName = n.people[*r.TakenBy]
		}
		out = append(out, row)
	}
	return out, nil
}

// VisitRow is a visit report with the names the dashboard shows.
type VisitRow struct {
	cnsbot.Visit
	PersonName  string `json:"person_name"`
	TeamName    string `json:"team_name"`
	HamletName  string `json:"hamlet_name"`
	CommuneID   int64  `json:"commune_id"`
	CommuneName string `json:"commune_name"`
}

// RecentVisits returns the latest visit reports of a commune (0: every
// commune), newest first.
func (db *DB) RecentVisits(ctx context.Context, communeID int64, limit int) ([]VisitRow, error) {
	if limit <= 0 {
		limit = 50
	}
	tx := db.orm.WithContext(ctx)
	q := tx.Order("visited_at DESC, id DESC").Limit(limit)
	if communeID != 0 {
		hamlets := tx.Model(&cnsbot.Unit{}).Select("id").Where("kind = ? AND parent_id = ?", cnsbot.UnitHamlet, communeID)
		q = q.Where("hamlet_id IN (?)", hamlets)
	}
	var visits []cnsbot.Visit
	if err := q.Find(&visits).Error; err != nil {
		return nil, fmt.Errorf("recent visits: %w", err)
	}
	var unitIDs, teamIDs, personIDs []int64
	for _, v := range visits {
		unitIDs = append(unitIDs, v.HamletID)
		teamIDs = append(teamIDs, v.TeamID)
		personIDs = append(personIDs, v.PersonID)
	}
	n, err := loadNames(tx, unitIDs, teamIDs, personIDs)
	if err != nil {
		return nil, fmt.Errorf("recent visits: %w", err)
	}
	out := make([]VisitRow, 0, len(visits))
	for _, v := range visits {
		c := n.parents[v.HamletID]
		out = append(out, VisitRow{Visit: v, PersonName: n.people[v.PersonID], TeamName: n.teams[v.TeamID],
			HamletName: n.units[v.HamletID], CommuneID: c, CommuneName: n.units[c]})
	}
	return out, nil
}

// Undelivered is a message Zalo refused for good, or that went to the
// team's group instead of the person, with who it was for.
type Undelivered struct {
	MessageID string    `json:"message_id"`
	Recipient string    `json:"recipient"`
	Name      string    `json:"name,omitempty"`
	Purpose   string    `json:"purpose"`
	Ref       string    `json:"ref,omitempty"`
	State     string    `json:"state"`
	ZaloCode  int       `json:"zalo_code,omitempty"`
	Reason    string    `json:"reason"`
	CommuneID int64     `json:"commune_id,omitempty"`
	At        time.Time `json:"at"`
}

// UndeliveredMessages returns the latest messages that did not reach
// their person (undeliverable, or posted to the group instead), newest
// first. With a communeID, only those to people and groups of that commune.
func (db *DB) UndeliveredMessages(ctx context.Context, communeID int64, limit int) ([]Undelivered, error) {
	if limit <= 0 {
		limit = 100
	}
	tx := db.orm.WithContext(ctx)
	var rows []Delivery
	// Read more than asked when filtering: the commune is known only after
	// the recipients are resolved.
	read := limit
	if communeID != 0 {
		read = 10 * limit
	}
	err := tx.Select("message_id", "recipient", "purpose", "ref", "state", "zalo_code", "reason", "updated_at").
		Where("state IN ?", []string{StateUndeliverable, StateFallback}).
		Order("updated_at DESC, id DESC").Limit(read).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("undelivered messages: %w", err)
	}
	var users, groups []string
	for _, r := range rows {
		if id, ok := strings.CutPrefix(r.Recipient, "u:"); ok {
			users = append(users, id)
		} else if id, ok := strings.CutPrefix(r.Recipient, "g:"); ok {
			groups = append(groups, id)
		}
	}
	who, err := recipientsOf(tx, users, groups)
	if err != nil {
		return nil, fmt.Errorf("undelivered messages: %w", err)
	}
	out := make([]Undelivered, 0, len(rows))
	for _, r := range rows {
		w := who[r.Recipient]
		if communeID != 0 && !slices.Contains(w.communes, communeID) {
			continue
		}
		u := Undelivered{MessageID: r.MessageID, Recipient: r.Recipient, Name: w.name, Purpose: r.Purpose,
			Ref: r.Ref, State: r.State, ZaloCode: r.ZaloCode, Reason: r.Reason, At: r.UpdatedAt}
		if len(w.communes) > 0 {
			u.CommuneID = w.communes[0]
		}
		out = append(out, u)
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

type recipient struct {
	name     string
	communes []int64
}

// recipientsOf names the people and groups behind routes and finds the
// communes they belong to.
func recipientsOf(tx *gorm.DB, users, groups []string) (map[string]recipient, error) {
	out := map[string]recipient{}
	parents, err := unitParents(tx)
	if err != nil {
		return nil, err
	}
	communeOf := func(unitID int64) int64 {
		if p, ok := parents[unitID]; ok && p.kind == cnsbot.UnitHamlet {
			return p.parent
		}
		return unitID
	}
	if len(users) > 0 {
		var people []cnsbot.Person
		if err := tx.Select("id", "full_name", "zalo_user_id").Where("zalo_user_id IN ?", users).Find(&people).Error; err != nil {
			return nil, fmt.Errorf("find people: %w", err)
		}
		byID := map[int64]string{}
		var ids []int64
		for _, p := range people {
			if p.ZaloUserID != nil {
				byID[p.ID] = "u:" + *p.ZaloUserID
				out["u:"+*p.ZaloUserID] = recipient{name: p.FullName}
				ids = append(ids, p.ID)
			}
		}
		var roles []cnsbot.Role
		if len(ids) > 0 {
			if err := tx.Select("person_id", "unit_id").Where("person_id IN ?", ids).Order("id").Find(&roles).Error; err != nil {
				return nil, fmt.Errorf("find roles: %w", err)
			}
		}
		for _, r := range roles {
			key := byID[r.PersonID]
			rc := out[key]
			if c := communeOf(r.UnitID); !slices.Contains(rc.communes, c) {
				rc.communes = append(rc.communes, c)
			}
			out[key] = rc
		}
	}
	if len(groups) > 0 {
		var teams []cnsbot.Team
		if err := tx.Select("id", "name", "hamlet_id", "group_id").Where("group_id IN ?", groups).Find(&teams).Error; err != nil {
			return nil, fmt.Errorf("find teams: %w", err)
		}
		for _, t := range teams {
			out["g:"+t.GroupID] = recipient{name: t.Name, communes: []int64{communeOf(t.HamletID)}}
		}
	}
	return out, nil
}

type unitParent struct {
	kind   string
	parent int64
}

func unitParents(tx *gorm.DB) (map[int64]unitParent, error) {
	var units []cnsbot.Unit
	if err := tx.Select("id", "kind", "parent_id").Find(&units).Error; err != nil {
		return nil, fmt.Errorf("load units: %w", err)
	}
	out := make(map[int64]unitParent, len(units))
	for _, u := range units {
		p := unitParent{kind: u.Kind}
		if u.ParentID != nil {
			p.parent = *u.ParentID
		}
		out[u.ID] = p
	}
	return out, nil
}

// nameSet holds the display names of units, teams and people.
type nameSet struct {
	units   map[int64]string
	parents map[int64]int64
	teams   map[int64]string
	people  map[int64]string
}

// loadNames reads the names of the given units (and their parents),
// teams and people in three queries.
func loadNames(tx *gorm.DB, unitIDs, teamIDs, personIDs []int64) (nameSet, error) {
	n := nameSet{units: map[int64]string{}, parents: map[int64]int64{}, teams: map[int64]string{}, people: map[int64]string{}}
	if len(unitIDs) > 0 {
		var units []cnsbot.Unit
		if err := tx.Select("id", "name", "parent_id").Where("id IN ?", uniq(unitIDs)).Find(&units).Error; err != nil {
			return n, fmt.Errorf("load unit names: %w", err)
		}
		var parents []int64
		for _, u := range units {
			n.units[u.ID] = u.Name
			if u.ParentID != nil {
				n.parents[u.ID] = *u.ParentID
				parents = append(parents, *u.ParentID)
			}
		}
		if len(parents) > 0 {
			var up []cnsbot.Unit
			if err := tx.Select("id", "name").Where("id IN ?", uniq(parents)).Find(&up).Error; err != nil {
				return n, fmt.Errorf("load unit names: %w", err)
			}
			for _, u := range up {
				n.units[u.ID] = u.Name
			}
		}
	}
	if len(teamIDs) > 0 {
		var teams []cnsbot.Team
		if err := tx.Select("id", "name").Where("id IN ?", uniq(teamIDs)).Find(&teams).Error; err != nil {
			return n, fmt.Errorf("load team names: %w", err)
		}
		for _, t := range teams {
			n.teams[t.ID] = t.Name
		}
	}
	if len(personIDs) > 0 {
		var people []cnsbot.Person
		if err := tx.Select("id", "full_name").Where("id IN ?", uniq(personIDs)).Find(&people).Error; err != nil {
			return n, fmt.Errorf("load people names: %w", err)
		}
		for _, p := range people {
			n.people[p.ID] = p.FullName
		}
	}
	return n, nil
}

func uniq(ids []int64) []int64 {
	s := slices.Clone(ids)
	slices.Sort(s)
	return slices.Compact(s)
}
