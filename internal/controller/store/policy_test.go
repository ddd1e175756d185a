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

package store

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

func TestNotificationEmailIsFixedAtFirstReconcileUnlessTheSpecSetsIt(t *testing.T) {
	g := NewWithT(t)
	store := &membershipv1alpha1.Store{}
	store.Spec.Owner.Email = "alice@example.com"
	g.Expect(notificationEmail(store)).To(Equal(membershipv1alpha1.EmailAddress("alice@example.com")), "the owner's, at first")
	store.Status.NotificationEmail = notificationEmail(store)
	store.Spec.Owner.Email = "bob@example.com"
	g.Expect(notificationEmail(store)).To(Equal(membershipv1alpha1.EmailAddress("alice@example.com")), "not following the owner")
	store.Spec.NotificationEmail = "ops@example.com"
	g.Expect(notificationEmail(store)).To(Equal(membershipv1alpha1.EmailAddress("ops@example.com")), "the spec wins")
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
	members := []membershipv1alpha1.Member{
		member(false, membershipv1alpha1.RoleOwner), member(false, membershipv1alpha1.RoleStaff),
		member(false, membershipv1alpha1.RoleAdmin), member(true, membershipv1alpha1.RoleStaff),
	}
	invitations := []membershipv1alpha1.Invitation{inv(membershipv1alpha1.InvitationSent), inv(membershipv1alpha1.InvitationPending),
		inv(membershipv1alpha1.InvitationAccepted), inv(membershipv1alpha1.InvitationExpired), inv(membershipv1alpha1.InvitationFailed)}
	m, p := counts(members, invitations)
	g.Expect(m).To(Equal(int32(2)))
	g.Expect(p).To(Equal(int32(2)))
}
