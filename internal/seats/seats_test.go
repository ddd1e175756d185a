// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package seats

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func member(name string, at time.Duration, mutate ...func(*membershipv1alpha1.Member)) membershipv1alpha1.Member {
	m := membershipv1alpha1.Member{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID(name),
		CreationTimestamp: metav1.NewTime(t0.Add(at))},
		Spec: membershipv1alpha1.MemberSpec{Email: membershipv1alpha1.EmailAddress(name + "@example.com"),
			Roles: []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff}}}
	for _, f := range mutate {
		f(&m)
	}
	return m
}

func invitation(name string, at time.Duration, phase membershipv1alpha1.InvitationPhase) membershipv1alpha1.Invitation {
	return membershipv1alpha1.Invitation{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(t0.Add(at))},
		Spec:   membershipv1alpha1.InvitationSpec{Roles: []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff}},
		Status: membershipv1alpha1.InvitationStatus{Phase: phase}}
}

func TestRefusalIsFirstComeFirstServed(t *testing.T) {
	store := &membershipv1alpha1.Store{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}
	store.Spec.MemberLimit = 2
	owner := member("shop-owner", 0, func(m *membershipv1alpha1.Member) {
		m.Spec.Roles = []membershipv1alpha1.Role{membershipv1alpha1.RoleOwner}
	})
	conflict := member("x", time.Second, func(m *membershipv1alpha1.Member) { m.Status.Phase = membershipv1alpha1.MemberConflict })
	deleting := member("d", time.Second, func(m *membershipv1alpha1.Member) { m.DeletionTimestamp = &metav1.Time{Time: t0} })
	a, b, c := member("a", 1*time.Minute), member("b", 2*time.Minute), member("c", 3*time.Minute)
	// c accepted an invitation created before a: its place in line is its invitation's.
	accepted := member("late", 10*time.Minute, func(m *membershipv1alpha1.Member) {
		m.Annotations = map[string]string{membershipv1alpha1.SeatSinceAnnotation: t0.Format(time.RFC3339),
			membershipv1alpha1.InvitationAnnotation: "invite-late"}
	})
	for _, tc := range []struct {
		name        string
		member      membershipv1alpha1.Member
		members     []membershipv1alpha1.Member
		invitations []membershipv1alpha1.Invitation
		refused     bool
	}{
		{"the first two hold seats", b, []membershipv1alpha1.Member{a, b, c}, nil, false},
		{"the third does not", c, []membershipv1alpha1.Member{a, b, c}, nil, true},
		{"the owner, refused and leaving Members take no seat", c, []membershipv1alpha1.Member{owner, conflict, deleting, b, c}, nil, false},
		{"a sent invitation from before takes one", c, []membershipv1alpha1.Member{b, c},
			[]membershipv1alpha1.Invitation{invitation("inv", 0, membershipv1alpha1.InvitationSent)}, true},
		{"a later invitation does not", b, []membershipv1alpha1.Member{a, b},
			[]membershipv1alpha1.Invitation{invitation("inv", time.Hour, membershipv1alpha1.InvitationSent)}, false},
		{"accepted and expired invitations take none", c, []membershipv1alpha1.Member{b, c}, []membershipv1alpha1.Invitation{
			invitation("acc", 0, membershipv1alpha1.InvitationAccepted), invitation("exp", 0, membershipv1alpha1.InvitationExpired)}, false},
		{"an accepted invitation's Member stands where its invitation stood", accepted,
			[]membershipv1alpha1.Member{a, b, accepted}, []membershipv1alpha1.Invitation{invitation("invite-late", 0, membershipv1alpha1.InvitationSent)}, false},
		{"and so the direct Member after it waits", b, []membershipv1alpha1.Member{a, b, accepted}, nil, true},
		{"an invitation being accepted holds one seat, not two", c, []membershipv1alpha1.Member{accepted, c},
			[]membershipv1alpha1.Invitation{invitation("invite-late", 0, membershipv1alpha1.InvitationSent)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			reason, message := Refusal(&tc.member, store, tc.members, tc.invitations, nil, false)
			if !tc.refused {
				g.Expect(reason).To(BeEmpty(), message)
				return
			}
			g.Expect(reason).To(Equal(membershipv1alpha1.ReasonMemberLimitReached))
			g.Expect(message).To(ContainSubstring(`Store "shop" has memberLimit 2 and 2 seats were taken`))
		})
	}
}

func TestRefusalUnderExclusiveMembership(t *testing.T) {
	g := NewWithT(t)
	store := &membershipv1alpha1.Store{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}
	here := member("bob", time.Minute)
	earlier := member("bob-elsewhere", 0, func(m *membershipv1alpha1.Member) { m.Spec.Email = "Bob@example.com" })
	later := member("bob-later", time.Hour, func(m *membershipv1alpha1.Member) { m.Spec.Email = "bob@example.com" })
	reason, message := Refusal(&here, store, nil, nil, []membershipv1alpha1.Member{earlier}, true)
	g.Expect(reason).To(Equal(membershipv1alpha1.ReasonMemberOfAnotherStore))
	g.Expect(message).NotTo(ContainSubstring("bob-elsewhere"), "the other Store's Member is not named")
	reason, _ = Refusal(&here, store, nil, nil, []membershipv1alpha1.Member{later}, true)
	g.Expect(reason).To(BeEmpty(), "the earlier one keeps the address")
	reason, _ = Refusal(&here, store, nil, nil, []membershipv1alpha1.Member{earlier}, false)
	g.Expect(reason).To(BeEmpty(), "only with --exclusive-membership")
	plus := member("bob-plus", 0, func(m *membershipv1alpha1.Member) { m.Spec.Email = "bob+store2@example.com" })
	reason, _ = Refusal(&here, store, nil, nil, []membershipv1alpha1.Member{plus}, true)
	g.Expect(reason).To(BeEmpty(), "a plus-alias is another address")
}
