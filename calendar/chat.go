package calendar

import (
	"fmt"
	"strings"
)

// The chat's words for the calendar: the reminders' buttons and the
// quarter's name. They live here, beside the calendar and away from the
// reminder job (River, pgx), so that the chat flows that read a tap need
// nothing of the job's machinery.

// Button payloads. They are also typed commands (Zalo may deliver a tap
// as the payload text): "#danop 2025Q3:team:commune", "#baocao 2025Q3".
const (
	CommandSubmitted = "#danop"
	CommandReport    = "#baocao"
)

// SubmitPayload is the payload of the "Đã nộp" button for a deadline.
func SubmitPayload(deadlineKey string) string { return CommandSubmitted + " " + deadlineKey }

// ReportPayload is the payload of the "Xem báo cáo" button for a quarter.
func ReportPayload(quarter string) string { return CommandReport + " " + quarter }

// ParseCommand reads a tapped or typed "#danop KEY" or "#baocao QUARTER":
// it returns the command and its argument, and ok false for other text.
func ParseCommand(text string) (cmd, arg string, ok bool) {
	f := strings.Fields(text)
	if len(f) != 2 {
		return "", "", false
	}
	switch strings.ToLower(f[0]) {
	case CommandSubmitted:
		if _, _, _, err := ParseKey(f[1]); err != nil {
			return "", "", false
		}
		return CommandSubmitted, f[1], true
	case CommandReport:
		y, n, err := ParseQuarter(f[1])
		if err != nil {
			return "", "", false
		}
		return CommandReport, fmt.Sprintf("%dQ%d", y, n), true
	}
	return "", "", false
}

// Texts renders a message of the locale catalogue (*locales.Texts has it).
type Texts interface {
	T(lang, id string, data map[string]any) string
}

// QuarterLabel renders a quarter ("2025Q3") in words: "quý 3/2025".
func QuarterLabel(texts Texts, lang, q string) string {
	year, n, err := ParseQuarter(q)
	if err != nil {
		return q
	}
	return texts.T(lang, "calendar.quarter", map[string]any{"N": n, "Year": year})
}

// PluralTexts renders a message that depends on a count (*locales.Bundle
// has it).
type PluralTexts interface {
	Texts
	TN(lang, id string, count int, data map[string]any) string
}

// DaysLeftText says how long is left before a deadline, the same words in
// the chat and on the dashboard: "Còn 3 ngày", and on the last day "Hôm
// nay là hạn chót" (never "còn 1 ngày", which reads as "tomorrow"). It
// starts with a capital, for a title or a line of its own.
func DaysLeftText(texts PluralTexts, lang string, days int) string {
	if days <= 1 {
		return texts.T(lang, "calendar.last_day", nil)
	}
	return texts.TN(lang, "calendar.days_left", days, nil)
}
