// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package selfservice

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/accounttoken"
	"github.com/storeops/member-operator/internal/index"
	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/internal/web"
)

// Event reasons of email changes, on the Member.
const (
	EventEmailChangeRequested = "EmailChangeRequested"
	EventEmailChanged         = "EmailChanged"
	EventEmailChangeCancelled = "EmailChangeCancelled"
)

var emailRule = regexp.MustCompile(membershipv1alpha1.EmailPattern)

// emailChange is the body of POST /api/v1/email/change.
type emailChange struct {
	Store    string `json:"store"`
	Email    string `json:"email"`
	Password string `json:"password"`
	TOTPCode string `json:"totpCode"`
	NewEmail string `json:"newEmail"`
}

// Email-change requests per account: as the reset emails, three, then one per five minutes.
const (
	emailChangeRate  = forgotRate
	emailChangeBurst = forgotBurst
)

// changeEmail answers POST /api/v1/email/change: 202 once a confirmation link is on its way to
// the new address and a notice with a cancel link to the current one; 401 for a wrong store,
// email, password or 2FA code (as password change); 400 for a malformed new address; 409 when the
// new address is taken or the Member's email is declared in Git; 429 after repeated failures or
// too many requests for the account.
func (s *Service) changeEmail(w http.ResponseWriter, r *http.Request) {
	var in emailChange
	if !web.DecodeJSON(w, r, &in, "store, email, password, totpCode and newEmail") {
		return
	}
	acct := s.login(w, r, credentialsPresented{Store: in.Store, Email: in.Email, Password: in.Password, TOTPCode: in.TOTPCode},
		"the store, email or password is wrong")
	if acct == nil {
		return
	}
	if len(in.NewEmail) > 254 || !emailRule.MatchString(in.NewEmail) {
		web.WriteJSON(w, http.StatusBadRequest, web.APIError{Error: string(web.OutcomeBadInput), Field: "newEmail", Code: "invalid",
			Message: "newEmail: must be a bare email address such as name@example.com"})
		return
	}
	if conflict, err := s.emailChangeConflict(r.Context(), acct, in.NewEmail); err != nil || conflict != "" {
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		web.WriteJSON(w, http.StatusConflict, web.APIError{Error: "conflict", Field: "newEmail", Message: conflict})
		return
	}
	if !s.emailChanges.Allow(string(acct.member.UID), s.Clock.Now()) {
		w.Header().Set("Retry-After", "300")
		web.WriteJSON(w, http.StatusTooManyRequests, web.APIError{Error: string(web.OutcomeRateLimited),
			Message: "too many email change requests for this account; try again later"})
		return
	}
	if err := s.requestEmailChange(r.Context(), acct, in.NewEmail); err != nil {
		s.internalError(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusAccepted, struct {
		memberAnswer
		Message string `json:"message"`
	}{memberAnswer{Member: acct.member.Name, Namespace: acct.member.Namespace},
		"a confirmation link was sent to " + in.NewEmail + "; the login email changes when it is followed"})
}

// requestEmailChange replaces any outstanding email change of the account (a Member has at most
// one) with a new one: a confirmation link to newEmail, and at once a notice to the current
// address saying to which address and with a link that stops it until it is confirmed.
func (s *Service) requestEmailChange(ctx context.Context, acct *account, newEmail string) error {
	if err := accounttoken.RevokeAll(ctx, s.APIReader, s.Client, acct.member,
		membershipv1alpha1.PurposeEmailChange, membershipv1alpha1.PurposeEmailChangeCancel); err != nil {
		return err
	}
	expires := accounttoken.ExpiresAt(s.Clock.Now(), s.PasswordResetTTL)
	confirm, confirmSecret, err := accounttoken.Issue(ctx, s.Client, s.Scheme, s.Random, acct.member, acct.store.Name,
		membershipv1alpha1.PurposeEmailChange, expires, membershipv1alpha1.NewEmailAnnotation, newEmail)
	if err != nil {
		return err
	}
	cancel, cancelSecret, err := accounttoken.Issue(ctx, s.Client, s.Scheme, s.Random, acct.member, acct.store.Name,
		membershipv1alpha1.PurposeEmailChangeCancel, expires, membershipv1alpha1.NewEmailAnnotation, newEmail)
	if err != nil {
		return err
	}
	s.Recorder.Eventf(acct.member, nil, corev1.EventTypeNormal, EventEmailChangeRequested, "ChangeEmail",
		"A confirmation link was emailed to %s and a notice with a cancel link to %s; the login email changes when the confirmation is followed",
		newEmail, acct.member.Spec.Email)
	base := strings.TrimRight(s.PublicURL, "/")
	data := mail.EmailChangeData{
		StoreName: string(acct.store.Spec.DisplayName), MemberName: string(acct.member.Spec.DisplayName),
		OldEmail: string(acct.member.Spec.Email), NewEmail: newEmail, ExpiresAt: expires,
		ConfirmURL: base + "/email/confirm?token=" + url.QueryEscape(confirm.String()),
		CancelURL:  base + "/email/cancel?token=" + url.QueryEscape(cancel.String()),
	}
	s.sendAsyncTo(acct, newEmail, mail.KindEmailChangeConfirm, data,
		mail.MessageID(confirmSecret.UID, string(mail.KindEmailChangeConfirm), s.MailDomain))
	s.sendAsyncTo(acct, string(acct.member.Spec.Email), mail.KindEmailChangeRequested, data,
		mail.MessageID(cancelSecret.UID, string(mail.KindEmailChangeRequested), s.MailDomain))
	return nil
}

// emailChangeConflict says why acct may not take newEmail ("" when it may): its email is declared
// in Git, or the address is already a Member's of the Store (or, with --exclusive-membership,
// of another Store).
func (s *Service) emailChangeConflict(ctx context.Context, acct *account, newEmail string) (string, error) {
	if membershipv1alpha1.HasOwnerRole(acct.member.Spec.Roles) {
		return fmt.Sprintf("Member %q is the owner of Store %q: its email is the Store's spec.owner.email; "+
			"changing that hands the store over (an ownership transfer)", acct.member.Name, acct.store.Name), nil
	}
	if acct.joined != "" {
		return s.moveConflict(ctx, acct, newEmail)
	}
	// The cache keeps no managedFields (see index.CacheOptions): ask the API server.
	declared := &membershipv1alpha1.Member{}
	if err := s.APIReader.Get(ctx, client.ObjectKeyFromObject(acct.member), declared); err != nil {
		return "", err
	}
	if manager := emailManager(declared); manager != "" {
		return fmt.Sprintf("Member %q's spec.email is managed by %q (declared in Git or applied with kubectl): "+
			"change it there instead, so the operator never fights your pipeline", acct.member.Name, manager), nil
	}
	if strings.EqualFold(newEmail, string(acct.member.Spec.Email)) {
		return "newEmail: is already this Member's login email", nil
	}
	same, err := index.ListByLogin(ctx, s.Client, newEmail, client.InNamespace(acct.store.Namespace))
	if err != nil {
		return "", err
	}
	for _, m := range index.OfStore(same, acct.store.Name) {
		if m.DeletionTimestamp.IsZero() && m.UID != acct.member.UID {
			return "newEmail: already belongs to another Member of this store (one account per email per store)", nil
		}
	}
	if s.ExclusiveMembership {
		all, err := index.ListByLogin(ctx, s.Client, newEmail)
		if err != nil {
			return "", err
		}
		for _, m := range index.People(all) {
			if m.DeletionTimestamp.IsZero() && m.UID != acct.member.UID {
				return "newEmail: already belongs to another Store and the operator runs with --exclusive-membership", nil
			}
		}
	}
	return "", nil
}

// showConfirmEmail answers GET /email/confirm?token=...: a page with one button, so a mail
// scanner following the link does not confirm it.
func (s *Service) showConfirmEmail(w http.ResponseWriter, r *http.Request) {
	raw, acct, secret := s.openAccountLink(w, r, membershipv1alpha1.PurposeEmailChange)
	if acct == nil {
		return
	}
	web.Render(w, http.StatusOK, web.ButtonPage(web.LocaleOf(acct.store), raw, "email", "confirm",
		acct.store.Spec.DisplayName, secret.Annotations[membershipv1alpha1.NewEmailAnnotation], acct.member.Spec.Email))
}

// showCancelEmail answers GET /email/cancel?token=...: the link in the notice to the current
// address; a page with one button, so a mail scanner following the link does not spend it.
func (s *Service) showCancelEmail(w http.ResponseWriter, r *http.Request) {
	raw, acct, secret := s.openAccountLink(w, r, membershipv1alpha1.PurposeEmailChangeCancel)
	if acct == nil {
		return
	}
	web.Render(w, http.StatusOK, web.ButtonPage(web.LocaleOf(acct.store), raw, "email.cancel", "cancel",
		acct.store.Spec.DisplayName, acct.member.Spec.Email, secret.Annotations[membershipv1alpha1.NewEmailAnnotation]))
}

// submitCancelEmail spends the cancel link and revokes the outstanding email change: its
// confirmation link answers 410 from then on.
func (s *Service) submitCancelEmail(w http.ResponseWriter, r *http.Request) {
	posted, ok := s.postedLink(w, r, membershipv1alpha1.PurposeEmailChangeCancel)
	if !ok {
		return
	}
	ctx := r.Context()
	acct, secret, outcome, err := posted.acct, posted.secret, posted.outcome, posted.err
	locale := posted.locale
	if err == nil && outcome == web.OutcomeAccepted {
		var used bool
		if used, err = accounttoken.Use(ctx, s.Client, secret); err == nil && !used {
			outcome = web.OutcomeAlreadyUsed
		}
	}
	if err == nil && outcome == web.OutcomeAccepted {
		err = accounttoken.RevokeAll(ctx, s.APIReader, s.Client, acct.member,
			membershipv1alpha1.PurposeEmailChange, membershipv1alpha1.PurposeEmailChangeCancel)
	}
	if err != nil {
		s.Log.Error(err, "email change cancellation failed")
		outcome = web.OutcomeInternalError
	}
	if outcome != web.OutcomeAccepted {
		s.renderResetProblem(w, locale, outcome)
		return
	}
	s.Recorder.Eventf(acct.member, nil, corev1.EventTypeNormal, EventEmailChangeCancelled, "CancelEmailChange",
		"The requested change of the login email to %s was stopped from the notice sent to %s",
		secret.Annotations[membershipv1alpha1.NewEmailAnnotation], acct.member.Spec.Email)
	web.Render(w, http.StatusOK, web.DonePage(locale, "email.cancel", acct.member.Spec.Email))
}

// submitConfirmEmail spends the confirmation link and changes the Member's login email, after
// checking again that the address is free and the email is not declared in Git; the previous
// address is told.
func (s *Service) submitConfirmEmail(w http.ResponseWriter, r *http.Request) {
	posted, ok := s.postedLink(w, r, membershipv1alpha1.PurposeEmailChange)
	if !ok {
		return
	}
	ctx := r.Context()
	acct, secret, outcome, err := posted.acct, posted.secret, posted.outcome, posted.err
	locale := posted.locale
	newEmail := ""
	if err == nil && outcome == web.OutcomeAccepted {
		newEmail = secret.Annotations[membershipv1alpha1.NewEmailAnnotation]
		var conflict string
		if conflict, err = s.emailChangeConflict(ctx, acct, newEmail); err == nil && conflict != "" {
			web.Render(w, http.StatusConflict, &web.PageData{Locale: locale, Base: web.RootFromPage, Kind: web.KindProblem,
				Title: web.Texts[locale]["problem.title"], Problem: web.Texts[locale]["email.problem.conflict"]})
			return
		}
	}
	if err == nil && outcome == web.OutcomeAccepted {
		var used bool
		if used, err = accounttoken.Use(ctx, s.Client, secret); err == nil && !used {
			outcome = web.OutcomeAlreadyUsed
		}
	}
	if err == nil && outcome == web.OutcomeAccepted {
		err = s.applyEmailChange(ctx, acct, newEmail)
	}
	if err != nil {
		s.Log.Error(err, "email change failed")
		outcome = web.OutcomeInternalError
	}
	if outcome != web.OutcomeAccepted {
		s.renderResetProblem(w, locale, outcome)
		return
	}
	web.Render(w, http.StatusOK, web.DonePage(locale, "email", acct.store.Spec.DisplayName, newEmail))
}

// applyEmailChange writes the new login email into the Member's spec as the operator's field
// manager, against the version read, and tells the previous address. The Member controller then
// rewrites the credential Secret's username. A Member joined to an Account moves with the
// Account and every other Member of it (moveAccount).
func (s *Service) applyEmailChange(ctx context.Context, acct *account, newEmail string) error {
	if acct.joined != "" {
		return s.moveAccount(ctx, acct, newEmail)
	}
	old := string(acct.member.Spec.Email)
	base := acct.member.DeepCopy()
	acct.member.Spec.Email = membershipv1alpha1.EmailAddress(newEmail)
	if err := s.Client.Patch(ctx, acct.member, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}),
		client.FieldOwner(membershipv1alpha1.OperatorFieldManager)); err != nil {
		return err
	}
	// Every other link of the Member goes: reset links were sent to the old address, and the
	// cancel link works only until the change is confirmed.
	if err := accounttoken.RevokeAll(ctx, s.APIReader, s.Client, acct.member); err != nil {
		return err
	}
	now := s.Clock.Now()
	s.Recorder.Eventf(acct.member, nil, corev1.EventTypeNormal, EventEmailChanged, "ChangeEmail",
		"The login email changed from %s to %s, confirmed through the link sent to the new address", old, newEmail)
	s.sendAsyncTo(acct, old, mail.KindEmailChanged, mail.EmailChangeData{
		StoreName: string(acct.store.Spec.DisplayName), MemberName: string(acct.member.Spec.DisplayName),
		OldEmail: old, NewEmail: newEmail, ChangedAt: now,
	}, mail.MessageID(acct.member.UID, string(mail.KindEmailChanged)+"-"+acct.member.ResourceVersion, s.MailDomain))
	return nil
}
