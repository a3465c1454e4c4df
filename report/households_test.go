package report_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/report"
	"github.com/xuri/excelize/v2"
)

// TestBuildCountsListedHouseholds: a hamlet with a household list counts
// its listed households, the other its units count, and the report says so.
func TestBuildCountsListedHouseholds(t *testing.T) {
	ctx := context.Background()
	db := dialects()["sqlite"](t)
	units := "Tỉnh,Xã/Phường,Ấp/Khóm,Số hộ\nCà Mau,Tân Lộc,Ấp 1,200\nCà Mau,Tân Lộc,Ấp 2,150\n"
	if _, err := db.ImportUnits(ctx, strings.NewReader(units), "units.csv"); err != nil {
		t.Fatal(err)
	}
	list := "Xã/Phường,Ấp/Khóm,Số nhà,Chủ hộ\nTân Lộc,Ấp 1,1,Nguyễn Văn Năm\nTân Lộc,Ấp 1,2,Trần Văn Năm\nTân Lộc,Ấp 1,3,Lê Thị Tư\n"
	if rep, err := db.ImportHouseholds(ctx, strings.NewReader(list), "ho.csv"); err != nil {
		t.Fatal(err, rep.Errors)
	}
	r, err := report.Build(ctx, db, "2025Q3", "", vietnam(t))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, row := range r.Communes[0].Rows {
		got[row.Hamlet] = row.Households
	}
	if got["Ấp 1"] != 3 || got["Ấp 2"] != 150 || r.Total.Households != 153 || r.ListedHamlets != 1 {
		t.Errorf("households %v total %d listed %d, want Ấp 1 3 (its list), Ấp 2 150, total 153, 1 listed",
			got, r.Total.Households, r.ListedHamlets)
	}
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := report.WriteXLSX(&buf, r, texts, "vi"); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, row := range rows {
		for _, c := range row {
			found = found || strings.Contains(c, "tính theo danh sách hộ gia đình")
		}
	}
	if !found {
		t.Error("the report does not say that Ấp 1's households are its list's")
	}
}
