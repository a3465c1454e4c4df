package store

import (
	"strings"

	"github.com/camau-cns/cnsbot"
	"github.com/camau-cns/cnsbot/vn"
)

// Codes of what an import finds wrong with a row. Each is a message id in
// locales/imports.*.toml: the CLI and the dashboard render it in the
// officer's language with the facts a RowProblem carries, so the store
// writes no sentence. A comment names the facts a code's text uses.
const (
	// The file as a whole, reported on the line where it shows.
	RowFileEmpty     = "imports.row.file_empty"
	RowMissingColumn = "imports.row.missing_column" // Column
	RowColumnTwice   = "imports.row.column_twice"   // Column
	RowCSVUnreadable = "imports.row.csv_unreadable"

	// Cells.
	RowEmpty             = "imports.row.empty"               // Column
	RowTooLong           = "imports.row.too_long"            // Column, Max
	RowNotWholeNumber    = "imports.row.not_whole_number"    // Column, Value
	RowHouseholdsTooMany = "imports.row.households_too_many" // Value, Max
	RowMembersTooMany    = "imports.row.members_too_many"    // Value, Max
	RowUnknownRole       = "imports.row.unknown_role"        // Value
	RowZaloRounded       = "imports.row.zalo_rounded"
	RowZaloNotDigits     = "imports.row.zalo_not_digits"

	// Phones; the number itself is never repeated: reports end up in logs.
	RowPhoneNotNumber = "imports.row.phone_not_number"
	RowPhoneForeign   = "imports.row.phone_foreign"
	RowPhoneLandline  = "imports.row.phone_landline"
	RowPhoneLength    = "imports.row.phone_length"
	RowPhonePrefix    = "imports.row.phone_prefix"
	RowPhoneInvalid   = "imports.row.phone_invalid"

	// A household's place; the cell is never repeated: a household's place
	// is personal data.
	RowPlaceHalf        = "imports.row.place_half"
	RowDegreeNotNumber  = "imports.row.degree_not_number" // Column
	RowPlaceShortLink   = "imports.row.place_short_link"
	RowPlaceLinkNoPoint = "imports.row.place_link_no_point"
	RowPlaceNeedsTwo    = "imports.row.place_needs_two"
	RowPlaceSwapped     = "imports.row.place_swapped"
	RowPlaceOutside     = "imports.row.place_outside"

	// Places and teams the row names.
	RowPlaceRequired      = "imports.row.place_required"
	RowCommuneRequired    = "imports.row.commune_required"
	RowUnknownCommune     = "imports.row.unknown_commune" // Value
	RowUnknownHamlet      = "imports.row.unknown_hamlet"  // Value
	RowAmbiguousPlace     = "imports.row.ambiguous_place" // Column, Value
	RowHamletNoTeam       = "imports.row.hamlet_no_team"
	RowUnknownTeam        = "imports.row.unknown_team" // Value
	RowCommuneNoProvince  = "imports.row.commune_no_province"
	RowProvinceUnclear    = "imports.row.province_unclear"
	RowFormerNamesTooLong = "imports.row.former_names_too_long" // Max

	// Rows against each other and against the people already stored.
	RowSameHamlet     = "imports.row.same_hamlet"      // Other
	RowSameHousehold  = "imports.row.same_household"   // Other
	RowSameRow        = "imports.row.same_row"         // Other
	RowPhoneOtherName = "imports.row.phone_other_name" // Other
	RowPhoneOtherZalo = "imports.row.phone_other_zalo" // Other
	RowZaloOtherPhone = "imports.row.zalo_other_phone"
	RowZaloTaken      = "imports.row.zalo_taken"
)

// Codes of why a file is refused as a whole, before any row is read;
// message ids like the rows' codes. Their texts use the file's name (File).
const (
	FileOldXLS      = "imports.file.old_xls"
	FileNotUTF8     = "imports.file.not_utf8"
	FileNotWorkbook = "imports.file.not_workbook"
)

// FileRefusal is the error of an import refused as a whole: Code says why
// in the reader's language, and the error it wraps keeps the cnsbot code
// (EINVALID) and the detail for logs. A table too large to read is
// ErrSheetTooLarge instead, which carries limits rather than a code.
type FileRefusal struct {
	Code string
	err  error
}

func (e *FileRefusal) Error() string { return e.err.Error() }
func (e *FileRefusal) Unwrap() error { return e.err }

// refused gives an invalid file's error its code; any other error (none,
// a table too large, a failed read) comes back as it is.
func refused(code string, err error) error {
	if cnsbot.ErrorCode(err) != cnsbot.EINVALID {
		return err
	}
	return &FileRefusal{Code: code, err: err}
}

// RowProblem is one thing wrong with a row: a code and the facts its text
// needs. Fields a code does not use are zero.
type RowProblem struct {
	Code string
	// Column is the key of the column at fault (colPhone, …); the reader
	// sees the column's name in their language.
	Column string
	// Value is the cell as written, kept only for cells that are not
	// personal data (a role, a place's name, a count): never a phone, a
	// person's name or a household's place.
	Value string
	// Other is the earlier line a row repeats or contradicts.
	Other int
	// Max is the limit the cell is over.
	Max int
}

// columnMessage is the message id of a column's name.
func columnMessage(column string) string {
	return "imports.column." + strings.ReplaceAll(column, " ", "_")
}

// Texts returns the row's problems as the reader reads them, one sentence
// each with the line number. t looks a message up in the reader's
// language: a locales.Bundle's T with the language bound.
func (e RowError) Texts(t func(id string, data map[string]any) string) []string {
	out := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		column := ""
		if p.Column != "" {
			column = t(columnMessage(p.Column), nil)
		}
		out[i] = t(p.Code, map[string]any{"Line": e.Line, "Column": column, "Value": p.Value, "Other": p.Other, "Max": p.Max})
	}
	return out
}

// phoneProblems maps why a cell is not a mobile number to its code.
var phoneProblems = map[vn.PhoneProblem]string{
	vn.PhoneNotNumber: RowPhoneNotNumber,
	vn.PhoneForeign:   RowPhoneForeign,
	vn.PhoneLandline:  RowPhoneLandline,
	vn.PhoneLength:    RowPhoneLength,
	vn.PhonePrefix:    RowPhonePrefix,
}
