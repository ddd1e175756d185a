// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package store

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/progress"
	"github.com/storeops/member-operator/test/health"
)

// Every state of a Store as Flux (kstatus) and Argo CD (the Lua check) read it, after the
// controller's deferred status write. An owner who has not activated, or a transfer waiting on
// the new owner, is a person's step: the sync does not wait for it (OwnerActive says it).
func TestStoreHealthAsGitOpsToolsReadIt(t *testing.T) {
	store := func(ready metav1.ConditionStatus, reason string, transfer bool) *membershipv1alpha1.Store {
		s := &membershipv1alpha1.Store{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns", Generation: 4}}
		setReady(s, ready, reason, reason+": the controller's message")
		if transfer {
			s.Status.OwnerTransfer = &membershipv1alpha1.OwnerTransferStatus{Email: "new@example.com", Invitation: "x"}
		}
		standing, r, msg := storeProgress(s)
		progress.Set(&s.Status.Conditions, nil, s.Generation, standing, r, msg)
		s.Status.ObservedGeneration = s.Generation
		return s
	}
	for _, tc := range []struct {
		name            string
		store           *membershipv1alpha1.Store
		kstatus, argocd string
	}{
		{"the owner is active", store(metav1.ConditionTrue, membershipv1alpha1.ReasonOwnerActive, false), "Current", "Healthy"},
		{"waiting for the owner's activation (a person)", store(metav1.ConditionFalse, membershipv1alpha1.ReasonAwaitingOwnerActivation, false), "Current", "Healthy"},
		{"a transfer waiting on the new owner (a person)", store(metav1.ConditionTrue, membershipv1alpha1.ReasonOwnerActive, true), "Current", "Healthy"},
		{"the owner's activation is overdue: the Store's team cannot work", func() *membershipv1alpha1.Store {
			s := &membershipv1alpha1.Store{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns", Generation: 4}}
			s.Status.Conditions = []metav1.Condition{{Type: membershipv1alpha1.ConditionMembersSuspended, Status: metav1.ConditionTrue,
				Reason: membershipv1alpha1.ReasonOwnerActivationOverdue, Message: "overdue"}}
			setReady(s, metav1.ConditionFalse, membershipv1alpha1.ReasonOwnerActivationOverdue, "overdue")
			standing, r, msg := storeProgress(s)
			progress.Set(&s.Status.Conditions, nil, s.Generation, standing, r, msg)
			s.Status.ObservedGeneration = s.Generation
			return s
		}(), "Failed", "Degraded"},
		{"someone else's Member in the owner's place", store(metav1.ConditionFalse, ReasonOwnerMemberConflict, false), "Failed", "Degraded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(health.Kstatus(tc.store)).To(Equal(tc.kstatus))
			g.Expect(health.ArgoCD(tc.store)).To(Equal(tc.argocd))
		})
	}
	t.Run("OwnerActive tells people what Ready no longer does", func(t *testing.T) {
		g := NewWithT(t)
		s := store(metav1.ConditionFalse, membershipv1alpha1.ReasonAwaitingOwnerActivation, false)
		g.Expect(s.Status.Conditions).To(ContainElement(And(HaveField("Type", membershipv1alpha1.ConditionOwnerActive),
			HaveField("Status", metav1.ConditionFalse), HaveField("Reason", membershipv1alpha1.ReasonAwaitingOwnerActivation))))
	})
}
