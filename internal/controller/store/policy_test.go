// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package store

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/progress"
)

func TestNotificationEmailIsFixedAtFirstReconcileUnlessTheSpecSetsIt(t *testing.T) {
	g := NewWithT(t)
	store := &membershipv1alpha1.Store{}
	store.Spec.Owner.Email = "alice@example.com"
	g.Expect(store.NotificationAddress()).To(Equal(membershipv1alpha1.EmailAddress("alice@example.com")), "the owner's, at first")
	store.Status.NotificationEmail = store.NotificationAddress()
	store.Spec.Owner.Email = "bob@example.com"
	g.Expect(store.NotificationAddress()).To(Equal(membershipv1alpha1.EmailAddress("alice@example.com")), "not following the owner")
	store.Spec.NotificationEmail = "ops@example.com"
	g.Expect(store.NotificationAddress()).To(Equal(membershipv1alpha1.EmailAddress("ops@example.com")), "the spec wins")
}

func TestCountsExcludeTheOwnerDeletionsAndFinishedInvitations(t *testing.T) {
	g := NewWithT(t)
	member := func(deleting bool, roles ...membershipv1alpha1.Role) membershipv1alpha1.Member {
		m := membershipv1alpha1.Member{Spec: membershipv1alpha1.MemberSpec{Roles: roles}}
		if deleting {
			m.DeletionTimestamp = &metav1.Time{Time: time.Now()}
		}
		return m
	}
	inv := func(phase membershipv1alpha1.InvitationPhase) membershipv1alpha1.Invitation {
		return membershipv1alpha1.Invitation{Status: membershipv1alpha1.InvitationStatus{Phase: phase}}
	}
	erp := member(false, membershipv1alpha1.RoleOperations)
	erp.Spec.Type = membershipv1alpha1.MemberIntegration
	members := []membershipv1alpha1.Member{
		member(false, membershipv1alpha1.RoleOwner), member(false, membershipv1alpha1.RoleStaff),
		member(false, membershipv1alpha1.RoleAdmin), member(true, membershipv1alpha1.RoleStaff), erp,
	}
	invitations := []membershipv1alpha1.Invitation{inv(membershipv1alpha1.InvitationSent), inv(membershipv1alpha1.InvitationPending),
		inv(membershipv1alpha1.InvitationAccepted), inv(membershipv1alpha1.InvitationExpired), inv(membershipv1alpha1.InvitationFailed)}
	m, machines, p := counts(members, invitations)
	g.Expect(m).To(Equal(int32(2)), "people only: what memberLimit counts")
	g.Expect(machines).To(Equal(int32(1)), "integrations are listed apart")
	g.Expect(p).To(Equal(int32(2)))
}

func ownerInvitation(name, purpose, email string, phase membershipv1alpha1.InvitationPhase, created time.Time) *membershipv1alpha1.Invitation {
	inv := &membershipv1alpha1.Invitation{}
	inv.Name = name
	inv.CreationTimestamp = metav1.NewTime(created)
	inv.Annotations = map[string]string{membershipv1alpha1.OwnerInvitationAnnotation: purpose}
	inv.OwnerReferences = []metav1.OwnerReference{{APIVersion: membershipv1alpha1.GroupVersion.String(), Kind: "Store",
		Name: "shop", UID: "store-uid", Controller: ptr.To(true)}}
	inv.Spec.StoreRef.Name = "shop"
	inv.Spec.Email = membershipv1alpha1.EmailAddress(email)
	inv.Spec.Roles = []membershipv1alpha1.Role{membershipv1alpha1.RoleOwner}
	inv.Status.Phase = phase
	return inv
}

func TestOwnerInvitationNamesAreStableForARetryAndNewForANewSpecOrOwner(t *testing.T) {
	g := NewWithT(t)
	a := ownerInvitationName("shop", membershipv1alpha1.OwnerTransfer, "Nina@example.com", "uid-1", 2)
	g.Expect(a).To(MatchRegexp(`^shop-owner-transfer-[0-9a-f]{10}$`))
	g.Expect(ownerInvitationName("shop", membershipv1alpha1.OwnerTransfer, "nina@example.com", "uid-1", 2)).To(Equal(a), "case-insensitive")
	g.Expect(ownerInvitationName("shop", membershipv1alpha1.OwnerTransfer, "nina@example.com", "uid-1", 3)).NotTo(Equal(a), "a later spec")
	g.Expect(ownerInvitationName("shop", membershipv1alpha1.OwnerTransfer, "nina@example.com", "uid-2", 2)).NotTo(Equal(a), "a new owner Member")
	g.Expect(ownerInvitationName("shop", membershipv1alpha1.OwnerActivation, "nina@example.com", "uid-1", 2)).To(HavePrefix("shop-owner-activation-"))
}

func TestOwnerInvitationsAreOnlyTheStoresOwn(t *testing.T) {
	g := NewWithT(t)
	now := time.Now()
	own := ownerInvitation("a", membershipv1alpha1.OwnerActivation, "o@example.com", "", now)
	otherStore := ownerInvitation("b", membershipv1alpha1.OwnerActivation, "o@example.com", "", now)
	otherStore.OwnerReferences[0].UID = "another-uid"
	staff := ownerInvitation("c", "", "s@example.com", "", now)
	staff.Spec.Roles = []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff}
	got := ownerInvitations([]membershipv1alpha1.Invitation{*own, *otherStore, *staff}, "store-uid")
	g.Expect(got).To(HaveLen(1))
	g.Expect(got[0].Name).To(Equal("a"))
}

func TestOwnerPartsCopyOnlyWhatTheOwnerStepsUse(t *testing.T) {
	g := NewWithT(t)
	store := &membershipv1alpha1.Store{ObjectMeta: metav1.ObjectMeta{Name: "shop", UID: "store-uid"}}
	member := func(name, email string) membershipv1alpha1.Member {
		m := membershipv1alpha1.Member{ObjectMeta: metav1.ObjectMeta{Name: name}}
		m.Spec.Email = membershipv1alpha1.EmailAddress(email)
		return m
	}
	members := []membershipv1alpha1.Member{
		member(membershipv1alpha1.OwnerMemberName("shop"), "olga@example.com"),
		member("nina", "nina@example.com"), // the transfer's address: a completed transfer removes her Member
		member("staff", "staff@example.com"),
	}
	staff := ownerInvitation("staff-invite", "", "staff@example.com", membershipv1alpha1.InvitationSent, time.Now())
	staff.Spec.Roles = []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff}
	invitations := []membershipv1alpha1.Invitation{
		*ownerInvitation("transfer", membershipv1alpha1.OwnerTransfer, "Nina@example.com", membershipv1alpha1.InvitationSent, time.Now()),
		*staff,
	}
	gotMembers, gotInvitations := ownerParts(store, members, invitations)
	g.Expect(gotMembers).To(HaveLen(2))
	g.Expect(gotMembers[0].Name).To(Equal(membershipv1alpha1.OwnerMemberName("shop")))
	g.Expect(gotMembers[1].Name).To(Equal("nina"), "matched without regard to case")
	g.Expect(gotInvitations).To(HaveLen(1))
	g.Expect(gotInvitations[0].Name).To(Equal("transfer"))

	// They are copies: the owner steps change them, never the cache's objects.
	gotMembers[0].Spec.Email = "changed@example.com"
	gotInvitations[0].Annotations["changed"] = "yes"
	g.Expect(members[0].Spec.Email).To(BeEquivalentTo("olga@example.com"))
	g.Expect(invitations[0].Annotations).NotTo(HaveKey("changed"))
}

func TestWhichOwnerInvitationIsUnderWay(t *testing.T) {
	g := NewWithT(t)
	t0 := time.Now()
	activation := ownerInvitation("act", membershipv1alpha1.OwnerActivation, "olga@example.com", membershipv1alpha1.InvitationSent, t0)
	g.Expect(usableActivation(activation, "Olga@example.com")).To(BeTrue())
	g.Expect(usableActivation(activation, "other@example.com")).To(BeFalse(), "another address")
	expired := activation.DeepCopy()
	expired.Status.Phase = membershipv1alpha1.InvitationExpired
	g.Expect(usableActivation(expired, "olga@example.com")).To(BeTrue(), "resent with the annotation, not replaced")
	for _, phase := range []membershipv1alpha1.InvitationPhase{membershipv1alpha1.InvitationRevoked, membershipv1alpha1.InvitationAccepted} {
		done := activation.DeepCopy()
		done.Status.Phase = phase
		g.Expect(usableActivation(done, "olga@example.com")).To(BeFalse(), string(phase))
	}
	g.Expect(usableActivation(nil, "olga@example.com")).To(BeFalse())

	old := ownerInvitation("old", membershipv1alpha1.OwnerTransfer, "nina@example.com", membershipv1alpha1.InvitationRevoked, t0)
	completed := ownerInvitation("completed", membershipv1alpha1.OwnerTransfer, "nina@example.com", membershipv1alpha1.InvitationAccepted, t0.Add(time.Second))
	accepted := ownerInvitation("accepted", membershipv1alpha1.OwnerTransfer, "nina@example.com", membershipv1alpha1.InvitationAccepted, t0.Add(2*time.Second))
	sent := ownerInvitation("sent", membershipv1alpha1.OwnerTransfer, "nina@example.com", membershipv1alpha1.InvitationSent, t0.Add(3*time.Second))
	toOther := ownerInvitation("other", membershipv1alpha1.OwnerTransfer, "tom@example.com", membershipv1alpha1.InvitationSent, t0.Add(4*time.Second))
	staged := func(inv *membershipv1alpha1.Invitation) bool { return inv.Name == "accepted" }
	owned := []*membershipv1alpha1.Invitation{old, completed, accepted, sent, toOther, activation}
	g.Expect(transferFor(owned, "nina@example.com", staged).Name).To(Equal("sent"), "the newest not revoked and not completed")
	g.Expect(transferFor([]*membershipv1alpha1.Invitation{old, completed, accepted}, "nina@example.com", staged).Name).To(Equal("accepted"))
	g.Expect(transferFor([]*membershipv1alpha1.Invitation{old, completed}, "nina@example.com", staged)).To(BeNil())

	revoked := toRevoke(owned, "sent")
	names := make([]string, 0, len(revoked))
	for _, inv := range revoked {
		names = append(names, inv.Name)
	}
	g.Expect(names).To(ConsistOf("other", "act"), "every live one but the one kept; finished ones stay as they are")
}

func TestOwnerDriftIsPutBack(t *testing.T) {
	g := NewWithT(t)
	m := &membershipv1alpha1.Member{}
	m.Spec.Roles = []membershipv1alpha1.Role{membershipv1alpha1.RoleOwner}
	m.Spec.TwoFactor.Required = true
	g.Expect(ownerDrift(m)).To(BeEmpty())
	m.Spec.Roles = []membershipv1alpha1.Role{membershipv1alpha1.RoleOwner, membershipv1alpha1.RoleAdmin}
	m.Spec.TwoFactor.Required = false
	m.Spec.Disabled = true
	m.Spec.PasswordSecretRef = &membershipv1alpha1.SecretKeyReference{Name: "pw", Key: "password"}
	g.Expect(ownerDrift(m)).To(ConsistOf("spec.roles", "spec.twoFactor.required", "spec.disabled", "spec.passwordSecretRef"))
	resetOwnerSpec(m)
	g.Expect(ownerDrift(m)).To(BeEmpty())
}

func TestStoreProgress(t *testing.T) {
	g := NewWithT(t)
	store := &membershipv1alpha1.Store{}
	got, _, _ := storeProgress(store)
	g.Expect(got).To(Equal(progress.Current))
	store.Status.Conditions = []metav1.Condition{{Type: membershipv1alpha1.ConditionReady, Status: metav1.ConditionFalse,
		Reason: membershipv1alpha1.ReasonAwaitingOwnerActivation}}
	got, _, _ = storeProgress(store)
	g.Expect(got).To(Equal(progress.Current), "waiting on the owner is not work in progress")
	store.Status.Conditions[0].Reason = ReasonOwnerMemberConflict
	got, _, _ = storeProgress(store)
	g.Expect(got).To(Equal(progress.Stalled))
	store.Status.Conditions = []metav1.Condition{{Type: membershipv1alpha1.ConditionMembersSuspended, Status: metav1.ConditionTrue,
		Reason: membershipv1alpha1.ReasonOwnerActivationOverdue, Message: "overdue"}}
	got, reason, _ := storeProgress(store)
	g.Expect(got).To(Equal(progress.Stalled), "only the owner can end a suspension")
	g.Expect(reason).To(Equal(membershipv1alpha1.ReasonOwnerActivationOverdue))
}

func TestActivationDeadlineRemindsOnceAtSevenAndOneDaysAndThenSuspends(t *testing.T) {
	deadline := metav1.NewTime(time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC))
	day := 24 * time.Hour
	sentAt := func(before time.Duration) time.Time { return deadline.Add(-before) }
	cases := []struct {
		name         string
		deadline     *metav1.Time
		lastSent     time.Time
		now          time.Time
		wantReminder string
		wantOverdue  bool
		wantNext     time.Duration
	}{
		{"no deadline: nothing, ever", nil, sentAt(30 * day), sentAt(0), "", false, 0},
		{"long before: wake at the 7-day mark", &deadline, sentAt(30 * day), sentAt(20 * day), "", false, 13 * day},
		{"a second before the 7-day mark", &deadline, sentAt(30 * day), sentAt(7*day + time.Second), "", false, time.Second},
		{"at the 7-day mark: remind, wake at the 1-day mark", &deadline, sentAt(30 * day), sentAt(7 * day), "7d", false, 6 * day},
		{"the 7-day reminder went: nothing until the 1-day mark", &deadline, sentAt(7*day - time.Minute), sentAt(5 * day), "", false, 4 * day},
		{"at the 1-day mark: the second reminder", &deadline, sentAt(7*day - time.Minute), sentAt(day), "1d", false, day},
		{"missed the 7-day one (operator down): only the latest", &deadline, sentAt(30 * day), sentAt(day - time.Hour), "1d", false, day - time.Hour},
		{"activation email sent inside the last day already says the deadline", &deadline, sentAt(2 * time.Hour), sentAt(time.Hour), "", false, time.Hour},
		{"deadline set 3 days ahead after the email: no 7-day reminder", &deadline, sentAt(3*day + time.Hour), sentAt(3 * day), "", false, 2 * day},
		{"not sent yet: the first email says it, no reminder", &deadline, time.Time{}, sentAt(day - time.Hour), "", false, day - time.Hour},
		{"a second before the deadline: not yet", &deadline, sentAt(day - time.Minute), sentAt(time.Second), "", false, time.Second},
		{"at the deadline: overdue, to the second", &deadline, sentAt(day - time.Minute), sentAt(0), "", true, 0},
		{"after it: overdue, no more reminders", &deadline, sentAt(30 * day), deadline.Add(day), "", true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			reminder, overdue, next := activationDue(tc.deadline, tc.lastSent, tc.now)
			g.Expect(reminder).To(Equal(tc.wantReminder))
			g.Expect(overdue).To(Equal(tc.wantOverdue))
			g.Expect(next).To(Equal(tc.wantNext))
		})
	}
}

func TestAReminderIsOneRequestPerDeadline(t *testing.T) {
	g := NewWithT(t)
	first := metav1.NewTime(time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC))
	moved := metav1.NewTime(first.Add(48 * time.Hour))
	g.Expect(reminderValue("1d", &first)).To(Equal(reminderValue("1d", &first)))
	g.Expect(reminderValue("1d", &first)).NotTo(Equal(reminderValue("7d", &first)))
	g.Expect(reminderValue("1d", &first)).NotTo(Equal(reminderValue("1d", &moved)), "a moved deadline earns its own reminder")
}

func TestOnlyOwnerChildrenWakeTheStoreAtOnce(t *testing.T) {
	ref := membershipv1alpha1.StoreReference{Name: "acme"}
	member := func(name string, roles ...membershipv1alpha1.Role) *membershipv1alpha1.Member {
		return &membershipv1alpha1.Member{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: membershipv1alpha1.MemberSpec{StoreRef: ref, Roles: roles}}
	}
	invitation := func(annotations map[string]string, roles ...membershipv1alpha1.Role) *membershipv1alpha1.Invitation {
		return &membershipv1alpha1.Invitation{ObjectMeta: metav1.ObjectMeta{Name: "inv", Annotations: annotations},
			Spec: membershipv1alpha1.InvitationSpec{StoreRef: ref, Roles: roles}}
	}
	cases := []struct {
		name      string
		obj       client.Object
		wantOwner bool
	}{
		{"a staff Member only changes counts", member("bob", membershipv1alpha1.RoleStaff), false},
		{"the owner Member", member("acme-owner", membershipv1alpha1.RoleOwner), true},
		{"a hand-made owner-role Member (refused, and the Store says so at once)", member("eve", membershipv1alpha1.RoleOwner), true},
		{"an ordinary Invitation", invitation(nil, membershipv1alpha1.RoleStaff), false},
		{"an owner activation", invitation(map[string]string{membershipv1alpha1.OwnerInvitationAnnotation: membershipv1alpha1.OwnerActivation},
			membershipv1alpha1.RoleOwner), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			store, owner := storeOfChild(tc.obj)
			g.Expect(store).To(Equal("acme"))
			g.Expect(owner).To(Equal(tc.wantOwner))
		})
	}
}
