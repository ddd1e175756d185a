// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package webhook

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

func member(name string, roles ...membershipv1alpha1.Role) *membershipv1alpha1.Member {
	m := &membershipv1alpha1.Member{ObjectMeta: metav1.ObjectMeta{Name: name}}
	m.Spec.StoreRef.Name = "shop"
	m.Spec.Email = "someone@example.com"
	m.Spec.Roles = roles
	return m
}

func TestValidateMember(t *testing.T) {
	store := &membershipv1alpha1.Store{ObjectMeta: metav1.ObjectMeta{Name: "shop", UID: "store-uid"}}
	owner := member("shop-owner", membershipv1alpha1.RoleOwner)
	owner.OwnerReferences = []metav1.OwnerReference{{Kind: "Store", Name: "shop", UID: "store-uid", Controller: ptr.To(true)}}
	renamed := owner.DeepCopy()
	renamed.Spec.Email = "new@example.com"
	labelled := owner.DeepCopy()
	labelled.Labels = map[string]string{"team": "a"}
	owner.Finalizers = []string{membershipv1alpha1.MemberFinalizer}
	owner.Annotations = map[string]string{membershipv1alpha1.InvitationAnnotation: "shop-owner-activation-1"}
	labelled = owner.DeepCopy()
	labelled.Labels = map[string]string{"team": "a"}
	stripped := owner.DeepCopy()
	stripped.OwnerReferences = nil
	unfinalized := owner.DeepCopy()
	unfinalized.Finalizers = nil
	resetAsked := owner.DeepCopy()
	resetAsked.Annotations = map[string]string{membershipv1alpha1.InvitationAnnotation: "shop-owner-activation-1",
		membershipv1alpha1.ResetPasswordAnnotation: "now"}
	unannotated := owner.DeepCopy()
	unannotated.Annotations = nil
	storeRelabelled := owner.DeepCopy()
	storeRelabelled.Labels = map[string]string{membershipv1alpha1.StoreLabel: "other"}
	noted := owner.DeepCopy()
	noted.Annotations = map[string]string{membershipv1alpha1.InvitationAnnotation: "shop-owner-activation-1", "note": "hi"}
	deleting := store.DeepCopy()
	deleting.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	staff, admin := member("bob", membershipv1alpha1.RoleStaff), member("bob", membershipv1alpha1.RoleAdmin)

	cases := []struct {
		name       string
		op         Operation
		byOperator bool
		old, obj   *membershipv1alpha1.Member
		store      *membershipv1alpha1.Store
		field      string // "" when allowed
	}{
		{"a person creates an owner", Create, false, nil, member("mallory", membershipv1alpha1.RoleOwner), nil, "spec.roles"},
		{"a person creates an owner among other roles", Create, false, nil,
			member("mallory", membershipv1alpha1.RoleAdmin, membershipv1alpha1.RoleOwner), nil, "spec.roles"},
		{"the operator creates the owner", Create, true, nil, owner, nil, ""},
		{"a person creates staff", Create, false, nil, staff, nil, ""},
		{"a person promotes staff to owner", Update, false, staff, member("bob", membershipv1alpha1.RoleOwner), nil, "spec.roles"},
		{"even the operator cannot flip owner to admin", Update, true, owner, member("shop-owner", membershipv1alpha1.RoleAdmin), nil, "spec.roles"},
		{"a person edits the owner's spec", Update, false, owner, renamed, nil, "spec"},
		{"a person labels the owner", Update, false, owner, labelled, nil, ""},
		{"a person annotates the owner with their own key", Update, false, owner, noted, nil, ""},
		{"a person strips the owner's owner references", Update, false, owner, stripped, nil, "metadata.ownerReferences"},
		{"a person removes the owner's finalizer", Update, false, owner, unfinalized, nil, "metadata.finalizers"},
		{"a person asks for the owner's password reset", Update, false, owner, resetAsked, nil,
			"metadata.annotations[membership.storeops.io/reset-password]"},
		{"a person removes the operator's annotation", Update, false, owner, unannotated, nil,
			"metadata.annotations[membership.storeops.io/invitation]"},
		{"a person sets the operator's store label", Update, false, owner, storeRelabelled, nil,
			"metadata.labels[membership.storeops.io/store]"},
		{"the operator puts the owner references back", Update, true, stripped, owner, nil, ""},
		{"the operator edits the owner's spec", Update, true, owner, renamed, nil, ""},
		{"a person changes staff to admin", Update, false, staff, admin, nil, ""},
		{"a person deletes the owner of a standing Store", Delete, false, owner, nil, store, "spec.roles"},
		{"a person deletes the owner of a Store being deleted", Delete, false, owner, nil, deleting, ""},
		{"a person deletes the owner of a missing Store", Delete, false, owner, nil, nil, ""},
		{"a person deletes a stray owner-role Member", Delete, false, member("mallory", membershipv1alpha1.RoleOwner), nil, store, ""},
		{"the operator deletes the owner", Delete, true, owner, nil, store, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			errs := ValidateMember(tc.op, tc.byOperator, tc.old, tc.obj, tc.store)
			if tc.field == "" {
				g.Expect(errs).To(BeEmpty())
				return
			}
			g.Expect(errs).To(HaveLen(1))
			g.Expect(errs[0].Field).To(Equal(tc.field))
			g.Expect(errs[0].Error()).To(ContainSubstring("owner"))
		})
	}
}

func TestValidateInvitationRoles(t *testing.T) {
	inv := func(roles ...membershipv1alpha1.Role) *membershipv1alpha1.Invitation {
		i := &membershipv1alpha1.Invitation{}
		i.Spec.StoreRef.Name = "shop"
		i.Spec.Roles = roles
		return i
	}
	g := NewWithT(t)
	g.Expect(ValidateInvitationRoles(Create, false, nil, inv(membershipv1alpha1.RoleOwner))).To(HaveLen(1))
	g.Expect(ValidateInvitationRoles(Create, true, nil, inv(membershipv1alpha1.RoleOwner))).To(BeEmpty())
	g.Expect(ValidateInvitationRoles(Create, false, nil, inv(membershipv1alpha1.RoleStaff))).To(BeEmpty())
	flip := ValidateInvitationRoles(Update, true, inv(membershipv1alpha1.RoleOwner), inv(membershipv1alpha1.RoleAdmin))
	g.Expect(flip).To(HaveLen(1))
	g.Expect(flip[0].Detail).To(ContainSubstring("cannot change between owner and another role"))
	g.Expect(ValidateInvitationRoles(Update, false, inv(membershipv1alpha1.RoleStaff), inv(membershipv1alpha1.RoleOwner))).To(HaveLen(1))
	g.Expect(ValidateInvitationRoles(Update, false, inv(membershipv1alpha1.RoleStaff), inv(membershipv1alpha1.RoleFinance))).To(BeEmpty())
}

func TestInvitationRefusalNamesTheField(t *testing.T) {
	g := NewWithT(t)
	g.Expect(InvitationRefusal("", "")).To(BeEmpty())
	g.Expect(InvitationRefusal(membershipv1alpha1.ReasonStoreNotFound, "no Store")).To(BeEmpty(), "GitOps applies in any order")
	g.Expect(InvitationRefusal(membershipv1alpha1.ReasonAlreadyMember, "x")).To(ConsistOf(HaveField("Field", "spec.email")))
	g.Expect(InvitationRefusal(membershipv1alpha1.ReasonMemberOfAnotherStore, "x")).To(ConsistOf(HaveField("Field", "spec.email")))
	g.Expect(InvitationRefusal(membershipv1alpha1.ReasonMemberLimitReached, "Store \"shop\" has memberLimit 2")).To(ConsistOf(And(
		HaveField("Field", "spec.storeRef.name"), HaveField("Detail", ContainSubstring("spec.memberLimit")))))
}
