package team

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows"
	"github.com/camau-cns/cnsbot/vn"
)

// Session Data keys of a visit report.
const (
	keyTeam      = "team"
	keyHousehold = "household"
	keyAreas     = "areas" // comma-separated cnsbot.Area* values
	keyPeople    = "people"
	keyMinutes   = "minutes"
	keyPhoto     = "photo"
	keyLat       = "lat"
	keyLng       = "lng"
	keyNote      = "note"
	keyHamlet    = "hamlet" // the hamlet a one-line report named
	// keyHamletAsk is a hamlet the report named that the commune does not
	// have: the member is asked which one they meant.
	keyHamletAsk = "hamlet_ask"
	// keyQuick marks a report that began as one line: only what it lacks
	// is asked, and the optional photo and note are skipped.
	keyQuick = "quick"
)

// visitFlow declares the household visit report: which household, what
// was guided, how many people, how long, an optional photo or location and
// note, and a summary to confirm or edit. The questions come in this
// order; a report begun in one line ("bc nhà ông Năm, vneid, 2 người,
// 30p") skips what it already says and the optional photo and note.
func (t *teamFlows) visitFlow() *flows.Flow {
	return &flows.Flow{
		Name:      FlowVisit,
		Title:     "team.visit.name",
		Start:     "household",
		Resumable: true,
		Begin:     t.beginVisit,
		Steps: []*flows.Step{
			// Asked (by beginVisit) only of a member of several teams.
			{Name: "team", Ask: "team.visit.team", Help: "team.visit.team_help", Input: flows.InputChoice,
				Options: t.teamChoices, Then: t.chooseTeam},
			{Name: "household", Ask: "team.visit.household", Help: "team.visit.household_help", Input: flows.InputChoice,
				Free: true, MaxLen: maxHouseholdLen, Options: t.recentChoices, Save: keyHousehold, Check: checkHousehold,
				Skip: quickHas(keyHousehold), Then: t.chooseHousehold},
			// Asked only when the report named a hamlet the commune does
			// not have ("ấp 3"): unsure, the bot asks rather than guess.
			{Name: "hamlet", Ask: "team.visit.hamlet", Help: "team.visit.hamlet_help", Input: flows.InputChoice,
				Options: t.visitHamlets, Skip: func(c *flows.Ctx) bool { return c.Get(keyHamletAsk) == "" },
				Then: t.chooseVisitHamlet},
			// Asked only where the hamlet has a household list and what the
			// member typed matches several households, or none.
			t.pickStep(),
			{Name: "areas", Ask: "team.visit.areas", Help: "team.visit.areas_help", Input: flows.InputChoice,
				Options: areaChoices, Vars: areaVars, Parse: readAreas, Skip: quickHas(keyAreas)},
			{Name: "people", Ask: "team.visit.people", Help: "team.visit.people_help", Input: flows.InputChoice,
				Free: true, Choices: peopleChoices, Save: keyPeople, Check: checkPeople, Skip: quickHas(keyPeople)},
			withSkip(minutesStep(nil), quickHas(keyMinutes)),
			{Name: "media", Ask: "team.visit.media", Help: "team.visit.media_help", Input: flows.InputChoice,
				Options: mediaChoices, Vars: mediaVars, Skip: quick},
			{Name: "note", Ask: "team.visit.note", Help: "team.visit.note_help", Input: flows.InputChoice,
				Free: true, MaxLen: maxNoteLen, Save: keyNote, Then: chooseNote, Skip: quick,
				Choices: []flows.Choice{{ID: "boqua", Label: "team.btn.skip", Words: skipWords}}},
			{Name: "summary", Ask: "team.visit.summary", Help: "team.visit.summary_help", Input: flows.InputChoice,
				Vars: t.summaryVars,
				Choices: []flows.Choice{
					{ID: "luu", Label: "team.btn.save", Words: []string{"gui", "luu", "dong y", "dung roi", "dung", "xac nhan", "ok", "yes", "save", "send", "confirm"},
						Run: t.saveVisit},
					{ID: "sua", Label: "team.btn.edit", Words: []string{"sua", "chinh sua", "sai", "doi", "edit", "change"}, Next: "edit"},
					{ID: "huy", Label: "common.cancel", Next: flows.End},
				}},
			{Name: "edit", Ask: "team.visit.edit", Help: "team.visit.summary_help", Input: flows.InputChoice,
				Choices: []flows.Choice{
					{ID: "ho", Label: "team.field.household", Words: []string{"ho", "nha", "dia chi", "household", "address"}, Run: edit("household")},
					{ID: "noidung", Label: "team.field.areas", Words: []string{"noi dung", "huong dan gi", "linh vuc", "areas", "what"}, Run: edit("areas")},
					{ID: "songuoi", Label: "team.field.people", Words: []string{"so nguoi", "nguoi", "people"}, Run: edit("people")},
					{ID: "thoigian", Label: "team.field.minutes", Words: []string{"thoi gian", "phut", "gio", "time", "minutes"}, Run: edit("minutes")},
					{ID: "anh", Label: "team.field.media", Words: []string{"anh", "hinh", "vi tri", "photo", "location"}, Run: edit("media")},
					{ID: "ghichu", Label: "team.field.note", Words: []string{"ghi chu", "note"}, Run: edit("note")},
				}},
		},
	}
}

// minutesStep asks how long the visit took; then runs after a good answer.
// A typed "2" is two hours, not the second button.
func minutesStep(then func(c *flows.Ctx, in flows.Input) error) *flows.Step {
	return &flows.Step{Name: "minutes", Ask: "team.visit.minutes", Help: "team.visit.minutes_help", Input: flows.InputChoice,
		Free: true, Save: keyMinutes, Parse: readMinutes, Check: checkMinutes, Then: then,
		Choices: []flows.Choice{
			{ID: "15", Label: "team.minutes.15"},
			{ID: "30", Label: "team.minutes.30"},
			{ID: "60", Label: "team.minutes.60"},
			{ID: "90", Label: "team.minutes.90"},
			{ID: "120", Label: "team.minutes.120"},
		}}
}

var skipWords = []string{"bo qua", "skip", "khong co", "khong", "ko", "thoi", "none", "no"}

func edit(step string) func(c *flows.Ctx) error {
	return func(c *flows.Ctx) error {
		c.Edit(step, "summary")
		return nil
	}
}

// quick reports whether the report began as one line: its optional
// questions are skipped.
func quick(c *flows.Ctx) bool { return c.Get(keyQuick) != "" }

// quickHas skips a question that a one-line report already answered.
func quickHas(key string) func(c *flows.Ctx) bool {
	return func(c *flows.Ctx) bool { return quick(c) && c.Get(key) != "" }
}

func withSkip(st *flows.Step, skip func(c *flows.Ctx) bool) *flows.Step {
	st.Skip = skip
	return st
}

// beginVisit checks that the person is a member, picks their team and,
// for a report begun in one line, starts at its first missing answer.
func (t *teamFlows) beginVisit(c *flows.Ctx) error {
	m, ok, err := whoami(c)
	if err != nil {
		return err
	}
	if !ok {
		t.notMember(c)
		c.Done()
		return nil
	}
	if id, ok := id64(c.Get(keyTeam)); !ok || !m.inTeam(id) {
		c.Set(keyTeam, "")
		team, err := t.teamFor(c, m, c.Get(keyHamlet))
		if err != nil {
			return err
		}
		if team == 0 {
			c.Goto("team")
			return nil
		}
		c.Set(keyTeam, itoa(team))
	}
	if err := t.settleHamlet(c); err != nil {
		return err
	}
	return t.resolveHousehold(c)
}

// teamFor returns the team a member reports for: their only team, or the
// one whose hamlet the report names; 0 when they must choose.
func (t *teamFlows) teamFor(c *flows.Ctx, m member, hamlet string) (int64, error) {
	if len(m.teams) == 1 {
		return m.teams[0], nil
	}
	if hamlet == "" {
		return 0, nil
	}
	for _, id := range m.teams {
		same, err := t.teamInHamlet(c, id, hamlet)
		if err != nil {
			return 0, err
		}
		if same {
			return id, nil
		}
	}
	return 0, nil
}

// teamInHamlet reports whether a team's hamlet is the one named ("ấp 3"
// and "3" both name "Ấp 3").
func (t *teamFlows) teamInHamlet(c *flows.Ctx, teamID int64, hamlet string) (bool, error) {
	team, err := t.deps.Teams.Team(c.Context(), teamID)
	if err != nil {
		return false, fmt.Errorf("team: %w", err)
	}
	u, err := t.deps.Places.Unit(c.Context(), team.HamletID)
	if cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("hamlet of team: %w", err)
	}
	return bareHamlet(u.Name) == bareHamlet(hamlet), nil
}

// bareHamlet folds a hamlet's name without its "ấp"/"khóm".
func bareHamlet(name string) string {
	w := vn.Words(name)
	if len(w) > 1 && hamletWords[w[0]] {
		w = w[1:]
	}
	return strings.Join(w, " ")
}

// settleHamlet places a hamlet that a one-line report named. The team's
// own needs nothing; another hamlet of the commune is kept with the
// household ("nhà ông Năm (Ấp Cây Trâm)") so the information is not lost;
// a name the commune does not have is asked about (the "hamlet" step).
func (t *teamFlows) settleHamlet(c *flows.Ctx) error {
	hamlet := c.Get(keyHamlet)
	id, ok := id64(c.Get(keyTeam))
	if hamlet == "" || !ok {
		return nil
	}
	c.Set(keyHamlet, "")
	same, err := t.teamInHamlet(c, id, hamlet)
	if err != nil || same {
		return err
	}
	hamlets, err := t.communeHamlets(c, id)
	if err != nil {
		return err
	}
	for _, u := range hamlets {
		if bareHamlet(u.Name) == bareHamlet(hamlet) {
			if h := c.Get(keyHousehold); h != "" {
				c.Set(keyHousehold, vn.Clip(h+" ("+u.Name+")", maxHouseholdLen))
			}
			c.Set(keyOtherHamlet, "1")
			return nil
		}
	}
	c.Set(keyHamletAsk, hamlet)
	return nil
}

// communeHamlets returns the hamlets of the commune a team works in.
func (t *teamFlows) communeHamlets(c *flows.Ctx, teamID int64) ([]cnsbot.Unit, error) {
	team, err := t.deps.Teams.Team(c.Context(), teamID)
	if err != nil {
		return nil, fmt.Errorf("team: %w", err)
	}
	h, err := t.deps.Places.Unit(c.Context(), team.HamletID)
	if cnsbot.ErrorCode(err) == cnsbot.ENOTFOUND || err == nil && h.ParentID == nil {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("hamlet of team: %w", err)
	}
	hamlets, err := t.deps.Places.Hamlets(c.Context(), *h.ParentID)
	if err != nil {
		return nil, fmt.Errorf("hamlets of commune: %w", err)
	}
	return hamlets, nil
}

// hamletNames are the names of the hamlets of the communes a member's
// teams work in, which a one-line report may name without "ấp".
func (t *teamFlows) hamletNames(c *flows.Ctx, m member) ([]string, error) {
	var names []string
	for _, id := range m.teams {
		hamlets, err := t.communeHamlets(c, id)
		if err != nil {
			return nil, err
		}
		for _, u := range hamlets {
			if !slices.Contains(names, u.Name) {
				names = append(names, u.Name)
			}
		}
	}
	return names, nil
}

// visitHamlets offers the hamlets of the team's commune.
func (t *teamFlows) visitHamlets(c *flows.Ctx) ([]flows.Choice, error) {
	id, _ := id64(c.Get(keyTeam))
	hamlets, err := t.communeHamlets(c, id)
	if err != nil {
		return nil, err
	}
	return flows.PlaceChoices(hamlets), nil
}

// chooseVisitHamlet keeps the hamlet the member meant with the household,
// unless it is the team's own.
func (t *teamFlows) chooseVisitHamlet(c *flows.Ctx, in flows.Input) error {
	c.Set(keyHamletAsk, "")
	id, _ := id64(c.Get(keyTeam))
	same, err := t.teamInHamlet(c, id, in.Choice.Title)
	if err != nil {
		return err
	}
	if same {
		return t.resolveHousehold(c)
	}
	if h := c.Get(keyHousehold); h != "" {
		c.Set(keyHousehold, vn.Clip(h+" ("+in.Choice.Title+")", maxHouseholdLen))
	}
	c.Set(keyOtherHamlet, "1")
	return nil
}

func (t *teamFlows) teamChoices(c *flows.Ctx) ([]flows.Choice, error) {
	m, _, err := whoami(c)
	if err != nil {
		return nil, err
	}
	out := make([]flows.Choice, 0, len(m.teams))
	for _, id := range m.teams {
		team, err := t.deps.Teams.Team(c.Context(), id)
		if err != nil {
			return nil, fmt.Errorf("team: %w", err)
		}
		out = append(out, flows.Choice{ID: "t" + itoa(id), Title: team.Name})
	}
	return out, nil
}

func (t *teamFlows) chooseTeam(c *flows.Ctx, in flows.Input) error {
	c.Set(keyTeam, strings.TrimPrefix(in.Choice.ID, "t"))
	if err := t.settleHamlet(c); err != nil {
		return err
	}
	return t.resolveHousehold(c)
}

// recentChoices suggests the households the member visited last.
func (t *teamFlows) recentChoices(c *flows.Ctx) ([]flows.Choice, error) {
	m, ok, err := whoami(c)
	if err != nil || !ok {
		return nil, err
	}
	recent, err := t.deps.Visits.RecentHouseholds(c.Context(), m.person.ID, 4)
	if err != nil {
		return nil, fmt.Errorf("recent households: %w", err)
	}
	out := make([]flows.Choice, 0, len(recent))
	for i, h := range recent {
		out = append(out, flows.Choice{ID: "h" + strconv.Itoa(i+1), Title: h})
	}
	return out, nil
}

// checkHousehold accepts a household with a letter or digit in it.
func checkHousehold(_ *flows.Ctx, in *flows.Input) string {
	if in.Choice != nil {
		return ""
	}
	in.Text = strings.Join(strings.Fields(in.Text), " ")
	if !strings.ContainsFunc(in.Text, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
		return "team.visit.household_invalid"
	}
	return ""
}

// chooseHousehold keeps a suggested household by its name and reads a
// whole one-line report typed at this question; where the hamlet has a
// household list, it then looks the household up (see resolveHousehold).
func (t *teamFlows) chooseHousehold(c *flows.Ctx, in flows.Input) error {
	forgetListed(c)
	c.Set(keyOtherHamlet, "")
	if err := t.readHousehold(c, in); err != nil {
		return err
	}
	if err := t.resolveHousehold(c); err != nil {
		return err
	}
	if c.Get(keyPick) != "" {
		c.Goto("pick")
	}
	return nil
}

func (t *teamFlows) readHousehold(c *flows.Ctx, in flows.Input) error {
	if in.Choice != nil {
		c.Set(keyHousehold, in.Choice.Title)
		return nil
	}
	// Most answers name a household and nothing else: only a line that
	// also says what was done is a report, worth the commune's hamlets.
	if r, _ := ParseReport(in.Text); len(r.Areas) == 0 && r.People == 0 && r.Minutes == 0 {
		return nil
	}
	m, _, err := whoami(c)
	if err != nil {
		return err
	}
	hamlets, err := t.hamletNames(c, m)
	if err != nil {
		return err
	}
	if r, _ := ParseReport(in.Text, hamlets...); r.Household != "" && (len(r.Areas) > 0 || r.People > 0 || r.Minutes > 0) {
		for k, v := range reportData(r) {
			c.Set(k, v)
		}
		return t.settleHamlet(c)
	}
	return nil
}

// reportData is what a one-line report says, as the visit flow's session
// data; it marks the report as begun in one line (keyQuick).
func reportData(r Report) map[string]string {
	data := map[string]string{keyQuick: "1"}
	set := func(key, value string) {
		if value != "" {
			data[key] = value
		}
	}
	set(keyHousehold, r.Household)
	set(keyAreas, strings.Join(r.Areas, ","))
	if r.People > 0 {
		set(keyPeople, strconv.Itoa(r.People))
	}
	if r.Minutes > 0 {
		set(keyMinutes, strconv.Itoa(r.Minutes))
	}
	set(keyNote, r.Note)
	set(keyHamlet, r.Hamlet)
	return data
}

// selectedAreas returns the areas chosen so far.
func selectedAreas(c *flows.Ctx) []string {
	var out []string
	for a := range strings.SplitSeq(c.Get(keyAreas), ",") {
		if slices.Contains(cnsbot.Areas, a) {
			out = append(out, a)
		}
	}
	return out
}

// areaChoices offers "done" once something is chosen, then the areas not
// chosen yet; tapping one adds it and asks again.
func areaChoices(c *flows.Ctx) ([]flows.Choice, error) {
	chosen := selectedAreas(c)
	var out []flows.Choice
	if len(chosen) > 0 {
		// Pinned: the question says “bấm Xong”, so it is on every page.
		out = append(out, flows.Choice{ID: "xong", Label: "team.btn.done", Pin: true,
			Words: []string{"xong", "xong roi", "du roi", "het", "vay thoi", "done", "finish", "that s all"}})
	}
	for _, a := range cnsbot.Areas {
		if slices.Contains(chosen, a) {
			continue
		}
		out = append(out, flows.Choice{ID: a, Label: "team.area." + a, Words: areaPhrases[a], Run: addArea(a)})
	}
	return out, nil
}

// readAreas reads a typed list of areas ("1 3", "vneid, dvc") and adds
// it to those chosen.
func readAreas(c *flows.Ctx, text string) (string, bool) {
	areas, ok := ParseAreas(text)
	if !ok {
		return "", false
	}
	c.Set(keyAreas, strings.Join(sortAreas(append(selectedAreas(c), areas...)), ","))
	return "", true
}

func addArea(area string) func(c *flows.Ctx) error {
	return func(c *flows.Ctx) error {
		c.Set(keyAreas, strings.Join(sortAreas(append(selectedAreas(c), area)), ","))
		c.Reprompt("")
		return nil
	}
}

// areaVars shows the numbered list of areas until something is chosen,
// then what is chosen.
func areaVars(c *flows.Ctx) map[string]any {
	chosen := selectedAreas(c)
	list := ""
	if len(chosen) == 0 {
		var b strings.Builder
		for i, a := range cnsbot.Areas {
			if i > 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "%d. %s", i+1, c.T("team.area."+a, nil))
		}
		list = b.String()
	}
	return map[string]any{"list": list, "chosen": areaNames(c.T, chosen)}
}

// areaNames lists areas by their names in a language.
func areaNames(tr func(string, map[string]any) string, areas []string) string {
	names := make([]string, 0, len(areas))
	for _, a := range areas {
		names = append(names, tr("team.area."+a, nil))
	}
	return strings.Join(names, ", ")
}

var peopleChoices = []flows.Choice{
	{ID: "1", Label: "team.people.1"},
	{ID: "2", Label: "team.people.2"},
	{ID: "3", Label: "team.people.3"},
	{ID: "4", Label: "team.people.4"},
}

func checkPeople(_ *flows.Ctx, in *flows.Input) string {
	if in.Choice != nil {
		return ""
	}
	n, ok := ParsePeople(in.Text)
	if !ok {
		return "team.visit.people_invalid"
	}
	in.Text = strconv.Itoa(n)
	return ""
}

// readMinutes reads a typed duration ("2" is two hours, "45p", "1 tiếng
// rưỡi").
func readMinutes(_ *flows.Ctx, text string) (string, bool) {
	m, ok := ParseDuration(text)
	if !ok {
		return "", false
	}
	return strconv.Itoa(m), true
}

func checkMinutes(_ *flows.Ctx, in *flows.Input) string {
	if in.Choice != nil {
		return ""
	}
	m, ok := ParseDuration(in.Text)
	if !ok {
		return "team.visit.minutes_invalid"
	}
	in.Text = strconv.Itoa(m)
	return ""
}

// mediaChoices is one button: "skip" until something is attached, "next"
// after.
func mediaChoices(c *flows.Ctx) ([]flows.Choice, error) {
	label := "team.btn.skip"
	if c.Get(keyPhoto) != "" || c.Get(keyLat) != "" {
		label = "team.btn.next"
	}
	return []flows.Choice{{ID: "tiep", Label: label,
		Words: append([]string{"tiep", "tiep tuc", "xong", "next", "continue", "done"}, skipWords...)}}, nil
}

func mediaVars(c *flows.Ctx) map[string]any {
	return map[string]any{"attached": attachedText(c)}
}

// attachedText says what is attached to the report so far, or "".
func attachedText(c *flows.Ctx) string {
	var parts []string
	if c.Get(keyPhoto) != "" {
		parts = append(parts, c.T("team.visit.has_photo", nil))
	}
	if c.Get(keyLat) != "" {
		parts = append(parts, c.T("team.visit.has_location", nil))
	}
	return strings.Join(parts, ", ")
}

// chooseNote keeps no note when the member skipped it.
func chooseNote(c *flows.Ctx, in flows.Input) error {
	if in.Choice != nil {
		c.Set(keyNote, "")
	}
	return nil
}

// onMedia keeps a photo or location sent while a member fills in a report.
// Outside a report, a member's location is where they stand
// (memberLocation).
func (t *teamFlows) onMedia(c *flows.Ctx) (bool, error) {
	if c.Event.IsGroup() {
		return false, nil
	}
	if c.FlowName() != FlowVisit {
		return t.memberLocation(c)
	}
	lead := ""
	for _, a := range c.Event.Attachments {
		switch {
		case a.Type == "image" && a.URL != "":
			c.Set(keyPhoto, a.URL)
			lead = "team.visit.photo_kept"
		case a.Type == "location" && (a.Latitude != 0 || a.Longitude != 0):
			c.Set(keyLat, strconv.FormatFloat(a.Latitude, 'f', -1, 64))
			c.Set(keyLng, strconv.FormatFloat(a.Longitude, 'f', -1, 64))
			lead = "team.visit.location_kept"
			// The member stands at the door: the next houses are
			// nearest from here.
			if m, ok, err := whoami(c); err == nil && ok {
				t.shareHere(c, m.person.ID, cnsbot.Place{Lat: a.Latitude, Lng: a.Longitude})
			}
		}
	}
	if lead == "" {
		return false, nil
	}
	c.Reprompt(c.T(lead, nil))
	return true, nil
}

func (t *teamFlows) summaryVars(c *flows.Ctx) map[string]any {
	team := ""
	if id, ok := id64(c.Get(keyTeam)); ok {
		if tm, err := t.deps.Teams.Team(c.Context(), id); err == nil {
			team = tm.Name
		}
	}
	minutes, _ := strconv.Atoi(c.Get(keyMinutes))
	return map[string]any{
		"team":      team,
		"household": c.Get(keyHousehold) + householdNote(c),
		"people":    c.Get(keyPeople),
		"note":      c.Get(keyNote),
		"areas":     areaNames(c.T, selectedAreas(c)),
		"time":      durationText(c.T, minutes),
		"attached":  attachedText(c),
	}
}

// durationText writes minutes as "45 phút" or "1 giờ 30 phút".
func durationText(tr func(string, map[string]any) string, minutes int) string {
	h, m := minutes/60, minutes%60
	switch {
	case h == 0:
		return tr("team.duration.minutes", map[string]any{"m": m})
	case m == 0:
		return tr("team.duration.hours", map[string]any{"h": h})
	}
	return tr("team.duration.both", map[string]any{"h": h, "m": m})
}

// saveVisit records the report, idempotently on the confirming event, and
// answers with the member's week and the team's progress.
func (t *teamFlows) saveVisit(c *flows.Ctx) error {
	ctx := c.Context()
	m, ok, err := whoami(c)
	if err != nil {
		return err
	}
	teamID, _ := id64(c.Get(keyTeam))
	if !ok || !m.inTeam(teamID) {
		t.notMember(c)
		c.Done()
		return nil
	}
	people, _ := strconv.Atoi(c.Get(keyPeople))
	minutes, _ := strconv.Atoi(c.Get(keyMinutes))
	lat, _ := strconv.ParseFloat(c.Get(keyLat), 64)
	lng, _ := strconv.ParseFloat(c.Get(keyLng), 64)
	v := cnsbot.Visit{
		PersonID: m.person.ID, TeamID: teamID, Household: c.Get(keyHousehold), Areas: c.Get(keyAreas),
		People: people, Minutes: minutes, PhotoURL: c.Get(keyPhoto), Latitude: lat, Longitude: lng,
		Note: c.Get(keyNote), VisitedAt: c.Now(), SourceEvent: c.Event.Key,
	}
	if err := t.visitHousehold(c, &v, m.person.ID); err != nil {
		return err
	}
	if _, err := t.deps.Visits.RecordVisit(ctx, &v); err != nil {
		if cnsbot.ErrorCode(err) == cnsbot.EINVALID {
			t.deps.log().WarnContext(ctx, "visit refused", "err", err)
			c.Reply(c.T("team.visit.refused", nil), c.Button("team.btn.edit", "sua"))
			c.Stay()
			return nil
		}
		return fmt.Errorf("record visit: %w", err)
	}
	team, err := t.deps.Teams.Team(ctx, teamID)
	if err != nil {
		return fmt.Errorf("team: %w", err)
	}
	text, err := t.afterReport(ctx, c.Lang(), c.T("team.visit.saved", map[string]any{"household": v.Household}),
		m.person.ID, team, c.Now())
	if err != nil {
		return err
	}
	c.Reply(text, c.Button("team.btn.another", cmdReport), c.Button("common.menu", "menu"))
	c.Done()
	return nil
}

// reportCommand starts a visit report: "bc" or "báo cáo thăm hộ" step by
// step, "bc ấp 3, nhà ông Năm, vneid+dvc, 2 người, 30p" in one line.
func (t *teamFlows) reportCommand(c *flows.Ctx, args string) (bool, error) {
	args = strings.TrimSpace(args)
	if w := vn.Words(args); len(w) > 0 && (w[0] == "quy" || w[0] == "quarter") {
		// "báo cáo quý 3" is the quarter's report (flows/reports).
		return false, nil
	}
	m, ok, err := whoami(c)
	if err != nil {
		return false, err
	}
	if !ok {
		// People on a roster, and the members' own words, get the
		// members-only answer; a resident's "báo cáo" may mean something
		// else.
		_, _, onRoster, _ := c.Person()
		if f := vn.Fold(c.Event.Text); args != "" || !onRoster && f != cmdReport && f != "bao cao tham ho" {
			return false, nil
		}
		t.notMember(c)
		return true, nil
	}
	var data map[string]string
	if args != "" {
		hamlets, err := t.hamletNames(c, m)
		if err != nil {
			return false, err
		}
		r, _ := ParseReport(args, hamlets...)
		if len(r.Missing()) > 0 {
			// Say what was read, so the questions that follow make sense.
			c.Reply(c.T("team.visit.understood", map[string]any{"report": t.reportText(c, r)}))
		}
		data = reportData(r)
	}
	c.Start(FlowVisit, "", data)
	return true, nil
}

// reportLine matches a one-line report clear enough to start one even
// while another question is being answered: it says at least the
// household and most of the rest.
func reportLine(text string) (string, bool) {
	args, ok := matchReport(text)
	if !ok || strings.TrimSpace(args) == "" {
		return "", false
	}
	r, _ := ParseReport(args)
	return args, len(r.Missing()) <= 2
}

var matchReport = flows.Prefix(reportWords...)
