// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package progress

import (
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

func TestSetProgressKeepsOneOfReconcilingAndStalled(t *testing.T) {
	g := NewWithT(t)
	conditions := make([]metav1.Condition, 0, 2)
	Set(&conditions, nil, 3, Reconciling, "Sending", "sending")
	g.Expect(meta.IsStatusConditionTrue(conditions, membershipv1alpha1.ConditionReconciling)).To(BeTrue())
	g.Expect(meta.FindStatusCondition(conditions, membershipv1alpha1.ConditionStalled)).To(BeNil())
	g.Expect(meta.FindStatusCondition(conditions, membershipv1alpha1.ConditionReconciling).ObservedGeneration).To(Equal(int64(3)))

	Set(&conditions, nil, 3, Stalled, "MemberLimitReached", "full")
	g.Expect(meta.IsStatusConditionTrue(conditions, membershipv1alpha1.ConditionStalled)).To(BeTrue())
	g.Expect(meta.FindStatusCondition(conditions, membershipv1alpha1.ConditionReconciling)).To(BeNil())

	Set(&conditions, nil, 3, Current, "", "")
	g.Expect(meta.FindStatusCondition(conditions, membershipv1alpha1.ConditionStalled)).To(BeNil(), "kstatus wants them absent, not False")
	g.Expect(meta.FindStatusCondition(conditions, membershipv1alpha1.ConditionReconciling)).To(BeNil())
}

// Ready is False exactly while Reconciling or Stalled is True; the controller's reason and
// message stay (they say what is awaited or why it is stuck).
func TestSetProgressSettlesReady(t *testing.T) {
	ready := func(status metav1.ConditionStatus, reason string) []metav1.Condition {
		return []metav1.Condition{{Type: membershipv1alpha1.ConditionReady, Status: status, Reason: reason, Message: reason + " message"}}
	}
	for _, tc := range []struct {
		name                    string
		before                  []metav1.Condition
		progress                Progress
		reason                  string
		wantStatus              metav1.ConditionStatus
		wantReason, wantMessage string
	}{
		{"waiting on a person is Ready", ready(metav1.ConditionFalse, "AwaitingOwnerActivation"), Current, "",
			metav1.ConditionTrue, "AwaitingOwnerActivation", "AwaitingOwnerActivation message"},
		{"finished is Ready", ready(metav1.ConditionFalse, "Expired"), Current, "", metav1.ConditionTrue, "Expired", "Expired message"},
		{"active stays Ready", ready(metav1.ConditionTrue, "Active"), Current, "", metav1.ConditionTrue, "Active", "Active message"},
		{"stuck is not Ready", ready(metav1.ConditionFalse, "Conflict"), Stalled, "Conflict", metav1.ConditionFalse, "Conflict", "Conflict message"},
		{"working is not Ready, with the work's reason", ready(metav1.ConditionTrue, "Active"), Reconciling, "Accepting",
			metav1.ConditionFalse, "Accepting", "accepting"},
		{"no Ready yet, working", nil, Reconciling, "Sending", metav1.ConditionFalse, "Sending", "accepting"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			conditions := append([]metav1.Condition(nil), tc.before...)
			message := "accepting"
			if tc.progress == Stalled {
				message = tc.reason + " message"
			}
			Set(&conditions, nil, 1, tc.progress, tc.reason, message)
			got := meta.FindStatusCondition(conditions, membershipv1alpha1.ConditionReady)
			g.Expect(got).NotTo(BeNil())
			g.Expect(got.Status).To(Equal(tc.wantStatus))
			g.Expect(got.Reason).To(Equal(tc.wantReason))
			g.Expect(got.Message).To(Equal(tc.wantMessage))
		})
	}
	g := NewWithT(t)
	var none []metav1.Condition
	Set(&none, nil, 1, Current, "", "")
	g.Expect(none).To(BeEmpty(), "Current with no Ready yet leaves it to the controller")
}

// A converged object's reconcile may set Ready=False on the way (a step that says "awaiting
// the owner") before Set settles it to True: its lastTransitionTime stays the stored
// one, so the status is unchanged and nothing is written (test/e2e's quiescence spec).
func TestSetProgressKeepsTheStoredTransitionTime(t *testing.T) {
	g := NewWithT(t)
	stored := []metav1.Condition{{Type: membershipv1alpha1.ConditionReady, Status: metav1.ConditionTrue,
		Reason: "AwaitingOwnerActivation", Message: "waiting", LastTransitionTime: metav1.Unix(1000, 0)}}
	conditions := append([]metav1.Condition(nil), stored...)
	meta.SetStatusCondition(&conditions, metav1.Condition{Type: membershipv1alpha1.ConditionReady, Status: metav1.ConditionFalse,
		Reason: "AwaitingOwnerActivation", Message: "waiting"})
	Set(&conditions, stored, 0, Current, "", "")
	g.Expect(conditions).To(Equal(stored))

	Set(&conditions, stored, 0, Stalled, "Conflict", "stuck")
	ready := meta.FindStatusCondition(conditions, membershipv1alpha1.ConditionReady)
	g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
	g.Expect(ready.LastTransitionTime).NotTo(Equal(metav1.Unix(1000, 0)), "a real change gets its own time")
}
