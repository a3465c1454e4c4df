package main

import (
	"context"
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/bot/zaloevent"
	"github.com/camau-cns/cnsbot/bot/zalotest"
)

// The takeover of issue 11, played through the real webhook: a stranger
// types the phone of a leader who has not enrolled yet (Tuấn, Ấp 2) and
// says "đúng rồi", then tries what a leader can do. Before enrolment had
// to be proven, the stranger became Tuấn, read the open requests, took one
// with the resident's name and phone, and linked the team's Zalo group to
// their own. Then Tuấn enrols the proper way, by sharing his Zalo number.
const (
	zStranger = "8421000000000000666"
	zTuan     = "5630211893524180005"
	gStranger = "8423195712086419666"
)

func TestEndToEndTypedLeaderPhoneTakesNothingOver(t *testing.T) {
	ts := startTranscriptServer(t)
	ctx := context.Background()
	db := ts.s.db
	tuan, _, err := db.PersonByPhone(ctx, "0355678901")
	if err != nil {
		t.Fatal(err)
	}
	teams, err := db.TeamsOfHamlet(ctx, hamletID(t, ts, "Ấp 2"))
	if err != nil || len(teams) == 0 {
		t.Fatalf("teams of Ấp 2: %v %v", teams, err)
	}
	ap2 := teams[0]
	req := cnsbot.HelpRequest{ResidentUserID: zResident, Name: "Nguyễn Thị Lan", Phone: "+84939123456", HamletID: ap2.HamletID,
		Topic: cnsbot.AreaVNeIDInstall, Problem: "Cài VNeID cho mẹ", PreferredTime: "Buổi sáng", SourceEvent: "seed-takeover"}
	if err := db.CreateHelpRequest(ctx, &req); err != nil {
		t.Fatal(err)
	}

	say := func(user, text string) []zalotest.Sent {
		t.Helper()
		before := len(ts.z.MessagesTo(user))
		ts.send(t, e2eZalo.Text(user, ts.msgID(), text, ts.at()))
		ts.settle(t)
		return ts.z.MessagesTo(user)[before:]
	}
	for _, text := range []string{"đăng ký", "0355 678 901", "đúng rồi", "#dungroi", "#nhoduyet", "an xuyen", "ấp 2", "Phạm Minh Tuấn",
		"yêu cầu", "nhận " + req.Code, "tiến độ"} {
		for _, m := range say(zStranger, text) {
			for _, secret := range []string{"Phạm Minh Tuấn", "• Tổ trưởng", "Nguyễn Thị Lan", "0939", req.Code} {
				if strings.Contains(m.Text, secret) {
					t.Errorf("after %q the stranger read %q: %s", text, secret, m.Text)
				}
			}
		}
	}
	// The stranger's own group, linked with Ấp 2's code.
	ts.send(t, e2eZalo.GroupText(zStranger, gStranger, ts.msgID(), "#lienket "+ap2.Code, ts.at()))
	ts.settle(t)

	if _, _, err := db.PersonByZalo(ctx, zStranger); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
		t.Errorf("the stranger is on the roster: %v", err)
	}
	if p, _, _ := db.PersonByPhone(ctx, "0355678901"); p.ZaloUserID != nil {
		t.Errorf("Tuấn is linked to %s", *p.ZaloUserID)
	}
	if tm, _ := db.Team(ctx, ap2.ID); tm.GroupID == gStranger {
		t.Error("the stranger linked Ấp 2's team to their own group")
	}
	if r, _ := db.HelpRequestByCode(ctx, req.Code); r.Status != cnsbot.HelpOpen {
		t.Errorf("the request is %s, want it still open", r.Status)
	}

	// Tuấn enrols by sharing his Zalo number, and is the leader.
	say(zTuan, "đăng ký")
	ts.send(t, e2eZalo.SubmitInfo(zTuan, zaloevent.Info{Name: "Phạm Minh Tuấn", Phone: "84355678901"}, ts.at()))
	ts.settle(t)
	if out := say(zTuan, "đúng rồi"); !strings.Contains(texts(out), "Tổ CNSCĐ Ấp 2") {
		t.Errorf("Tuấn's welcome: %s", texts(out))
	}
	if p, _, err := db.PersonByZalo(ctx, zTuan); err != nil || p.ID != tuan.ID {
		t.Fatalf("Tuấn's Zalo is %+v, %v", p, err)
	}
	if out := say(zTuan, "yêu cầu"); !strings.Contains(texts(out), req.Code) {
		t.Errorf("Tuấn does not see his hamlet's request: %s", texts(out))
	}
}

// The same for a commune officer (Danh, Tân Thành), whose role sees the
// commune's reports.
func TestEndToEndTypedOfficerPhoneTakesNothingOver(t *testing.T) {
	ts := startTranscriptServer(t)
	ctx := context.Background()
	for _, text := range []string{"đăng ký", "0932 771 155", "đúng rồi", "#nhoduyet", "tan thanh", "khóm 1", "Trương Công Danh",
		"báo cáo quý"} {
		before := len(ts.z.MessagesTo(zStranger))
		ts.send(t, e2eZalo.Text(zStranger, ts.msgID(), text, ts.at()))
		ts.settle(t)
		for _, m := range ts.z.MessagesTo(zStranger)[before:] {
			if strings.Contains(m.Text, "Trương Công Danh") || strings.Contains(m.Text, "• Cán bộ") {
				t.Errorf("after %q the stranger read: %s", text, m.Text)
			}
		}
	}
	if _, _, err := ts.s.db.PersonByZalo(ctx, zStranger); cnsbot.ErrorCode(err) != cnsbot.ENOTFOUND {
		t.Errorf("the stranger is on the roster: %v", err)
	}
}

func hamletID(t *testing.T, ts *transcriptServer, name string) int64 {
	t.Helper()
	ctx := context.Background()
	commune, err := ts.s.db.FindUnit(ctx, cnsbot.UnitCommune, nil, "An Xuyên")
	if err != nil {
		t.Fatal(err)
	}
	h, err := ts.s.db.FindUnit(ctx, cnsbot.UnitHamlet, &commune.ID, name)
	if err != nil {
		t.Fatal(err)
	}
	return h.ID
}

func texts(msgs []zalotest.Sent) string {
	var parts []string
	for _, m := range msgs {
		parts = append(parts, m.Text)
	}
	return strings.Join(parts, "\n")
}
