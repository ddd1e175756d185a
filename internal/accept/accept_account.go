// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package accept

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	accounts "github.com/storeops/member-operator/internal/account"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/invitationpolicy"
	"github.com/storeops/member-operator/internal/metrics"
	"github.com/storeops/member-operator/internal/web"
)

// Accounts at acceptance: an invitee who has none chooses the password of a new one; one who has
// one signs in with it to join the store (Ecwid's "join with your existing account"). Either
// way the server only asks (internal/account): the Account controller writes the Account and its
// Secret, and the Member controller projects them into the new Member's credential Secret.

// usesAccounts reports whether an invitation's Member joins an Account: every invitation but the
// owner's, whose login the Store keeps (activation and transfer).
func (s *Server) usesAccounts(inv *membershipv1alpha1.Invitation) bool {
	return s.AccountNamespace != "" && invitationpolicy.ForMember(inv)
}

// existingAccount is the Account the invitee signs in to (nil when they choose a new password),
// and whether the new Member joins an Account at all. An Account whose password Git declares in
// another namespace is not offered: the tenant writing that Secret knows the password, so this
// store never joins it, and the person chooses a password for a login of their own here (which
// also means nobody can take an address's invitations hostage by declaring it in Git).
func (s *Server) existingAccount(ctx context.Context, inv *membershipv1alpha1.Invitation) (*accounts.Person, bool, error) {
	if !s.usesAccounts(inv) {
		return nil, false, nil
	}
	person, err := accounts.Find(ctx, s.Client, s.Client, s.AccountNamespace, inv.Spec.Email)
	if err != nil {
		return nil, false, err
	}
	if person != nil {
		if src := person.Account.Status.PasswordSource; src != nil && src.Namespace != inv.Namespace {
			return nil, false, nil
		}
	}
	return person, true, nil
}

// signIn checks the Account's password and, when it has a key, a TOTP code (spent: a code works
// once, here and in self-service), under the per-account failure limit that self-service shares
// (a try is taken before bcrypt and given back only on success). It answers 401 naming the field
// that is wrong, 429 when the budget is spent.
func (s *Server) signIn(ctx context.Context, person *accounts.Person, password, code string) (web.Outcome, *web.FieldError, error) {
	refund, ok := s.logins.Reserve("account/"+person.Account.Name, s.Clock.Now())
	if !ok {
		return web.OutcomeRateLimited, nil, nil
	}
	release, err := s.passwords.Acquire(ctx)
	if err != nil {
		refund()
		return "", nil, err
	}
	metrics.PasswordChecks.Inc()
	matches := credentials.VerifyPassword(person.Credentials.PasswordHash, password)
	release()
	if !matches {
		return web.OutcomeUnauthorized, &web.FieldError{Field: "password", Code: "wrong",
			Message: "password: this is not the password of the account of the invited address"}, nil
	}
	if person.Credentials.TOTPSecret != "" {
		wrongCode := &web.FieldError{Field: "totpCode", Code: "wrong",
			Message: "totpCode: the account has two-factor authentication; send the current code from the authenticator app"}
		step, ok := credentials.MatchTOTP(person.Credentials.TOTPSecret, code, s.Clock.Now())
		if !ok {
			return web.OutcomeUnauthorized, wrongCode, nil
		}
		// The code is spent where self-service spends the Account's codes: once, in every store.
		record, owner, err := accounts.StepRecord(ctx, s.Client, person.Account)
		if err != nil {
			return "", nil, err
		}
		if record != nil {
			if _, used, err := accounts.SpendTOTPStep(ctx, s.Client, s.APIReader, record, owner, person.Credentials.TOTPSecret, step); err != nil || !used {
				return web.OutcomeUnauthorized, wrongCode, err
			}
		}
	}
	refund()
	return web.OutcomeAccepted, nil, nil
}

// askForAccount asks the Account controller to join member to the invitee's Account: the existing
// one the invitee signed in to (person), or a new one with the password they chose. A store that
// requires 2FA enrols the Account when it has no key yet; the key is shown once on the success
// page, as before.
func (s *Server) askForAccount(ctx context.Context, member *membershipv1alpha1.Member, store *membershipv1alpha1.Store,
	person *accounts.Person, password, displayName string, result *accepted) error {
	req := accounts.Request{Kind: membershipv1alpha1.AccountRequestJoin, Email: member.Spec.Email, Member: member}
	if person == nil {
		hash, err := s.passwords.Hash(ctx, password)
		if err != nil {
			return err
		}
		req.Kind, req.PasswordHash, req.DisplayName = membershipv1alpha1.AccountRequestPassword, hash, displayName
	}
	if member.Spec.TwoFactor.Required && (person == nil || person.Credentials.TOTPSecret == "") {
		enrolment, err := credentials.NewTOTP(s.Random, string(store.Spec.DisplayName), string(member.Spec.Email))
		if err != nil {
			return err
		}
		req.TOTPSecret = enrolment.Secret
		result.TOTPSecret, result.TOTPURI = enrolment.Secret, enrolment.URI
	}
	_, err := accounts.Ask(ctx, s.Client, s.AccountNamespace, req)
	return err
}

// askedForAccount reports whether an earlier acceptance already stored the invitee's part for
// member: the Account lists it, or a request naming it waits (read from the API server).
func (s *Server) askedForAccount(ctx context.Context, member *membershipv1alpha1.Member) (bool, error) {
	name := membershipv1alpha1.AccountName(member.Spec.Email)
	acct := &membershipv1alpha1.Account{}
	if err := s.APIReader.Get(ctx, client.ObjectKey{Name: name}, acct); client.IgnoreNotFound(err) != nil {
		return false, err
	} else if err == nil && acct.Joined(string(member.UID)) {
		return true, nil
	}
	var requests corev1.SecretList
	if err := s.APIReader.List(ctx, &requests, client.InNamespace(s.AccountNamespace),
		client.MatchingLabels{membershipv1alpha1.AccountLabel: name}); err != nil {
		return false, err
	}
	for _, req := range requests.Items {
		if req.Annotations[membershipv1alpha1.MemberUIDAnnotation] == string(member.UID) {
			return true, nil
		}
	}
	return false, nil
}
