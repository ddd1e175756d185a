// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package selfservice

import (
	"errors"
	"net/http"
	"strings"

	"k8s.io/utils/ptr"

	"github.com/storeops/member-operator/internal/web"
)

// The account page's JSON equivalents, on the same session cookie: GET /api/v1/account and
// POST /api/v1/account/preferences.

// accountAnswer is GET /api/v1/account.
type accountAnswer struct {
	Email string `json:"email"`
	// DisplayName, Phone and LoginName are the person's Account's (absent for a login of its own).
	DisplayName string             `json:"displayName,omitempty"`
	Phone       string             `json:"phone,omitempty"`
	LoginName   string             `json:"loginName,omitempty"`
	Memberships []membershipAnswer `json:"memberships"`
}

type membershipAnswer struct {
	// Member is "namespace/name", what a preferences request names.
	Member    string   `json:"member"`
	StoreName string   `json:"storeName"`
	Roles     []string `json:"roles"`
	// EmailPreferences are the effective ones; Overrides the person's own (the rest are the
	// store's defaults).
	EmailPreferences map[string]bool `json:"emailPreferences"`
	Overrides        map[string]bool `json:"overrides"`
}

// preferencesRequest is POST /api/v1/account/preferences: every preference the person decides,
// null for the store's default.
type preferencesRequest struct {
	Member      string           `json:"member"`
	Preferences map[string]*bool `json:"preferences"`
}

// profileRequest is POST /api/v1/account/profile: the person's display name and phone (empty
// clears) and, when present, login name (empty removes it).
type profileRequest struct {
	DisplayName string  `json:"displayName"`
	Phone       string  `json:"phone"`
	LoginName   *string `json:"loginName,omitempty"`
}

func (s *Service) profileJSON(w http.ResponseWriter, r *http.Request) {
	var in profileRequest
	if !web.DecodeJSON(w, r, &in, "displayName, phone and loginName") {
		return
	}
	acct := s.signedInJSON(w, r)
	if acct == nil {
		return
	}
	p := profile{displayName: strings.TrimSpace(in.DisplayName), phone: strings.TrimSpace(in.Phone)}
	if in.LoginName != nil {
		p.loginName = ptr.To(strings.TrimSpace(*in.LoginName))
	}
	for field, key := range profileErrors(p) {
		web.WriteJSON(w, http.StatusBadRequest, web.APIError{Error: string(web.OutcomeBadInput), Field: field,
			Message: field + ": " + web.Texts["en"][key]})
		return
	}
	if acct.joined == "" {
		web.WriteJSON(w, http.StatusConflict, web.APIError{Error: "no-account",
			Message: "this login has no account: its name and phone are set on the Member by your platform team"})
		return
	}
	if err := s.setProfile(r.Context(), acct, p); err != nil {
		if errors.Is(err, errLoginNameTaken) {
			web.WriteJSON(w, http.StatusConflict, web.APIError{Error: "taken", Field: fieldLoginName, Code: "taken",
				Message: "loginName: " + web.Texts["en"]["account.loginName.taken"]})
			return
		}
		s.internalError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// signedInJSON is the session's person, or nil after answering 401.
func (s *Service) signedInJSON(w http.ResponseWriter, r *http.Request) *account {
	acct, err := s.signedIn(r.Context(), w, r)
	switch {
	case err != nil:
		s.internalError(w, r, err)
	case acct == nil:
		web.WriteJSON(w, http.StatusUnauthorized, web.APIError{Error: string(web.OutcomeUnauthorized),
			Message: "no session: sign in on the account page"})
	default:
		return acct
	}
	return nil
}

func (s *Service) accountJSON(w http.ResponseWriter, r *http.Request) {
	acct := s.signedInJSON(w, r)
	if acct == nil {
		return
	}
	all, err := s.memberships(r.Context(), acct)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	out := accountAnswer{Email: string(acct.member.Spec.Email), Memberships: []membershipAnswer{}}
	person, err := s.personAccount(r.Context(), acct)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if person != nil {
		out.DisplayName, out.Phone, out.LoginName = string(person.Spec.DisplayName), person.Spec.Phone, string(person.Spec.LoginName)
	}
	for _, m := range all {
		answer := membershipAnswer{Member: m.member.Namespace + "/" + m.member.Name, StoreName: string(m.store.Spec.DisplayName),
			EmailPreferences: map[string]bool{}, Overrides: map[string]bool{}}
		for _, role := range m.member.Spec.Roles {
			answer.Roles = append(answer.Roles, string(role))
		}
		for name, v := range m.store.Spec.EmailPreferences {
			answer.EmailPreferences[name] = v
		}
		for name, v := range m.member.Spec.EmailPreferences {
			answer.EmailPreferences[name], answer.Overrides[name] = v, v
		}
		out.Memberships = append(out.Memberships, answer)
	}
	web.WriteJSON(w, http.StatusOK, out)
}

func (s *Service) preferencesJSON(w http.ResponseWriter, r *http.Request) {
	var in preferencesRequest
	if !web.DecodeJSON(w, r, &in, "member and preferences") {
		return
	}
	acct := s.signedInJSON(w, r)
	if acct == nil {
		return
	}
	all, err := s.memberships(r.Context(), acct)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	m := ownMembership(all, in.Member)
	if m == nil {
		web.WriteJSON(w, http.StatusNotFound, web.APIError{Error: "not-found", Field: "member",
			Message: "member: not one of your memberships"})
		return
	}
	known := map[string]bool{}
	for _, name := range preferenceNames(*m) {
		known[name] = true
	}
	choices := map[string]*bool{}
	for name := range known { // a preference the request leaves out keeps its current override
		if v, ok := m.member.Spec.EmailPreferences[name]; ok {
			choices[name] = ptr.To(v)
		}
	}
	for name, v := range in.Preferences {
		if !known[name] {
			web.WriteJSON(w, http.StatusBadRequest, web.APIError{Error: string(web.OutcomeBadInput), Field: fieldPreferences,
				Message: "preferences: " + name + " is not an email preference of this store"})
			return
		}
		choices[name] = v
	}
	switch err := s.setPreferences(r.Context(), m.member, choices); {
	case err == errPreferenceManaged:
		web.WriteJSON(w, http.StatusConflict, web.APIError{Error: "managed-elsewhere", Field: fieldPreferences,
			Message: "preferences: a preference you asked to change is declared for this Member elsewhere (Git); ask your platform team"})
	case err != nil:
		s.internalError(w, r, err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
