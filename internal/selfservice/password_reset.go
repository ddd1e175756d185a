// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package selfservice

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/web"
)

// The forgotten-password flow: a reset link by email (no account enumeration), and the page that
// sets a new password through it.

// showForgot answers GET /password/forgot: a form asking for the email (and, optionally, the
// store). Coming from an invitation (?invitation=<its link token>), the invited address is filled
// in and the invitation travels with the form, so that the reset leads back to it.
func (s *Service) showForgot(w http.ResponseWriter, r *http.Request) {
	page := forgotPage(web.RequestLocale(r), r.URL.Query().Get("store"), "", false)
	if raw := r.URL.Query().Get(returnParam); raw != "" {
		if email := s.invitationEmail(r.Context(), raw); email != "" {
			page.Email, page.Invitation = email, raw
		}
	}
	web.Render(w, http.StatusOK, page)
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
	invitation := r.PostForm.Get(returnParam)
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
			err = s.issueReset(ctx, acct, s.returnTo(ctx, invitation, string(acct.member.Spec.Email)))
		}
		if err != nil {
			s.Log.Error(err, "password reset request failed")
		}
	}()
}

// showReset answers GET /password/reset?token=...: the new-password form, or why the link
// cannot be used.
func (s *Service) showReset(w http.ResponseWriter, r *http.Request) {
	if raw, acct, _ := s.openAccountLink(w, r, membershipv1alpha1.PurposePasswordReset); acct != nil {
		if reason, err := s.passwordFromGit(r.Context(), acct); err != nil || reason != "" {
			if err != nil {
				s.Log.Error(err, "reading whether the password is declared in Git")
			}
			s.renderResetProblem(w, web.LocaleOf(acct.store), problemOf(err, web.OutcomeFromGit))
			return
		}
		page := resetPage(acct, raw, nil)
		page.Invitation = s.returnTo(r.Context(), r.URL.Query().Get(returnParam), string(acct.member.Spec.Email))
		web.Render(w, http.StatusOK, page)
	}
}

// submitReset answers the reset form's POST.
func (s *Service) submitReset(w http.ResponseWriter, r *http.Request) {
	posted, ok := s.postedLink(w, r, membershipv1alpha1.PurposePasswordReset)
	if !ok {
		return
	}
	raw, acct, secret, outcome, err := posted.raw, posted.acct, posted.secret, posted.outcome, posted.err
	if err == nil && outcome == web.OutcomeAccepted {
		var reason string
		if reason, err = s.passwordFromGit(r.Context(), acct); err == nil && reason != "" {
			outcome = web.OutcomeFromGit
		}
	}
	if err == nil && outcome == web.OutcomeAccepted {
		password := r.PostForm.Get("password")
		if fe := web.CheckPassword(password, r.PostForm.Get("passwordConfirmation"), true, string(acct.member.Spec.Email)); fe != nil {
			locale := web.LocaleOf(acct.store)
			page := resetPage(acct, raw, map[string]string{fe.Field: web.Texts[locale]["field."+fe.Code]})
			page.Invitation = s.returnTo(r.Context(), r.PostForm.Get(returnParam), string(acct.member.Spec.Email))
			web.Render(w, http.StatusBadRequest, page)
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
	done := web.DonePage(locale, "reset", acct.store.Spec.DisplayName, acct.member.Spec.Email)
	if done.Invitation = s.returnTo(r.Context(), r.PostForm.Get(returnParam), string(acct.member.Spec.Email)); done.Invitation != "" {
		// The store named is the login's, which may not be the one inviting: say only what is true.
		done.Body = web.Texts[locale]["reset.done.invitation"]
	}
	web.Render(w, http.StatusOK, done)
}

// problemOf is outcome, or an internal error when err is set.
func problemOf(err error, outcome web.Outcome) web.Outcome {
	if err != nil {
		return web.OutcomeInternalError
	}
	return outcome
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
