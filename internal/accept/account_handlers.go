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

package accept

import (
	"context"
	"encoding/json"
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
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	var in passwordChange
	if !decodeJSON(w, r, &in, "store, email, currentPassword, newPassword and totpCode") {
		return
	}
	acct := s.login(w, r, credentialsPresented{Store: in.Store, Email: in.Email, Password: in.CurrentPassword, TOTPCode: in.TOTPCode},
		"the store, email or current password is wrong")
	if acct == nil {
		return
	}
	if fe := checkPassword(in.NewPassword, "", false, in.Email); fe != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: string(OutcomeBadInput), Field: "newPassword", Code: fe.Code,
			Message: "newPassword" + strings.TrimPrefix(fe.Message, "password")})
		return
	}
	if err := s.setPassword(r.Context(), acct, in.NewPassword); err != nil {
		if errors.Is(err, errBcryptBusy) {
			s.busy(w, r)
			return
		}
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, memberAnswer{Member: acct.member.Name, Namespace: acct.member.Namespace})
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
func (s *Server) login(w http.ResponseWriter, r *http.Request, in credentialsPresented, wrong string) *account {
	acct, err := s.findAccount(r.Context(), in.Store, in.Email)
	if err != nil {
		s.internalError(w, r, err)
		return nil
	}
	key := accountKey(in.Store, in.Email)
	if acct != nil {
		key = string(acct.member.UID)
	}
	refund, ok := s.logins.reserve(key, s.Clock.Now())
	if !ok {
		w.Header().Set("Retry-After", "60")
		writeJSON(w, http.StatusTooManyRequests, apiError{Error: string(OutcomeRateLimited), Message: apiMessages[OutcomeRateLimited]})
		return nil
	}
	unauthorized := func(field, code, message string) {
		writeJSON(w, http.StatusUnauthorized, apiError{Error: string(OutcomeUnauthorized), Field: field, Code: code, Message: message})
	}
	matches, err := s.passwordMatches(r.Context(), acct, in.Password)
	switch {
	case errors.Is(err, errBcryptBusy):
		refund() // nothing was tried
		s.busy(w, r)
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
func (s *Server) useTOTPCode(ctx context.Context, acct *account, code string) (bool, error) {
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
func (s *Server) passwordMatches(ctx context.Context, acct *account, password string) (bool, error) {
	release, err := s.acquireBcrypt(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	metrics.PasswordChecks.Inc()
	if acct == nil {
		s.dummyHashOnce.Do(func() {
			s.dummyHash, _ = credentials.HashPassword("no account has this password", s.BcryptCost)
		})
		_ = credentials.VerifyPassword(s.dummyHash, password)
		return false, nil
	}
	return credentials.VerifyPassword(acct.credentials.Data[membershipv1alpha1.CredentialPasswordHash], password), nil
}

// decodeJSON reads a JSON object with exactly the documented fields, or answers 415/400.
func decodeJSON(w http.ResponseWriter, r *http.Request, into any, fields string) bool {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeJSON(w, http.StatusUnsupportedMediaType, apiError{Error: "unsupported-media-type", Message: "send application/json"})
		return false
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: string(OutcomeBadInput), Message: "body: must be a JSON object with the fields " + fields})
		return false
	}
	return true
}

func (s *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	s.Log.Error(err, "self-service request failed", "path", r.URL.Path)
	writeJSON(w, http.StatusInternalServerError, apiError{Error: string(OutcomeInternalError), Message: apiMessages[OutcomeInternalError]})
}

// showForgot answers GET /password/forgot: a form asking for the store and the email.
func (s *Server) showForgot(w http.ResponseWriter, r *http.Request) {
	render(w, http.StatusOK, forgotPage(requestLocale(r), r.URL.Query().Get("store"), "", false))
}

// submitForgot answers POST /password/forgot with the same page and status whether or not the
// address belongs to a member (no account enumeration). The work, including the email, happens
// after the answer, so its timing says nothing either.
func (s *Server) submitForgot(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderProblem(w, requestLocale(r), OutcomeBadInput)
		return
	}
	storeRef, email := strings.TrimSpace(r.PostForm.Get("store")), strings.TrimSpace(r.PostForm.Get("email"))
	render(w, http.StatusOK, forgotPage(requestLocale(r), storeRef, email, true))
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.requestTimeout())
		defer cancel()
		acct, err := s.findAccount(ctx, storeRef, email)
		// Per account (its Member's UID: every spelling of the store is one budget); over it,
		// quietly nothing.
		if err == nil && acct != nil && s.forgots.allow(string(acct.member.UID), s.Clock.Now()) {
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
func (s *Server) openAccountLink(w http.ResponseWriter, r *http.Request, purpose string) (string, *account, *corev1.Secret) {
	raw := r.URL.Query().Get("token")
	if s.linkOverLimit(r.Context(), raw) {
		s.renderProblem(w, "en", OutcomeRateLimited)
		return raw, nil, nil
	}
	acct, secret, outcome, err := s.resolveAccountToken(r.Context(), raw, purpose)
	if err != nil {
		s.Log.Error(err, "resolving an account link", "purpose", purpose)
		outcome = OutcomeInternalError
	}
	if outcome != OutcomeAccepted {
		s.renderResetProblem(w, "en", outcome)
		return raw, nil, nil
	}
	return raw, acct, secret
}

// postedLink reads the token of an account link form's POST, applying the per-link rate limit;
// it renders the problem and returns false when the form is unreadable or the link over its limit.
func (s *Server) postedLink(w http.ResponseWriter, r *http.Request) (string, bool) {
	if err := r.ParseForm(); err != nil {
		s.renderResetProblem(w, "en", OutcomeBadInput)
		return "", false
	}
	raw := r.PostForm.Get("token")
	if s.linkOverLimit(r.Context(), raw) {
		s.renderResetProblem(w, "en", OutcomeRateLimited)
		return "", false
	}
	return raw, true
}

// showReset answers GET /password/reset?token=...: the new-password form, or why the link
// cannot be used.
func (s *Server) showReset(w http.ResponseWriter, r *http.Request) {
	if raw, acct, _ := s.openAccountLink(w, r, membershipv1alpha1.PurposePasswordReset); acct != nil {
		render(w, http.StatusOK, resetPage(acct, raw, nil))
	}
}

// submitReset answers the reset form's POST.
func (s *Server) submitReset(w http.ResponseWriter, r *http.Request) {
	raw, ok := s.postedLink(w, r)
	if !ok {
		return
	}
	acct, secret, outcome, err := s.resolveAccountToken(r.Context(), raw, membershipv1alpha1.PurposePasswordReset)
	if err == nil && outcome == OutcomeAccepted {
		password := r.PostForm.Get("password")
		if fe := checkPassword(password, r.PostForm.Get("passwordConfirmation"), true, string(acct.member.Spec.Email)); fe != nil {
			locale := localeOf(acct.store)
			render(w, http.StatusBadRequest, resetPage(acct, raw, map[string]string{fe.Field: texts[locale]["field."+fe.Code]}))
			return
		}
		outcome, err = s.reset(r.Context(), acct, secret, password)
	}
	if err != nil {
		s.Log.Error(err, "password reset failed")
		outcome = OutcomeInternalError
	}
	if outcome != OutcomeChanged {
		locale := "en"
		if acct != nil {
			locale = localeOf(acct.store)
		}
		s.renderResetProblem(w, locale, outcome)
		return
	}
	locale := localeOf(acct.store)
	render(w, http.StatusOK, donePage(locale, "reset", acct.store.Spec.DisplayName, acct.member.Spec.Email))
}

func (s *Server) renderResetProblem(w http.ResponseWriter, locale string, outcome Outcome) {
	key := "reset.problem." + string(outcome)
	if _, ok := texts[locale][key]; !ok {
		key = "problem." + string(outcome)
	}
	render(w, statusOf[outcome], &pageData{
		Locale: locale, Base: rootFromPage, Kind: kindProblem, Title: texts[locale]["problem.title"], Problem: texts[locale][key],
	})
}

func forgotPage(locale, storeRef, email string, sent bool) *pageData {
	t := texts[locale]
	page := &pageData{Locale: locale, Base: rootFromPage, Kind: "forgot", Title: t["forgot.title"], Store: storeRef, Email: email}
	if sent {
		page.Kind, page.Body = "forgot-sent", t["forgot.sent"]
	}
	return page
}

func resetPage(acct *account, raw string, errs map[string]string) *pageData {
	locale := localeOf(acct.store)
	t := texts[locale]
	return &pageData{
		Locale: locale, Base: rootFromPage, Kind: "reset", Title: fmt.Sprintf(t["reset.title"], acct.store.Spec.DisplayName),
		Token: raw, Email: string(acct.member.Spec.Email), Errors: errs,
	}
}

// requestLocale is the page language for a request with no store yet: ?lang=, else the first
// supported language in Accept-Language, else English.
func requestLocale(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); texts[l] != nil {
		return l
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if texts[base] != nil {
			return base
		}
	}
	return "en"
}

// showEnrol answers GET /2fa/enrol?token=...: a page with one button. The new key is shown only
// on the POST that spends the link, so a mail scanner that follows links cannot use it up.
func (s *Server) showEnrol(w http.ResponseWriter, r *http.Request) {
	raw, acct, _ := s.openAccountLink(w, r, membershipv1alpha1.PurposeTwoFactorEnrolment)
	if acct == nil {
		return
	}
	locale := localeOf(acct.store)
	t := texts[locale]
	render(w, http.StatusOK, &pageData{
		Locale: locale, Base: rootFromPage, Kind: "enrol", Title: fmt.Sprintf(t["enrol.title"], acct.store.Spec.DisplayName),
		Token: raw, Email: string(acct.member.Spec.Email),
	})
}

// submitEnrol spends the enrolment link and shows the Member's new TOTP key, once.
func (s *Server) submitEnrol(w http.ResponseWriter, r *http.Request) {
	raw, ok := s.postedLink(w, r)
	if !ok {
		return
	}
	acct, secret, outcome, err := s.resolveAccountToken(r.Context(), raw, membershipv1alpha1.PurposeTwoFactorEnrolment)
	if err == nil && outcome == OutcomeAccepted {
		var used bool
		if used, err = accounttoken.Use(r.Context(), s.Client, secret); err == nil && !used {
			outcome = OutcomeAlreadyUsed
		}
	}
	uri := ""
	if err == nil && outcome == OutcomeAccepted {
		uri = string(acct.credentials.Data[membershipv1alpha1.CredentialTOTPURI])
		if uri == "" {
			outcome = OutcomeNoLongerValid // 2FA was turned off meanwhile
		}
	}
	if err != nil {
		s.Log.Error(err, "two-factor enrolment failed")
		outcome = OutcomeInternalError
	}
	if outcome != OutcomeAccepted {
		locale := "en"
		if acct != nil {
			locale = localeOf(acct.store)
		}
		s.renderResetProblem(w, locale, outcome)
		return
	}
	locale := localeOf(acct.store)
	t := texts[locale]
	svg, err := qrSVG(uri)
	if err != nil {
		s.Log.Error(err, "rendering the 2FA enrolment")
		s.renderResetProblem(w, locale, OutcomeInternalError)
		return
	}
	render(w, http.StatusOK, &pageData{
		Locale: locale, Base: rootFromPage, Kind: "success", Title: t["enrol.done.title"],
		Body:       fmt.Sprintf(t["enrol.done.body"], acct.store.Spec.DisplayName, acct.member.Spec.Email),
		TOTPSecret: string(acct.credentials.Data[membershipv1alpha1.CredentialTOTPSecret]), QR: svg,
	})
}
