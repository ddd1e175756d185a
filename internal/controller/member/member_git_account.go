// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package member

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	accounts "github.com/storeops/member-operator/internal/account"
	"github.com/storeops/member-operator/internal/index"
)

// Passwords from Git. A Member declared without the person (in Git, by an administrator) whose
// password comes from spec.passwordSecretRef makes the Account of its address, governed by that
// source: the Secret's changes reach every store of the Account, and the person's own password
// changes are refused (Git wins). A reference on a Member the person joined governs the person's
// Account too, when every store of it is in that namespace. Such an Account stays inside the
// source's namespace: the tenant who writes the Secret knows the password, so a store elsewhere
// never joins it (an invitation from another namespace gives the person a login of their own),
// and a source never sets the password of an Account used in other namespaces. Within the
// namespace, another Member of the address naming the same source joins; one naming another
// source is in Conflict (PasswordSourceConflict): the first source governs.

// gitAccountAction is what a Member does about the Account of its address.
type gitAccountAction int

const (
	// gitSeparate: a login of its own, as before accounts.
	gitSeparate gitAccountAction = iota
	// gitAsk: ask the Account controller to make the Account (or take the source's new
	// password) and join this Member.
	gitAsk
	// gitConflict: another source declares the person's password in this namespace.
	gitConflict
)

// gitAccountPolicy decides what member does about acct, the Account of its address (nil when
// there is none); earliest says whether member is the earliest Member of the address in its
// namespace with a spec.passwordSecretRef, the one that makes the Account.
func gitAccountPolicy(member *membershipv1alpha1.Member, acct *membershipv1alpha1.Account, earliest bool) gitAccountAction {
	ref := member.Spec.PasswordSecretRef
	switch {
	case ref == nil, member.Annotations[membershipv1alpha1.InvitationAnnotation] != "", membershipv1alpha1.HasOwnerRole(member.Spec.Roles):
		return gitSeparate // only a Member declared without the person; the owner's login is the Store's
	case acct == nil:
		if earliest {
			return gitAsk
		}
		return gitSeparate // until the earliest has made it
	case !acct.DeletionTimestamp.IsZero():
		return gitSeparate
	case acct.GovernedBy(member.Namespace, ref):
		return gitAsk
	case acct.Status.PasswordSource != nil && acct.Status.PasswordSource.Namespace == member.Namespace:
		return gitConflict
	default:
		return gitSeparate // the person's own Account, or one another namespace's Git declares
	}
}

// joinedGitAction decides what member, joined to acct, does about its spec.passwordSecretRef:
// follow it when it governs acct; ask for it to govern when acct is the person's and every store
// of it is in member's namespace (the tenant who writes the Secret then decides only for its
// own stores: Git wins there); Conflict when another source governs acct from this namespace;
// otherwise nothing (the reference is ignored: acct is used by other tenants too, or governed
// from elsewhere).
func joinedGitAction(member *membershipv1alpha1.Member, acct *membershipv1alpha1.Account) gitAccountAction {
	ref := member.Spec.PasswordSecretRef
	src := acct.Status.PasswordSource
	switch {
	case ref == nil || membershipv1alpha1.HasOwnerRole(member.Spec.Roles):
		return gitSeparate
	case acct.GovernedBy(member.Namespace, ref):
		return gitAsk
	case src != nil && src.Namespace == member.Namespace:
		return gitConflict
	case src == nil && accounts.AllIn(member.Namespace, acct.Status.Members...):
		return gitAsk
	}
	return gitSeparate
}

// gitAccountOf reads the Account of member's address and decides what member does about it.
func (r *Reconciler) gitAccountOf(ctx context.Context, member *membershipv1alpha1.Member) (gitAccountAction, *membershipv1alpha1.Account, error) {
	if r.AccountNamespace == "" || member.Spec.PasswordSecretRef == nil {
		return gitSeparate, nil, nil
	}
	acct, err := accounts.Of(ctx, r.Client, member.Spec.Email)
	if err != nil {
		return gitSeparate, nil, err
	}
	earliest := true
	if acct == nil {
		peers, err := index.ListByLogin(ctx, r.Client, string(member.Spec.Email), client.InNamespace(member.Namespace), client.UnsafeDisableDeepCopy)
		if err != nil {
			return gitSeparate, nil, err
		}
		peers = index.People(peers)
		for i := range peers {
			p := &peers[i]
			if p.UID != member.UID && p.DeletionTimestamp.IsZero() && p.Spec.PasswordSecretRef != nil &&
				p.Annotations[membershipv1alpha1.InvitationAnnotation] == "" && createdBefore(p, member) {
				earliest = false
			}
		}
	}
	return gitAccountPolicy(member, acct, earliest), acct, nil
}

// createdBefore orders Members by creation, then name.
func createdBefore(a, b *membershipv1alpha1.Member) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}

// askGitAccount asks the Account controller to set the Account's password to the hash in data
// (the source's) and join member, unless a request saying the same already waits. data's TOTP
// key goes along: an Account made from this Member keeps the key it has.
func (r *Reconciler) askGitAccount(ctx context.Context, member *membershipv1alpha1.Member, data map[string][]byte) error {
	hash := data[membershipv1alpha1.CredentialPasswordHash]
	asked, err := r.gitRequests(ctx, member)
	if err != nil {
		return err
	}
	for _, req := range asked {
		if bytes.Equal(req.Data[membershipv1alpha1.CredentialPasswordHash], hash) {
			return nil
		}
	}
	ref := member.Spec.PasswordSecretRef
	_, err = accounts.Ask(ctx, r.Client, r.AccountNamespace, accounts.Request{
		Kind: membershipv1alpha1.AccountRequestGitPassword, Email: member.Spec.Email, Member: member,
		DisplayName: string(member.Spec.DisplayName), PasswordHash: hash,
		TOTPSecret:     string(data[membershipv1alpha1.CredentialTOTPSecret]),
		PasswordSource: &membershipv1alpha1.AccountPasswordSource{Namespace: member.Namespace, Secret: ref.Name, Key: ref.Key},
	})
	return err
}

// gitRequests are member's git-password requests still waiting for the Account controller, in
// the order they were made. They are read where the Accounts' own Secrets are (a namespace
// shard's cache holds neither: index.ShardCacheOptions).
func (r *Reconciler) gitRequests(ctx context.Context, member *membershipv1alpha1.Member) ([]corev1.Secret, error) {
	name := membershipv1alpha1.AccountName(member.Spec.Email)
	var pending []corev1.Secret
	var err error
	if r.AccountSecrets != nil {
		pending, err = accounts.PendingLive(ctx, r.AccountSecrets, r.AccountNamespace, name) // a namespace shard
	} else {
		pending, err = accounts.Pending(ctx, r.Client, r.AccountNamespace, name)
	}
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(pending, func(req corev1.Secret) bool {
		return req.Labels[membershipv1alpha1.AccountRequestLabel] != membershipv1alpha1.AccountRequestGitPassword ||
			req.Annotations[membershipv1alpha1.MemberUIDAnnotation] != string(member.UID)
	}), nil
}

// startFromAccount puts the hash of the Account that member is about to join (governed by the
// same source) into data, to be checked against the source rather than replaced: bcrypt salts
// every hash, so a hash of its own would change the Account's for every store (and end their
// links) when nothing changed. source is cleared so that the check is made.
func (r *Reconciler) startFromAccount(ctx context.Context, acct *membershipv1alpha1.Account, data map[string][]byte, source *string) {
	secret, err := accounts.SecretOf(ctx, r.accountSecrets(), r.AccountNamespace, acct)
	if err != nil || secret == nil {
		return // the Account takes the Member's hash, as it would anyway
	}
	if hash := secret.Data[membershipv1alpha1.CredentialPasswordHash]; len(hash) > 0 && !bytes.Equal(hash, data[membershipv1alpha1.CredentialPasswordHash]) {
		data[membershipv1alpha1.CredentialPasswordHash] = bytes.Clone(hash)
		*source = ""
	}
}

// followGitSource keeps a governing Member's source and its Account together: when the source's
// password changed (applySuppliedPassword, which spends no bcrypt work on an unchanged version),
// the Account is asked to take it; adopt asks even when it did not, for a source that is to
// govern the person's Account from now on. source is the version last followed; pending reports
// that the source cannot be read (the Member is Pending, as any Member whose source is missing).
func (r *Reconciler) followGitSource(ctx context.Context, member *membershipv1alpha1.Member, person *accounts.Person,
	source *string, adopt bool) (bool, error) {
	followed := map[string][]byte{membershipv1alpha1.CredentialPasswordHash: person.Credentials.PasswordHash}
	rotated := false
	version := *source
	if adopt {
		// Until the Account is governed its hash is the person's own, and the version recorded
		// may be of a request the Account controller has not applied yet: check the source's
		// password again rather than send the Account's hash back, which, applied after the
		// first request, would govern the Account with the old password. Checked against that
		// waiting request's hash, if there is one, so that it is not asked twice.
		version = ""
		asked, err := r.gitRequests(ctx, member)
		if err != nil {
			return false, err
		}
		if len(asked) > 0 {
			followed[membershipv1alpha1.CredentialPasswordHash] = asked[len(asked)-1].Data[membershipv1alpha1.CredentialPasswordHash]
		}
	}
	pending, err := r.applySuppliedPassword(ctx, member, member.Spec.PasswordSecretRef, followed, &version, &rotated)
	if err != nil || pending {
		return pending, err
	}
	*source = version
	if !adopt && bytes.Equal(followed[membershipv1alpha1.CredentialPasswordHash], person.Credentials.PasswordHash) {
		return false, nil
	}
	followed[membershipv1alpha1.CredentialTOTPSecret] = []byte(person.Credentials.TOTPSecret)
	return false, r.askGitAccount(ctx, member, followed)
}

// passwordSourceConflict withholds member's credentials (retained, so the same password comes
// back once the sources agree) while another source governs the person's Account here.
func (r *Reconciler) passwordSourceConflict(ctx context.Context, member *membershipv1alpha1.Member, acct *membershipv1alpha1.Account) error {
	if err := r.revokeRetaining(ctx, member); err != nil {
		return err
	}
	src := acct.Status.PasswordSource
	msg := fmt.Sprintf("Account %s's password is declared by Secret %q key %q (another Member's spec.passwordSecretRef in this namespace); "+
		"a person has one password: point spec.passwordSecretRef at the same Secret and key, or remove it", acct.Name, src.Secret, src.Key)
	ready := meta.FindStatusCondition(member.Status.Conditions, membershipv1alpha1.ConditionReady)
	member.Status.Phase = membershipv1alpha1.MemberConflict
	member.Status.CredentialsSecret = ""
	member.Status.Account = ""
	setConditions(member, metav1.ConditionFalse, membershipv1alpha1.ReasonPasswordSourceConflict, msg)
	if ready == nil || ready.Reason != membershipv1alpha1.ReasonPasswordSourceConflict {
		r.Recorder.Eventf(member, nil, corev1.EventTypeWarning, EventPasswordSourceConflict, "IssueCredentials", "%s", msg)
	}
	return nil
}
