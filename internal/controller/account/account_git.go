// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package account

import (
	"bytes"
	"context"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	accounts "github.com/storeops/member-operator/internal/account"
)

// An Account governed from Git (status.passwordSource) takes its password only from that
// source, through git-password requests the Member controller makes for a Member naming it, and
// only Members of the source's namespace join it. The Member controller decides the same
// (gitAccountPolicy there); these checks hold even when it acted on a stale cache.

// applyGitPassword applies a git-password request: an Account nobody uses yet (just made), or a
// person's Account whose every Member is in the source's namespace (the request's Member among
// them), becomes governed by the request's source; one governed by it takes the new hash. The Member the request
// names joins, when it still names that source and lives in its namespace. Anything else is
// refused and recorded in ch.
func (r *Reconciler) applyGitPassword(ctx context.Context, acct *membershipv1alpha1.Account, req *corev1.Secret,
	data map[string][]byte, joined map[string]membershipv1alpha1.AccountMember, ch *changes) {
	src, ok := accounts.PasswordSourceOf(req)
	hash := req.Data[membershipv1alpha1.CredentialPasswordHash]
	m := r.requestedMember(ctx, acct, req)
	if !ok || len(hash) == 0 || m == nil || m.Namespace != src.Namespace || m.Spec.PasswordSecretRef == nil ||
		m.Spec.PasswordSecretRef.Name != src.Secret || m.Spec.PasswordSecretRef.Key != src.Key {
		return // the Member no longer names this source: nothing to apply
	}
	unused := acct.Status.PasswordSource == nil && len(joined) == 0 && len(data[membershipv1alpha1.CredentialPasswordHash]) == 0
	_, isJoined := joined[string(m.UID)]
	adoptable := acct.Status.PasswordSource == nil && isJoined && accounts.AllIn(src.Namespace, slices.Collect(maps.Values(joined))...)
	if !unused && !adoptable && !acct.GovernedBy(src.Namespace, m.Spec.PasswordSecretRef) {
		ch.refusedSources = append(ch.refusedSources, m.Namespace+"/"+m.Name)
		return
	}
	if unused || adoptable {
		acct.Status.PasswordSource = &src
		unused = unused || len(data[membershipv1alpha1.CredentialPasswordHash]) == 0
	}
	if !bytes.Equal(data[membershipv1alpha1.CredentialPasswordHash], hash) {
		ch.password = ch.password || !unused
		data[membershipv1alpha1.CredentialPasswordHash] = hash
		delete(data, membershipv1alpha1.CredentialPassword)
	}
	if totp := req.Data[membershipv1alpha1.CredentialTOTPSecret]; len(totp) > 0 && len(data[membershipv1alpha1.CredentialTOTPSecret]) == 0 {
		data[membershipv1alpha1.CredentialTOTPSecret] = totp // the key the Member had
	}
	if _, already := joined[string(m.UID)]; !already {
		ref := memberRef(m)
		joined[ref.UID] = ref
		ch.joined = append(ch.joined, ref)
	}
}

// joinsGoverned reports whether a Member of namespace may join acct: any, unless Git governs
// acct's password from another namespace.
func joinsGoverned(acct *membershipv1alpha1.Account, namespace string) bool {
	return acct.Status.PasswordSource == nil || acct.Status.PasswordSource.Namespace == namespace
}

// keepGoverned ends Git's governance of acct when no joined Member names its source any more (the
// reference was removed from Git, or those Members left): the password stays, and is the
// person's from then on.
func keepGoverned(acct *membershipv1alpha1.Account, members []membershipv1alpha1.Member, joined map[string]membershipv1alpha1.AccountMember) bool {
	src := acct.Status.PasswordSource
	if src == nil {
		return false
	}
	seen := 0
	for i := range members {
		m := &members[i]
		if _, ok := joined[string(m.UID)]; !ok {
			continue
		}
		seen++
		if m.DeletionTimestamp.IsZero() && acct.GovernedBy(m.Namespace, m.Spec.PasswordSecretRef) {
			return false
		}
	}
	if seen < len(joined) {
		return false // a joined Member the cache does not show yet: decide once it does
	}
	acct.Status.PasswordSource = nil
	return true
}
