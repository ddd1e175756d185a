// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package seats decides (Refusal, a pure function; Check reads what it needs) which Members of a Store hold access under its
// spec.memberLimit and under --exclusive-membership: first come, first served by the time each
// asked for its seat. The Member controller, the admission webhook and the acceptance server all
// ask here, so a Member applied directly, one created by an acceptance and one arriving while
// the webhook is down meet the same rule, and two that arrive at once agree on who came first.
package seats

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/index"
)

// Since is when m asked for its seat: for the Member of an accepted invitation, when the
// Invitation was created (SeatSinceAnnotation, set by the acceptance server); otherwise when m was
// created.
func Since(m *membershipv1alpha1.Member) time.Time {
	if at, err := time.Parse(time.RFC3339, m.Annotations[membershipv1alpha1.SeatSinceAnnotation]); err == nil &&
		!at.After(m.CreationTimestamp.Time) {
		return at
	}
	return m.CreationTimestamp.Time
}

// requester names a Member's seat request for the tie-break of before: the Invitation it came
// from, if any, so that it sorts where that Invitation sorted; otherwise its own name.
func requester(m *membershipv1alpha1.Member) string {
	if inv := m.Annotations[membershipv1alpha1.InvitationAnnotation]; inv != "" {
		return inv
	}
	return m.Name
}

// before orders seat requests: the earlier time first (the API stores seconds, so ties are
// common), then the name, so every reader agrees.
func before(at time.Time, name string, thanAt time.Time, thanName string) bool {
	if !at.Equal(thanAt) {
		return at.Before(thanAt)
	}
	return name < thanName
}

// holdsSeat reports whether another Member takes a seat of the Store: not the owner, not being
// deleted, not refused (Conflict).
func holdsSeat(m *membershipv1alpha1.Member) bool {
	return m.DeletionTimestamp.IsZero() && m.Status.Phase != membershipv1alpha1.MemberConflict &&
		!membershipv1alpha1.HasOwnerRole(m.Spec.Roles) && !m.IsIntegration()
}

// invitationAsks reports whether an Invitation stands in line for a seat: being sent, sent, not
// yet looked at, or waiting for a seat; not the owner's own.
func invitationAsks(inv *membershipv1alpha1.Invitation) bool {
	if !inv.DeletionTimestamp.IsZero() || membershipv1alpha1.HasOwnerRole(inv.Spec.Roles) {
		return false
	}
	switch inv.Status.Phase {
	case "", membershipv1alpha1.InvitationPending, membershipv1alpha1.InvitationSent:
		return true
	case membershipv1alpha1.InvitationFailed:
		for _, c := range inv.Status.Conditions {
			if c.Type == membershipv1alpha1.ConditionReady {
				return c.Reason == membershipv1alpha1.ReasonMemberLimitReached
			}
		}
	}
	return false
}

// TakenBefore counts the seats of the Store that were asked for before member: the Store's other
// Members that hold one, and its Invitations in line for one that no Member came from (the seat
// of an accepted Invitation is its Member's).
func TakenBefore(member *membershipv1alpha1.Member, members []membershipv1alpha1.Member, invitations []membershipv1alpha1.Invitation) int {
	since, taken := Since(member), 0
	// An Invitation whose Member exists (accepted, or being accepted) holds one seat, not two.
	cameFrom := map[string]bool{member.Annotations[membershipv1alpha1.InvitationAnnotation]: true}
	for i := range members {
		m := &members[i]
		if m.UID == member.UID || !m.DeletionTimestamp.IsZero() {
			continue
		}
		if inv := m.Annotations[membershipv1alpha1.InvitationAnnotation]; inv != "" {
			cameFrom[inv] = true
		}
		if holdsSeat(m) && before(Since(m), requester(m), since, requester(member)) {
			taken++
		}
	}
	for i := range invitations {
		inv := &invitations[i]
		if !cameFrom[inv.Name] && invitationAsks(inv) && before(inv.CreationTimestamp.Time, inv.Name, since, requester(member)) {
			taken++
		}
	}
	return taken
}

// Refusal says why member may not have access under its Store's limits (reason and message), or
// "" when it may. members and invitations are the Store's; elsewhere are the Members with
// member's address in other Stores. The owner is never refused here: it takes no seat, and its
// address is the Store's own.
func Refusal(member *membershipv1alpha1.Member, store *membershipv1alpha1.Store, members []membershipv1alpha1.Member,
	invitations []membershipv1alpha1.Invitation, elsewhere []membershipv1alpha1.Member, exclusive bool) (reason, message string) {
	if membershipv1alpha1.HasOwnerRole(member.Spec.Roles) || member.IsIntegration() {
		return "", "" // the owner and machines take no person's seat
	}
	if exclusive {
		since := Since(member)
		for i := range elsewhere {
			m := &elsewhere[i]
			if m.UID != member.UID && m.DeletionTimestamp.IsZero() && m.Status.Phase != membershipv1alpha1.MemberConflict &&
				strings.EqualFold(string(m.Spec.Email), string(member.Spec.Email)) && before(Since(m), requester(m), since, requester(member)) {
				// The other Store is not named: it may belong to another tenant.
				return membershipv1alpha1.ReasonMemberOfAnotherStore, fmt.Sprintf(
					"%s already belongs to another Store and the operator runs with --exclusive-membership", member.Spec.Email)
			}
		}
	}
	if limit := int(store.Spec.MemberLimit); limit > 0 {
		if taken := TakenBefore(member, members, invitations); taken >= limit {
			return membershipv1alpha1.ReasonMemberLimitReached, fmt.Sprintf(
				"Store %q has memberLimit %d and %d seats were taken by members and invitations that came before this one",
				store.Name, limit, taken)
		}
	}
	return "", ""
}

// Check reads from reader (the manager's cache, with the indexes of index.Setup) what
// Refusal needs for member of store, and returns its verdict. The Member controller calls it on
// every reconcile and the admission webhook at apply time: one rule, two places. It reads
// nothing when neither memberLimit nor exclusive applies.
func Check(ctx context.Context, reader client.Reader, member *membershipv1alpha1.Member, store *membershipv1alpha1.Store,
	exclusive bool) (reason, message string, err error) {
	return check(ctx, reader, true, member, store, exclusive)
}

// CheckLive is Check against the API server (an uncached reader, where no field index exists):
// for a decision that must see every write made before it, such as an acceptance right after its
// claim, or before taking credentials away on what the cache says.
func CheckLive(ctx context.Context, apiReader client.Reader, member *membershipv1alpha1.Member, store *membershipv1alpha1.Store,
	exclusive bool) (reason, message string, err error) {
	return check(ctx, apiReader, false, member, store, exclusive)
}

// check lists what Refusal needs: through the cache's field indexes when indexed, otherwise the
// whole namespace (or cluster, for the address) filtered here. The filters run either way.
func check(ctx context.Context, reader client.Reader, indexed bool, member *membershipv1alpha1.Member,
	store *membershipv1alpha1.Store, exclusive bool) (reason, message string, err error) {
	if membershipv1alpha1.HasOwnerRole(member.Spec.Roles) || member.IsIntegration() || store.Spec.MemberLimit == 0 && !exclusive {
		return "", "", nil
	}
	narrowed := func(field, value string, opts ...client.ListOption) []client.ListOption {
		if indexed {
			opts = append(opts, client.UnsafeDisableDeepCopy, client.MatchingFields{field: value})
		}
		return opts
	}
	var members membershipv1alpha1.MemberList
	var invitations membershipv1alpha1.InvitationList
	if store.Spec.MemberLimit > 0 {
		if err := reader.List(ctx, &members, narrowed(index.MemberStore, store.Name, client.InNamespace(member.Namespace))...); err != nil {
			return "", "", err
		}
		if err := reader.List(ctx, &invitations, narrowed(index.InvitationStore, store.Name, client.InNamespace(member.Namespace))...); err != nil {
			return "", "", err
		}
	}
	sameStore := index.OfStore(members.Items, store.Name)
	storeInvitations := slices.DeleteFunc(invitations.Items, func(i membershipv1alpha1.Invitation) bool {
		return i.Spec.StoreRef.Name != store.Name
	})
	var elsewhere []membershipv1alpha1.Member
	if exclusive {
		var sameEmail membershipv1alpha1.MemberList
		if err := reader.List(ctx, &sameEmail, narrowed(index.MemberLogin, index.LoginKey(string(member.Spec.Email)))...); err != nil {
			return "", "", err
		}
		for _, m := range index.People(sameEmail.Items) {
			if (m.Namespace != member.Namespace || m.Spec.StoreRef.Name != store.Name) && strings.EqualFold(string(m.Spec.Email), string(member.Spec.Email)) {
				elsewhere = append(elsewhere, m)
			}
		}
	}
	reason, message = Refusal(member, store, sameStore, storeInvitations, elsewhere, exclusive)
	return reason, message, nil
}
