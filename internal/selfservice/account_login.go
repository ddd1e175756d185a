// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package selfservice

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/storeops/member-operator/internal/web"
)

// The account page's password and login email forms. They do what POST /api/v1/password/change
// and POST /api/v1/email/change do (the same rules, limits and links), for the signed-in person:
// the session names them, and the current password is asked again, against the same failure
// budget as a sign-in, so a session left open on a shared computer cannot take the account over.

// The two forms (do=) and their fields.
const (
	formPassword         = "password"
	formEmail            = "email"
	fieldCurrentPassword = "currentPassword"
	fieldNewPassword     = "newPassword"
	fieldNewEmail        = "newEmail"
)

// reconfirm checks the current password posted in field against the failure budget of the
// person. It reports whether the form may go on; when not, it has rendered the page.
func (s *Service) reconfirm(w http.ResponseWriter, r *http.Request, acct *account, field string) bool {
	t := web.Texts[web.RequestLocale(r)]
	refund, failed, err := s.checkPassword(r.Context(), acct, acct.limitKey(), r.PostForm.Get(field))
	switch {
	case errors.Is(err, web.ErrBusy):
		web.Busy(w, r)
	case err != nil:
		s.pageError(w, r, err)
	case failed == signInRateLimited:
		w.Header().Set("Retry-After", "60")
		web.RenderProblem(w, web.RequestLocale(r), web.OutcomeRateLimited)
	case failed != "":
		s.renderAccountWith(w, r, acct, http.StatusUnauthorized, accountNotes{errors: map[string]string{field: t["field.wrong"]}})
	default:
		refund()
		return true
	}
	return false
}

// submitPassword is the page's "change password" form.
func (s *Service) submitPassword(w http.ResponseWriter, r *http.Request, acct *account) {
	t := web.Texts[web.RequestLocale(r)]
	if !s.reconfirm(w, r, acct, fieldCurrentPassword) {
		return
	}
	if reason, err := s.passwordFromGit(r.Context(), acct); err != nil || reason != "" {
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		s.renderAccountWith(w, r, acct, http.StatusConflict, accountNotes{problem: t["account.password.git"]})
		return
	}
	password := r.PostForm.Get(fieldNewPassword)
	if fe := web.CheckPassword(password, r.PostForm.Get("passwordConfirmation"), true, string(acct.member.Spec.Email)); fe != nil {
		field := fieldNewPassword
		if fe.Code == "mismatch" {
			field = "passwordConfirmation"
		}
		s.renderAccountWith(w, r, acct, http.StatusBadRequest, accountNotes{errors: map[string]string{field: t["field."+fe.Code]}})
		return
	}
	if err := s.setPassword(r.Context(), acct, password); err != nil {
		if errors.Is(err, web.ErrBusy) {
			web.Busy(w, r)
			return
		}
		s.pageError(w, r, err)
		return
	}
	// The change ended every session, this one too (its fingerprint is the old hash's); the
	// person who made it stays signed in here with a new one.
	s.refreshCredentials(r.Context(), acct)
	s.openSession(w, acct)
	s.renderAccountWith(w, r, acct, http.StatusOK, accountNotes{notice: t["account.password.done"]})
}

// submitEmail is the page's "change login email" form: a confirmation link to the new address,
// as POST /api/v1/email/change sends.
func (s *Service) submitEmail(w http.ResponseWriter, r *http.Request, acct *account) {
	t := web.Texts[web.RequestLocale(r)]
	newEmail := strings.TrimSpace(r.PostForm.Get(fieldNewEmail))
	if len(newEmail) > 254 || !emailRule.MatchString(newEmail) {
		s.renderAccountWith(w, r, acct, http.StatusBadRequest, accountNotes{errors: map[string]string{fieldNewEmail: t["account.newEmail.invalid"]}})
		return
	}
	if !s.reconfirm(w, r, acct, "emailPassword") {
		return
	}
	if conflict, err := s.emailChangeConflict(r.Context(), acct, newEmail); err != nil || conflict != "" {
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		s.renderAccountWith(w, r, acct, http.StatusConflict, accountNotes{errors: map[string]string{fieldNewEmail: t["account.newEmail.conflict"]}})
		return
	}
	if !s.emailChanges.Allow(string(acct.member.UID), s.Clock.Now()) {
		w.Header().Set("Retry-After", "300")
		web.RenderProblem(w, web.RequestLocale(r), web.OutcomeRateLimited)
		return
	}
	if err := s.requestEmailChange(r.Context(), acct, newEmail); err != nil {
		s.pageError(w, r, err)
		return
	}
	s.renderAccountWith(w, r, acct, http.StatusAccepted, accountNotes{notice: fmt.Sprintf(t["account.newEmail.sent"], newEmail)})
}
