// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// The owner's activation deadline (spec.owner.activationDeadline). Before it, the activation email
// goes again as a reminder (a resend of the activation Invitation: a fresh link, in the Store's
// language, saying the deadline); once it passes without activation, the Store says so in the
// MembersSuspended condition, which the Member controller (credentials withheld) and the
// Invitation controller (member invitations wait) follow. The Store is reconciled at each of
// these instants (activationDue gives the next one); nothing polls.

// Event reasons of the activation deadline.
const (
	EventActivationReminder = "ActivationReminder"
	EventMembersSuspended   = membershipv1alpha1.ReasonOwnerActivationOverdue
	EventMembersRestored    = "MembersRestored"
)

// activationReminders are how long before the deadline the activation email goes again, latest
// last.
var activationReminders = []struct {
	label string
	lead  time.Duration
}{{"7d", 7 * 24 * time.Hour}, {"1d", 24 * time.Hour}}

// activationDue says what an owner's activation deadline asks at now, for an owner who has not
// activated: the reminder whose time has come and that the owner has not had since (the latest
// one; "" when none: an activation email sent after that instant already said the deadline),
// whether the deadline has passed, and how long until the next of these instants (0 for none).
// lastSent is when the activation email last went out (zero when it has not yet).
func activationDue(deadline *metav1.Time, lastSent, now time.Time) (reminder string, overdue bool, next time.Duration) {
	if deadline == nil {
		return "", false, 0
	}
	if !now.Before(deadline.Time) {
		return "", true, 0
	}
	next = deadline.Sub(now)
	for _, r := range activationReminders {
		at := deadline.Add(-r.lead)
		if now.Before(at) {
			next = min(next, at.Sub(now))
			continue
		}
		reminder = ""
		if !lastSent.IsZero() && lastSent.Before(at) {
			reminder = r.label
		}
	}
	return reminder, false, next
}

// reminderValue is the resend annotation that asks for one reminder for one deadline: the same
// value twice is one request (the Invitation controller acts once per new value).
func reminderValue(label string, deadline *metav1.Time) string {
	return "activation-reminder-" + label + "-" + strconv.FormatInt(deadline.Unix(), 10)
}

// enforceActivationDeadline applies spec.owner.activationDeadline to a Store whose owner has not
// activated: it asks for the reminder that is due through the activation Invitation inv (nil when
// the cache does not show it yet), and suspends the Store's Members once the deadline passes. It
// returns when to look again.
func (r *Reconciler) enforceActivationDeadline(ctx context.Context, store *membershipv1alpha1.Store,
	inv *membershipv1alpha1.Invitation) (time.Duration, error) {
	deadline := store.Spec.Owner.ActivationDeadline
	var lastSent time.Time
	if inv != nil && inv.Status.SentAt != nil {
		lastSent = inv.Status.SentAt.Time
	}
	reminder, overdue, next := activationDue(deadline, lastSent, r.Clock.Now())
	if reminder != "" && usableActivation(inv, store.Spec.Owner.Email) {
		if err := r.remindOwner(ctx, store, inv, reminderValue(reminder, deadline)); err != nil {
			return 0, err
		}
	}
	if !overdue {
		r.restoreMembers(store, "the deadline was moved")
		return next, nil
	}
	msg := fmt.Sprintf("The owner %s did not activate by %s (spec.owner.activationDeadline): every Member's credentials are withheld "+
		"and member invitations wait until the owner activates", store.Spec.Owner.Email, deadline.UTC().Format(time.RFC3339))
	if !store.MembersSuspended() {
		r.Recorder.Eventf(store, nil, corev1.EventTypeWarning, EventMembersSuspended, "Reconcile", "%s", msg)
	}
	meta.SetStatusCondition(&store.Status.Conditions, metav1.Condition{
		Type: membershipv1alpha1.ConditionMembersSuspended, Status: metav1.ConditionTrue,
		Reason: membershipv1alpha1.ReasonOwnerActivationOverdue, Message: msg, ObservedGeneration: store.Generation,
	})
	setReady(store, metav1.ConditionFalse, membershipv1alpha1.ReasonOwnerActivationOverdue, msg)
	return 0, nil
}

// restoreMembers lifts a suspension: the Member controller gives every Member its credentials back.
func (r *Reconciler) restoreMembers(store *membershipv1alpha1.Store, why string) {
	if !store.MembersSuspended() {
		meta.RemoveStatusCondition(&store.Status.Conditions, membershipv1alpha1.ConditionMembersSuspended)
		return
	}
	meta.RemoveStatusCondition(&store.Status.Conditions, membershipv1alpha1.ConditionMembersSuspended)
	r.Recorder.Eventf(store, nil, corev1.EventTypeNormal, EventMembersRestored, "Reconcile",
		"Members' access restored: %s", why)
}

// remindOwner asks the Invitation controller, the one writer of the Invitation, to send the
// activation email again (with a fresh link, saying the deadline), through the resend annotation
// on the version read.
func (r *Reconciler) remindOwner(ctx context.Context, store *membershipv1alpha1.Store, inv *membershipv1alpha1.Invitation, value string) error {
	if inv.Annotations[membershipv1alpha1.ResendAnnotation] == value {
		return nil // asked already; the Invitation controller is on it
	}
	base := inv.DeepCopy()
	if inv.Annotations == nil {
		inv.Annotations = map[string]string{}
	}
	inv.Annotations[membershipv1alpha1.ResendAnnotation] = value
	if err := r.Patch(ctx, inv, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		return client.IgnoreNotFound(err)
	}
	r.Recorder.Eventf(store, inv, corev1.EventTypeNormal, EventActivationReminder, "Reconcile",
		"The owner %s has not activated; the activation email goes again (Invitation %s) before the deadline %s",
		inv.Spec.Email, inv.Name, store.Spec.Owner.ActivationDeadline.UTC().Format(time.RFC3339))
	return nil
}
