// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package selfservice

import (
	"errors"
	"net/http"
	"strings"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"

	"github.com/storeops/member-operator/internal/web"
)

// Rate limits of the self-service endpoints, per account (store and email), whether or not it
// exists: failed password checks, and reset emails asked for.
const (
	loginFailureRate  = rate.Limit(1.0 / 60) // one more try a minute...
	loginFailureBurst = 5                    // ...after five failures in a row
	forgotRate        = rate.Limit(1.0 / 300)
	forgotBurst       = 3
)

// passwordChange is the body of POST /api/v1/password/change.
type passwordChange struct {
	Store           string `json:"store"`
	Email           string `json:"email"`
	CurrentPassword string `json:"currentPassword"`
	NewPassword     string `json:"newPassword"`
	TOTPCode        string `json:"totpCode"`
}

// changePassword answers POST /api/v1/password/change: 200 with the Member, 401 for a wrong
// email, password or 2FA code (the same answer whichever it was), 400 for a new password the
// policy refuses, 429 after repeated failures for the account, 503 when bcrypt is saturated.
func (s *Service) changePassword(w http.ResponseWriter, r *http.Request) {
	var in passwordChange
	if !web.DecodeJSON(w, r, &in, "store, email, currentPassword, newPassword and totpCode") {
		return
	}
	acct := s.login(w, r, credentialsPresented{Store: in.Store, Email: in.Email, Password: in.CurrentPassword, TOTPCode: in.TOTPCode},
		"the store, email or current password is wrong")
	if acct == nil {
		return
	}
	if reason, err := s.passwordFromGit(r.Context(), acct); err != nil || reason != "" {
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		web.WriteJSON(w, http.StatusConflict, web.APIError{Error: "conflict", Field: "newPassword", Message: reason})
		return
	}
	if fe := web.CheckPassword(in.NewPassword, "", false, in.Email); fe != nil {
		web.WriteJSON(w, http.StatusBadRequest, web.APIError{Error: string(web.OutcomeBadInput), Field: "newPassword", Code: fe.Code,
			Message: "newPassword" + strings.TrimPrefix(fe.Message, "password")})
		return
	}
	if err := s.setPassword(r.Context(), acct, in.NewPassword); err != nil {
		if errors.Is(err, web.ErrBusy) {
			web.Busy(w, r)
			return
		}
		s.internalError(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, memberAnswer{Member: acct.member.Name, Namespace: acct.member.Namespace})
}

// memberAnswer is the JSON API's answer naming the Member a request acted on.
type memberAnswer struct {
	Member    string `json:"member"`
	Namespace string `json:"namespace"`
}

func (s *Service) internalError(w http.ResponseWriter, r *http.Request, err error) {
	s.Log.Error(err, "self-service request failed", "path", r.URL.Path)
	web.WriteJSON(w, http.StatusInternalServerError, web.APIError{Error: string(web.OutcomeInternalError), Message: web.Messages[web.OutcomeInternalError]})
}

// openAccountLink answers the GET of an account link of purpose: the token, its account and its
// Secret when the link is live; otherwise it renders why it cannot be used and returns a nil
// account.
func (s *Service) openAccountLink(w http.ResponseWriter, r *http.Request, purpose string) (string, *account, *corev1.Secret) {
	raw := r.URL.Query().Get("token")
	if s.LinkOverLimit(r.Context(), raw) {
		web.RenderProblem(w, "en", web.OutcomeRateLimited)
		return raw, nil, nil
	}
	acct, secret, outcome, err := s.resolveAccountToken(r.Context(), raw, purpose)
	if err != nil {
		s.Log.Error(err, "resolving an account link", "purpose", purpose)
		outcome = web.OutcomeInternalError
	}
	if outcome != web.OutcomeAccepted {
		s.renderResetProblem(w, "en", outcome)
		return raw, nil, nil
	}
	return raw, acct, secret
}

// postedToken is the link token a one-button page posted, resolved for the link's purpose.
type postedToken struct {
	raw     string
	acct    *account
	secret  *corev1.Secret
	outcome web.Outcome
	err     error
	// locale is the page language: the account's Store's, English before it is known.
	locale string
}

// postedLink reads the token a one-button page posted, applies the per-link limit, and resolves
// it for purpose. It reports false when it has answered the request itself (a malformed form,
// or a link over its limit).
func (s *Service) postedLink(w http.ResponseWriter, r *http.Request, purpose string) (*postedToken, bool) {
	if err := r.ParseForm(); err != nil {
		s.renderResetProblem(w, "en", web.OutcomeBadInput)
		return nil, false
	}
	raw := r.PostForm.Get("token")
	if s.LinkOverLimit(r.Context(), raw) {
		s.renderResetProblem(w, "en", web.OutcomeRateLimited)
		return nil, false
	}
	p := &postedToken{raw: raw, locale: "en"}
	p.acct, p.secret, p.outcome, p.err = s.resolveAccountToken(r.Context(), raw, purpose)
	if p.acct != nil {
		p.locale = web.LocaleOf(p.acct.store)
	}
	return p, true
}
