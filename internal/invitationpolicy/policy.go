// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package invitationpolicy holds the rules about Invitations that several writers share: which
// invitation may be sent (Refusal, Check), who counts against a Store's member limit, which
// invitations are a Store's own owner invitations, and how long a link works. The Invitation and
// Store controllers, the acceptance server and the admission webhook all call these; none of them
// imports another to do so.
package invitationpolicy

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// DefaultTTL is the link lifetime when a Store does not set spec.invitationTTL.
const DefaultTTL = 7 * 24 * time.Hour

// LinkTTL is how long a Store's invitation links work (spec.invitationTTL, 7 days by default).
func LinkTTL(store *membershipv1alpha1.Store) time.Duration {
	if store.Spec.InvitationTTL != nil && store.Spec.InvitationTTL.Duration > 0 {
		return store.Spec.InvitationTTL.Duration
	}
	return DefaultTTL
}

// LinkExpiresAt is when a link emailed at now stops working: the Store's TTL after now, to the
// second as the API stores it. The email states it and status.expiresAt records it: one value.
func LinkExpiresAt(store *membershipv1alpha1.Store, now time.Time) time.Time {
	return now.Truncate(time.Second).Add(LinkTTL(store))
}

// LinkExpired decides whether inv's link has expired at now (status.expiresAt has passed), and
// otherwise how long it has left. The controller marks an invitation Expired by it and the
// acceptance server refuses a link by it, even before the controller has marked it. An
// invitation without an expiry (not sent yet) has not expired.
func LinkExpired(inv *membershipv1alpha1.Invitation, now time.Time) (expired bool, left time.Duration) {
	if inv.Status.ExpiresAt == nil {
		return false, 0
	}
	left = inv.Status.ExpiresAt.Sub(now)
	if left <= 0 {
		return true, 0
	}
	return false, left
}

// AcceptedMessage is the Ready message of an accepted invitation, whoever records it.
func AcceptedMessage(member string) string {
	return fmt.Sprintf("Accepted; the invitee is Member %q", member)
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
			if FailedFor(other, membershipv1alpha1.ReasonMemberLimitReached) && createdBefore(other, inv) {
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

// FailedFor reports whether the Invitation was refused (Failed) for reason.
func FailedFor(inv *membershipv1alpha1.Invitation, reason string) bool {
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

// Accepted reports whether inv is accepted, or the acceptance server has said so
// (AcceptedByAnnotation) and its controller has not recorded it yet, and into which Member.
func Accepted(inv *membershipv1alpha1.Invitation) (member string, accepted bool) {
	if inv.Status.Phase == membershipv1alpha1.InvitationAccepted {
		return inv.Status.Member, true
	}
	member = inv.Annotations[membershipv1alpha1.AcceptedByAnnotation]
	return member, member != ""
}

// AcceptedAt is when inv was accepted: its status's acceptedAt, else when the acceptance server
// recorded it (AcceptedAtAnnotation); fallback when neither says.
func AcceptedAt(inv *membershipv1alpha1.Invitation, fallback time.Time) time.Time {
	if inv.Status.AcceptedAt != nil {
		return inv.Status.AcceptedAt.Time
	}
	if at, err := time.Parse(time.RFC3339, inv.Annotations[membershipv1alpha1.AcceptedAtAnnotation]); err == nil {
		return at
	}
	return fallback
}

// ForMember reports whether inv invites a member rather than the Store's owner (activation,
// transfer, or an owner role): only such invitations join an Account and can be declined; the
// owner's login and address are the Store's business.
func ForMember(inv *membershipv1alpha1.Invitation) bool {
	return OwnerPurpose(inv) == "" && !membershipv1alpha1.HasOwnerRole(inv.Spec.Roles)
}

// Declined reports whether inv is declined, or the acceptance server has said the invitee
// declined it (DeclinedAtAnnotation) and its controller has not recorded it yet, and when. An
// acceptance recorded first wins: the Member exists.
func Declined(inv *membershipv1alpha1.Invitation, fallback time.Time) (time.Time, bool) {
	if inv.Status.Phase == membershipv1alpha1.InvitationDeclined {
		if inv.Status.DeclinedAt != nil {
			return inv.Status.DeclinedAt.Time, true
		}
		return fallback, true
	}
	raw, asked := inv.Annotations[membershipv1alpha1.DeclinedAtAnnotation]
	if !asked {
		return time.Time{}, false
	}
	if _, accepted := Accepted(inv); accepted {
		return time.Time{}, false
	}
	switch inv.Status.Phase {
	case membershipv1alpha1.InvitationRevoked, membershipv1alpha1.InvitationExpired:
		return time.Time{}, false // finished before the decline was recorded
	}
	if at, err := time.Parse(time.RFC3339, raw); err == nil {
		return at, true
	}
	return fallback, true
}

// Revoked reports whether inv is withdrawn or asked to be (RevokeAnnotation) and not finished
// otherwise first: every reader treats a revocation asked for as done, so the link is dead from
// the moment the Store asks, not from the moment the Invitation controller gets to it. An
// acceptance wins over a revocation asked for: the person's password is already stored.
func Revoked(inv *membershipv1alpha1.Invitation) bool {
	switch inv.Status.Phase {
	case membershipv1alpha1.InvitationRevoked:
		return true
	case membershipv1alpha1.InvitationAccepted, membershipv1alpha1.InvitationExpired, membershipv1alpha1.InvitationDeclined:
		return false
	}
	if _, accepted := Accepted(inv); accepted {
		return false
	}
	if _, declined := Declined(inv, time.Time{}); declined {
		return false
	}
	_, asked := inv.Annotations[membershipv1alpha1.RevokeAnnotation]
	return asked
}
