// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package accept

import (
	"context"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/index"
	"github.com/storeops/member-operator/internal/invitationpolicy"
	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/internal/web"
)

// parseForLimit is the key of a token's rate-limit bucket: its ID, when it has the shape of one.
func parseForLimit(raw string) (string, error) {
	tok, err := credentials.ParseToken(raw)
	if err != nil {
		return "", err
	}
	return tok.ID, nil
}

// linkOverLimit applies the per-link rate limit to a presented token (by its public ID). Only an
// ID that belongs to a real link (an Invitation's, or an account link's Secret) is counted: made-up
// IDs take no room in the limiter, so a flood of them cannot push real links' buckets out (they
// are limited per client instead, and answer 404 at the cost of one cache lookup).
func (s *Server) linkOverLimit(ctx context.Context, raw string) bool {
	id, err := parseForLimit(raw)
	return err == nil && s.linkExists(ctx, id) && !s.tokens.Allow(id, s.Clock.Now())
}

// linkExists reports whether id is the public ID of an invitation or account link, from the cache.
func (s *Server) linkExists(ctx context.Context, id string) bool {
	var invitations membershipv1alpha1.InvitationList
	if err := s.Client.List(ctx, &invitations, client.MatchingFields{index.InvitationTokenID: id}); err != nil || len(invitations.Items) > 0 {
		return true // an error counts, so it never turns the limit off
	}
	var secrets corev1.SecretList
	if err := s.Client.List(ctx, &secrets, client.MatchingFields{index.SecretTokenID: id}); err != nil || len(secrets.Items) > 0 {
		return true
	}
	return false
}

// showForm answers GET /invitations/accept?token=...: the form, in the Store's language, or a
// page saying why the link cannot be used.
func (s *Server) showForm(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.Query().Get("token")
	if s.linkOverLimit(r.Context(), raw) {
		web.RenderProblem(w, "en", web.OutcomeRateLimited)
		return
	}
	l, outcome, err := s.resolve(r.Context(), raw)
	if err != nil {
		s.Log.Error(err, "resolving an invitation link")
		outcome = web.OutcomeInternalError
	}
	if outcome != web.OutcomeAccepted {
		web.RenderProblem(w, localeOf(l), outcome)
		return
	}
	web.Render(w, http.StatusOK, s.formPage(r.Context(), l, raw, "", nil))
}

// formPage is the form for a live link, with the given field errors.
func (s *Server) formPage(ctx context.Context, l *link, raw, displayName string, errs map[string]string) *web.PageData {
	inv, store := l.invitation, l.store
	// One who has an account signs in to it; the page says nothing about its other stores.
	person, _, err := s.existingAccount(ctx, inv)
	if err != nil {
		s.Log.Error(err, "reading the invitee's account")
	}
	locale := web.LocaleOf(store)
	t := web.Texts[locale]
	storeName := string(store.Spec.DisplayName)
	intro := fmt.Sprintf(t["intro.team"], storeName, inv.Spec.Email, storeName)
	if inv.Spec.InvitedBy != "" {
		intro = fmt.Sprintf(t["intro"], inv.Spec.InvitedBy, inv.Spec.Email, storeName)
	}
	roles := make([]string, 0, len(inv.Spec.Roles))
	for _, role := range inv.Spec.Roles {
		roles = append(roles, mail.RoleWords(locale, string(role)))
	}
	expires := ""
	if inv.Status.ExpiresAt != nil {
		expires = fmt.Sprintf(t["expires"], mail.FormatDate(locale, inv.Status.ExpiresAt.Time))
	}
	return &web.PageData{
		Locale: locale, Base: web.RootFromPage, Kind: "form", Title: fmt.Sprintf(t["title"], storeName),
		Token: raw, Email: string(inv.Spec.Email), Intro: intro, Expires: expires, Roles: roles,
		TwoFactor:   inv.Spec.TwoFactor.Required && (person == nil || person.Credentials.TOTPSecret == ""),
		DisplayName: displayName, Errors: errs,
		SignIn: person != nil, TOTPCode: person != nil && person.Credentials.TOTPSecret != "",
		Decline: invitationpolicy.ForMember(inv),
	}
}

// submitForm answers the form's POST: the success page (201), the form again with the field
// errors (400), or a page saying why the link cannot be used.
func (s *Server) submitForm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		web.RenderProblem(w, "en", web.OutcomeBadInput)
		return
	}
	in := acceptance{
		Token: r.PostForm.Get("token"), Password: r.PostForm.Get("password"),
		Confirmation: r.PostForm.Get("passwordConfirmation"), Confirm: true, DisplayName: r.PostForm.Get("displayName"),
		TOTPCode: r.PostForm.Get("totpCode"),
	}
	result, l, outcome, fe := s.process(r, in)
	locale := localeOf(l)
	switch {
	case fe != nil:
		errs := map[string]string{fe.Field: web.Texts[locale]["field."+fe.Code]}
		web.Render(w, web.StatusOf[outcome], s.formPage(r.Context(), l, in.Token, in.DisplayName, errs))
	case outcome == web.OutcomeAccepted:
		page, err := s.successPage(l, result, locale)
		if err != nil {
			s.Log.Error(err, "rendering the 2FA enrolment")
			web.RenderProblem(w, locale, web.OutcomeInternalError)
			return
		}
		web.Render(w, http.StatusCreated, page)
	default:
		web.RenderProblem(w, locale, outcome)
	}
}

func (s *Server) successPage(l *link, result *accepted, locale string) (*web.PageData, error) {
	t := web.Texts[locale]
	storeName := string(l.store.Spec.DisplayName)
	page := &web.PageData{
		Locale: locale, Base: web.RootFromPage, Kind: "success", Title: fmt.Sprintf(t["success.title"], storeName),
		Body: fmt.Sprintf(t["success.body"], storeName, l.invitation.Spec.Email),
	}
	if result.TOTPURI != "" {
		svg, err := web.QRSVG(result.TOTPURI)
		if err != nil {
			return nil, err
		}
		page.TOTPSecret, page.QR = result.TOTPSecret, svg
	}
	return page, nil
}
