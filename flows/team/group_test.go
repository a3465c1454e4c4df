package team_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/flows/flowstest"
)

// chatter is what a team's group says all day: none of it addresses the
// bot, so none of it gets a reply. It includes the words that look like
// commands or the bot's name without being either.
var chatter = []string{
	"Chào cả nhà, sáng nay mình đi ấp 1 nha",
	"ok",
	"Ok anh",
	"👍",
	"Tiến độ làm đường sao rồi mọi người?",
	"tuần này ai rảnh đi với em không",
	"Yêu cầu mọi người mặc áo đoàn nhé",
	"báo cáo anh Hùng, em xong nhà bà Tư rồi",
	"bc",
	"xong rồi nha",
	"nhận được rồi, cảm ơn chị",
	"nhận HT nha mọi người", // not a code
	"mua bột giặt ở đâu rẻ vậy",
	"mua bot giat o dau re vay",
	"sữa bột cho bé loại nào tốt",
	"cái bọt biển rửa chén",
	"Con robot của thằng Tí hư rồi",
	"#camau #dulich",
	"#camau đẹp quá",
	"#chuyenxom",
	"Hôm nay trời mưa to quá",
	"Ai có số của chú Năm không",
	"0912 345 678",
	"Mai 7h tập trung ở nhà văn hóa ấp",
	"vneid của bà Tư bị lỗi otp",
	"dvc bữa giờ chậm quá",
	"hủy buổi chiều nay nha",
	"giúp em với, máy bà Sáu không vào được app",
	"menu quán mới mở ngon lắm",
	"English class at 7pm",
	"help!!! xe em bị bể bánh",
	"lien ket facebook sao vay anh",
	"nhà ông Năm, vneid+dvc, 2 người, 30p",
	"Tổ mình đạt 20% rồi đó",
	"xong HT nha",
	"duyệt giúp em đơn nghỉ phép",
	"đăng ký đi chơi cuối tuần nè",
	"",
}

func TestGroupChatterGetsNoReply(t *testing.T) {
	f := newFixture(t, options{})
	linked := f.group(t, "G-LINKED")
	if err := f.db.LinkGroup(f.ctx, f.team(t, "An Xuyên", "Ấp 1").ID, "G-LINKED"); err != nil {
		t.Fatal(err)
	}
	unlinked := f.group(t, "G-OTHER")
	for _, g := range []*flowstest.Group{linked, unlinked} {
		for i, line := range chatter {
			for _, user := range []string{zMai, zHung, "9999"} {
				if out := g.Say(user, line); len(out) > 0 {
					t.Errorf("group %s, %s said %q (#%d): the bot answered %q", g.GroupID, user, line, i, flowstest.Texts(out))
				}
			}
		}
		for _, user := range []string{zMai, "9999"} {
			if out := g.Photo(user, "https://img.example/x.jpg"); len(out) > 0 {
				t.Errorf("a photo in group %s got %q", g.GroupID, flowstest.Texts(out))
			}
		}
	}
}

// groupStep is one message in the group and what the bot must answer:
// every wanted piece in the group's reply (and, with private, in a
// message to that user), nothing when want is empty.
type groupStep struct {
	user, say string
	want      []string
	private   string   // a user who must get a private message
	privWant  []string // what it says
	absent    []string // what the group's reply must not say
}

func TestGroupCommands(t *testing.T) {
	f := newFixture(t, options{})
	g := f.group(t, "G1")
	a1 := f.team(t, "An Xuyên", "Ấp 1")
	var req cnsbot.HelpRequest
	steps := []groupStep{
		{user: zMai, say: "#tiendo", want: []string{"chưa nối với tổ nào"}},
		{user: zHung, say: "#lienket ZZZZZZ", want: []string{"không thấy tổ nào có mã ZZZZZZ"}},
		{user: zMai, say: "#lienket " + a1.Code, want: []string{"Chỉ tổ trưởng của Tổ CNSCĐ Ấp 1"}},
		{user: zTam, say: "#lienket " + a1.Code, want: []string{"Chỉ tổ trưởng của Tổ CNSCĐ Ấp 1"}},
		{user: zHung, say: "#lienket " + strings.ToLower(a1.Code), want: []string{"Đã nối nhóm này với Tổ CNSCĐ Ấp 1"}},
		{user: zHung, say: "#lien ket " + a1.Code, want: []string{"đã nối với Tổ CNSCĐ Ấp 1 rồi"}},
		{user: zMai, say: "#tiendo", want: []string{"Tổ CNSCĐ Ấp 1: đã hướng dẫn 0/612 hộ (0%)", "còn 490 hộ"}},
		{user: zMai, say: "#tiendoo", want: []string{"0/612 hộ"}},
		{user: zMai, say: "bot ơi tiến độ sao rồi", want: []string{"0/612 hộ"}},
		{user: zMai, say: "Trợ lý Tổ cho xem tiến độ với", want: []string{"0/612 hộ"}},
		{user: zMai, say: "@cnsbot tuần này", want: []string{"chưa có báo cáo nào"}},
		{user: "9999", say: "#giup", want: []string{"#tiendo", "#bc", "#lienket"}},
		{user: zMai, say: "Bot ơi", want: []string{"#tiendo"}},
		{user: zMai, say: "#cnsbot", want: []string{"#tiendo"}},
		{user: zMai, say: "#yeucau", want: []string{"không có yêu cầu nào"}},
		{user: zMai, say: "#yeucau", want: []string{"{code}", "Cài VNeID cho mẹ", "nhận MÃ"}, absent: []string{"Nguyễn Thị Lan", "0912"}},
		{user: "9999", say: "nhận {code}", want: []string{"dành cho thành viên"}},
		{user: zMai, say: "nhận {code}", want: []string{"Trần Thị Mai đã nhận yêu cầu {code}"}, absent: []string{"0912"},
			private: zMai, privWant: []string{"Nguyễn Thị Lan, 0912 000 111"}},
		{user: zHung, say: "#nhan {code}", want: []string{"đã có Trần Thị Mai nhận rồi"}},
		{user: zMai, say: "#xong {code}", want: []string{"nhắn riêng"}, private: zMai, privWant: []string{"{code}"}},
		{user: zMai, say: "#bc nhà ông Năm, vneid", want: []string{"Trần Thị Mai, mình đọc được", "Hộ: nhà ông Năm", "Còn thiếu: Số người, Thời gian"}},
		{user: "9999", say: "#bc nhà ông Năm, vneid, 2 người, 30p", want: []string{"dành cho thành viên"}},
		{user: zTu, say: "#bc nhà ông Năm, vneid, 2 người, 30p", want: []string{"Bạn không thuộc Tổ CNSCĐ Ấp 1"}},
		{user: zMai, say: "#bc nhà ông Năm, vneid+dvc, 2 người, 30p", want: []string{"Trần Thị Mai báo cáo", "VNeID, Dịch vụ công", "#ok"}},
		{user: zHung, say: "#ok", want: []string{"chưa có báo cáo nào chờ lưu"}},
		{user: zMai, say: "#ok", want: []string{"Đã lưu báo cáo của Trần Thị Mai: nhà ông Năm", "1/2 ngày, 0,5/8 giờ", "1/612 hộ"}},
		{user: zMai, say: "#ok", want: []string{"chưa có báo cáo nào chờ lưu"}},
		{user: zHung, say: "#bc ấp 3, nhà bà Tư, y tế, 1 người, 1h", want: []string{"nhà bà Tư (ấp 3)"}},
		{user: zHung, say: "#huy", want: []string{"Đã bỏ"}},
		{user: zHung, say: "#ok", want: []string{"chưa có báo cáo nào chờ lưu"}},
		{user: zHung, say: "#bc nhà bà Sáu, dvc, 1 người, 1h", want: []string{"Nguyễn Văn Hùng báo cáo"}},
		{user: zHung, say: "#OK", want: []string{"Đã lưu báo cáo của Nguyễn Văn Hùng: nhà bà Sáu", "2/612 hộ"}},
		{user: zMai, say: "#tuan", want: []string{"Tuần này (từ thứ Hai 9/3): 2 báo cáo, 2 hộ, 1,5 giờ.",
			"• Nguyễn Văn Hùng: 1 báo cáo, 1 giờ\n• Trần Thị Mai: 1 báo cáo, 0,5 giờ"}},
	}
	for i, st := range steps {
		if i == 15 {
			req = f.helpRequest(t, "r-9", "An Xuyên", "Ấp 1", "Cài VNeID cho mẹ")
			f.vars["code"] = req.Code
		}
		say := strings.ReplaceAll(st.say, "{code}", req.Code)
		out := g.Say(st.user, say)
		var group, private []string
		for _, m := range out {
			switch {
			case m.To.GroupID == "G1":
				if len(m.Buttons) > 0 {
					t.Errorf("%q: buttons in a group message", say)
				}
				group = append(group, m.Text)
			case st.private != "" && m.To.UserID == st.private:
				private = append(private, m.Text)
			}
		}
		got := strings.Join(group, "\n")
		for _, w := range st.want {
			if w = strings.ReplaceAll(w, "{code}", req.Code); !strings.Contains(got, w) {
				t.Errorf("%d %s %q: got %q, want %q in it", i, st.user, say, got, w)
			}
		}
		for _, w := range st.absent {
			if strings.Contains(got, w) {
				t.Errorf("%d %q: %q in the group's reply %q", i, say, w, got)
			}
		}
		priv := strings.Join(private, "\n")
		for _, w := range st.privWant {
			if w = strings.ReplaceAll(w, "{code}", req.Code); !strings.Contains(priv, w) {
				t.Errorf("%d %q: private message %q, want %q in it", i, say, priv, w)
			}
		}
	}
	// The report confirmed in the group is stored once, keyed on the "#ok".
	vs := f.visits(t, f.person(t, "0987654321").ID)
	if len(vs) != 1 || vs[0].Household != "nhà ông Năm" || vs[0].Areas != "vneid,dvc" || !strings.HasPrefix(vs[0].SourceEvent, "G1-g") {
		t.Errorf("visits %+v", vs)
	}
	if r, _ := f.db.HelpRequestByCode(f.ctx, req.Code); r.Status != cnsbot.HelpTaken {
		t.Errorf("request %s is %s, want taken", req.Code, r.Status)
	}
}

func TestGroupJoinLeave(t *testing.T) {
	f := newFixture(t, options{})
	g := f.group(t, "G1")
	other := f.group(t, "G-UNLINKED")
	if err := f.db.LinkGroup(f.ctx, f.team(t, "An Xuyên", "Ấp 1").ID, "G1"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		g      *flowstest.Group
		event  string
		user   string
		want   string // in the message to the leader; "" for none at all
		toLead bool
	}{
		{g, "join", zMai, "Trần Thị Mai vừa vào nhóm Zalo của Tổ CNSCĐ Ấp 1 (có trong danh sách tổ)", true},
		{g, "join", "9999", "Một người chưa có trong danh sách vừa vào nhóm", true},
		{g, "join", zTu, "Phạm Văn Tư vừa vào nhóm Zalo của Tổ CNSCĐ Ấp 1, nhưng không có trong danh sách tổ này", true},
		{g, "leave", zMai, "Trần Thị Mai vừa rời nhóm", true},
		{g, "leave", "9999", "Một người ngoài danh sách vừa rời nhóm", true},
		// The leader is not told about themselves.
		{g, "join", zHung, "", false},
		{other, "join", zMai, "", false},
	}
	for _, tt := range tests {
		var out []cnsbot.Outgoing
		if tt.event == "join" {
			out = tt.g.Join(tt.user)
		} else {
			out = tt.g.Leave(tt.user)
		}
		if !tt.toLead {
			if len(out) > 0 {
				t.Errorf("%s %s in %s: got %q, want nothing", tt.event, tt.user, tt.g.GroupID, flowstest.Texts(out))
			}
			continue
		}
		if len(out) != 1 || out[0].To.UserID != zHung || out[0].Purpose != "notify" || !strings.Contains(out[0].Text, tt.want) {
			t.Errorf("%s %s: got %s, want one private notice to the leader with %q", tt.event, tt.user, render(out), tt.want)
		}
	}
	if out := g.Join("9998"); !strings.Contains(flowstest.Texts(out), "đăng ký") {
		t.Errorf("unknown joiner: the leader should learn how they can enrol: %q", flowstest.Texts(out))
	}
}

func render(out []cnsbot.Outgoing) string {
	var b strings.Builder
	for _, m := range out {
		fmt.Fprintf(&b, "[%s %s %q]", m.To, m.Purpose, m.Text)
	}
	return b.String()
}
