// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package account

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// changes is what one reconcile applied, for events and status.
type changes struct {
	password  bool
	twoFactor bool
	joined    []membershipv1alpha1.AccountMember
	left      []membershipv1alpha1.AccountMember
	// waiting are the requests that stay for a later reconcile (a move whose Members have not
	// all taken the new address yet).
	waiting map[string]bool
	// refused are moves to an Account that has a password of its own.
	refused []string
	// movedFrom is the address the Account moved from in this reconcile.
	movedFrom string
	// refusedSources are the Members (namespace/name) whose spec.passwordSecretRef may not set
	// this Account's password; refusedPasswords counts the person's own password changes
	// refused because Git governs it; ungoverned says Git stopped governing it.
	refusedSources   []string
	refusedPasswords int
	ungoverned       bool
	// profile is the display name and phone the person chose last, when a request asked.
	profile *membershipv1alpha1.AccountSpec
	// loginName is the login name asked for last; refusedLoginName one another Account holds.
	loginName        *loginNameChange
	loginNameChanged bool
	refusedLoginName string
}

// apply folds the requests, oldest first, into data and joined.
func (r *Reconciler) apply(ctx context.Context, acct *membershipv1alpha1.Account, requests []corev1.Secret,
	data map[string][]byte, joined map[string]membershipv1alpha1.AccountMember) *changes {
	ch := &changes{}
	for i := range requests {
		req := &requests[i]
		if req.Annotations[membershipv1alpha1.EmailAnnotation] == "" ||
			!strings.EqualFold(req.Annotations[membershipv1alpha1.EmailAnnotation], string(acct.Spec.Email)) {
			continue // not this address: dropped with the others
		}
		hash := req.Data[membershipv1alpha1.CredentialPasswordHash]
		totp := req.Data[membershipv1alpha1.CredentialTOTPSecret]
		switch req.Labels[membershipv1alpha1.AccountRequestLabel] {
		case membershipv1alpha1.AccountRequestPassword:
			if acct.Status.PasswordSource != nil {
				ch.refusedPasswords++ // Git wins: the server refuses these too
				continue
			}
			if len(hash) > 0 {
				data[membershipv1alpha1.CredentialPasswordHash] = hash
				delete(data, membershipv1alpha1.CredentialPassword)
				ch.password = true
			}
			if len(totp) > 0 && len(data[membershipv1alpha1.CredentialTOTPSecret]) == 0 {
				data[membershipv1alpha1.CredentialTOTPSecret] = totp
				ch.twoFactor = true
			}
		case membershipv1alpha1.AccountRequestJoin:
			if len(totp) > 0 && len(data[membershipv1alpha1.CredentialTOTPSecret]) == 0 {
				data[membershipv1alpha1.CredentialTOTPSecret] = totp // enrolled while joining
				ch.twoFactor = true
			}
		case membershipv1alpha1.AccountRequestTwoFactor:
			if len(totp) > 0 {
				data[membershipv1alpha1.CredentialTOTPSecret] = totp
				ch.twoFactor = true
			}
			continue
		case membershipv1alpha1.AccountRequestMove:
			r.applyMove(ctx, acct, req, data, joined, ch)
			continue
		case membershipv1alpha1.AccountRequestGitPassword:
			r.applyGitPassword(ctx, acct, req, data, joined, ch)
			continue
		case membershipv1alpha1.AccountRequestProfile:
			name, phone := req.Annotations[membershipv1alpha1.DisplayNameAnnotation], req.Annotations[membershipv1alpha1.PhoneAnnotation]
			// Checked again here, as the server did: a request the API server would refuse
			// must not hold the Account in a failing loop. It is dropped with the others.
			if membershipv1alpha1.ValidDisplayName(name) && membershipv1alpha1.ValidPhone(phone) {
				ch.profile = &membershipv1alpha1.AccountSpec{DisplayName: membershipv1alpha1.DisplayName(name), Phone: phone}
			}
			continue
		case membershipv1alpha1.AccountRequestLoginName:
			if name, ok := loginNameOf(req); ok {
				ch.loginName = &loginNameChange{name: name}
			}
			continue
		case membershipv1alpha1.AccountRequestTwoFactorOff:
			delete(data, membershipv1alpha1.CredentialTOTPSecret) // ensureTwoFactor puts one back if a membership requires it
			ch.twoFactor = true
			continue
		default:
			continue
		}
		if m := r.requestedMember(ctx, acct, req); m != nil && joinsGoverned(acct, m.Namespace) {
			if _, already := joined[string(m.UID)]; !already {
				ref := memberRef(m)
				joined[ref.UID] = ref
				ch.joined = append(ch.joined, ref)
			}
		}
	}
	return ch
}

// requestedMember is the Member a request joins, read from the API server (the server just
// made it): it must still have the UID the request names and the Account's address.
func (r *Reconciler) requestedMember(ctx context.Context, acct *membershipv1alpha1.Account, req *corev1.Secret) *membershipv1alpha1.Member {
	ns, name, ok := strings.Cut(req.Annotations[membershipv1alpha1.MemberRefAnnotation], "/")
	if !ok {
		return nil
	}
	m := &membershipv1alpha1.Member{}
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, m); err != nil {
		return nil
	}
	if string(m.UID) != req.Annotations[membershipv1alpha1.MemberUIDAnnotation] || !m.DeletionTimestamp.IsZero() ||
		!strings.EqualFold(string(m.Spec.Email), string(acct.Spec.Email)) {
		return nil
	}
	return m
}

func memberRef(m *membershipv1alpha1.Member) membershipv1alpha1.AccountMember {
	return membershipv1alpha1.AccountMember{Namespace: m.Namespace, Name: m.Name, UID: string(m.UID), Store: m.Spec.StoreRef.Name}
}
