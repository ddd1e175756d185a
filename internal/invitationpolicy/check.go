// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package invitationpolicy

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/index"
)

// Check reads, from reader (the manager's cache, with the indexes of index.Setup),
// what could make inv impossible to honour, and returns Refusal's verdict. The controller calls it
// before every send and the admission webhook at apply time: one rule, two places, because a
// webhook can be bypassed or down. store is nil when it does not exist.
func Check(ctx context.Context, reader client.Reader, inv *membershipv1alpha1.Invitation, store *membershipv1alpha1.Store,
	exclusive bool) (reason, message string, err error) {
	if store == nil || OwnerPurpose(inv) != "" {
		reason, message := Refusal(inv, store, nil, nil, 0, exclusive)
		return reason, message, nil
	}
	sameEmail, err := index.ListByLogin(ctx, reader, string(inv.Spec.Email), client.InNamespace(inv.Namespace), client.UnsafeDisableDeepCopy)
	if err != nil {
		return "", "", err
	}
	sameEmail = index.OfStore(sameEmail, store.Name)
	var otherStores []membershipv1alpha1.Member
	if exclusive {
		all, err := index.ListByLogin(ctx, reader, string(inv.Spec.Email), client.UnsafeDisableDeepCopy)
		if err != nil {
			return "", "", err
		}
		for _, m := range index.People(all) {
			if m.Namespace != inv.Namespace || m.Spec.StoreRef.Name != store.Name {
				otherStores = append(otherStores, m)
			}
		}
	}
	seats := 0
	if store.Spec.MemberLimit > 0 {
		var members membershipv1alpha1.MemberList
		if err := reader.List(ctx, &members, client.InNamespace(inv.Namespace), client.UnsafeDisableDeepCopy,
			client.MatchingFields{index.MemberStore: store.Name}); err != nil {
			return "", "", err
		}
		var invitations membershipv1alpha1.InvitationList
		if err := reader.List(ctx, &invitations, client.InNamespace(inv.Namespace), client.UnsafeDisableDeepCopy,
			client.MatchingFields{index.InvitationStore: store.Name}); err != nil {
			return "", "", err
		}
		seats = SeatsTaken(inv, members.Items, invitations.Items)
	}
	reason, message = Refusal(inv, store, sameEmail, otherStores, seats, exclusive)
	return reason, message, nil
}
