// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package member

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

func TestAccessLeftIsExactToTheInstant(t *testing.T) {
	end := time.Date(2026, 12, 2, 17, 0, 0, 0, time.UTC)
	member := func(roles ...membershipv1alpha1.Role) *membershipv1alpha1.Member {
		at := metav1.NewTime(end)
		return &membershipv1alpha1.Member{Spec: membershipv1alpha1.MemberSpec{Roles: roles, AccessExpiresAt: &at}}
	}
	for _, tc := range []struct {
		name    string
		member  *membershipv1alpha1.Member
		now     time.Time
		expired bool
		left    time.Duration
	}{
		{"no end", &membershipv1alpha1.Member{}, end, false, 0},
		{"an hour before", member(membershipv1alpha1.RoleStaff), end.Add(-time.Hour), false, time.Hour},
		{"a nanosecond before", member(membershipv1alpha1.RoleStaff), end.Add(-time.Nanosecond), false, time.Nanosecond},
		{"at the instant", member(membershipv1alpha1.RoleStaff), end, true, 0},
		{"after", member(membershipv1alpha1.RoleStaff), end.Add(time.Minute), true, 0},
		{"the owner never expires", member(membershipv1alpha1.RoleOwner), end.Add(time.Minute), false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			expired, left := accessLeft(tc.member, tc.now)
			g.Expect(expired).To(Equal(tc.expired))
			g.Expect(left).To(Equal(tc.left))
		})
	}
}
