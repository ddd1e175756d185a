// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package selfservice

import (
	"fmt"
	"net/http"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/accounttoken"
	"github.com/storeops/member-operator/internal/web"
)

// 2FA enrolment after an administrator's reset: the link shows the new key once, on its POST.

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
	posted, ok := s.postedLink(w, r, membershipv1alpha1.PurposeTwoFactorEnrolment)
	if !ok {
		return
	}
	acct, secret, outcome, err := posted.acct, posted.secret, posted.outcome, posted.err
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
