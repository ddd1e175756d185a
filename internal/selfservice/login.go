// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package selfservice

import (
	"context"
	"errors"
	"net/http"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	accounts "github.com/storeops/member-operator/internal/account"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/metrics"
	"github.com/storeops/member-operator/internal/web"
)

// Signing in to a self-service request: the password and, when enrolled, a TOTP code used at most
// once, under a per-account failure limit and the bcrypt pool, with no timing that tells whether
// an account exists.

// credentialsPresented is what a self-service request proves who it is with.
type credentialsPresented struct {
	Store, Email, Password, TOTPCode string
}

// login authenticates a self-service API request: the password and, when the account has 2FA,
// a code of a time step not used before. When it cannot, it answers itself and returns nil: 429
// when the account's failure budget is spent, 401 for a wrong store, email, password or code
// (wrong is the message for the first three), 503 when bcrypt is saturated, 500.
func (s *Service) login(w http.ResponseWriter, r *http.Request, in credentialsPresented, wrong string) *account {
	acct, failed, err := s.authenticate(r.Context(), in)
	switch {
	case errors.Is(err, web.ErrBusy):
		web.Busy(w, r)
	case err != nil:
		s.internalError(w, r, err)
	case failed == signInRateLimited:
		w.Header().Set("Retry-After", "60")
		web.WriteJSON(w, http.StatusTooManyRequests, web.APIError{Error: string(web.OutcomeRateLimited), Message: web.Messages[web.OutcomeRateLimited]})
	case failed == signInWrong:
		web.WriteJSON(w, http.StatusUnauthorized, web.APIError{Error: string(web.OutcomeUnauthorized), Message: wrong})
	case failed == signInCodeRequired:
		web.WriteJSON(w, http.StatusUnauthorized, web.APIError{Error: string(web.OutcomeUnauthorized), Field: fieldTOTPCode, Code: "required",
			Message: "totpCode: this account has two-factor authentication; send the code from the authenticator app"})
	case failed == signInCodeWrong:
		web.WriteJSON(w, http.StatusUnauthorized, web.APIError{Error: string(web.OutcomeUnauthorized), Field: fieldTOTPCode, Code: "wrong",
			Message: "totpCode: the code is wrong, too old or already used; wait for the next one"})
	default:
		return acct
	}
	return nil
}

// fieldTOTPCode is the 2FA code's field, in JSON and on forms.
const fieldTOTPCode = "totpCode"

// signInFailure says why a sign-in was refused ("" when it was not).
type signInFailure string

const (
	signInRateLimited  signInFailure = "rate-limited"
	signInWrong        signInFailure = "wrong"
	signInCodeRequired signInFailure = "code-required"
	signInCodeWrong    signInFailure = "code-wrong"
)

// authenticate checks a sign-in: the password and, when the account has 2FA, a code of a time
// step not used before. Every way in (the self-service API, the account page) goes through it.
//
// The failure budget belongs to the account the request resolves to (its Member's UID, so every
// spelling of the store is one bucket; an unknown account has one of its own). A try is taken
// before the bcrypt comparison and given back only when everything matched, so concurrent
// guesses cannot all pass a check made before any of them failed.
func (s *Service) authenticate(ctx context.Context, in credentialsPresented) (*account, signInFailure, error) {
	acct, err := s.findAccount(ctx, in.Store, in.Email)
	if err != nil {
		return nil, "", err
	}
	key := accountKey(in.Store, in.Email)
	if acct != nil {
		key = acct.limitKey()
	}
	refund, failed, err := s.checkPassword(ctx, acct, key, in.Password)
	if err != nil || failed != "" {
		return nil, failed, err
	}
	if len(acct.credentials.Data[membershipv1alpha1.CredentialTOTPSecret]) > 0 {
		if in.TOTPCode == "" {
			return nil, signInCodeRequired, nil
		}
		used, err := s.useTOTPCode(ctx, acct, in.TOTPCode)
		if err != nil {
			return nil, "", err
		}
		if !used {
			return nil, signInCodeWrong, nil
		}
	}
	refund()
	return acct, "", nil
}

// checkPassword takes a try from the failure budget key and compares password with acct's hash
// (acct nil: a decoy comparison). On a match it returns the function that gives the try back,
// for the caller to call once everything else matched too.
func (s *Service) checkPassword(ctx context.Context, acct *account, key, password string) (func(), signInFailure, error) {
	refund, ok := s.Logins.Reserve(key, s.Clock.Now())
	if !ok {
		return nil, signInRateLimited, nil
	}
	matches, err := s.passwordMatches(ctx, acct, password)
	switch {
	case errors.Is(err, web.ErrBusy):
		refund() // nothing was tried
		return nil, "", err
	case err != nil:
		return nil, "", err
	case !matches:
		return nil, signInWrong, nil
	}
	return refund, "", nil
}

// useTOTPCode checks code against the account's 2FA key and spends its time step
// (accounts.SpendTOTPStep): on the login's own credential Secret, or, for a person's Account, on
// the one record every store of it shares (accounts.StepRecord). It reports false for a wrong
// code, or one whose step (or a later one) was already used.
func (s *Service) useTOTPCode(ctx context.Context, acct *account, code string) (bool, error) {
	key := string(acct.credentials.Data[membershipv1alpha1.CredentialTOTPSecret])
	step, ok := credentials.MatchTOTP(key, code, s.Clock.Now())
	if !ok {
		return false, nil
	}
	record, owner := acct.credentials, acct.member
	if acct.joined != "" {
		joined := &membershipv1alpha1.Account{}
		if err := s.Client.Get(ctx, types.NamespacedName{Name: acct.joined}, joined); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		shared, sharedOwner, err := accounts.StepRecord(ctx, s.Client, joined)
		if err != nil {
			return false, err
		}
		if shared != nil {
			record, owner = shared, sharedOwner
		}
	}
	updated, used, err := accounts.SpendTOTPStep(ctx, s.Client, s.APIReader, record, owner, key, step)
	if used && record == acct.credentials {
		acct.credentials = updated
	}
	return used, err
}

// passwordMatches checks password against the account's hash, holding a bcrypt slot. Without an
// account it still spends a comparison against a dummy hash, so timing does not tell.
func (s *Service) passwordMatches(ctx context.Context, acct *account, password string) (bool, error) {
	release, err := s.Passwords.Acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	metrics.PasswordChecks.Inc()
	if acct == nil {
		s.dummyHashOnce.Do(func() {
			s.dummyHash, _ = credentials.HashPassword("no account has this password", s.Passwords.Cost)
		})
		_ = credentials.VerifyPassword(s.dummyHash, password)
		return false, nil
	}
	return credentials.VerifyPassword(acct.credentials.Data[membershipv1alpha1.CredentialPasswordHash], password), nil
}
