// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package invitationpolicy

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// The expiry the email states is the one stored and the one both readers decide by.
func TestLinkExpiry(t *testing.T) {
	g := NewWithT(t)
	store := &membershipv1alpha1.Store{}
	now := time.Date(2026, 12, 2, 9, 0, 0, 700_000_000, time.UTC)
	g.Expect(LinkExpiresAt(store, now)).To(Equal(time.Date(2026, 12, 9, 9, 0, 0, 0, time.UTC)), "7 days, to the second")
	store.Spec.InvitationTTL = &metav1.Duration{Duration: time.Minute}
	expires := LinkExpiresAt(store, now)
	g.Expect(expires).To(Equal(time.Date(2026, 12, 2, 9, 1, 0, 0, time.UTC)))

	inv := &membershipv1alpha1.Invitation{}
	expired, left := LinkExpired(inv, now)
	g.Expect(expired).To(BeFalse(), "not sent, no expiry")
	g.Expect(left).To(BeZero())
	at := metav1.NewTime(expires)
	inv.Status.ExpiresAt = &at
	for _, tc := range []struct {
		now         time.Time
		wantExpired bool
		wantLeft    time.Duration
	}{
		{expires.Add(-time.Second), false, time.Second},
		{expires, true, 0},
		{expires.Add(time.Hour), true, 0},
	} {
		expired, left := LinkExpired(inv, tc.now)
		g.Expect(expired).To(Equal(tc.wantExpired), "at %s", tc.now)
		g.Expect(left).To(Equal(tc.wantLeft))
	}
	g.Expect(AcceptedMessage("dave")).To(Equal(`Accepted; the invitee is Member "dave"`))
}

// A revocation asked for counts at once for every reader, unless the invitation finished first.
func TestRevokedTakesARequestForTheRevocation(t *testing.T) {
	asked := map[string]string{membershipv1alpha1.RevokeAnnotation: "Withdrawn by the Store: replaced"}
	for _, tc := range []struct {
		name        string
		phase       membershipv1alpha1.InvitationPhase
		annotations map[string]string
		want        bool
	}{
		{"sent", membershipv1alpha1.InvitationSent, nil, false},
		{"revoked", membershipv1alpha1.InvitationRevoked, nil, true},
		{"sent, asked to revoke", membershipv1alpha1.InvitationSent, asked, true},
		{"pending, asked to revoke", membershipv1alpha1.InvitationPending, asked, true},
		{"new, asked to revoke", "", asked, true},
		{"accepted before the request", membershipv1alpha1.InvitationAccepted, asked, false},
		{"accepted by the server, not recorded yet", membershipv1alpha1.InvitationSent, map[string]string{
			membershipv1alpha1.RevokeAnnotation: "Withdrawn by the Store: replaced", membershipv1alpha1.AcceptedByAnnotation: "shop-ann"}, false},
		{"expired before the request", membershipv1alpha1.InvitationExpired, asked, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := &membershipv1alpha1.Invitation{}
			inv.Annotations = tc.annotations
			inv.Status.Phase = tc.phase
			NewWithT(t).Expect(Revoked(inv)).To(Equal(tc.want))
		})
	}
}

// The acceptance server's word counts as the acceptance until the controller records it.
func TestAcceptedTakesTheServersWord(t *testing.T) {
	g := NewWithT(t)
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	inv := &membershipv1alpha1.Invitation{}
	inv.Status.Phase = membershipv1alpha1.InvitationSent
	_, accepted := Accepted(inv)
	g.Expect(accepted).To(BeFalse())
	g.Expect(AcceptedAt(inv, t0)).To(Equal(t0), "no acceptance: the fallback")

	inv.Annotations = map[string]string{
		membershipv1alpha1.AcceptedByAnnotation: "shop-ann",
		membershipv1alpha1.AcceptedAtAnnotation: t0.Add(time.Minute).Format(time.RFC3339),
	}
	member, accepted := Accepted(inv)
	g.Expect(accepted).To(BeTrue())
	g.Expect(member).To(Equal("shop-ann"))
	g.Expect(AcceptedAt(inv, t0)).To(Equal(t0.Add(time.Minute)))

	inv.Annotations[membershipv1alpha1.AcceptedAtAnnotation] = "yesterday"
	g.Expect(AcceptedAt(inv, t0)).To(Equal(t0), "a malformed time is not trusted")

	at := metav1.NewTime(t0.Add(time.Hour))
	inv.Status = membershipv1alpha1.InvitationStatus{Phase: membershipv1alpha1.InvitationAccepted, Member: "shop-ann", AcceptedAt: &at}
	member, accepted = Accepted(inv)
	g.Expect(accepted).To(BeTrue())
	g.Expect(member).To(Equal("shop-ann"))
	g.Expect(AcceptedAt(inv, t0)).To(Equal(t0.Add(time.Hour)), "the recorded time wins")
}

// The server's word that the invitee declined counts until the controller records it; an
// acceptance, or a finish recorded before it, wins.
func TestDeclinedTakesTheServersWordUnlessAnotherEndCameFirst(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	asked := map[string]string{membershipv1alpha1.DeclinedAtAnnotation: t0.Add(time.Minute).Format(time.RFC3339)}
	for _, tc := range []struct {
		name        string
		phase       membershipv1alpha1.InvitationPhase
		annotations map[string]string
		declined    bool
		at          time.Time
	}{
		{"sent", membershipv1alpha1.InvitationSent, nil, false, time.Time{}},
		{"sent, declined by the server", membershipv1alpha1.InvitationSent, asked, true, t0.Add(time.Minute)},
		{"declined by the server at a malformed time", membershipv1alpha1.InvitationSent,
			map[string]string{membershipv1alpha1.DeclinedAtAnnotation: "just now"}, true, t0},
		{"recorded", membershipv1alpha1.InvitationDeclined, nil, true, t0},
		{"accepted first", membershipv1alpha1.InvitationSent, map[string]string{
			membershipv1alpha1.DeclinedAtAnnotation: "2026-12-02T09:01:00Z", membershipv1alpha1.AcceptedByAnnotation: "shop-ann"}, false, time.Time{}},
		{"revoked first", membershipv1alpha1.InvitationRevoked, asked, false, time.Time{}},
		{"expired first", membershipv1alpha1.InvitationExpired, asked, false, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			inv := &membershipv1alpha1.Invitation{}
			inv.Annotations = tc.annotations
			inv.Status.Phase = tc.phase
			at, declined := Declined(inv, t0)
			g.Expect(declined).To(Equal(tc.declined))
			g.Expect(at).To(Equal(tc.at))
			if tc.declined {
				g.Expect(Revoked(inv)).To(BeFalse(), "a declined invitation is not revoked")
			}
		})
	}
}
