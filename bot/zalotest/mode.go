package zalotest

import (
	"fmt"
	"os"
	"strings"
)

// Mode is a whole Zalo the service may meet on day one, as opposed to one
// failure a test injects: an OA whose Zalo refuses list templates, one
// without the paid transaction messages, one not set up for the API. The
// journeys and the fault suite run in each (see ModeFromEnv).
type Mode string

// The modes. ModeNormal takes every kind the service sends.
const (
	ModeNormal Mode = "normal"
	// ModeListsRefused refuses list templates with -201, as Zalo's v3
	// consultation pages (which do not list the template) suggest it may.
	ModeListsRefused Mode = "lists-refused"
	// ModeTransactionRefused refuses transaction messages with -224 (the
	// OA has no package for them).
	ModeTransactionRefused Mode = "transaction-refused"
	// ModeSetupFault refuses every OpenAPI call with SetupFaultCode, as
	// for an OA whose API access is not granted. It is meant to be
	// switched on and off during a test (SetMode), since nothing can be
	// delivered while it lasts.
	ModeSetupFault Mode = "setup-fault"
)

// Codes the modes answer with.
const (
	ListRefusedCode        = -201
	TransactionRefusedCode = -224
	SetupFaultCode         = -223
)

// Modes are every mode, ModeNormal first.
var Modes = []Mode{ModeNormal, ModeListsRefused, ModeTransactionRefused, ModeSetupFault}

// ModeEnv names the environment variable ModeFromEnv reads.
const ModeEnv = "CNSBOT_ZALOTEST_MODE"

// ParseMode reads a mode's name; "" is ModeNormal.
func ParseMode(s string) (Mode, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" {
		return ModeNormal, nil
	}
	for _, m := range Modes {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("zalotest: unknown mode %q (want one of %v)", s, Modes)
}

// ModeFromEnv returns the mode named by CNSBOT_ZALOTEST_MODE, so that a
// test suite can be run again against another Zalo without editing it:
//
//	CNSBOT_ZALOTEST_MODE=lists-refused go test ./cmd/cnsbot/ ./faults/
func ModeFromEnv() (Mode, error) { return ParseMode(os.Getenv(ModeEnv)) }

// WithMode starts the fake in mode m.
func WithMode(m Mode) Option { return func(s *Server) { s.applyModeLocked(m) } }

// SetMode switches the fake to mode m, ending the refusals of the mode it
// was in. Refusals set with Refuse or SetupFault for kinds or codes the
// modes do not use are left as they are.
func (s *Server) SetMode(m Mode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applyModeLocked(m)
}

// Mode returns the mode set last (ModeNormal if none).
func (s *Server) Mode() Mode {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mode == "" {
		return ModeNormal
	}
	return s.mode
}

func (s *Server) applyModeLocked(m Mode) {
	switch s.mode {
	case ModeListsRefused:
		delete(s.refuse, KindList)
	case ModeTransactionRefused:
		delete(s.refuse, KindTransaction)
	case ModeSetupFault:
		s.setupFault = 0
	}
	s.mode = m
	switch m {
	case ModeListsRefused:
		s.refuse[KindList] = ListRefusedCode
	case ModeTransactionRefused:
		s.refuse[KindTransaction] = TransactionRefusedCode
	case ModeSetupFault:
		s.setupFault = SetupFaultCode
	}
}
