// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package account

import (
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

func TestRequestsAreAppliedInCreationOrderWithinOneSecond(t *testing.T) {
	g := NewWithT(t)
	second := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	req := func(name, rv string, at time.Time) corev1.Secret {
		return corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: rv, CreationTimestamp: metav1.NewTime(at)}}
	}
	requests := []corev1.Secret{
		req("account-request-aa", "1200", second),                  // the same second, written later
		req("account-request-zz", "900", second),                   // the same second, written first: neither its name nor its version's text says so
		req("account-request-mm", "950", second.Add(-time.Second)), // an earlier second
		req("account-request-bb", "9", second.Add(time.Second)),    // a later second wins over a smaller version
	}
	slices.SortStableFunc(requests, inCreationOrder)
	names := make([]string, 0, len(requests))
	for _, r := range requests {
		names = append(names, r.Name)
	}
	g.Expect(names).To(Equal([]string{"account-request-mm", "account-request-zz", "account-request-aa", "account-request-bb"}))
}

func TestMovingMembersReadsOnlyWellFormedEntries(t *testing.T) {
	for _, tc := range []struct {
		annotation string
		want       []membershipv1alpha1.AccountMember
	}{
		{"", nil},
		{"shop-a/nora/uid-1", []membershipv1alpha1.AccountMember{{Namespace: "shop-a", Name: "nora", UID: "uid-1"}}},
		{"shop-a/nora/uid-1,shop-b/nora-2/uid-2", []membershipv1alpha1.AccountMember{
			{Namespace: "shop-a", Name: "nora", UID: "uid-1"}, {Namespace: "shop-b", Name: "nora-2", UID: "uid-2"}}},
		{"shop-a/nora,/x/uid,shop-b//uid,shop-c/n/,a/b/c/d", nil}, // no UID, no namespace, no name, no UID, one part too many
	} {
		g := NewWithT(t)
		req := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{membershipv1alpha1.MovingMembersAnnotation: tc.annotation}}}
		g.Expect(MovingMembers(req)).To(Equal(tc.want), "%q", tc.annotation)
	}
}

// A move waits on the asker's clock (the Account controller's too), never on the API server's
// creation time compared with an injected clock.
func TestMoveRequestsWaitUntilTheirDeadline(t *testing.T) {
	g := NewWithT(t)
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	req := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{
		membershipv1alpha1.ExpiresAtAnnotation: now.Add(time.Minute).Format(time.RFC3339)}}}
	g.Expect(Waiting(req, now)).To(BeTrue())
	g.Expect(Waiting(req, now.Add(time.Minute))).To(BeFalse())
	req.CreationTimestamp = metav1.NewTime(now.Add(-time.Hour)) // the deadline decides, not the age
	g.Expect(Waiting(req, now)).To(BeTrue())

	legacy := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(now)}}
	g.Expect(Waiting(legacy, now.Add(MoveWait-time.Second))).To(BeTrue())
	g.Expect(Waiting(legacy, now.Add(MoveWait))).To(BeFalse())
}
