// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package invitation

import (
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/invitationpolicy"
	"github.com/storeops/member-operator/internal/progress"
)

// The decisions of the Invitation controller, as pure functions of their inputs with the clock
// passed in, table-tested in policy_test.go.

// Delivery retry bounds: the first retry after minBackoff, doubling, never more than maxBackoff
// apart, for ever (an invitation is never dropped).
const (
	minBackoff = time.Second
	maxBackoff = 5 * time.Minute
)

// expiry decides whether a sent invitation's link has expired at now, and otherwise how long
// until it does, which is when the controller asks to be called again: no polling.
func expiry(inv *membershipv1alpha1.Invitation, now time.Time) (expired bool, requeueAfter time.Duration) {
	if inv.Status.Phase != membershipv1alpha1.InvitationSent {
		return false, 0
	}
	return invitationpolicy.LinkExpired(inv, now)
}

// deliveryWait is how long an unsent invitation must still wait for its next delivery attempt
// at now: zero when one is due. Without it every event (its own status write, a change to its
// Store or the Store's Members) would be a new attempt, and an SMTP outage a retry storm.
func deliveryWait(inv *membershipv1alpha1.Invitation, now time.Time) time.Duration {
	if inv.Status.NextAttemptAt == nil {
		return 0
	}
	return max(inv.Status.NextAttemptAt.Sub(now), 0)
}

// deliveryBackoff is how long to wait after the attempts-th failed delivery: 1s, 2s, 4s, ...
// capped at five minutes.
func deliveryBackoff(attempts int32) time.Duration {
	if attempts < 1 {
		return minBackoff
	}
	if attempts > 20 { // 2^20 s is far past the cap; avoid overflow
		return maxBackoff
	}
	return min(minBackoff<<(attempts-1), maxBackoff)
}

// finishedAt is when an Accepted, Declined, Expired or Revoked invitation reached that phase;
// nil for the others.
func finishedAt(inv *membershipv1alpha1.Invitation) *metav1.Time {
	switch inv.Status.Phase {
	case membershipv1alpha1.InvitationAccepted:
		return inv.Status.AcceptedAt
	case membershipv1alpha1.InvitationExpired:
		return inv.Status.ExpiresAt
	case membershipv1alpha1.InvitationRevoked:
		return inv.Status.RevokedAt
	case membershipv1alpha1.InvitationDeclined:
		return inv.Status.DeclinedAt
	}
	return nil
}

// retention decides whether a finished invitation has been kept for retention and is to be
// deleted, and otherwise how long until it is. Unfinished ones are kept.
func retention(inv *membershipv1alpha1.Invitation, now time.Time, keep time.Duration) (deleteNow bool, requeueAfter time.Duration) {
	at := finishedAt(inv)
	if at == nil {
		return false, 0
	}
	left := at.Add(keep).Sub(now)
	if left <= 0 {
		return true, 0
	}
	return false, left
}

// resendAction is what a value of the resend annotation asks for.
type resendAction int

const (
	// resendNone: no new value.
	resendNone resendAction = iota
	// resendRecord: a value to remember without sending (present at creation, or the
	// invitation can no longer be resent).
	resendRecord
	// resendRotate: rotate the token, restart the TTL and send again.
	resendRotate
)

// resendRequest reads the resend annotation. A value present before the invitation was ever
// processed is only recorded: the first email is on its way anyway. Accepted, Declined and
// Revoked invitations cannot be resent (a declined one was not for that person).
func resendRequest(inv *membershipv1alpha1.Invitation) (resendAction, string) {
	value := inv.Annotations[membershipv1alpha1.ResendAnnotation]
	if value == "" || value == inv.Status.ObservedResend {
		return resendNone, ""
	}
	switch inv.Status.Phase {
	case "", membershipv1alpha1.InvitationAccepted, membershipv1alpha1.InvitationRevoked, membershipv1alpha1.InvitationDeclined:
		return resendRecord, value
	}
	return resendRotate, value
}

// readyReason is the reason of the Invitation's Ready condition, "" without one.
func readyReason(inv *membershipv1alpha1.Invitation) string {
	if c := meta.FindStatusCondition(inv.Status.Conditions, membershipv1alpha1.ConditionReady); c != nil {
		return c.Reason
	}
	return ""
}

// invitationProgress is the Invitation's kstatus progress: being sent (or retried) is
// Reconciling; refused is Stalled; sent (waiting on the invitee) and finished are current.
func invitationProgress(inv *membershipv1alpha1.Invitation) (progress.Progress, string, string) {
	reason, message := "", ""
	if ready := meta.FindStatusCondition(inv.Status.Conditions, membershipv1alpha1.ConditionReady); ready != nil {
		reason, message = ready.Reason, ready.Message
	}
	switch inv.Status.Phase {
	case membershipv1alpha1.InvitationFailed:
		return progress.Stalled, reason, message
	case "", membershipv1alpha1.InvitationPending:
		if reason == "" {
			reason, message = membershipv1alpha1.ReasonSending, "The invitation email is being sent"
		}
		return progress.Reconciling, reason, message
	}
	return progress.Current, "", ""
}
