/*
Copyright 2026 The StoreOps Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package invitation

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/controller"
)

// The decisions of the Invitation controller, as pure functions of their inputs with the clock
// passed in, table-tested in policy_test.go.

// DefaultTTL is the link lifetime when a Store does not set spec.invitationTTL.
const DefaultTTL = 7 * 24 * time.Hour

// Delivery retry bounds: the first retry after minBackoff, doubling, never more than maxBackoff
// apart, for ever (an invitation is never dropped).
const (
	minBackoff = time.Second
	maxBackoff = 5 * time.Minute
)

// expiry decides whether a sent invitation's link has expired at now, and otherwise how long
// until it does, which is when the controller asks to be called again: no polling.
func expiry(inv *membershipv1alpha1.Invitation, now time.Time) (expired bool, requeueAfter time.Duration) {
	if inv.Status.Phase != membershipv1alpha1.InvitationSent || inv.Status.ExpiresAt == nil {
		return false, 0
	}
	left := inv.Status.ExpiresAt.Sub(now)
	if left <= 0 {
		return true, 0
	}
	return false, left
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

// ttl is the Store's invitation time-to-live.
// LinkTTL is how long a Store's invitation links work (spec.invitationTTL, 7 days by default).
func LinkTTL(store *membershipv1alpha1.Store) time.Duration { return ttl(store) }

func ttl(store *membershipv1alpha1.Store) time.Duration {
	if store.Spec.InvitationTTL != nil && store.Spec.InvitationTTL.Duration > 0 {
		return store.Spec.InvitationTTL.Duration
	}
	return DefaultTTL
}

// finishedAt is when an Accepted, Expired or Revoked invitation reached that phase; nil for the
// others.
func finishedAt(inv *membershipv1alpha1.Invitation) *metav1.Time {
	switch inv.Status.Phase {
	case membershipv1alpha1.InvitationAccepted:
		return inv.Status.AcceptedAt
	case membershipv1alpha1.InvitationExpired:
		return inv.Status.ExpiresAt
	case membershipv1alpha1.InvitationRevoked:
		return inv.Status.RevokedAt
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
// processed is only recorded: the first email is on its way anyway. Accepted and Revoked
// invitations cannot be resent.
func resendRequest(inv *membershipv1alpha1.Invitation) (resendAction, string) {
	value := inv.Annotations[membershipv1alpha1.ResendAnnotation]
	if value == "" || value == inv.Status.ObservedResend {
		return resendNone, ""
	}
	switch inv.Status.Phase {
	case "", membershipv1alpha1.InvitationAccepted, membershipv1alpha1.InvitationRevoked:
		return resendRecord, value
	}
	return resendRotate, value
}

// Refusal is why an invitation cannot be sent, or "" when it can. store is nil when missing;
// sameStore holds the Store's Members with the invited address; otherStores the Members with that
// address in other Stores; seatsTaken what counts against the Store's memberLimit before this
// invitation.
func Refusal(inv *membershipv1alpha1.Invitation, store *membershipv1alpha1.Store,
	sameStore, otherStores []membershipv1alpha1.Member, seatsTaken int, exclusive bool) (reason, message string) {
	if GrantsOwnerWithoutStore(inv) {
		return membershipv1alpha1.ReasonOwnerRoleNotAllowed, "spec.roles: owner is given only by the Store " +
			"(spec.owner: activation and ownership transfer); invite with admin instead"
	}
	if store == nil {
		return membershipv1alpha1.ReasonStoreNotFound, fmt.Sprintf("Store %q does not exist in namespace %q",
			inv.Spec.StoreRef.Name, inv.Namespace)
	}
	if OwnerPurpose(inv) != "" {
		// The owner's own: the owner Member has this address during activation, the new owner may
		// already be a Member (removed when the transfer completes), and the owner takes no seat.
		if !OwnerInvitationWanted(inv, store) {
			return membershipv1alpha1.ReasonOwnerRoleNotAllowed, fmt.Sprintf(
				"Store %q no longer names %s as its owner (spec.owner.email)", store.Name, inv.Spec.Email)
		}
		return "", ""
	}
	for _, m := range sameStore {
		if m.DeletionTimestamp.IsZero() && strings.EqualFold(string(m.Spec.Email), string(inv.Spec.Email)) {
			return membershipv1alpha1.ReasonAlreadyMember, fmt.Sprintf("%s is already Member %q of Store %q",
				inv.Spec.Email, m.Name, store.Name)
		}
	}
	if exclusive {
		for _, m := range otherStores {
			if m.DeletionTimestamp.IsZero() && strings.EqualFold(string(m.Spec.Email), string(inv.Spec.Email)) {
				// The other Store is not named: it may belong to another tenant.
				return membershipv1alpha1.ReasonMemberOfAnotherStore, fmt.Sprintf(
					"%s already belongs to another Store and the operator runs with --exclusive-membership", inv.Spec.Email)
			}
		}
	}
	if limit := int(store.Spec.MemberLimit); limit > 0 && seatsTaken >= limit {
		return membershipv1alpha1.ReasonMemberLimitReached, fmt.Sprintf(
			"Store %q has memberLimit %d and %d seats are taken by members and pending invitations", store.Name, limit, seatsTaken)
	}
	return "", ""
}

// SeatsTaken counts what stands before inv against its Store's memberLimit: the Store's Members
// except the owner and those in Conflict or being deleted, the invitations already being sent or
// sent, and (first come, first served) those still waiting for a seat that were created before
// inv. Two invitations that arrive together thus agree on which one gets the last seat.
func SeatsTaken(inv *membershipv1alpha1.Invitation, members []membershipv1alpha1.Member, invitations []membershipv1alpha1.Invitation) int {
	taken := 0
	for _, m := range members {
		if !m.DeletionTimestamp.IsZero() || m.Status.Phase == membershipv1alpha1.MemberConflict || membershipv1alpha1.HasOwnerRole(m.Spec.Roles) {
			continue
		}
		taken++
	}
	for i := range invitations {
		other := &invitations[i]
		if other.UID == inv.UID || !other.DeletionTimestamp.IsZero() || membershipv1alpha1.HasOwnerRole(other.Spec.Roles) {
			continue
		}
		switch other.Status.Phase {
		case membershipv1alpha1.InvitationPending, membershipv1alpha1.InvitationSent:
			taken++
		case "":
			if createdBefore(other, inv) {
				taken++
			}
		case membershipv1alpha1.InvitationFailed:
			if failedFor(other, membershipv1alpha1.ReasonMemberLimitReached) && createdBefore(other, inv) {
				taken++
			}
		}
	}
	return taken
}

func createdBefore(a, b *membershipv1alpha1.Invitation) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}

// failedFor reports whether inv is Failed for reason.
// readyReason is the reason of the Invitation's Ready condition, "" without one.
func readyReason(inv *membershipv1alpha1.Invitation) string {
	if c := meta.FindStatusCondition(inv.Status.Conditions, membershipv1alpha1.ConditionReady); c != nil {
		return c.Reason
	}
	return ""
}

// failedFor reports whether the Invitation was refused (Failed) for reason.
func failedFor(inv *membershipv1alpha1.Invitation, reason string) bool {
	if inv.Status.Phase != membershipv1alpha1.InvitationFailed {
		return false
	}
	for _, c := range inv.Status.Conditions {
		if c.Type == membershipv1alpha1.ConditionReady {
			return c.Reason == reason
		}
	}
	return false
}

// GrantsOwnerWithoutStore reports whether inv carries the owner role without being the operator's
// own owner invitation (one controlled by its Store and marked as an activation or a transfer).
// Such an invitation must never be sent or accepted: whoever may create Invitations could
// otherwise make anyone an owner. (The admission webhook refuses it at apply time; an owner
// reference can be written by anyone, so OwnerInvitationWanted also checks the address.)
func GrantsOwnerWithoutStore(inv *membershipv1alpha1.Invitation) bool {
	if !membershipv1alpha1.HasOwnerRole(inv.Spec.Roles) {
		return false
	}
	ref := metav1.GetControllerOf(inv)
	return ref == nil || ref.Kind != "Store" || ref.APIVersion != membershipv1alpha1.GroupVersion.String() ||
		ref.Name != inv.Spec.StoreRef.Name || ownerPurposeAnnotation(inv) == ""
}

// OwnerPurpose is what an owner invitation is for (membershipv1alpha1.OwnerActivation or
// OwnerTransfer), or "" when inv is not its Store's own owner invitation.
func OwnerPurpose(inv *membershipv1alpha1.Invitation) string {
	if !membershipv1alpha1.HasOwnerRole(inv.Spec.Roles) || GrantsOwnerWithoutStore(inv) {
		return ""
	}
	return ownerPurposeAnnotation(inv)
}

func ownerPurposeAnnotation(inv *membershipv1alpha1.Invitation) string {
	switch p := inv.Annotations[membershipv1alpha1.OwnerInvitationAnnotation]; p {
	case membershipv1alpha1.OwnerActivation, membershipv1alpha1.OwnerTransfer:
		return p
	}
	return ""
}

// OwnerInvitationWanted reports whether store still wants its owner invitation inv: controlled by
// this very Store (its UID) and addressed to the owner its spec names now. One it no longer wants
// (the spec was reverted or changed again) is never sent or accepted.
func OwnerInvitationWanted(inv *membershipv1alpha1.Invitation, store *membershipv1alpha1.Store) bool {
	return store != nil && OwnerPurpose(inv) != "" && metav1.IsControlledBy(inv, store) &&
		strings.EqualFold(string(inv.Spec.Email), string(store.Spec.Owner.Email))
}

// invitationProgress is the Invitation's kstatus progress: being sent (or retried) is
// Reconciling; refused, or its token Secret's name taken by someone else's Secret, is Stalled;
// sent (waiting on the invitee) and finished are current.
func invitationProgress(inv *membershipv1alpha1.Invitation) (controller.Progress, string, string) {
	reason, message := "", ""
	if ready := meta.FindStatusCondition(inv.Status.Conditions, membershipv1alpha1.ConditionReady); ready != nil {
		reason, message = ready.Reason, ready.Message
	}
	switch {
	case inv.Status.Phase == membershipv1alpha1.InvitationFailed, reason == membershipv1alpha1.ReasonTokenSecretConflict:
		return controller.Stalled, reason, message
	case inv.Status.Phase == "" || inv.Status.Phase == membershipv1alpha1.InvitationPending:
		if reason == "" {
			reason, message = membershipv1alpha1.ReasonSending, "The invitation email is being sent"
		}
		return controller.Reconciling, reason, message
	}
	return controller.Current, "", ""
}
