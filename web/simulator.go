package web

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/camau-cns/cnsbot/bot"
	"github.com/camau-cns/cnsbot/bot/zaloevent"
	"github.com/camau-cns/cnsbot/calendar"
)

// Persona is someone the simulator lets a visitor be: a resident, a team
// member, a leader, or a team's Zalo group (where a member or the leader
// speaks).
type Persona struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	// Role is the message id of the persona's role label.
	Role string `json:"-"`
	// ZaloUserID is a person's id; GroupID a group's.
	ZaloUserID string `json:"-"`
	GroupID    string `json:"-"`
	// Phone (E.164), Address and City are what a person shares through
	// the request_user_info form.
	Phone   string `json:"-"`
	Address string `json:"-"`
	City    string `json:"-"`
	// Speakers are the keys of the personas who write in a group.
	Speakers []string `json:"speakers,omitempty"`
}

func (p Persona) group() bool { return p.GroupID != "" }

// Reply is a message the bot sent, as the fake Zalo recorded it.
type Reply struct {
	UserID   string
	GroupID  string
	Kind     string // text, list, request_info, image
	Text     string
	Subtitle string
	ImageURL string
	Buttons  []ReplyButton
	Time     time.Time
}

// ReplyButton is a list-template button.
type ReplyButton struct {
	Title   string `json:"title"`
	Payload string `json:"payload,omitempty"`
	URL     string `json:"url,omitempty"`
	Phone   string `json:"phone,omitempty"`
}

// SimConfig configures the simulator. AppID, SecretKey, OAID, Personas,
// Texts and Location are required.
type SimConfig struct {
	// AppID and SecretKey sign the events exactly as Zalo would; OAID is
	// the Official Account's id, the recipient of users' messages.
	AppID, SecretKey, OAID string
	Personas               []Persona
	Texts                  Texts
	Location               *time.Location
	// Clock, when set, turns on the demo clock's controls: the jumps to a
	// deadline and "run reminders now". Leave it nil on a database with
	// real people: reminders claimed at a moved time count as sent.
	Clock Clock
	// Schedule returns the reporting calendar in force, for the clock's
	// jumps to a deadline.
	Schedule func(ctx context.Context) (calendar.Schedule, error)
	// RunReminders runs the reminder pass as of now.
	RunReminders func(ctx context.Context, now time.Time) error
	// AdminToken, when set, is shown on the page: it is the token generated
	// for a demo, never one an operator configured.
	AdminToken string
	// Names, when set, names the people and groups the bot writes to who
	// are not personas, for the page's list of those messages.
	Names func(ctx context.Context, id string) string
	// WebhookURL, when set, is where events go; by default the server's own
	// /webhooks/zalo at the local address the page's request arrived on.
	WebhookURL string
	Client     *http.Client
	Log        *slog.Logger
}

// maxTranscript is how many messages a chat keeps.
const maxTranscript = 400

// othersChat collects the bot's messages to people who are not personas.
const othersChat = "others"

// Message is one bubble of a simulated chat.
type Message struct {
	Seq  int64  `json:"seq"`
	Chat string `json:"chat"`
	// From is "bot", or the key of the persona who wrote.
	From string `json:"from"`
	// Name is the writer's name, shown above bubbles in groups.
	Name     string        `json:"name,omitempty"`
	Kind     string        `json:"kind"` // text, list, request_info, image, shared, notice
	Text     string        `json:"text,omitempty"`
	Subtitle string        `json:"subtitle,omitempty"`
	ImageURL string        `json:"image_url,omitempty"`
	Buttons  []ReplyButton `json:"buttons,omitempty"`
	// To names the recipient of a message in the others chat.
	To   string    `json:"to,omitempty"`
	Time time.Time `json:"time"`
}

// Simulator is the chat page at "/": it turns what a visitor types into
// signed Zalo webhook events, posts them to the server's own webhook, and
// shows the replies the bot sent to the fake Zalo. Nothing is simulated
// inside the flows.
type Simulator struct {
	cfg      SimConfig
	personas map[string]Persona
	order    []string
	byID     map[string]string // Zalo user or group id → persona key
	page     *template.Template
	client   *http.Client
	log      *slog.Logger

	done     chan struct{}
	stopOnce sync.Once

	mu       sync.Mutex
	seq      int64
	chats    map[string][]Message
	followed map[string]bool
	changed  chan struct{}
}

// NewSimulator returns a simulator for the personas.
func NewSimulator(cfg SimConfig) (*Simulator, error) {
	if cfg.AppID == "" || cfg.SecretKey == "" || cfg.OAID == "" || cfg.Texts == nil || cfg.Location == nil {
		return nil, errors.New("web: the simulator needs an app id, a secret key, an OA id, texts and a location")
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	page, err := template.New("").Funcs(funcs(cfg.Texts, cfg.Location)).ParseFS(templateFiles, "templates/simulator.html")
	if err != nil {
		return nil, fmt.Errorf("parse simulator page: %w", err)
	}
	s := &Simulator{cfg: cfg, personas: map[string]Persona{}, byID: map[string]string{}, page: page,
		client: cfg.Client, log: cfg.Log, chats: map[string][]Message{}, followed: map[string]bool{}, changed: make(chan struct{}),
		done: make(chan struct{})}
	for _, p := range cfg.Personas {
		if p.Key == "" || p.Key == othersChat || (p.ZaloUserID == "") == (p.GroupID == "") {
			return nil, fmt.Errorf("web: persona %q needs a key and exactly one of a Zalo user id and a group id", p.Key)
		}
		s.personas[p.Key] = p
		s.order = append(s.order, p.Key)
		s.byID[p.ZaloUserID+p.GroupID] = p.Key
	}
	for _, p := range cfg.Personas {
		for _, sp := range p.Speakers {
			if q, ok := s.personas[sp]; !ok || q.group() {
				return nil, fmt.Errorf("web: group %q: speaker %q is not a person", p.Key, sp)
			}
		}
	}
	return s, nil
}

// Register adds the page at "/" and its API under /sim/api.
func (s *Simulator) Register(r gin.IRouter) {
	r.GET("/", s.index)
	api := r.Group("/sim/api", requireJSON)
	api.GET("/messages", s.messages)
	api.POST("/open", s.open)
	api.POST("/send", s.send)
	api.POST("/share", s.share)
	if s.cfg.Clock != nil {
		api.GET("/clock", s.clock)
		api.POST("/clock", s.setClock)
		api.POST("/reminders", s.reminders)
	}
}

// requireJSON refuses state-changing requests that are not JSON: a
// cross-site form cannot send application/json without a preflight.
func requireJSON(c *gin.Context) {
	if c.Request.Method != http.MethodGet && !strings.HasPrefix(c.GetHeader("Content-Type"), "application/json") {
		c.AbortWithStatusJSON(http.StatusUnsupportedMediaType, gin.H{"error": "send application/json"})
		return
	}
	c.Next()
}

// Capture records a message the bot sent. The fake Zalo calls it for every
// message it accepts.
func (s *Simulator) Capture(r Reply) {
	m := Message{From: "bot", Kind: r.Kind, Text: r.Text, Subtitle: r.Subtitle, ImageURL: r.ImageURL, Buttons: r.Buttons, Time: r.Time}
	id := r.UserID + r.GroupID
	if key, ok := s.byID[id]; ok {
		m.Chat = key
	} else {
		m.Chat, m.To = othersChat, id
		if s.cfg.Names != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			m.Name = s.cfg.Names(ctx, id)
			cancel()
		}
	}
	if m.Time.IsZero() {
		m.Time = time.Now()
	}
	s.add(m)
}

func (s *Simulator) add(m Message) Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	m.Seq = s.seq
	chat := append(s.chats[m.Chat], m)
	if len(chat) > maxTranscript {
		chat = chat[len(chat)-maxTranscript:]
	}
	s.chats[m.Chat] = chat
	close(s.changed)
	s.changed = make(chan struct{})
	return m
}

// Shutdown ends the long polls at once (and makes later ones answer
// without waiting), so that a server shutting down does not wait for them.
func (s *Simulator) Shutdown() { s.stopOnce.Do(func() { close(s.done) }) }

// Messages returns a copy of a chat's transcript.
func (s *Simulator) Messages(chat string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.chats[chat]...)
}

// since returns every message after seq, in order.
func (s *Simulator) since(seq int64) []Message {
	var out []Message
	for _, chat := range s.chats {
		for _, m := range chat {
			if m.Seq > seq {
				out = append(out, m)
			}
		}
	}
	slices.SortFunc(out, func(a, b Message) int { return cmp.Compare(a.Seq, b.Seq) })
	return out
}

// pollWait is how long a messages request waits for something new.
const pollWait = 20 * time.Second

// messages answers every message after ?after=, waiting up to pollWait
// for one when ?wait=1 and there is none yet (a long poll).
func (s *Simulator) messages(c *gin.Context) {
	after, _ := strconv.ParseInt(c.Query("after"), 10, 64)
	wait := c.Query("wait") == "1"
	timer := time.NewTimer(pollWait)
	defer timer.Stop()
	for {
		s.mu.Lock()
		msgs, seq, ch := s.since(after), s.seq, s.changed
		s.mu.Unlock()
		if len(msgs) > 0 || !wait || seq < after {
			c.JSON(http.StatusOK, gin.H{"seq": seq, "messages": nonNil(msgs)})
			return
		}
		select {
		case <-ch:
		case <-timer.C:
			c.JSON(http.StatusOK, gin.H{"seq": seq, "messages": []Message{}})
			return
		case <-s.done:
			c.JSON(http.StatusOK, gin.H{"seq": seq, "messages": []Message{}})
			return
		case <-c.Request.Context().Done():
			return
		}
	}
}

// simPage is what the page template reads.
type simPage struct {
	Lang, OtherLang string
	Personas        []personaView
	Clock           bool
	AdminToken      string
	Texts           template.JS
}

type personaView struct {
	Persona
	RoleLabel string
	Initials  string
	Speakers  []personaView
}

func (s *Simulator) index(c *gin.Context) {
	lang := pageLang(c, s.cfg.Texts)
	other := "en"
	if lang == "en" {
		other = "vi"
	}
	pg := simPage{Lang: lang, OtherLang: other, AdminToken: s.cfg.AdminToken, Clock: s.cfg.Clock != nil}
	view := func(p Persona) personaView {
		return personaView{Persona: p, RoleLabel: s.cfg.Texts.T(lang, p.Role, nil), Initials: initials(p.Name)}
	}
	for _, k := range s.order {
		v := view(s.personas[k])
		for _, sp := range v.Persona.Speakers {
			v.Speakers = append(v.Speakers, view(s.personas[sp]))
		}
		pg.Personas = append(pg.Personas, v)
	}
	// The script's words, rendered here so that they too come from the
	// locale files.
	words := map[string]string{}
	for _, id := range []string{"share", "typing", "bot", "reminders_done", "form", "open_link", "call"} {
		words[id] = s.cfg.Texts.T(lang, "web.sim.js."+id, nil)
	}
	b, _ := json.Marshal(words)
	pg.Texts = template.JS(b)
	var out bytes.Buffer
	if err := s.page.ExecuteTemplate(&out, "simulator", pg); err != nil {
		s.log.Error("render simulator", "err", err)
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	c.Header("Content-Security-Policy", "default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, "text/html; charset=utf-8", out.Bytes())
}

// initials are the two letters of a persona's avatar: the given name's
// first letter, after the family name's.
func initials(name string) string {
	f := strings.Fields(name)
	if len(f) == 0 {
		return "?"
	}
	first, _ := utf8.DecodeRuneInString(f[0])
	last, _ := utf8.DecodeRuneInString(f[len(f)-1])
	if len(f) == 1 {
		return string(first)
	}
	return string(first) + string(last)
}

type personaRequest struct {
	Persona string `json:"persona"`
	// Text is what was typed, or a tapped button's payload.
	Text string `json:"text"`
	// Label is the tapped button's title, shown in the bubble.
	Label string `json:"label"`
	// Speaker is who writes in a group.
	Speaker string `json:"speaker"`
}

func (s *Simulator) decode(c *gin.Context) (personaRequest, Persona, bool) {
	var req personaRequest
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 16<<10))
	if err := dec.Decode(&req); err != nil {
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": "invalid JSON body"})
		return req, Persona{}, false
	}
	p, ok := s.personas[req.Persona]
	if !ok {
		c.AbortWithStatusJSON(http.StatusNotFound, gin.H{"error": "unknown persona"})
		return req, Persona{}, false
	}
	return req, p, true
}

// open sends a follow event the first time a person's chat is opened, as
// Zalo does when someone follows the OA.
func (s *Simulator) open(c *gin.Context) {
	_, p, ok := s.decode(c)
	if !ok {
		return
	}
	if p.group() {
		c.JSON(http.StatusOK, gin.H{"followed": false})
		return
	}
	s.mu.Lock()
	first := !s.followed[p.Key]
	s.followed[p.Key] = true
	s.mu.Unlock()
	if !first {
		c.JSON(http.StatusOK, gin.H{"followed": false})
		return
	}
	if err := s.post(c, s.oa().Follow(p.ZaloUserID, time.Now())); err != nil {
		s.mu.Lock()
		delete(s.followed, p.Key)
		s.mu.Unlock()
		s.refuse(c, p.Key, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"followed": true})
}

// send turns typed text (or a tapped button's payload) into
// user_send_text, or user_send_group_text in a group.
func (s *Simulator) send(c *gin.Context) {
	req, p, ok := s.decode(c)
	if !ok {
		return
	}
	text := strings.TrimSpace(req.Text)
	if text == "" || utf8.RuneCountInString(text) > 2000 {
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": "text must have 1 to 2000 characters"})
		return
	}
	shown := text
	if l := strings.TrimSpace(req.Label); l != "" {
		shown = l
	}
	var ev zaloevent.Event
	me := Message{Chat: p.Key, From: p.Key, Kind: "text", Text: shown, Time: time.Now()}
	if p.group() {
		sp, ok := s.personas[req.Speaker]
		if !ok || !slices.Contains(p.Speakers, req.Speaker) {
			c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": "choose who writes in the group"})
			return
		}
		ev = s.oa().GroupText(sp.ZaloUserID, p.GroupID, msgID(), text, time.Now())
		me.From, me.Name = sp.Key, sp.Name
	} else {
		ev = s.oa().Text(p.ZaloUserID, msgID(), text, time.Now())
	}
	m := s.add(me)
	if err := s.post(c, ev); err != nil {
		s.refuse(c, p.Key, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"seq": m.Seq})
}

// share answers a request_user_info form with the persona's name, phone
// and address: user_submit_info.
func (s *Simulator) share(c *gin.Context) {
	_, p, ok := s.decode(c)
	if !ok {
		return
	}
	if p.group() {
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": "a group cannot share a person's information"})
		return
	}
	info := zaloevent.Info{Name: p.Name, Phone: strings.TrimPrefix(p.Phone, "+"), Address: p.Address, City: p.City}
	ev := s.oa().SubmitInfo(p.ZaloUserID, info, time.Now())
	lang := pageLang(c, s.cfg.Texts)
	m := s.add(Message{Chat: p.Key, From: p.Key, Kind: "shared", Time: time.Now(),
		Text: s.cfg.Texts.T(lang, "web.sim.shared", map[string]any{"Name": p.Name, "Phone": displayPhone(p.Phone)})})
	if err := s.post(c, ev); err != nil {
		s.refuse(c, p.Key, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"seq": m.Seq})
}

// refuse tells the page (and the chat) that an event did not get in.
func (s *Simulator) refuse(c *gin.Context, chat string, err error) {
	s.log.Warn("simulator: event not accepted", "err", err)
	lang := pageLang(c, s.cfg.Texts)
	s.add(Message{Chat: chat, From: "bot", Kind: "notice", Time: time.Now(), Text: s.cfg.Texts.T(lang, "web.sim.failed", nil)})
	c.AbortWithStatusJSON(http.StatusBadGateway, gin.H{"error": "the webhook did not accept the event"})
}

// oa is the Official Account the simulated residents write to.
func (s *Simulator) oa() zaloevent.OA {
	return zaloevent.OA{AppID: s.cfg.AppID, OAID: s.cfg.OAID, SecretKey: s.cfg.SecretKey}
}

func msgID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// post signs an event as Zalo does and posts it to the server's webhook.
func (s *Simulator) post(c *gin.Context, ev zaloevent.Event) error {
	body, mac := s.oa().Sign(ev)
	url := s.cfg.WebhookURL
	if url == "" {
		addr, ok := c.Request.Context().Value(http.LocalAddrContextKey).(net.Addr)
		if !ok {
			return errors.New("the server's own address is unknown")
		}
		url = "http://" + addr.String() + bot.WebhookPath
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 5*time.Second)
	defer cancel()
	req, err := zaloevent.NewRequest(ctx, url, body, mac)
	if err != nil {
		return fmt.Errorf("post event: %w", err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("post event: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("post event: webhook answered %d", resp.StatusCode)
	}
	return nil
}

// displayPhone writes "+84912345678" the way people read it: "0912 345 678".
func displayPhone(e164 string) string {
	d, ok := strings.CutPrefix(e164, "+84")
	if !ok || len(d) != 9 {
		return e164
	}
	return "0" + d[:3] + " " + d[3:6] + " " + d[6:]
}

// clockView is the demo clock as the page shows it.
type clockView struct {
	Now      string `json:"now"`
	Shifted  bool   `json:"shifted"`
	Offset   string `json:"offset,omitempty"`
	Deadline string `json:"deadline,omitempty"`
	Key      string `json:"key,omitempty"`
	Seven    string `json:"seven,omitempty"`
	One      string `json:"one,omitempty"`
}

// jumps are the clock's targets: a minute after the reminders of the next
// team deadline are due, 7 and 1 days before it.
type jumps struct {
	deadline   calendar.Deadline
	seven, one time.Time
}

// nextJumps finds the next team → commune deadline whose 7-day reminder is
// still ahead in real time, so that both jumps go to the same deadline.
func (s *Simulator) nextJumps(ctx context.Context) (jumps, bool, error) {
	if s.cfg.Schedule == nil {
		return jumps{}, false, nil
	}
	sched, err := s.cfg.Schedule(ctx)
	if err != nil {
		return jumps{}, false, err
	}
	loc := s.cfg.Location
	now := time.Now().In(loc)
	at := func(d calendar.Deadline, days int) time.Time {
		day := d.Before.AddDate(0, 0, -days)
		return time.Date(day.Year(), day.Month(), day.Day(), sched.Hour, 1, 0, 0, loc)
	}
	for y := now.Year(); y <= now.Year()+1; y++ {
		for _, d := range sched.Deadlines(y, loc) {
			if d.From != calendar.LevelTeam {
				continue
			}
			if j := (jumps{deadline: d, seven: at(d, 7), one: at(d, 1)}); j.seven.After(now) {
				return j, true, nil
			}
		}
	}
	return jumps{}, false, nil
}

func (s *Simulator) clockView(c *gin.Context) (clockView, error) {
	lang := pageLang(c, s.cfg.Texts)
	now := s.cfg.Clock.Now().In(s.cfg.Location)
	v := clockView{Now: now.Format("02/01/2006 15:04")}
	if off := now.Sub(time.Now()); off.Abs() > time.Minute {
		v.Shifted = true
		sign := "+"
		if off < 0 {
			sign = "−"
		}
		v.Offset = sign + age(s.cfg.Texts, lang, off.Abs().Round(time.Minute))
	}
	j, ok, err := s.nextJumps(c.Request.Context())
	if err != nil {
		return v, err
	}
	if ok {
		v.Key = j.deadline.Key()
		v.Deadline = j.deadline.LastDay().Format("02/01/2006")
		v.Seven, v.One = j.seven.Format("02/01/2006 15:04"), j.one.Format("02/01/2006 15:04")
	}
	return v, nil
}

func (s *Simulator) clock(c *gin.Context) {
	v, err := s.clockView(c)
	if err != nil {
		s.log.Error("simulator clock", "err", err)
		c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "internal error"})
		return
	}
	c.JSON(http.StatusOK, v)
}

// setClock moves the demo clock: {"to":"7d"}, {"to":"1d"} or {"to":"now"}.
func (s *Simulator) setClock(c *gin.Context) {
	var req struct {
		To string `json:"to"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 1024)).Decode(&req); err != nil {
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": "invalid JSON body"})
		return
	}
	switch req.To {
	case "now":
		s.cfg.Clock.SetOffset(0)
	case "7d", "1d":
		j, ok, err := s.nextJumps(c.Request.Context())
		if err != nil || !ok {
			s.log.Error("simulator clock: no deadline to jump to", "err", err)
			c.AbortWithStatusJSON(http.StatusConflict, gin.H{"error": "no deadline ahead"})
			return
		}
		target := j.seven
		if req.To == "1d" {
			target = j.one
		}
		s.cfg.Clock.SetOffset(time.Until(target))
	default:
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": `to must be "7d", "1d" or "now"`})
		return
	}
	s.clock(c)
}

// reminders runs the reminder pass now, by the demo clock.
func (s *Simulator) reminders(c *gin.Context) {
	if s.cfg.RunReminders == nil {
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": "reminders are not available"})
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), time.Minute)
	defer cancel()
	if err := s.cfg.RunReminders(ctx, s.cfg.Clock.Now()); err != nil {
		s.log.Error("simulator: reminder pass", "err", err)
		c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "the reminder pass failed"})
		return
	}
	s.clock(c)
}
