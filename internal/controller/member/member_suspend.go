// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package member

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// A Store whose owner did not activate by spec.owner.activationDeadline suspends its Members: the
// Store controller decides it (the Store's MembersSuspended condition) and this controller follows,
// withholding the credentials as for a disabled Member (kept aside), so that the owner's activation
// restores the very same ones. The owner's own Member is not suspended (it is how the suspension
// ends), nor is an integration login (a machine keeps working through the owner's activation).

// EventSuspended is the event of a Member whose access is withheld until the owner activates.
const EventSuspended = "Suspended"

// suspended reports whether member's access is withheld by its Store's overdue owner activation.
func suspended(member *membershipv1alpha1.Member, store *membershipv1alpha1.Store) bool {
	return store.MembersSuspended() && !membershipv1alpha1.HasOwnerRole(member.Spec.Roles) && !member.IsIntegration()
}

// suspendAccess withholds a suspended Member's credentials (kept aside) and says why.
func (r *Reconciler) suspendAccess(ctx context.Context, member *membershipv1alpha1.Member, store *membershipv1alpha1.Store) error {
	previous := member.Status.Phase
	member.Status.Phase = membershipv1alpha1.MemberSuspended // revokeRetaining's event names the cause
	if err := r.revokeRetaining(ctx, member); err != nil {
		member.Status.Phase = previous
		return err
	}
	member.Status.CredentialsSecret = ""
	msg := "The Store's owner did not activate by spec.owner.activationDeadline: access is withheld until they do, " +
		"and then restored with the same credentials"
	meta.SetStatusCondition(&member.Status.Conditions, metav1.Condition{
		Type: membershipv1alpha1.ConditionCredentialsReady, Status: metav1.ConditionFalse,
		Reason: membershipv1alpha1.ReasonOwnerActivationOverdue, Message: msg, ObservedGeneration: member.Generation,
	})
	// Ready: the operator did what the Store asks; the person waits on the owner, not on it.
	meta.SetStatusCondition(&member.Status.Conditions, metav1.Condition{
		Type: membershipv1alpha1.ConditionReady, Status: metav1.ConditionTrue,
		Reason: membershipv1alpha1.ReasonOwnerActivationOverdue, Message: msg, ObservedGeneration: member.Generation,
	})
	if previous != membershipv1alpha1.MemberSuspended {
		r.Recorder.Eventf(member, store, corev1.EventTypeWarning, EventSuspended, "Suspend", "%s", msg)
	}
	return nil
}
