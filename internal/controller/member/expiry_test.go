/*
Copyright 2026 The StoreOps Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

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
