// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package index

import (
	"context"
	"errors"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/credentials"
)

// Field indexes in the manager's cache. Several controllers (and the acceptance server) read the
// same ones, and an index can be registered only once per manager, so they live here and
// Setup registers them all.
const (
	// MemberStore finds the Members of a Store (spec.storeRef.name).
	MemberStore = "member.spec.storeRef.name"
	// MemberLogin finds the Members that sign in with a login, in any Store and namespace, by
	// LoginKey: the name of the Account of that login (membershipv1alpha1.AccountName of a
	// person's email, an integration's client ID or name). It answers who contends for a login
	// in one Store (ListByLogin, OfStore: one login per store), where a person is a Member
	// (People: --exclusive-membership) and which Members make up an Account (ListOfAccount: the
	// Account controller knows an Account by its name only). Each key is a set of its own in the
	// cache, for the namespace and again for all namespaces: a second index of the same Members
	// by address cost as much as every other index together (about 0.8 KiB per Member).
	MemberLogin = "member.login"
	// AccountLoginName finds the Account with a login name (lower case), for signing in by it.
	AccountLoginName = "account.spec.loginName"
	// InvitationStore finds the Invitations of a Store.
	InvitationStore = "invitation.spec.storeRef.name"
	// InvitationEmail finds the Invitations for an address in any Store (NormalizeEmail).
	InvitationEmail = "invitation.email"
	// InvitationTokenID finds an Invitation by the public ID of any link token it has had
	// (every send round): the acceptance server tells a rotated link (410) from a made-up one
	// (404) without scanning. The IDs are derived from the token key, never stored.
	InvitationTokenID = "invitation.tokenIDs"
	// SecretTokenFor finds a Member's account link Secrets (the TokenForLabel's value),
	// which the Member controller checks for expiry on every reconcile: an index, not a scan of
	// every Secret in the namespace.
	SecretTokenFor = "secret.tokenFor"
	// SecretTokenID finds an account link Secret by its token's public ID (TokenIDLabel):
	// the acceptance server counts a link against its per-link limit only when the ID is real.
	SecretTokenID = "secret.tokenID"
	// SecretAccountRequest finds the requests waiting for an Account (the AccountLabel of a
	// Secret with AccountRequestLabel), which the Account controller reads on every reconcile.
	// A label selector on the cache is a scan of every Secret in the operator's namespace, which
	// holds every Account's Secret and every waiting request: while a cluster's people join, that
	// is a cost per reconcile that grows with the cluster.
	SecretAccountRequest = "secret.accountRequest"
)

// NormalizeEmail is the one comparison form of an address: lower-cased. Plus-aliases are kept:
// a+x@example.com and a@example.com are distinct addresses.
func NormalizeEmail(email membershipv1alpha1.EmailAddress) string {
	return strings.ToLower(string(email))
}

// LoginKey is the MemberLogin key of a login: the name its Account has (or would have). The
// name carries 48 bits of a hash, so two logins can share a key: ListByLogin and ListOfAccount
// keep only the Members whose login is the one asked.
func LoginKey(login string) string {
	return membershipv1alpha1.AccountName(membershipv1alpha1.EmailAddress(login))
}

// MemberLoginKeys is the MemberLogin index function: every login of a Store contends, an
// integration's client ID with the emails.
func MemberLoginKeys(o client.Object) []string {
	return []string{LoginKey(o.(*membershipv1alpha1.Member).Login())}
}

// ListByLogin lists from reader (the cache: the index is there) the Members whose login is login,
// compared as NormalizeEmail does, integrations included; opts narrow it further (a namespace,
// client.UnsafeDisableDeepCopy).
func ListByLogin(ctx context.Context, reader client.Reader, login string, opts ...client.ListOption) ([]membershipv1alpha1.Member, error) {
	var list membershipv1alpha1.MemberList
	opts = append(opts, client.MatchingFields{MemberLogin: LoginKey(login)})
	if err := reader.List(ctx, &list, opts...); err != nil {
		return nil, err
	}
	return WithLogin(list.Items, login), nil
}

// ListOfAccount lists from reader (the cache) the people whose address is that of the Account
// name, in every namespace: the Account controller's view of a person.
func ListOfAccount(ctx context.Context, reader client.Reader, name string) ([]membershipv1alpha1.Member, error) {
	var list membershipv1alpha1.MemberList
	if err := reader.List(ctx, &list, client.MatchingFields{MemberLogin: name}); err != nil {
		return nil, err
	}
	return People(list.Items), nil // a person's key is the name of the Account of the address
}

// WithLogin keeps, in place, the Members whose login is login (NormalizeEmail of both).
func WithLogin(members []membershipv1alpha1.Member, login string) []membershipv1alpha1.Member {
	want := NormalizeEmail(membershipv1alpha1.EmailAddress(login))
	return slices.DeleteFunc(members, func(m membershipv1alpha1.Member) bool {
		return NormalizeEmail(membershipv1alpha1.EmailAddress(m.Login())) != want
	})
}

// OfStore keeps, in place, the Members of store (a MemberLogin lookup narrowed to one Store;
// the caller lists in the Store's namespace).
func OfStore(members []membershipv1alpha1.Member, store string) []membershipv1alpha1.Member {
	return slices.DeleteFunc(members, func(m membershipv1alpha1.Member) bool { return m.Spec.StoreRef.Name != store })
}

// People keeps, in place, the Members that are people: an integration is no person's, even
// when its client ID is an email address.
func People(members []membershipv1alpha1.Member) []membershipv1alpha1.Member {
	return slices.DeleteFunc(members, func(m membershipv1alpha1.Member) bool { return m.IsIntegration() })
}

// Setup registers every field index with the manager's cache. Call it once per manager,
// before the controllers start. tokenKey derives invitation link tokens (internal/tokenkey).
func Setup(ctx context.Context, mgr ctrl.Manager, tokenKey []byte) error {
	if len(tokenKey) < 32 {
		return errors.New("the token key must hold at least 32 bytes")
	}
	indexer := mgr.GetFieldIndexer()
	for _, ix := range []struct {
		obj     client.Object
		field   string
		extract client.IndexerFunc
	}{
		{&membershipv1alpha1.Member{}, MemberStore, func(o client.Object) []string {
			return []string{o.(*membershipv1alpha1.Member).Spec.StoreRef.Name}
		}},
		{&membershipv1alpha1.Member{}, MemberLogin, MemberLoginKeys},
		{&membershipv1alpha1.Account{}, AccountLoginName, func(o client.Object) []string {
			if name := o.(*membershipv1alpha1.Account).Spec.LoginName; name != "" {
				return []string{strings.ToLower(string(name))}
			}
			return nil
		}},
		{&membershipv1alpha1.Invitation{}, InvitationStore, func(o client.Object) []string {
			return []string{o.(*membershipv1alpha1.Invitation).Spec.StoreRef.Name}
		}},
		{&membershipv1alpha1.Invitation{}, InvitationEmail, func(o client.Object) []string {
			return []string{NormalizeEmail(o.(*membershipv1alpha1.Invitation).Spec.Email)}
		}},
		{&membershipv1alpha1.Invitation{}, InvitationTokenID, func(o client.Object) []string {
			return InvitationTokenIDs(o.(*membershipv1alpha1.Invitation), tokenKey)
		}},
		{&corev1.Secret{}, SecretTokenFor, func(o client.Object) []string {
			if member := o.GetLabels()[membershipv1alpha1.TokenForLabel]; member != "" {
				return []string{member}
			}
			return nil
		}},
		{&corev1.Secret{}, SecretAccountRequest, AccountRequestKeys},
		{&corev1.Secret{}, SecretTokenID, func(o client.Object) []string {
			if id := o.GetLabels()[membershipv1alpha1.TokenIDLabel]; id != "" && o.GetLabels()[membershipv1alpha1.TokenForLabel] != "" {
				return []string{id}
			}
			return nil
		}},
	} {
		if err := indexer.IndexField(ctx, ix.obj, ix.field, ix.extract); err != nil {
			return err
		}
	}
	return nil
}

// AccountRequestKeys are the SecretAccountRequest keys of a Secret: the name of the Account it
// is a request for, when it is an account request.
func AccountRequestKeys(o client.Object) []string {
	labels := o.GetLabels()
	if _, isRequest := labels[membershipv1alpha1.AccountRequestLabel]; isRequest && labels[membershipv1alpha1.AccountLabel] != "" {
		return []string{labels[membershipv1alpha1.AccountLabel]}
	}
	return nil
}

// InvitationTokenIDs are the IDs of the link tokens of every send round of inv, the current one
// last.
func InvitationTokenIDs(inv *membershipv1alpha1.Invitation, tokenKey []byte) []string {
	ids := make([]string, 0, inv.Status.Resends+1)
	for round := int32(0); round <= inv.Status.Resends; round++ {
		tok, err := credentials.InvitationToken(tokenKey, string(inv.UID), round)
		if err != nil {
			return nil // a short key: Setup' caller refuses it before this runs
		}
		ids = append(ids, tok.ID)
	}
	return ids
}
