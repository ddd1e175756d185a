// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package member

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

func TestGitAccountPolicy(t *testing.T) {
	ref := &membershipv1alpha1.SecretKeyReference{Name: "nora-password", Key: "password"}
	declared := func(mutate ...func(*membershipv1alpha1.Member)) *membershipv1alpha1.Member {
		m := &membershipv1alpha1.Member{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop-a", Name: "nora"},
			Spec:       membershipv1alpha1.MemberSpec{Roles: []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff}, PasswordSecretRef: ref},
		}
		for _, f := range mutate {
			f(m)
		}
		return m
	}
	governed := func(ns, secret string) *membershipv1alpha1.Account {
		return &membershipv1alpha1.Account{Status: membershipv1alpha1.AccountStatus{
			PasswordSource: &membershipv1alpha1.AccountPasswordSource{Namespace: ns, Secret: secret, Key: "password"}}}
	}
	personal := &membershipv1alpha1.Account{}
	deleting := governed("shop-a", "nora-password")
	now := metav1.Now()
	deleting.DeletionTimestamp = &now

	for _, tc := range []struct {
		name     string
		member   *membershipv1alpha1.Member
		acct     *membershipv1alpha1.Account
		earliest bool
		want     gitAccountAction
	}{
		{"no source: a login of its own", declared(func(m *membershipv1alpha1.Member) { m.Spec.PasswordSecretRef = nil }), nil, true, gitSeparate},
		{"from an invitation: the person's, never Git's", declared(func(m *membershipv1alpha1.Member) {
			m.Annotations = map[string]string{membershipv1alpha1.InvitationAnnotation: "invite-nora"}
		}), nil, true, gitSeparate},
		{"the owner: the Store's login", declared(func(m *membershipv1alpha1.Member) {
			m.Spec.Roles = []membershipv1alpha1.Role{membershipv1alpha1.RoleOwner}
		}), nil, true, gitSeparate},
		{"no Account, earliest: makes it", declared(), nil, true, gitAsk},
		{"no Account, a later one: waits for the earliest", declared(), nil, false, gitSeparate},
		{"an Account being deleted: waits", declared(), deleting, true, gitSeparate},
		{"governed by its source: joins, follows", declared(), governed("shop-a", "nora-password"), false, gitAsk},
		{"governed by another source here: Conflict", declared(), governed("shop-a", "other-password"), false, gitConflict},
		{"governed from another namespace: a login of its own", declared(), governed("shop-b", "nora-password"), true, gitSeparate},
		{"the person's own Account: never set by a tenant", declared(), personal, true, gitSeparate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(gitAccountPolicy(tc.member, tc.acct, tc.earliest)).To(Equal(tc.want))
		})
	}
}

func TestJoinedGitAction(t *testing.T) {
	ref := &membershipv1alpha1.SecretKeyReference{Name: "nora-password", Key: "password"}
	member := &membershipv1alpha1.Member{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop-a", Name: "nora"},
		Spec:       membershipv1alpha1.MemberSpec{Roles: []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff}, PasswordSecretRef: ref},
	}
	account := func(src *membershipv1alpha1.AccountPasswordSource, namespaces ...string) *membershipv1alpha1.Account {
		acct := &membershipv1alpha1.Account{Status: membershipv1alpha1.AccountStatus{PasswordSource: src}}
		for _, ns := range namespaces {
			acct.Status.Members = append(acct.Status.Members, membershipv1alpha1.AccountMember{Namespace: ns, Name: "nora"})
		}
		return acct
	}
	own := &membershipv1alpha1.AccountPasswordSource{Namespace: "shop-a", Secret: "nora-password", Key: "password"}
	other := &membershipv1alpha1.AccountPasswordSource{Namespace: "shop-a", Secret: "other", Key: "password"}
	elsewhere := &membershipv1alpha1.AccountPasswordSource{Namespace: "shop-b", Secret: "nora-password", Key: "password"}
	withoutRef := member.DeepCopy()
	withoutRef.Spec.PasswordSecretRef = nil

	for _, tc := range []struct {
		name   string
		member *membershipv1alpha1.Member
		acct   *membershipv1alpha1.Account
		want   gitAccountAction
	}{
		{"no reference", withoutRef, account(nil, "shop-a"), gitSeparate},
		{"governs it: follows", member, account(own, "shop-a"), gitAsk},
		{"the person's, every store here: comes to govern it", member, account(nil, "shop-a", "shop-a"), gitAsk},
		{"the person's, used in another namespace too: ignored", member, account(nil, "shop-a", "shop-b"), gitSeparate},
		{"another source governs it here: Conflict", member, account(other, "shop-a"), gitConflict},
		{"governed from another namespace: ignored", member, account(elsewhere, "shop-a"), gitSeparate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(joinedGitAction(tc.member, tc.acct)).To(Equal(tc.want))
		})
	}
}
