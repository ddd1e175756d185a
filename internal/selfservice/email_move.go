// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package selfservice

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	accounts "github.com/storeops/member-operator/internal/account"
	"github.com/storeops/member-operator/internal/accounttoken"
	"github.com/storeops/member-operator/internal/index"
	"github.com/storeops/member-operator/internal/mail"
)

// The login email of an Account is the person's, in every store: a confirmed change moves the
// Account, with every Member that joined it, to the new address (the Account controller makes
// the new Account from a move request, see membershipv1alpha1.AccountRequestMove). A Member
// whose spec.email a pipeline declares cannot move without it, so then nothing moves.

// accountMembers are the Members joined to acct's Account that hold its address, read from the
// API server: their managedFields say who declares spec.email, which the cache does not keep.
func (s *Service) accountMembers(ctx context.Context, acct *account) ([]membershipv1alpha1.Member, error) {
	joined := &membershipv1alpha1.Account{}
	if err := s.Client.Get(ctx, types.NamespacedName{Name: acct.joined}, joined); err != nil {
		return nil, err
	}
	var out []membershipv1alpha1.Member
	for _, ref := range joined.Status.Members {
		m := &membershipv1alpha1.Member{}
		err := s.APIReader.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, m)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if string(m.UID) == ref.UID && m.DeletionTimestamp.IsZero() && strings.EqualFold(string(m.Spec.Email), string(acct.member.Spec.Email)) {
			out = append(out, *m)
		}
	}
	return out, nil
}

// moveConflict says why acct's Account may not move to newEmail ("" when it may): one of its
// Members has spec.email declared in Git (named, so the person or the platform knows where to
// change it), the address is already the Account's, another person's Account, or a Member's
// in one of the stores (or, with --exclusive-membership, anywhere).
func (s *Service) moveConflict(ctx context.Context, acct *account, newEmail string) (string, error) {
	members, err := s.accountMembers(ctx, acct)
	if err != nil {
		return "", err
	}
	moving := map[types.UID]bool{}
	for i := range members {
		m := &members[i]
		moving[m.UID] = true
		if manager := emailManager(m); manager != "" {
			return fmt.Sprintf("Member %s/%s's spec.email is managed by %q (declared in Git or applied with kubectl): the login email "+
				"of an account moves in every store at once, so it changes there first", m.Namespace, m.Name, manager), nil
		}
	}
	if strings.EqualFold(newEmail, string(acct.member.Spec.Email)) {
		return "newEmail: is already this account's login email", nil
	}
	holders, err := index.ListByLogin(ctx, s.Client, newEmail)
	if err != nil {
		return "", err
	}
	stores := map[string]bool{}
	for i := range members {
		stores[members[i].Namespace+"/"+members[i].Spec.StoreRef.Name] = true
	}
	for _, m := range index.People(holders) {
		switch {
		case !m.DeletionTimestamp.IsZero() || moving[m.UID]:
		case stores[m.Namespace+"/"+m.Spec.StoreRef.Name]:
			return "newEmail: already belongs to another Member of one of your stores (one account per email per store)", nil
		case s.ExclusiveMembership:
			return "newEmail: already belongs to another Store and the operator runs with --exclusive-membership", nil
		}
	}
	existing := &membershipv1alpha1.Account{}
	switch err := s.Client.Get(ctx, types.NamespacedName{Name: membershipv1alpha1.AccountName(membershipv1alpha1.EmailAddress(newEmail))}, existing); {
	case err == nil:
		return "newEmail: already has an account of its own", nil
	case !apierrors.IsNotFound(err):
		return "", err
	}
	return "", nil
}

// errMoveWithoutPassword says that the Account to move has no password to move.
var errMoveWithoutPassword = errors.New("the account to move has no password")

// moveAccount moves acct's Account and every Member that joined it to newEmail: it asks the
// Account controller for the new Account (with the old one's password hash and 2FA key), writes
// the new address into each Member as the operator's field manager, against the version read,
// revokes what was started at the old address, waits (a moment, bounded) until every store's
// credential Secret carries the new login from the new Account, and tells the old address once.
func (s *Service) moveAccount(ctx context.Context, acct *account, newEmail string) error {
	old := acct.member.Spec.Email
	person, err := accounts.Find(ctx, s.Client, s.Client, s.AccountNamespace, old)
	if err != nil {
		return err
	}
	if person == nil {
		return errMoveWithoutPassword
	}
	members, err := s.accountMembers(ctx, acct)
	if err != nil {
		return err
	}
	req, err := accounts.Ask(ctx, s.Client, s.AccountNamespace, accounts.Request{
		Kind: membershipv1alpha1.AccountRequestMove, Email: membershipv1alpha1.EmailAddress(newEmail), MovedFrom: old, Moving: members,
		DisplayName: string(person.Account.Spec.DisplayName), PasswordHash: person.Credentials.PasswordHash, TOTPSecret: person.Credentials.TOTPSecret,
		Phone: person.Account.Spec.Phone, LoginName: string(person.Account.Spec.LoginName), NotAfter: s.Clock.Now().Add(accounts.MoveWait),
	})
	if err != nil {
		return err
	}
	for i := range members {
		m := &members[i]
		if err := s.moveMember(ctx, m, old, newEmail); err != nil {
			return err
		}
		if err := accounttoken.RevokeAll(ctx, s.APIReader, s.Client, m); err != nil {
			return err
		}
		s.Recorder.Eventf(m, nil, corev1.EventTypeNormal, EventEmailChanged, "ChangeEmail",
			"The login email of the person's account changed from %s to %s, confirmed through the link sent to the new address; "+
				"it changed in every store of the account", old, newEmail)
	}
	moved := membershipv1alpha1.AccountName(membershipv1alpha1.EmailAddress(newEmail))
	for i := range members {
		m := &members[i]
		applied, err := accounts.Applied(ctx, s.Client, types.NamespacedName{Namespace: m.Namespace, Name: membershipv1alpha1.CredentialsSecretName(m.Name)},
			projectionTimeout, func(secret *corev1.Secret) bool {
				return string(secret.Data[membershipv1alpha1.CredentialUsername]) == newEmail && secret.Labels[membershipv1alpha1.AccountLabel] == moved
			})
		if err != nil {
			return err
		}
		if !applied {
			s.Log.Info("an email change is still reaching a store", "member", client.ObjectKeyFromObject(m))
		}
	}
	s.sendAsyncTo(acct, string(old), mail.KindEmailChanged, mail.EmailChangeData{
		StoreName: string(acct.store.Spec.DisplayName), MemberName: string(acct.member.Spec.DisplayName),
		OldEmail: string(old), NewEmail: newEmail, ChangedAt: s.Clock.Now(),
	}, mail.MessageID(req.UID, string(mail.KindEmailChanged)+"-account", s.MailDomain))
	return nil
}

// moveMember writes newEmail into m's spec.email as the operator's field manager, against the
// version read; a Member changed meanwhile (a controller's write) is read again and moved, up to
// three times, unless it no longer holds the old address.
func (s *Service) moveMember(ctx context.Context, m *membershipv1alpha1.Member, old membershipv1alpha1.EmailAddress, newEmail string) error {
	for range 3 {
		base := m.DeepCopy()
		m.Spec.Email = membershipv1alpha1.EmailAddress(newEmail)
		err := s.Client.Patch(ctx, m, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}),
			client.FieldOwner(membershipv1alpha1.OperatorFieldManager))
		if !apierrors.IsConflict(err) {
			return err
		}
		fresh := &membershipv1alpha1.Member{}
		if err := s.APIReader.Get(ctx, client.ObjectKeyFromObject(m), fresh); err != nil {
			return err
		}
		if fresh.UID != m.UID || !strings.EqualFold(string(fresh.Spec.Email), string(old)) {
			return nil // gone, replaced, or moved by someone else: not this move's
		}
		*m = *fresh
	}
	return fmt.Errorf("moving Member %s/%s to the new login email: it kept changing", m.Namespace, m.Name)
}
