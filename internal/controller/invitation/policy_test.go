// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package invitation

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/invitationpolicy"
	"github.com/storeops/member-operator/internal/progress"
)

var t0 = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

func sentAt(at time.Time, lifetime time.Duration) *membershipv1alpha1.Invitation {
	sent, expires := metav1.NewTime(at), metav1.NewTime(at.Add(lifetime))
	return &membershipv1alpha1.Invitation{Status: membershipv1alpha1.InvitationStatus{
		Phase: membershipv1alpha1.InvitationSent, SentAt: &sent, ExpiresAt: &expires,
	}}
}

func TestExpiryBeforeAtAndAfterExpiresAt(t *testing.T) {
	inv := sentAt(t0, invitationpolicy.DefaultTTL)
	for _, tc := range []struct {
		name        string
		now         time.Time
		wantExpired bool
		wantRequeue time.Duration
	}{
		{"just sent", t0, false, 7 * 24 * time.Hour},
		{"a day later", t0.Add(24 * time.Hour), false, 6 * 24 * time.Hour},
		{"one second before", t0.Add(invitationpolicy.DefaultTTL - time.Second), false, time.Second},
		{"at expiresAt", t0.Add(invitationpolicy.DefaultTTL), true, 0},
		{"a week after", t0.Add(2 * invitationpolicy.DefaultTTL), true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			expired, requeue := expiry(inv, tc.now)
			g.Expect(expired).To(Equal(tc.wantExpired))
			g.Expect(requeue).To(Equal(tc.wantRequeue))
		})
	}
}

func TestExpiryOnlyConcernsSentInvitations(t *testing.T) {
	g := NewWithT(t)
	for _, phase := range []membershipv1alpha1.InvitationPhase{"", membershipv1alpha1.InvitationPending,
		membershipv1alpha1.InvitationAccepted, membershipv1alpha1.InvitationFailed, membershipv1alpha1.InvitationExpired} {
		inv := sentAt(t0, time.Minute)
		inv.Status.Phase = phase
		expired, requeue := expiry(inv, t0.Add(time.Hour))
		g.Expect(expired).To(BeFalse(), string(phase))
		g.Expect(requeue).To(BeZero(), string(phase))
	}
}

// A fake clock walks through seven days in steps, following the requeue interval the decision
// returns, as the controller's work queue would: no sleeping, and no step is a polling loop.
func TestSevenDayTTLPassesOnAFakeClock(t *testing.T) {
	g := NewWithT(t)
	clock := clocktesting.NewFakeClock(t0)
	inv := sentAt(clock.Now(), invitationpolicy.DefaultTTL)
	steps := 0
	for {
		expired, requeue := expiry(inv, clock.Now())
		if expired {
			break
		}
		steps++
		clock.Step(requeue)
	}
	g.Expect(steps).To(Equal(1), "one requeue, for the expiry instant")
	g.Expect(clock.Now()).To(Equal(t0.Add(7 * 24 * time.Hour)))
}

func TestDeliveryBackoffDoublesAndIsCapped(t *testing.T) {
	g := NewWithT(t)
	var got []time.Duration
	for attempts := int32(0); attempts <= 12; attempts++ {
		got = append(got, deliveryBackoff(attempts))
	}
	g.Expect(got).To(Equal([]time.Duration{time.Second, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
		16 * time.Second, 32 * time.Second, 64 * time.Second, 128 * time.Second, 256 * time.Second,
		5 * time.Minute, 5 * time.Minute, 5 * time.Minute}))
	g.Expect(deliveryBackoff(1<<30)).To(Equal(5*time.Minute), "no overflow however long it fails")
}

func TestDeliveryWaitHoldsTheNextAttemptUntilItIsDue(t *testing.T) {
	next := metav1.NewTime(t0.Add(4 * time.Second))
	for _, tc := range []struct {
		name string
		next *metav1.Time
		now  time.Time
		want time.Duration
	}{
		{"never failed", nil, t0, 0},
		{"failed, next attempt in 4 s", &next, t0, 4 * time.Second},
		{"an event a second later waits the rest", &next, t0.Add(time.Second), 3 * time.Second},
		{"due", &next, t0.Add(4 * time.Second), 0},
		{"overdue", &next, t0.Add(time.Hour), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			inv := &membershipv1alpha1.Invitation{}
			inv.Status.NextAttemptAt = tc.next
			g.Expect(deliveryWait(inv, tc.now)).To(Equal(tc.want))
		})
	}
}

func TestTTLFollowsTheStore(t *testing.T) {
	g := NewWithT(t)
	store := &membershipv1alpha1.Store{}
	g.Expect(invitationpolicy.LinkTTL(store)).To(Equal(168 * time.Hour))
	store.Spec.InvitationTTL = &metav1.Duration{Duration: 20 * time.Minute}
	g.Expect(invitationpolicy.LinkTTL(store)).To(Equal(20 * time.Minute))
}

func TestRetention(t *testing.T) {
	at := metav1.NewTime(t0)
	keep := 720 * time.Hour
	for _, tc := range []struct {
		name       string
		status     membershipv1alpha1.InvitationStatus
		now        time.Time
		wantDelete bool
		wantAfter  time.Duration
	}{
		{"sent is kept", membershipv1alpha1.InvitationStatus{Phase: membershipv1alpha1.InvitationSent, ExpiresAt: &at}, t0.Add(2 * keep), false, 0},
		{"failed is kept", membershipv1alpha1.InvitationStatus{Phase: membershipv1alpha1.InvitationFailed}, t0.Add(2 * keep), false, 0},
		{"accepted, a day in", membershipv1alpha1.InvitationStatus{Phase: membershipv1alpha1.InvitationAccepted, AcceptedAt: &at}, t0.Add(24 * time.Hour), false, keep - 24*time.Hour},
		{"accepted, at the end", membershipv1alpha1.InvitationStatus{Phase: membershipv1alpha1.InvitationAccepted, AcceptedAt: &at}, t0.Add(keep), true, 0},
		{"expired, after", membershipv1alpha1.InvitationStatus{Phase: membershipv1alpha1.InvitationExpired, ExpiresAt: &at}, t0.Add(keep + time.Hour), true, 0},
		{"expired, before", membershipv1alpha1.InvitationStatus{Phase: membershipv1alpha1.InvitationExpired, ExpiresAt: &at}, t0, false, keep},
		{"revoked, after", membershipv1alpha1.InvitationStatus{Phase: membershipv1alpha1.InvitationRevoked, RevokedAt: &at}, t0.Add(keep), true, 0},
		{"accepted without a time is kept", membershipv1alpha1.InvitationStatus{Phase: membershipv1alpha1.InvitationAccepted}, t0.Add(2 * keep), false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			deleteNow, after := retention(&membershipv1alpha1.Invitation{Status: tc.status}, tc.now, keep)
			g.Expect(deleteNow).To(Equal(tc.wantDelete))
			g.Expect(after).To(Equal(tc.wantAfter))
		})
	}
}

func TestResendRequest(t *testing.T) {
	for _, tc := range []struct {
		name       string
		annotation string
		phase      membershipv1alpha1.InvitationPhase
		observed   string
		want       resendAction
	}{
		{"no annotation", "", membershipv1alpha1.InvitationSent, "", resendNone},
		{"already acted on", "1", membershipv1alpha1.InvitationSent, "1", resendNone},
		{"present at creation", "1", "", "", resendRecord},
		{"new value while sent", "2", membershipv1alpha1.InvitationSent, "1", resendRotate},
		{"new value after expiry", "2", membershipv1alpha1.InvitationExpired, "1", resendRotate},
		{"new value while retrying", "2", membershipv1alpha1.InvitationPending, "", resendRotate},
		{"accepted cannot be resent", "2", membershipv1alpha1.InvitationAccepted, "1", resendRecord},
		{"revoked cannot be resent", "2", membershipv1alpha1.InvitationRevoked, "1", resendRecord},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			inv := &membershipv1alpha1.Invitation{}
			if tc.annotation != "" {
				inv.Annotations = map[string]string{membershipv1alpha1.ResendAnnotation: tc.annotation}
			}
			inv.Status.Phase, inv.Status.ObservedResend = tc.phase, tc.observed
			action, value := resendRequest(inv)
			g.Expect(action).To(Equal(tc.want))
			if tc.want != resendNone {
				g.Expect(value).To(Equal(tc.annotation))
			}
		})
	}
}

func member(name, store, email string, roles ...membershipv1alpha1.Role) membershipv1alpha1.Member {
	if len(roles) == 0 {
		roles = []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff}
	}
	m := membershipv1alpha1.Member{}
	m.Name, m.Namespace = name, "shop"
	m.Spec.StoreRef.Name, m.Spec.Email, m.Spec.Roles = store, membershipv1alpha1.EmailAddress(email), roles
	return m
}

func TestRefusal(t *testing.T) {
	inv := &membershipv1alpha1.Invitation{}
	inv.Name, inv.Namespace = "invite", "shop"
	inv.Spec.StoreRef.Name, inv.Spec.Email = "acme", "Dave@Example.com"
	store := &membershipv1alpha1.Store{}
	store.Name = "acme"
	full := store.DeepCopy()
	full.Spec.MemberLimit = 2
	deleting := member("old-dave", "acme", "dave@example.com")
	deleting.DeletionTimestamp = &metav1.Time{Time: t0}

	for _, tc := range []struct {
		name        string
		store       *membershipv1alpha1.Store
		same, other []membershipv1alpha1.Member
		seats       int
		exclusive   bool
		want        string
	}{
		{"store missing", nil, nil, nil, 0, false, membershipv1alpha1.ReasonStoreNotFound},
		{"owner role from a person", store, nil, nil, 0, false, membershipv1alpha1.ReasonOwnerRoleNotAllowed},
		{"fine", store, nil, nil, 0, false, ""},
		{"already a member, case-insensitively", store, []membershipv1alpha1.Member{member("dave", "acme", "dave@EXAMPLE.com")}, nil, 0, false, membershipv1alpha1.ReasonAlreadyMember},
		{"a plus-alias is another address", store, []membershipv1alpha1.Member{member("dave", "acme", "dave+shop@example.com")}, nil, 0, false, ""},
		{"a member being deleted does not count", store, []membershipv1alpha1.Member{deleting}, nil, 0, false, ""},
		{"member of another store, flag off", store, nil, []membershipv1alpha1.Member{member("dave", "other", "dave@example.com")}, 0, false, ""},
		{"member of another store, flag on", store, nil, []membershipv1alpha1.Member{member("dave", "rival-shop", "dave@example.com")}, 0, true, membershipv1alpha1.ReasonMemberOfAnotherStore},
		{"a seat left", full, nil, nil, 1, false, ""},
		{"no seat left", full, nil, nil, 2, false, membershipv1alpha1.ReasonMemberLimitReached},
		{"no limit", store, nil, nil, 1000, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			inv := inv.DeepCopy()
			if tc.want == membershipv1alpha1.ReasonOwnerRoleNotAllowed {
				inv.Spec.Roles = []membershipv1alpha1.Role{membershipv1alpha1.RoleAdmin, membershipv1alpha1.RoleOwner}
			}
			reason, message := invitationpolicy.Refusal(inv, tc.store, tc.same, tc.other, tc.seats, tc.exclusive)
			g.Expect(reason).To(Equal(tc.want))
			if tc.want != "" {
				g.Expect(message).NotTo(BeEmpty())
			}
			if tc.want == membershipv1alpha1.ReasonMemberOfAnotherStore {
				g.Expect(message).NotTo(ContainSubstring("rival-shop"), "another tenant's Store is not named")
			}
		})
	}
}

func invitation(name string, created time.Time, phase membershipv1alpha1.InvitationPhase, reason string) membershipv1alpha1.Invitation {
	inv := membershipv1alpha1.Invitation{}
	inv.Name, inv.UID, inv.CreationTimestamp = name, types.UID("uid-"+name), metav1.NewTime(created)
	inv.Status.Phase = phase
	if reason != "" {
		inv.Status.Conditions = []metav1.Condition{{Type: membershipv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: reason}}
	}
	return inv
}

func TestSeatsTakenIsFirstComeFirstServed(t *testing.T) {
	g := NewWithT(t)
	owner := member("acme-owner", "acme", "owner@example.com", membershipv1alpha1.RoleOwner)
	conflict := member("dup", "acme", "x@example.com")
	conflict.Status.Phase = membershipv1alpha1.MemberConflict
	disabled := member("carol", "acme", "carol@example.com")
	disabled.Status.Phase = membershipv1alpha1.MemberDisabled
	members := []membershipv1alpha1.Member{owner, conflict, disabled, member("bob", "acme", "bob@example.com")}

	self := invitation("self", t0, "", "")
	invitations := []membershipv1alpha1.Invitation{
		self,
		invitation("sent", t0.Add(time.Hour), membershipv1alpha1.InvitationSent, ""),
		invitation("retrying", t0.Add(time.Hour), membershipv1alpha1.InvitationPending, ""),
		invitation("new-earlier", t0.Add(-time.Minute), "", ""),
		invitation("new-later", t0.Add(time.Minute), "", ""),
		invitation("waiting-earlier", t0.Add(-time.Hour), membershipv1alpha1.InvitationFailed, membershipv1alpha1.ReasonMemberLimitReached),
		invitation("waiting-later", t0.Add(time.Hour), membershipv1alpha1.InvitationFailed, membershipv1alpha1.ReasonMemberLimitReached),
		invitation("refused", t0.Add(-time.Hour), membershipv1alpha1.InvitationFailed, membershipv1alpha1.ReasonAlreadyMember),
		invitation("expired", t0.Add(-time.Hour), membershipv1alpha1.InvitationExpired, ""),
		invitation("accepted", t0.Add(-time.Hour), membershipv1alpha1.InvitationAccepted, ""),
	}
	// bob and carol; sent and retrying; new-earlier and waiting-earlier (created before self).
	g.Expect(invitationpolicy.SeatsTaken(&invitations[0], members, invitations)).To(Equal(6))

	// Two new invitations at once agree on who comes first.
	a, b := invitation("a", t0, "", ""), invitation("b", t0, "", "")
	both := []membershipv1alpha1.Invitation{a, b}
	g.Expect(invitationpolicy.SeatsTaken(&both[0], nil, both)).To(Equal(0))
	g.Expect(invitationpolicy.SeatsTaken(&both[1], nil, both)).To(Equal(1))
}

func TestOnlyTheStoresOwnInvitationMayGrantOwner(t *testing.T) {
	g := NewWithT(t)
	inv := &membershipv1alpha1.Invitation{}
	inv.Spec.StoreRef.Name = "acme"
	inv.Spec.Roles = []membershipv1alpha1.Role{membershipv1alpha1.RoleOwner}
	g.Expect(invitationpolicy.GrantsOwnerWithoutStore(inv)).To(BeTrue())
	yes := true
	inv.OwnerReferences = []metav1.OwnerReference{{APIVersion: "membership.storeops.io/v1alpha1", Kind: "Store", Name: "other", Controller: &yes}}
	g.Expect(invitationpolicy.GrantsOwnerWithoutStore(inv)).To(BeTrue(), "another Store's")
	inv.OwnerReferences[0].Name = "acme"
	g.Expect(invitationpolicy.GrantsOwnerWithoutStore(inv)).To(BeTrue(), "the Store's, but not marked as an activation or a transfer")
	inv.Annotations = map[string]string{membershipv1alpha1.OwnerInvitationAnnotation: "promotion"}
	g.Expect(invitationpolicy.GrantsOwnerWithoutStore(inv)).To(BeTrue(), "an unknown purpose")
	inv.Annotations[membershipv1alpha1.OwnerInvitationAnnotation] = membershipv1alpha1.OwnerTransfer
	g.Expect(invitationpolicy.GrantsOwnerWithoutStore(inv)).To(BeFalse())
	g.Expect(invitationpolicy.OwnerPurpose(inv)).To(Equal(membershipv1alpha1.OwnerTransfer))

	store := &membershipv1alpha1.Store{}
	store.Name, store.UID = "acme", "store-uid"
	store.Spec.Owner.Email = "Nina@example.com"
	inv.Spec.Email = "nina@example.com"
	g.Expect(invitationpolicy.OwnerInvitationWanted(inv, store)).To(BeFalse(), "the owner reference must carry the Store's UID")
	inv.OwnerReferences[0].UID = "store-uid"
	g.Expect(invitationpolicy.OwnerInvitationWanted(inv, store)).To(BeTrue(), "addresses compare case-insensitively")
	store.Spec.Owner.Email = "olga@example.com"
	g.Expect(invitationpolicy.OwnerInvitationWanted(inv, store)).To(BeFalse(), "the spec no longer names this address")
	reason, _ := invitationpolicy.Refusal(inv, store, nil, nil, 0, false)
	g.Expect(reason).To(Equal(membershipv1alpha1.ReasonOwnerRoleNotAllowed))
	store.Spec.Owner.Email = "nina@example.com"
	store.Spec.MemberLimit = 1
	sameStore := []membershipv1alpha1.Member{{Spec: membershipv1alpha1.MemberSpec{Email: "nina@example.com"}}}
	reason, _ = invitationpolicy.Refusal(inv, store, sameStore, nil, 5, false)
	g.Expect(reason).To(BeEmpty(), "an owner invitation takes no seat and may go to an existing Member")

	inv.Spec.Roles = []membershipv1alpha1.Role{membershipv1alpha1.RoleAdmin}
	inv.OwnerReferences = nil
	g.Expect(invitationpolicy.GrantsOwnerWithoutStore(inv)).To(BeFalse())
}

func TestInvitationProgress(t *testing.T) {
	g := NewWithT(t)
	inv := &membershipv1alpha1.Invitation{}
	got, reason, _ := invitationProgress(inv)
	g.Expect(got).To(Equal(progress.Reconciling))
	g.Expect(reason).To(Equal(membershipv1alpha1.ReasonSending))
	inv.Status.Phase = membershipv1alpha1.InvitationFailed
	inv.Status.Conditions = []metav1.Condition{{Type: membershipv1alpha1.ConditionReady, Status: metav1.ConditionFalse,
		Reason: membershipv1alpha1.ReasonMemberLimitReached, Message: "full"}}
	got, reason, _ = invitationProgress(inv)
	g.Expect(got).To(Equal(progress.Stalled))
	g.Expect(reason).To(Equal(membershipv1alpha1.ReasonMemberLimitReached))
	for _, phase := range []membershipv1alpha1.InvitationPhase{membershipv1alpha1.InvitationSent, membershipv1alpha1.InvitationAccepted,
		membershipv1alpha1.InvitationExpired, membershipv1alpha1.InvitationRevoked} {
		inv.Status.Phase, inv.Status.Conditions = phase, nil
		got, _, _ = invitationProgress(inv)
		g.Expect(got).To(Equal(progress.Current), string(phase))
	}
}
