package resident

import (
	"unicode"

	"github.com/camau-cns/cnsbot/flows"
)

// A one-time code (OTP) typed to the bot is a resident being talked into
// reading it out, or pasting it by mistake: the scams residents meet most
// ask for exactly that (domain.md, "Helping residents"). A message that is
// only 4 to 8 digits is taken before any question can store it as an
// answer or a request could forward it to a team, and the resident is
// warned. Phone numbers (10 digits and more) and ratings (one digit) pass.
const (
	otpMinDigits = 4
	otpMaxDigits = 8
)

// matchOTP reports whether text is only an OTP-like number: 4 to 8 digits,
// spaces, dots or dashes between them allowed ("123 456").
func matchOTP(t *flows.Text) (string, bool) {
	digits := 0
	for _, r := range t.Raw {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == ' ' || r == '.' || r == '-' || unicode.IsSpace(r):
		default:
			return "", false
		}
	}
	return "", digits >= otpMinDigits && digits <= otpMaxDigits
}

// otpCommand warns the resident and asks the current question again; the
// number itself goes nowhere (the command's argument is empty on purpose).
// Team members and officers, who type counts and codes of their own, and
// conversations outside the residents' flows are left alone.
func (r *residents) otpCommand(c *flows.Ctx, _ string) (bool, error) {
	switch c.FlowName() {
	case "", FlowVNeID, FlowCaMauG, FlowServices, FlowCome, FlowCancel:
	default:
		return false, nil
	}
	_, roles, known, err := c.Person()
	if err != nil {
		return false, err
	}
	if known && len(roles) > 0 {
		return false, nil
	}
	c.Reprompt(c.T("resident.otp.warning", nil))
	return true, nil
}
