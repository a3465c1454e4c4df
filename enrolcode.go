package cnsbot

import "strings"

// EnrolCodeAlphabet is what one-time enrol codes are made of: capitals and
// digits without the look-alikes 0/O and 1/I/L, so that a code read aloud
// or copied from paper comes through.
const EnrolCodeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// EnrolCodeLen is the length of an enrol code: 31^8 ≈ 8.5·10¹¹ codes,
// against attempts that are rate-limited per Zalo user and codes that
// expire within days.
const EnrolCodeLen = 8

// ParseEnrolCode reads an enrol code as typed ("abcd2345", "ABCD 2345",
// "ABCD-2345"). A code always holds a letter and a digit, which keeps
// ordinary words ("đăng ký thường trú") from being taken for one.
func ParseEnrolCode(s string) (string, bool) {
	s = strings.ToUpper(strings.NewReplacer(" ", "", "-", "", ".", "").Replace(strings.TrimSpace(s)))
	if len(s) != EnrolCodeLen {
		return "", false
	}
	letter, digit := false, false
	for _, r := range s {
		if !strings.ContainsRune(EnrolCodeAlphabet, r) {
			return "", false
		}
		if r >= '2' && r <= '9' {
			digit = true
		} else {
			letter = true
		}
	}
	return s, letter && digit
}
