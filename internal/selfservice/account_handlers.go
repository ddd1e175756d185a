/*
Copyright 2026 The StoreOps Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package selfservice

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/accounttoken"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/metrics"
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

// credentialsPresented is what a self-service request proves who it is with.
type credentialsPresented struct {
	Store, Email, Password, TOTPCode string
}

// login authenticates a self-service API request: the password and, when the account has 2FA,
// a code of a time step not used before. When it cannot, it answers itself and returns nil: 429
// when the account's failure budget is spent, 401 for a wrong store, email, password or code
// (wrong is the message for the first three), 503 when bcrypt is saturated, 500.
//
// The failure budget belongs to the account the request resolves to (its Member's UID, so every
// spelling of the store is one bucket; an unknown account has one of its own). A try is taken
// before the bcrypt comparison and given back only when everything matched, so concurrent
// guesses cannot all pass a check made before any of them failed.
func (s *Service) login(w http.ResponseWriter, r *http.Request, in credentialsPresented, wrong string) *account {
	acct, err := s.findAccount(r.Context(), in.Store, in.Email)
	if err != nil {
		s.internalError(w, r, err)
		return nil
	}
	key := accountKey(in.Store, in.Email)
	if acct != nil {
		key = string(acct.member.UID)
	}
	refund, ok := s.logins.Reserve(key, s.Clock.Now())
	if !ok {
		w.Header().Set("Retry-After", "60")
		web.WriteJSON(w, http.StatusTooManyRequests, web.APIError{Error: string(web.OutcomeRateLimited), Message: web.Messages[web.OutcomeRateLimited]})
		return nil
	}
	unauthorized := func(field, code, message string) {
		web.WriteJSON(w, http.StatusUnauthorized, web.APIError{Error: string(web.OutcomeUnauthorized), Field: field, Code: code, Message: message})
	}
	matches, err := s.passwordMatches(r.Context(), acct, in.Password)
	switch {
	case errors.Is(err, web.ErrBusy):
		refund() // nothing was tried
		web.Busy(w, r)
		return nil
	case err != nil:
		s.internalError(w, r, err)
		return nil
	case !matches:
		unauthorized("", "", wrong)
		return nil
	}
	if len(acct.credentials.Data[membershipv1alpha1.CredentialTOTPSecret]) > 0 {
		if in.TOTPCode == "" {
			unauthorized("totpCode", "required", "totpCode: this account has two-factor authentication; send the code from the authenticator app")
			return nil
		}
		used, err := s.useTOTPCode(r.Context(), acct, in.TOTPCode)
		if err != nil {
			s.internalError(w, r, err)
			return nil
		}
		if !used {
			unauthorized("totpCode", "wrong", "totpCode: the code is wrong, too old or already used; wait for the next one")
			return nil
		}
	}
	refund()
	return acct
}

// useTOTPCode checks code against the account's 2FA key and spends its time step: the step is
// recorded in the credential Secret (TOTPLastStepAnnotation) with the version read as the
// precondition, so of two uses of one code, on this replica or another, at most one succeeds,
// and a stale cache gets a conflict and reads the record again. It reports false for a wrong
// code, or one whose step (or a later one) was already used.
func (s *Service) useTOTPCode(ctx context.Context, acct *account, code string) (bool, error) {
	key := string(acct.credentials.Data[membershipv1alpha1.CredentialTOTPSecret])
	step, ok := credentials.MatchTOTP(key, code, s.Clock.Now())
	if !ok {
		return false, nil
	}
	current := acct.credentials
	for range 3 {
		if !credentials.TOTPStepFresh(step, current.Annotations[membershipv1alpha1.TOTPLastStepAnnotation]) {
			return false, nil
		}
		updated := current.DeepCopy()
		if updated.Annotations == nil {
			updated.Annotations = map[string]string{}
		}
		updated.Annotations[membershipv1alpha1.TOTPLastStepAnnotation] = strconv.FormatInt(step, 10)
		err := s.Client.Update(ctx, updated)
		if err == nil {
			acct.credentials = updated
			return true, nil
		}
		if !apierrors.IsConflict(err) {
			return false, err
		}
		fresh := &corev1.Secret{}
		if err := s.APIReader.Get(ctx, client.ObjectKeyFromObject(current), fresh); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		if !metav1.IsControlledBy(fresh, acct.member) || string(fresh.Data[membershipv1alpha1.CredentialTOTPSecret]) != key {
			return false, nil // no longer this account's, or its 2FA key was reset meanwhile
		}
		current = fresh
	}
	return false, errors.New("recording the used 2FA time step: the credential Secret kept changing")
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

func (s *Service) internalError(w http.ResponseWriter, r *http.Request, err error) {
	s.Log.Error(err, "self-service request failed", "path", r.URL.Path)
	web.WriteJSON(w, http.StatusInternalServerError, web.APIError{Error: string(web.OutcomeInternalError), Message: web.Messages[web.OutcomeInternalError]})
}

// showForgot answers GET /password/forgot: a form asking for the store and the email.
func (s *Service) showForgot(w http.ResponseWriter, r *http.Request) {
	web.Render(w, http.StatusOK, forgotPage(web.RequestLocale(r), r.URL.Query().Get("store"), "", false))
}

// submitForgot answers POST /password/forgot with the same page and status whether or not the
// address belongs to a member (no account enumeration). The work, including the email, happens
// after the answer, so its timing says nothing either.
func (s *Service) submitForgot(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		web.RenderProblem(w, web.RequestLocale(r), web.OutcomeBadInput)
		return
	}
	storeRef, email := strings.TrimSpace(r.PostForm.Get("store")), strings.TrimSpace(r.PostForm.Get("email"))
	web.Render(w, http.StatusOK, forgotPage(web.RequestLocale(r), storeRef, email, true))
	s.Background.Add(1)
	go func() {
		defer s.Background.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), requestTimeout)
		defer cancel()
		acct, err := s.findAccount(ctx, storeRef, email)
		// Per account (its Member's UID: every spelling of the store is one budget); over it,
		// quietly nothing.
		if err == nil && acct != nil && s.forgots.Allow(string(acct.member.UID), s.Clock.Now()) {
			err = s.issueReset(ctx, acct)
		}
		if err != nil {
			s.Log.Error(err, "password reset request failed")
		}
	}()
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

// postedLink reads the token of an account link form's POST, applying the per-link rate limit;
// it renders the problem and returns false when the form is unreadable or the link over its limit.
func (s *Service) postedLink(w http.ResponseWriter, r *http.Request) (string, bool) {
	if err := r.ParseForm(); err != nil {
		s.renderResetProblem(w, "en", web.OutcomeBadInput)
		return "", false
	}
	raw := r.PostForm.Get("token")
	if s.LinkOverLimit(r.Context(), raw) {
		s.renderResetProblem(w, "en", web.OutcomeRateLimited)
		return "", false
	}
	return raw, true
}

// showReset answers GET /password/reset?token=...: the new-password form, or why the link
// cannot be used.
func (s *Service) showReset(w http.ResponseWriter, r *http.Request) {
	if raw, acct, _ := s.openAccountLink(w, r, membershipv1alpha1.PurposePasswordReset); acct != nil {
		web.Render(w, http.StatusOK, resetPage(acct, raw, nil))
	}
}

// submitReset answers the reset form's POST.
func (s *Service) submitReset(w http.ResponseWriter, r *http.Request) {
	raw, ok := s.postedLink(w, r)
	if !ok {
		return
	}
	acct, secret, outcome, err := s.resolveAccountToken(r.Context(), raw, membershipv1alpha1.PurposePasswordReset)
	if err == nil && outcome == web.OutcomeAccepted {
		password := r.PostForm.Get("password")
		if fe := web.CheckPassword(password, r.PostForm.Get("passwordConfirmation"), true, string(acct.member.Spec.Email)); fe != nil {
			locale := web.LocaleOf(acct.store)
			web.Render(w, http.StatusBadRequest, resetPage(acct, raw, map[string]string{fe.Field: web.Texts[locale]["field."+fe.Code]}))
			return
		}
		outcome, err = s.reset(r.Context(), acct, secret, password)
	}
	if err != nil {
		s.Log.Error(err, "password reset failed")
		outcome = web.OutcomeInternalError
	}
	if outcome != web.OutcomeChanged {
		locale := "en"
		if acct != nil {
			locale = web.LocaleOf(acct.store)
		}
		s.renderResetProblem(w, locale, outcome)
		return
	}
	locale := web.LocaleOf(acct.store)
	web.Render(w, http.StatusOK, web.DonePage(locale, "reset", acct.store.Spec.DisplayName, acct.member.Spec.Email))
}

func (s *Service) renderResetProblem(w http.ResponseWriter, locale string, outcome web.Outcome) {
	key := "reset.problem." + string(outcome)
	if _, ok := web.Texts[locale][key]; !ok {
		key = "problem." + string(outcome)
	}
	web.Render(w, web.StatusOf[outcome], &web.PageData{
		Locale: locale, Base: web.RootFromPage, Kind: web.KindProblem, Title: web.Texts[locale]["problem.title"], Problem: web.Texts[locale][key],
	})
}

func forgotPage(locale, storeRef, email string, sent bool) *web.PageData {
	t := web.Texts[locale]
	page := &web.PageData{Locale: locale, Base: web.RootFromPage, Kind: "forgot", Title: t["forgot.title"], Store: storeRef, Email: email}
	if sent {
		page.Kind, page.Body = "forgot-sent", t["forgot.sent"]
	}
	return page
}

func resetPage(acct *account, raw string, errs map[string]string) *web.PageData {
	locale := web.LocaleOf(acct.store)
	t := web.Texts[locale]
	return &web.PageData{
		Locale: locale, Base: web.RootFromPage, Kind: "reset", Title: fmt.Sprintf(t["reset.title"], acct.store.Spec.DisplayName),
		Token: raw, Email: string(acct.member.Spec.Email), Errors: errs,
	}
}

// showEnrol answers GET /2fa/enrol?token=...: a page with one button. The new key is shown only
// on the POST that spends the link, so a mail scanner that follows links cannot use it up.
func (s *Service) showEnrol(w http.ResponseWriter, r *http.Request) {
	raw, acct, _ := s.openAccountLink(w, r, membershipv1alpha1.PurposeTwoFactorEnrolment)
	if acct == nil {
		return
	}
	locale := web.LocaleOf(acct.store)
	t := web.Texts[locale]
	web.Render(w, http.StatusOK, &web.PageData{
		Locale: locale, Base: web.RootFromPage, Kind: "enrol", Title: fmt.Sprintf(t["enrol.title"], acct.store.Spec.DisplayName),
		Token: raw, Email: string(acct.member.Spec.Email),
	})
}

// submitEnrol spends the enrolment link and shows the Member's new TOTP key, once.
func (s *Service) submitEnrol(w http.ResponseWriter, r *http.Request) {
	raw, ok := s.postedLink(w, r)
	if !ok {
		return
	}
	acct, secret, outcome, err := s.resolveAccountToken(r.Context(), raw, membershipv1alpha1.PurposeTwoFactorEnrolment)
	if err == nil && outcome == web.OutcomeAccepted {
		var used bool
		if used, err = accounttoken.Use(r.Context(), s.Client, secret); err == nil && !used {
			outcome = web.OutcomeAlreadyUsed
		}
	}
	uri := ""
	if err == nil && outcome == web.OutcomeAccepted {
		uri = string(acct.credentials.Data[membershipv1alpha1.CredentialTOTPURI])
		if uri == "" {
			outcome = web.OutcomeNoLongerValid // 2FA was turned off meanwhile
		}
	}
	if err != nil {
		s.Log.Error(err, "two-factor enrolment failed")
		outcome = web.OutcomeInternalError
	}
	if outcome != web.OutcomeAccepted {
		locale := "en"
		if acct != nil {
			locale = web.LocaleOf(acct.store)
		}
		s.renderResetProblem(w, locale, outcome)
		return
	}
	locale := web.LocaleOf(acct.store)
	t := web.Texts[locale]
	svg, err := web.QRSVG(uri)
	if err != nil {
		s.Log.Error(err, "rendering the 2FA enrolment")
		s.renderResetProblem(w, locale, web.OutcomeInternalError)
		return
	}
	web.Render(w, http.StatusOK, &web.PageData{
		Locale: locale, Base: web.RootFromPage, Kind: "success", Title: t["enrol.done.title"],
		Body:       fmt.Sprintf(t["enrol.done.body"], acct.store.Spec.DisplayName, acct.member.Spec.Email),
		TOTPSecret: string(acct.credentials.Data[membershipv1alpha1.CredentialTOTPSecret]), QR: svg,
	})
}
