package report_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camau-cns/cnsbot/locales"
	"github.com/camau-cns/cnsbot/report"
)

// tool finds a program the print test needs. Locally a missing one skips
// the test; under CI it fails it, so that CI cannot pass by printing
// nothing (.ci/run installs them).
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed; the print test needs it under CI: apt-get install -y %s", name, pkg)
	}
	t.Skipf("%s is not installed (apt-get install -y %s); skipping the print test", name, pkg)
	return ""
}

// printed is a report converted to PDF by LibreOffice, as an officer
// prints it.
type printed struct {
	pdf   string
	pages []string // each page's text
}

func printXLSX(t *testing.T, r *report.Report, lang string) printed {
	t.Helper()
	soffice := tool(t, "soffice", "libreoffice-calc-nogui")
	pdftotext := tool(t, "pdftotext", "poppler-utils")
	texts, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	xlsx := filepath.Join(dir, "report.xlsx")
	var buf bytes.Buffer
	if err := report.WriteXLSX(&buf, r, texts, lang); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(xlsx, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// A profile of its own, so that a LibreOffice already running (or a
	// parallel test) does not swallow the conversion.
	profile := "-env:UserInstallation=file://" + filepath.Join(dir, "profile")
	out, err := exec.CommandContext(ctx, soffice, profile, "--headless", "--convert-to", "pdf", "--outdir", dir, xlsx).CombinedOutput()
	pdf := filepath.Join(dir, "report.pdf")
	if _, serr := os.Stat(pdf); err != nil || serr != nil {
		t.Fatalf("LibreOffice did not convert the report: %v %v\n%s", err, serr, out)
	}
	text, err := exec.Command(pdftotext, "-layout", pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	pages := strings.Split(strings.TrimRight(string(text), "\f"), "\f")
	return printed{pdf: pdf, pages: pages}
}

// wordHeights returns the height of every word's box on the printed pages,
// in points: about 1.3 times the type size in LibreOffice's PDFs.
func wordHeights(t *testing.T, pdf string) map[string]float64 {
	t.Helper()
	out, err := exec.Command(tool(t, "pdftotext", "poppler-utils"), "-bbox", pdf, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>`)
	heights := map[string]float64{}
	for _, m := range re.FindAllStringSubmatch(string(out), -1) {
		lo, _ := strconv.ParseFloat(m[1], 64)
		hi, _ := strconv.ParseFloat(m[2], 64)
		if h, ok := heights[m[3]]; !ok || hi-lo < h {
			heights[m[3]] = hi - lo
		}
	}
	return heights
}

// TestXLSXPrints opens the report in LibreOffice, converts it to PDF and
// reads the pages back: the unit block as official reports have it, the
// main table on one A4 landscape page with its last column, the areas on
// the appendix's page, no type under 9 pt, and one typeface, the footer's
// included.
func TestXLSXPrints(t *testing.T) {
	tool(t, "soffice", "libreoffice-calc-nogui")
	for _, c := range []struct {
		commune string
		page1   []string
	}{
		{"", []string{"UBND TỈNH CÀ MAU", "SỞ KHOA HỌC VÀ CÔNG NGHỆ", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
			"Độc lập - Tự do - Hạnh phúc", "Số:", "/BC-SKHCN", "Cà Mau, ngày", "năm 2025", "TỔNG CỘNG", "giải quyết",
			"NGƯỜI LẬP BIỂU", "THỦ TRƯỞNG ĐƠN VỊ", "Trang 1/2"}},
		{"Tân Lộc", []string{"UBND XÃ TÂN LỘC", "/BC-UBND", "Xã Tân Lộc, ngày", "Cộng Xã Tân Lộc", "giải quyết"}},
	} {
		name := c.commune
		if name == "" {
			name = "province"
		}
		t.Run(name, func(t *testing.T) {
			var r *report.Report
			for _, b := range built(t, c.commune) {
				r = b
				break
			}
			p := printXLSX(t, r, "vi")
			if len(p.pages) != 2 {
				t.Fatalf("%d printed pages, want 2 (the report and its appendix)", len(p.pages))
			}
			squash := func(s string) string { return strings.Join(strings.Fields(s), " ") }
			page1, page2 := squash(p.pages[0]), squash(p.pages[1])
			for _, w := range c.page1 {
				if !strings.Contains(page1, w) {
					t.Errorf("page 1 lacks %q:\n%s", w, p.pages[0])
				}
			}
			for _, w := range []string{"PHỤ LỤC", "Cài VNeID", "Khác", "TỔNG CỘNG"} {
				if !strings.Contains(page2, w) {
					t.Errorf("page 2 lacks %q:\n%s", w, p.pages[1])
				}
			}
			if strings.Contains(page1, "Cài VNeID") {
				t.Errorf("page 1 has the areas' columns, which belong to the appendix")
			}
			for w, h := range wordHeights(t, p.pdf) {
				if h < 9*1.28 {
					t.Errorf("%q prints at about %.1f pt, want at least 9", w, h/1.3)
				}
			}
			if name != "province" {
				return
			}
			info, err := exec.Command(tool(t, "pdfinfo", "poppler-utils"), p.pdf).Output()
			if err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(`Page size:\s+841\.\d+ x 595\.\d+ pts \(A4\)`).Match(info) {
				t.Errorf("want A4 landscape pages:\n%s", info)
			}
			fonts, err := exec.Command(tool(t, "pdffonts", "poppler-utils"), p.pdf).Output()
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(string(fonts), "\n")[2:] {
				if f := strings.Fields(line); len(f) > 0 && !strings.Contains(f[0], "LiberationSerif") {
					t.Errorf("the PDF uses %s: want Times New Roman (Liberation Serif) everywhere, the footer included", f[0])
				}
			}
			if dir := os.Getenv("ARTIFACTS_DIR"); dir != "" {
				if ppm, err := exec.LookPath("pdftoppm"); err == nil {
					_ = exec.Command(ppm, "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", p.pdf, filepath.Join(dir, "report-page1")).Run()
				}
			}
		})
	}
}
