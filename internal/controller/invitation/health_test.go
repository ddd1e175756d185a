// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package invitation

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/progress"
	"github.com/storeops/member-operator/test/health"
)

// Every phase of an Invitation as Flux (kstatus) and Argo CD (the Lua check) read it, after the
// controller's deferred status write. Sent waits on the invitee and the finished phases are
// done: neither holds a sync. An Invitation applied before its Store waits for it.
func TestInvitationHealthAsGitOpsToolsReadIt(t *testing.T) {
	invitation := func(phase membershipv1alpha1.InvitationPhase, ready metav1.ConditionStatus, reason string) *membershipv1alpha1.Invitation {
		inv := &membershipv1alpha1.Invitation{ObjectMeta: metav1.ObjectMeta{Name: "i", Namespace: "ns", Generation: 1}}
		inv.Status.Phase = phase
		if reason != "" {
			setCondition(inv, membershipv1alpha1.ConditionReady, ready, reason, reason+": the controller's message")
		}
		standing, r, msg := invitationProgress(inv)
		progress.Set(&inv.Status.Conditions, nil, inv.Generation, standing, r, msg)
		inv.Status.ObservedGeneration = inv.Generation
		return inv
	}
	for _, tc := range []struct {
		name            string
		inv             *membershipv1alpha1.Invitation
		kstatus, argocd string
	}{
		{"new", invitation("", "", ""), "InProgress", "Progressing"},
		{"Pending: being sent", invitation(membershipv1alpha1.InvitationPending, metav1.ConditionFalse, membershipv1alpha1.ReasonSending), "InProgress", "Progressing"},
		{"Pending: delivery retried with backoff", invitation(membershipv1alpha1.InvitationPending, metav1.ConditionFalse,
			membershipv1alpha1.ReasonDeliveryFailed), "InProgress", "Progressing"},
		{"Pending: its Store is applied later", invitation(membershipv1alpha1.InvitationPending, metav1.ConditionFalse,
			membershipv1alpha1.ReasonStoreNotFound), "InProgress", "Progressing"},
		{"Pending: waits for the Store's overdue owner", invitation(membershipv1alpha1.InvitationPending, metav1.ConditionFalse,
			membershipv1alpha1.ReasonOwnerActivationOverdue), "InProgress", "Progressing"},
		{"Sent: waiting on the invitee (a person)", invitation(membershipv1alpha1.InvitationSent, metav1.ConditionTrue, membershipv1alpha1.ReasonSent), "Current", "Healthy"},
		{"Accepted", invitation(membershipv1alpha1.InvitationAccepted, metav1.ConditionTrue, membershipv1alpha1.ReasonAccepted), "Current", "Healthy"},
		{"Expired: finished", invitation(membershipv1alpha1.InvitationExpired, metav1.ConditionFalse, membershipv1alpha1.ReasonExpired), "Current", "Healthy"},
		{"Revoked: finished", invitation(membershipv1alpha1.InvitationRevoked, metav1.ConditionFalse, membershipv1alpha1.ReasonRevoked), "Current", "Healthy"},
		{"Failed: refused", invitation(membershipv1alpha1.InvitationFailed, metav1.ConditionFalse, membershipv1alpha1.ReasonAlreadyMember), "Failed", "Degraded"},
		{"Failed: the Store is full", invitation(membershipv1alpha1.InvitationFailed, metav1.ConditionFalse, membershipv1alpha1.ReasonMemberLimitReached), "Failed", "Degraded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(health.Kstatus(tc.inv)).To(Equal(tc.kstatus))
			g.Expect(health.ArgoCD(tc.inv)).To(Equal(tc.argocd))
		})
	}
}
