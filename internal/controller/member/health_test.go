// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package member

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/progress"
	"github.com/storeops/member-operator/test/health"
)

// Every phase of a Member as Flux (kstatus) and Argo CD (the Lua check) read it, after the
// controller's deferred status write (memberProgress, then SetProgress). Waiting on a person or
// on a later apply is never a failure, and a sync never waits on a person.
func TestMemberHealthAsGitOpsToolsReadIt(t *testing.T) {
	member := func(phase membershipv1alpha1.MemberPhase, ready metav1.ConditionStatus, reason string, roles ...membershipv1alpha1.Role) *membershipv1alpha1.Member {
		m := &membershipv1alpha1.Member{ObjectMeta: metav1.ObjectMeta{Name: "m", Namespace: "ns", Generation: 2}}
		m.Spec.Roles = append([]membershipv1alpha1.Role{membershipv1alpha1.RoleStaff}, roles...)
		if len(roles) > 0 {
			m.Spec.Roles = roles
		}
		m.Status.Phase = phase
		setConditions(m, ready, reason, reason+": the controller's message")
		standing, r, msg := memberProgress(m)
		progress.Set(&m.Status.Conditions, nil, m.Generation, standing, r, msg)
		m.Status.ObservedGeneration = m.Generation
		return m
	}
	for _, tc := range []struct {
		name            string
		member          *membershipv1alpha1.Member
		kstatus, argocd string
	}{
		{"Active", member(membershipv1alpha1.MemberActive, metav1.ConditionTrue, membershipv1alpha1.ReasonActive), "Current", "Healthy"},
		{"Disabled, as its spec asks", member(membershipv1alpha1.MemberDisabled, metav1.ConditionFalse, membershipv1alpha1.ReasonDisabled), "Current", "Healthy"},
		{"Pending: the owner has not activated (a person)", member(membershipv1alpha1.MemberPending, metav1.ConditionFalse,
			membershipv1alpha1.ReasonAwaitingPassword, membershipv1alpha1.RoleOwner), "Current", "Healthy"},
		{"Pending: an acceptance completing", member(membershipv1alpha1.MemberPending, metav1.ConditionFalse,
			membershipv1alpha1.ReasonAwaitingPassword), "InProgress", "Progressing"},
		{"Pending: its Store is applied later", member(membershipv1alpha1.MemberPending, metav1.ConditionFalse,
			membershipv1alpha1.ReasonStoreNotFound), "InProgress", "Progressing"},
		{"Pending: its password Secret is applied later", member(membershipv1alpha1.MemberPending, metav1.ConditionFalse,
			membershipv1alpha1.ReasonPasswordSecretNotFound), "InProgress", "Progressing"},
		{"Pending: the supplied password is unusable", member(membershipv1alpha1.MemberPending, metav1.ConditionFalse,
			membershipv1alpha1.ReasonPasswordInvalid), "Failed", "Degraded"},
		{"Suspended: the Store's owner is overdue (the owner's step)", member(membershipv1alpha1.MemberSuspended, metav1.ConditionTrue,
			membershipv1alpha1.ReasonOwnerActivationOverdue), "Current", "Healthy"},
		{"Conflict", member(membershipv1alpha1.MemberConflict, metav1.ConditionFalse, membershipv1alpha1.ReasonEmailConflict), "Failed", "Degraded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(health.Kstatus(tc.member)).To(Equal(tc.kstatus))
			g.Expect(health.ArgoCD(tc.member)).To(Equal(tc.argocd))
		})
	}
	t.Run("a spec the operator has not seen yet", func(t *testing.T) {
		g := NewWithT(t)
		m := member(membershipv1alpha1.MemberActive, metav1.ConditionTrue, membershipv1alpha1.ReasonActive)
		m.Generation = 3
		g.Expect(health.Kstatus(m)).To(Equal("InProgress"))
		g.Expect(health.ArgoCD(m)).To(Equal("Progressing"))
	})
}
