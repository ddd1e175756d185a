// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/invitationpolicy"
	"github.com/storeops/member-operator/internal/progress"
)

// The decisions of the Store controller, as pure functions of their inputs, table-tested in
// policy_test.go.

// counts are status.members (people's Members not being deleted, the owner excluded: what
// memberLimit counts), status.integrations (machines' Members, listed apart) and
// status.pendingInvitations (Invitations being sent or sent, owner invitations excluded).
func counts(members []membershipv1alpha1.Member, invitations []membershipv1alpha1.Invitation) (people, machines, pending int32) {
	var m, p int32
	for i := range members {
		switch {
		case !members[i].DeletionTimestamp.IsZero() || membershipv1alpha1.HasOwnerRole(members[i].Spec.Roles):
		case members[i].IsIntegration():
			machines++
		default:
			m++
		}
	}
	for i := range invitations {
		inv := &invitations[i]
		if membershipv1alpha1.HasOwnerRole(inv.Spec.Roles) || !inv.DeletionTimestamp.IsZero() {
			continue
		}
		switch inv.Status.Phase {
		case membershipv1alpha1.InvitationPending, membershipv1alpha1.InvitationSent:
			p++
		}
	}
	return m, machines, p
}

// live reports whether an invitation's link may still be sent or used.
func live(inv *membershipv1alpha1.Invitation) bool {
	if !inv.DeletionTimestamp.IsZero() || invitationpolicy.Revoked(inv) {
		return false
	}
	switch inv.Status.Phase {
	case "", membershipv1alpha1.InvitationPending, membershipv1alpha1.InvitationSent, membershipv1alpha1.InvitationFailed:
		return true
	}
	return false
}

// ownerInvitationName is the name of an owner Invitation. It is derived from what it is for, the
// address, the owner Member's UID and the Store's generation, so a retry after a crash (or a
// stale cache) makes the same one instead of a second email, while a later spec edit or a new
// owner Member gets a new one.
func ownerInvitationName(store, purpose string, email membershipv1alpha1.EmailAddress, ownerUID types.UID, generation int64) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%s/%d", strings.ToLower(string(email)), ownerUID, generation))
	return membershipv1alpha1.OwnerMemberName(store) + "-" + purpose + "-" + hex.EncodeToString(sum[:])[:10]
}

// ownerParts copies, out of the cache's Members and Invitations of store (which must not be
// changed), what the owner steps read and may change: the owner Member, the Store's own owner
// Invitations, and the Members with the address of one of them (a completed transfer removes
// such a Member: one account per email per store). The rest of a Store's Members are only
// counted, so a large Store costs its reconcile no copies.
func ownerParts(store *membershipv1alpha1.Store, members []membershipv1alpha1.Member,
	invitations []membershipv1alpha1.Invitation) ([]membershipv1alpha1.Member, []membershipv1alpha1.Invitation) {
	owned := ownerInvitations(invitations, store.UID)
	invs := make([]membershipv1alpha1.Invitation, 0, len(owned))
	addresses := map[string]bool{}
	for _, inv := range owned {
		invs = append(invs, *inv.DeepCopy())
		addresses[strings.ToLower(string(inv.Spec.Email))] = true
	}
	ownerName := membershipv1alpha1.OwnerMemberName(store.Name)
	var out []membershipv1alpha1.Member
	for i := range members {
		if members[i].Name == ownerName || addresses[strings.ToLower(string(members[i].Spec.Email))] {
			out = append(out, *members[i].DeepCopy())
		}
	}
	return out, invs
}

// ownerInvitations are the Store's own owner Invitations, by purpose (see invitationpolicy.OwnerPurpose).
func ownerInvitations(invitations []membershipv1alpha1.Invitation, storeUID types.UID) []*membershipv1alpha1.Invitation {
	var out []*membershipv1alpha1.Invitation
	for i := range invitations {
		inv := &invitations[i]
		if invitationpolicy.OwnerPurpose(inv) == "" {
			continue
		}
		if ref := ownerRef(inv); ref == storeUID {
			out = append(out, inv)
		}
	}
	return out
}

func ownerRef(inv *membershipv1alpha1.Invitation) types.UID {
	for _, ref := range inv.OwnerReferences {
		if ref.Controller != nil && *ref.Controller {
			return ref.UID
		}
	}
	return ""
}

// usableActivation reports whether inv can still activate the owner at email: an activation,
// to that address, neither revoked nor accepted. An expired one is still the one: its owner
// resends it with the resend annotation (the Store does not re-send on its own, or expiry would
// mean nothing).
func usableActivation(inv *membershipv1alpha1.Invitation, email membershipv1alpha1.EmailAddress) bool {
	return inv != nil && invitationpolicy.OwnerPurpose(inv) == membershipv1alpha1.OwnerActivation &&
		strings.EqualFold(string(inv.Spec.Email), string(email)) && inv.DeletionTimestamp.IsZero() &&
		!invitationpolicy.Revoked(inv) && !accepted(inv)
}

// transferFor picks the transfer Invitation to email that is under way: not revoked, and not an
// accepted one whose transfer already completed (its new-owner Secret is gone). staged says which
// accepted ones still hold their new-owner Secret.
func transferFor(owned []*membershipv1alpha1.Invitation, email membershipv1alpha1.EmailAddress, staged func(*membershipv1alpha1.Invitation) bool) *membershipv1alpha1.Invitation {
	var pick *membershipv1alpha1.Invitation
	for _, inv := range owned {
		if invitationpolicy.OwnerPurpose(inv) != membershipv1alpha1.OwnerTransfer || !strings.EqualFold(string(inv.Spec.Email), string(email)) ||
			!inv.DeletionTimestamp.IsZero() || invitationpolicy.Revoked(inv) || cancelledByOwner(inv) {
			continue
		}
		if accepted(inv) && !staged(inv) {
			continue
		}
		if pick == nil || inv.CreationTimestamp.After(pick.CreationTimestamp.Time) {
			pick = inv
		}
	}
	return pick
}

// cancelledByOwner reports whether the current owner stopped this transfer Invitation.
func cancelledByOwner(inv *membershipv1alpha1.Invitation) bool {
	return inv.Annotations[membershipv1alpha1.CancelledByOwnerAnnotation] != ""
}

// cancelledTransferTo is a transfer to email that the owner stopped and that still exists: while it
// does, the Store starts no new transfer to that address (the spec still names it).
func cancelledTransferTo(owned []*membershipv1alpha1.Invitation, email membershipv1alpha1.EmailAddress) *membershipv1alpha1.Invitation {
	for _, inv := range owned {
		if invitationpolicy.OwnerPurpose(inv) == membershipv1alpha1.OwnerTransfer && strings.EqualFold(string(inv.Spec.Email), string(email)) &&
			inv.DeletionTimestamp.IsZero() && cancelledByOwner(inv) {
			return inv
		}
	}
	return nil
}

// toRevoke are the owner Invitations whose links must stop working: every live one except keep
// (the one the Store wants now, if any). A reverted transfer's invitation is among them.
func toRevoke(owned []*membershipv1alpha1.Invitation, keep string) []*membershipv1alpha1.Invitation {
	var out []*membershipv1alpha1.Invitation
	for _, inv := range owned {
		if inv.Name != keep && live(inv) {
			out = append(out, inv)
		}
	}
	return out
}

// ownerDrift lists what an owner Member's spec differs in from what the Store manages: the
// owner role alone, 2FA on, enabled, no supplied password. (Email and display name follow the
// Store separately: the email only changes through activation or a completed transfer.)
func ownerDrift(m *membershipv1alpha1.Member) []string {
	var drift []string
	if !slices.Equal(m.Spec.Roles, []membershipv1alpha1.Role{membershipv1alpha1.RoleOwner}) {
		drift = append(drift, "spec.roles")
	}
	if !m.Spec.TwoFactor.Required {
		drift = append(drift, "spec.twoFactor.required")
	}
	if m.Spec.Disabled {
		drift = append(drift, "spec.disabled")
	}
	if m.Spec.PasswordSecretRef != nil {
		drift = append(drift, "spec.passwordSecretRef")
	}
	return drift
}

// resetOwnerSpec puts back what ownerDrift reports.
func resetOwnerSpec(m *membershipv1alpha1.Member) {
	m.Spec.Roles = []membershipv1alpha1.Role{membershipv1alpha1.RoleOwner}
	m.Spec.TwoFactor.Required = true
	m.Spec.Disabled = false
	m.Spec.PasswordSecretRef = nil
}

// storeProgress is the Store's kstatus progress: a foreign Member in the owner's place is
// Stalled; anything else is current, including an owner who has not activated yet or a pending
// transfer, which wait on a person (a GitOps sync must not wait days for them; Ready says it).
func storeProgress(store *membershipv1alpha1.Store) (progress.Progress, string, string) {
	if suspended := meta.FindStatusCondition(store.Status.Conditions, membershipv1alpha1.ConditionMembersSuspended); suspended != nil &&
		suspended.Status == metav1.ConditionTrue {
		// Only the owner can end it, by activating: the Store cannot progress on its own.
		return progress.Stalled, suspended.Reason, suspended.Message
	}
	ready := meta.FindStatusCondition(store.Status.Conditions, membershipv1alpha1.ConditionReady)
	if ready != nil && ready.Reason == ReasonOwnerMemberConflict {
		return progress.Stalled, ready.Reason, ready.Message
	}
	return progress.Current, "", ""
}

// accepted reports whether inv is accepted, or said to be by the acceptance server.
func accepted(inv *membershipv1alpha1.Invitation) bool {
	_, ok := invitationpolicy.Accepted(inv)
	return ok
}
