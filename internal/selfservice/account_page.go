// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package selfservice

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/web"
)

// The account page (/account): a person signs in once (email, password, 2FA code) and sees their
// stores and roles, and chooses per store which emails they get. Every form posts back to
// /account (do=signin, signout or preferences); JSON equivalents are under /api/v1/account. Only
// the person's own memberships are ever shown or changed.

// membership is one store the signed-in person is a member of.
type membership struct {
	store  *membershipv1alpha1.Store
	member *membershipv1alpha1.Member
}

// memberships are the person's Active memberships: every Member of their Account, or the one
// Member of a login of its own. Sorted by namespace and name.
func (s *Service) memberships(ctx context.Context, acct *account) ([]membership, error) {
	if acct.joined == "" {
		return []membership{{store: acct.store, member: acct.member}}, nil
	}
	joined := &membershipv1alpha1.Account{}
	if err := s.Client.Get(ctx, types.NamespacedName{Name: acct.joined}, joined); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	var out []membership
	for _, ref := range joined.Status.Members {
		m := &membershipv1alpha1.Member{}
		if err := s.Client.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, m); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return nil, err
		}
		if string(m.UID) != ref.UID || m.Status.Phase != membershipv1alpha1.MemberActive || !m.DeletionTimestamp.IsZero() {
			continue
		}
		store := &membershipv1alpha1.Store{}
		if err := s.Client.Get(ctx, types.NamespacedName{Namespace: m.Namespace, Name: m.Spec.StoreRef.Name}, store); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return nil, err
		}
		out = append(out, membership{store: store, member: m})
	}
	slices.SortFunc(out, func(a, b membership) int {
		return strings.Compare(a.member.Namespace+"/"+a.member.Name, b.member.Namespace+"/"+b.member.Name)
	})
	return out, nil
}

// preferenceNames are the preferences a membership can set: the Store's, and any the Member
// overrides.
func preferenceNames(m membership) []string {
	var names []string
	for name := range m.store.Spec.EmailPreferences {
		names = append(names, name)
	}
	for name := range m.member.Spec.EmailPreferences {
		if _, ok := m.store.Spec.EmailPreferences[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// fieldPreferences names the preferences, in forms (do=preferences) and JSON.
const fieldPreferences = "preferences"

// errPreferenceManaged: a preference the person asked to set is owned by another field manager
// (Git, kubectl): it is not theirs to change.
var errPreferenceManaged = fmt.Errorf("email preference managed elsewhere")

// setPreferences writes the person's choices into the Member's spec.emailPreferences by
// server-side apply as the operator's field manager, never forcing: a preference that Git (or any
// other manager) declares answers errPreferenceManaged and nothing changes. choices holds every
// preference the person decides (nil: the store's default); the apply then owns exactly the
// overrides the person chose.
func (s *Service) setPreferences(ctx context.Context, m *membershipv1alpha1.Member, choices map[string]*bool) error {
	overrides := map[string]any{}
	for name, choice := range choices {
		if choice != nil {
			overrides[name] = *choice
		}
	}
	apply := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": membershipv1alpha1.GroupVersion.String(), "kind": "Member",
		"metadata": map[string]any{"name": m.Name, "namespace": m.Namespace},
		"spec":     map[string]any{"emailPreferences": overrides},
	}}
	err := s.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(apply), client.FieldOwner(membershipv1alpha1.OperatorFieldManager))
	if apierrors.IsConflict(err) {
		return errPreferenceManaged
	}
	return err
}

// ownMembership is the membership of the signed-in person that ref ("namespace/member") names;
// nil for anything else, which answers as if it did not exist.
func ownMembership(all []membership, ref string) *membership {
	for i := range all {
		if all[i].member.Namespace+"/"+all[i].member.Name == ref {
			return &all[i]
		}
	}
	return nil
}

// showAccount is the account page, or the sign-in form without a session.
func (s *Service) showAccount(w http.ResponseWriter, r *http.Request) {
	acct, err := s.signedIn(r.Context(), w, r)
	switch {
	case err != nil:
		s.pageError(w, r, err)
	case acct == nil:
		s.renderSignIn(w, r, http.StatusOK, "", nil)
	default:
		s.renderAccountWith(w, r, acct, http.StatusOK, accountNotes{})
	}
}

// submitAccount is every form of the page: do=signin, signout, preferences, profile, 2fa-*,
// password or email.
func (s *Service) submitAccount(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderSignIn(w, r, http.StatusBadRequest, "", nil)
		return
	}
	switch r.PostForm.Get("do") {
	case "signin":
		s.submitSignIn(w, r)
	case "signout":
		clearSession(w)
		http.Redirect(w, r, "account", http.StatusSeeOther)
	case fieldPreferences, "profile", "2fa-start", "2fa-confirm", "2fa-off", formPassword, formEmail:
		acct, err := s.signedIn(r.Context(), w, r)
		switch {
		case err != nil:
			s.pageError(w, r, err)
		case acct == nil:
			s.renderSignIn(w, r, http.StatusUnauthorized, web.Texts[web.RequestLocale(r)]["account.signin.expired"], nil)
		default:
			map[string]func(http.ResponseWriter, *http.Request, *account){
				fieldPreferences: s.submitPreferences, "profile": s.submitProfile,
				"2fa-start": s.startTwoFactor, "2fa-confirm": s.confirmTwoFactor, "2fa-off": s.stopTwoFactor,
				formPassword: s.submitPassword, formEmail: s.submitEmail,
			}[r.PostForm.Get("do")](w, r, acct)
		}
	default:
		http.Redirect(w, r, "account", http.StatusSeeOther)
	}
}

func (s *Service) submitSignIn(w http.ResponseWriter, r *http.Request) {
	locale := web.RequestLocale(r)
	t := web.Texts[locale]
	email := strings.TrimSpace(r.PostForm.Get("email"))
	acct, failed, err := s.authenticate(r.Context(), credentialsPresented{Email: email, Password: r.PostForm.Get("password"),
		TOTPCode: strings.TrimSpace(r.PostForm.Get(fieldTOTPCode))})
	switch {
	case err != nil:
		s.pageError(w, r, err)
	case failed == signInRateLimited:
		w.Header().Set("Retry-After", "60")
		web.RenderProblem(w, locale, web.OutcomeRateLimited)
	case failed == signInWrong:
		s.renderSignIn(w, r, http.StatusUnauthorized, "", map[string]string{"password": t["field.wrong"]}, email)
	case failed != "":
		s.renderSignIn(w, r, http.StatusUnauthorized, "", map[string]string{fieldTOTPCode: t["field.wrong"]}, email)
	default:
		s.openSession(w, acct)
		http.Redirect(w, r, "account", http.StatusSeeOther)
	}
}

func (s *Service) submitPreferences(w http.ResponseWriter, r *http.Request, acct *account) {
	all, err := s.memberships(r.Context(), acct)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	m := ownMembership(all, r.PostForm.Get("member"))
	if m == nil {
		// Not theirs (or gone): the same answer whether it exists or not.
		s.renderAccountWith(w, r, acct, http.StatusNotFound, accountNotes{problem: web.Texts[web.RequestLocale(r)]["problem.title"]})
		return
	}
	choices := map[string]*bool{}
	for _, name := range preferenceNames(*m) {
		switch r.PostForm.Get("pref." + name) {
		case "on":
			choices[name] = ptr.To(true)
		case "off":
			choices[name] = ptr.To(false)
		default:
			choices[name] = nil
		}
	}
	t := web.Texts[web.RequestLocale(r)]
	switch err := s.setPreferences(r.Context(), m.member, choices); {
	case err == errPreferenceManaged:
		s.renderAccountWith(w, r, acct, http.StatusConflict, accountNotes{problem: t["account.pref.conflict"]})
	case err != nil:
		s.pageError(w, r, err)
	default:
		s.renderAccountWith(w, r, acct, http.StatusOK, accountNotes{notice: fmt.Sprintf(t["account.pref.saved"], m.store.Spec.DisplayName)})
	}
}

// pageError logs a failure and shows the generic problem page.
func (s *Service) pageError(w http.ResponseWriter, r *http.Request, err error) {
	if err == web.ErrBusy {
		web.Busy(w, r)
		return
	}
	s.Log.Error(err, "account page request failed", "path", r.URL.Path)
	web.RenderProblem(w, web.RequestLocale(r), web.OutcomeInternalError)
}

func (s *Service) renderSignIn(w http.ResponseWriter, r *http.Request, status int, notice string, errs map[string]string, email ...string) {
	locale := web.RequestLocale(r)
	data := &web.PageData{Locale: locale, Kind: web.KindAccountSignIn, Title: web.Texts[locale]["account.signin.title"],
		Errors: errs, Problem: notice}
	if len(email) > 0 {
		data.Email = email[0]
	}
	web.Render(w, status, data)
}

// accountNotes is what the account page says besides the person's data: a notice of what was
// done, a problem, field errors, or a 2FA key being turned on.
type accountNotes struct {
	notice, problem string
	errors          map[string]string
	enrol           *web.EnrolView
}

func (s *Service) renderAccountWith(w http.ResponseWriter, r *http.Request, acct *account, status int, notes accountNotes) {
	all, err := s.memberships(r.Context(), acct)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	person, err := s.personAccount(r.Context(), acct)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	locale := web.RequestLocale(r)
	t := web.Texts[locale]
	onOff := func(v bool) string {
		if v {
			return t["account.on"]
		}
		return t["account.off"]
	}
	view := &web.AccountView{Enrol: notes.enrol, TwoFactorRequired: twoFactorRequired(all),
		TwoFactorOn: len(acct.credentials.Data[membershipv1alpha1.CredentialTOTPSecret]) > 0}
	if person != nil {
		view.HasAccount, view.DisplayName, view.Phone = true, string(person.Spec.DisplayName), person.Spec.Phone
		view.LoginName = string(person.Spec.LoginName)
	}
	for i, m := range all {
		mv := web.MembershipView{Index: i, ID: m.member.Namespace + "/" + m.member.Name, Store: string(m.store.Spec.DisplayName)}
		for _, role := range m.member.Spec.Roles {
			mv.Roles = append(mv.Roles, string(role))
		}
		for _, name := range preferenceNames(m) {
			pv := web.PreferenceView{Name: name, Default: onOff(m.store.Spec.EmailPreferences[name]), Choice: "inherit"}
			if v, ok := m.member.Spec.EmailPreferences[name]; ok {
				pv.Choice = map[bool]string{true: "on", false: "off"}[v]
			}
			mv.Preferences = append(mv.Preferences, pv)
		}
		view.Memberships = append(view.Memberships, mv)
	}
	web.Render(w, status, &web.PageData{Locale: locale, Kind: web.KindAccount, Title: t["account.title"],
		Email: string(acct.member.Spec.Email), Account: view, Body: notes.notice, Problem: notes.problem, Errors: notes.errors})
}
