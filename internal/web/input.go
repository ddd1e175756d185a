// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package web

import (
	"strings"
	"unicode"
)

// Password length bounds in bytes: bcrypt reads at most 72.
const (
	MinPasswordBytes = 12
	MaxPasswordBytes = 72
)

// Names of the input fields, as in the JSON API and the form.
const (
	FieldPassword     = "password"
	FieldConfirmation = "passwordConfirmation"
	FieldDisplayName  = "displayName"
)

// FieldError is a refusal of one input field, shown next to that field on the page and named in
// the JSON API's 400 answer.
type FieldError struct {
	Field string `json:"field"`
	// Code names the rule, e.g. "too-short"; pages translate it.
	Code string `json:"code"`
	// Message is the English explanation.
	Message string `json:"message"`
}

// CheckPassword applies the password policy: 12 to 72 bytes, not containing the local part of the
// invited address (case-insensitively), and, when the form asks twice, the same both times.
func CheckPassword(password, confirmation string, confirm bool, email string) *FieldError {
	switch {
	case len(password) < MinPasswordBytes:
		return &FieldError{Field: FieldPassword, Code: "too-short", Message: "password: must be at least 12 bytes long"}
	case len(password) > MaxPasswordBytes:
		return &FieldError{Field: FieldPassword, Code: "too-long", Message: "password: must be at most 72 bytes long"}
	}
	local, _, _ := strings.Cut(email, "@")
	if len(local) >= 3 && strings.Contains(strings.ToLower(password), strings.ToLower(local)) {
		return &FieldError{Field: FieldPassword, Code: "contains-email", Message: "password: must not contain the part of your email address before the @"}
	}
	if confirm && password != confirmation {
		return &FieldError{Field: FieldConfirmation, Code: "mismatch", Message: "passwordConfirmation: must be the same as password"}
	}
	return nil
}

// CheckDisplayName applies the Member's displayName rules: optional, at most 100 characters, no
// control characters.
func CheckDisplayName(name string) *FieldError {
	if len([]rune(name)) > 100 {
		return &FieldError{Field: FieldDisplayName, Code: "too-long", Message: "displayName: must be at most 100 characters"}
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return &FieldError{Field: FieldDisplayName, Code: "control-character", Message: "displayName: must not contain control characters"}
		}
	}
	return nil
}

// Outcome is what an acceptance request comes to; each maps to one HTTP status.
type Outcome string

const (
	OutcomeAccepted      Outcome = "accepted"         // 201
	OutcomeBadInput      Outcome = "bad-input"        // 400
	OutcomeUnknownToken  Outcome = "unknown-token"    // 404
	OutcomeAlreadyUsed   Outcome = "already-accepted" // 409
	OutcomeNoLongerValid Outcome = "no-longer-valid"  // 410
	OutcomeRateLimited   Outcome = "rate-limited"     // 429
	OutcomeInternalError Outcome = "internal-error"   // 500
	// Self-service outcomes.
	OutcomeChanged      Outcome = "changed"      // 200: a password was set
	OutcomeUnauthorized Outcome = "unauthorized" // 401: wrong store, email, password or 2FA code
	OutcomeBusy         Outcome = "busy"         // 503: every bcrypt slot is in use
	OutcomeNoSeat       Outcome = "no-seat"      // 409: the Store's limits leave no seat for this invitation
	OutcomeFromGit      Outcome = "from-git"     // 409: the password is declared in Git (spec.passwordSecretRef)
)
