// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package member

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/progress"
)

func owner(m membershipv1alpha1.Member) membershipv1alpha1.Member {
	m.Spec.StoreRef.Name = "shop"
	m.Spec.Roles = []membershipv1alpha1.Role{membershipv1alpha1.RoleOwner}
	return m
}

func TestOnlyTheStoresOwnOwnerMemberMayHoldTheOwnerRole(t *testing.T) {
	g := NewWithT(t)
	store := &membershipv1alpha1.Store{}
	store.Name, store.UID = "shop", "store-uid"
	controlled := func(m membershipv1alpha1.Member, uid string) *membershipv1alpha1.Member {
		yes := true
		m.OwnerReferences = []metav1.OwnerReference{{Kind: "Store", Name: "shop", UID: types.UID(uid), Controller: &yes}}
		return &m
	}
	base := membershipv1alpha1.Member{}
	base.Name = "shop-owner"
	g.Expect(ownerRoleRefusal(controlled(owner(base), "store-uid"), store)).To(BeEmpty())
	g.Expect(ownerRoleRefusal(controlled(owner(base), "forged-uid"), store)).To(ContainSubstring("spec.roles: owner is held only by Member \"shop-owner\""))
	g.Expect(ownerRoleRefusal(&base, store)).To(BeEmpty(), "no owner role, nothing to refuse")
	stray := owner(base)
	stray.Name = "mallory"
	g.Expect(ownerRoleRefusal(controlled(stray, "store-uid"), store)).NotTo(BeEmpty(), "the owner is <store>-owner only")
}

func TestEmailHolder(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := func(name, email string, created time.Time, deleting bool) membershipv1alpha1.Member {
		member := membershipv1alpha1.Member{}
		member.Name, member.Spec.Email, member.CreationTimestamp = name, membershipv1alpha1.EmailAddress(email), metav1.NewTime(created)
		if deleting {
			now := metav1.NewTime(t0)
			member.DeletionTimestamp = &now
		}
		return member
	}
	cases := []struct {
		name    string
		members []membershipv1alpha1.Member
		email   string
		want    string
	}{
		{"earliest wins", []membershipv1alpha1.Member{m("b", "x@example.com", t0.Add(time.Minute), false), m("a", "x@example.com", t0, false)},
			"x@example.com", "a"},
		{"case-insensitive", []membershipv1alpha1.Member{m("a", "X@Example.com", t0, false), m("b", "x@example.com", t0.Add(time.Second), false)},
			"x@EXAMPLE.com", "a"},
		{"same instant: by name", []membershipv1alpha1.Member{m("z", "x@example.com", t0, false), m("y", "x@example.com", t0, false)},
			"x@example.com", "y"},
		{"plus-alias is another address", []membershipv1alpha1.Member{m("a", "x+shop@example.com", t0, false)},
			"x@example.com", ""},
		{"a Member being deleted gives the email up", []membershipv1alpha1.Member{m("a", "x@example.com", t0, true),
			m("b", "x@example.com", t0.Add(time.Minute), false)}, "x@example.com", "b"},
		{"the Store's owner Member holds its address (a transfer to a Member)", []membershipv1alpha1.Member{
			m("a", "x@example.com", t0, false), owner(m("shop-owner", "x@example.com", t0.Add(time.Hour), false))}, "x@example.com", "shop-owner"},
		{"a stray owner-role Member is no owner", []membershipv1alpha1.Member{
			m("a", "x@example.com", t0, false), owner(m("mallory", "x@example.com", t0.Add(time.Hour), false))}, "x@example.com", "a"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got := emailHolder(tc.members, tc.email)
			if tc.want == "" {
				g.Expect(got).To(BeNil())
				return
			}
			g.Expect(got).NotTo(BeNil())
			g.Expect(got.Name).To(Equal(tc.want))
		})
	}
}

func TestEffectivePreferences(t *testing.T) {
	g := NewWithT(t)
	g.Expect(effectivePreferences(nil, nil)).To(BeNil())
	g.Expect(effectivePreferences(membershipv1alpha1.EmailPreferences{"a": true, "b": true},
		membershipv1alpha1.EmailPreferences{"b": false, "c": true})).To(Equal(map[string]bool{"a": true, "b": false, "c": true}))
}

func TestRemovalNoticeRetry(t *testing.T) {
	deleted := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	cases := []struct {
		waited     time.Duration
		giveUp     bool
		retryAfter time.Duration
	}{
		{waited: -time.Second, retryAfter: time.Second}, // clocks disagree: try again soon
		{waited: 0, retryAfter: time.Second},
		{waited: 20 * time.Second, retryAfter: 5 * time.Second},
		{waited: 5 * time.Minute, retryAfter: 30 * time.Second},
		{waited: 9*time.Minute + 50*time.Second, retryAfter: 10 * time.Second}, // never past the deadline
		{waited: 10 * time.Minute, giveUp: true},
		{waited: time.Hour, giveUp: true},
	}
	for _, tc := range cases {
		t.Run(tc.waited.String(), func(t *testing.T) {
			g := NewWithT(t)
			giveUp, after := removalNoticeRetry(deleted, deleted.Add(tc.waited), 10*time.Minute)
			g.Expect(giveUp).To(Equal(tc.giveUp))
			g.Expect(after).To(Equal(tc.retryAfter))
		})
	}
}

func TestRolesAndPermissionsAndTwoFactor(t *testing.T) {
	g := NewWithT(t)
	roles, perms := rolesAndPermissions([]membershipv1alpha1.Role{membershipv1alpha1.RoleStaff, membershipv1alpha1.RoleFinance})
	g.Expect(roles).To(Equal("finance,staff"))
	g.Expect(perms).To(HavePrefix("invoices:manage,invoices:read,"))

	owner := &membershipv1alpha1.Member{}
	owner.Spec.Roles = []membershipv1alpha1.Role{membershipv1alpha1.RoleOwner}
	g.Expect(twoFactorRequired(owner)).To(BeTrue(), "always for the owner")
	staff := &membershipv1alpha1.Member{}
	staff.Spec.Roles = []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff}
	g.Expect(twoFactorRequired(staff)).To(BeFalse())
	staff.Spec.TwoFactor.Required = true
	g.Expect(twoFactorRequired(staff)).To(BeTrue())
}

func TestResetRequestActsOncePerNewValueOfAnActiveMember(t *testing.T) {
	g := NewWithT(t)
	g.Expect(resetRequest("", "", false, true)).To(Equal(resetNone))
	g.Expect(resetRequest("1", "1", false, true)).To(Equal(resetNone), "already acted on")
	g.Expect(resetRequest("2", "1", false, true)).To(Equal(resetAct))
	g.Expect(resetRequest("1", "", true, true)).To(Equal(resetRecord), "applied together with the Member: no request")
	g.Expect(resetRequest("2", "1", false, false)).To(Equal(resetRecord), "nothing to reset")
}

func TestTokenExpiry(t *testing.T) {
	g := NewWithT(t)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	token := func(name, expires string) corev1.Secret {
		s := corev1.Secret{}
		s.Name = name
		if expires != "" {
			s.Annotations = map[string]string{membershipv1alpha1.ExpiresAtAnnotation: expires}
		}
		return s
	}
	secrets := []corev1.Secret{token("past", "2026-11-23T09:59:59Z"), token("now", "2026-11-23T10:00:00Z"),
		token("soon", "2026-11-23T10:30:00Z"), token("later", "2026-11-23T11:00:00Z"), token("garbled", "tomorrow"), token("none", "")}
	expired, next := tokenExpiry(secrets, now)
	names := make([]string, 0, len(expired))
	for _, s := range expired {
		names = append(names, s.Name)
	}
	g.Expect(names).To(ConsistOf("past", "now", "garbled", "none"))
	g.Expect(next).To(Equal(30 * time.Minute))
	_, next = tokenExpiry(nil, now)
	g.Expect(next).To(BeZero())
}

func TestMemberProgress(t *testing.T) {
	member := func(phase membershipv1alpha1.MemberPhase, reason string, roles ...membershipv1alpha1.Role) *membershipv1alpha1.Member {
		m := &membershipv1alpha1.Member{}
		m.Status.Phase, m.Spec.Roles = phase, roles
		if reason != "" {
			m.Status.Conditions = []metav1.Condition{{Type: membershipv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: reason}}
		}
		return m
	}
	cases := []struct {
		name   string
		member *membershipv1alpha1.Member
		want   progress.Progress
	}{
		{"active", member(membershipv1alpha1.MemberActive, ""), progress.Current},
		{"disabled", member(membershipv1alpha1.MemberDisabled, ""), progress.Current},
		{"conflict", member(membershipv1alpha1.MemberConflict, membershipv1alpha1.ReasonEmailConflict), progress.Stalled},
		{"unusable password", member(membershipv1alpha1.MemberPending, membershipv1alpha1.ReasonPasswordInvalid), progress.Stalled},
		{"store not there yet", member(membershipv1alpha1.MemberPending, membershipv1alpha1.ReasonStoreNotFound), progress.Reconciling},
		{"acceptance completing", member(membershipv1alpha1.MemberPending, membershipv1alpha1.ReasonAwaitingPassword), progress.Reconciling},
		{"owner not activated yet", member(membershipv1alpha1.MemberPending, membershipv1alpha1.ReasonAwaitingPassword, membershipv1alpha1.RoleOwner), progress.Current},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, _, _ := memberProgress(tc.member)
			NewWithT(t).Expect(got).To(Equal(tc.want))
		})
	}
}

func TestAnOverdueOwnerActivationSuspendsEveryoneButTheOwner(t *testing.T) {
	g := NewWithT(t)
	store := &membershipv1alpha1.Store{}
	staff := membershipv1alpha1.Member{Spec: membershipv1alpha1.MemberSpec{Roles: []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff}}}
	g.Expect(suspended(&staff, store)).To(BeFalse(), "no suspension without the Store's say")
	store.Status.Conditions = []metav1.Condition{{Type: membershipv1alpha1.ConditionMembersSuspended, Status: metav1.ConditionTrue,
		Reason: membershipv1alpha1.ReasonOwnerActivationOverdue}}
	g.Expect(suspended(&staff, store)).To(BeTrue())
	ownerMember := owner(staff)
	g.Expect(suspended(&ownerMember, store)).To(BeFalse(), "the owner's activation is how it ends")
	machine := staff
	machine.Spec.Type = membershipv1alpha1.MemberIntegration
	g.Expect(suspended(&machine, store)).To(BeFalse(), "an integration keeps working through the owner's activation")
	store.Status.Conditions[0].Status = metav1.ConditionFalse
	g.Expect(suspended(&staff, store)).To(BeFalse())
}
