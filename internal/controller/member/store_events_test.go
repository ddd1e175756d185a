// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package member

import (
	"context"
	"slices"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/index"
)

func TestAStoreUpdateBringsBackEveryMemberOnlyWhenMembersReadWhatChanged(t *testing.T) {
	base := func() *membershipv1alpha1.Store {
		s := &membershipv1alpha1.Store{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
		s.Spec.DisplayName = "Acme"
		s.Status.Members, s.Status.PendingInvitations = 10, 2
		s.Status.OwnerEmail, s.Status.OwnerMember, s.Status.OwnerMemberUID = "olivia@example.com", "acme-owner", "uid-1"
		return s
	}
	for _, tc := range []struct {
		name   string
		change func(*membershipv1alpha1.Store)
		seen   bool
	}{
		{"nothing", func(*membershipv1alpha1.Store) {}, false},
		{"a member counted", func(s *membershipv1alpha1.Store) { s.Status.Members++ }, false},
		{"an invitation counted", func(s *membershipv1alpha1.Store) { s.Status.PendingInvitations-- }, false},
		{"an integration counted", func(s *membershipv1alpha1.Store) { s.Status.Integrations++ }, false},
		{"observed generation", func(s *membershipv1alpha1.Store) { s.Status.ObservedGeneration = 3 }, false},
		{"Ready flips with the counts", func(s *membershipv1alpha1.Store) {
			meta.SetStatusCondition(&s.Status.Conditions, metav1.Condition{Type: membershipv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: "MemberLimitReached"})
		}, false},
		{"the display name", func(s *membershipv1alpha1.Store) { s.Spec.DisplayName = "Acme 2"; s.Generation++ }, true},
		{"the spec without a new generation (a cache that saw both)", func(s *membershipv1alpha1.Store) { s.Spec.Locale = "nl" }, true},
		{"the owner's email recorded", func(s *membershipv1alpha1.Store) { s.Status.OwnerEmail = "new@example.com" }, true},
		{"the owner Member", func(s *membershipv1alpha1.Store) { s.Status.OwnerMemberUID = "uid-2" }, true},
		{"an owner transfer starts", func(s *membershipv1alpha1.Store) { s.Status.OwnerTransfer = &membershipv1alpha1.OwnerTransferStatus{} }, true},
		{"members suspended", func(s *membershipv1alpha1.Store) {
			meta.SetStatusCondition(&s.Status.Conditions, metav1.Condition{Type: membershipv1alpha1.ConditionMembersSuspended, Status: metav1.ConditionTrue, Reason: "OwnerActivationOverdue"})
		}, true},
		{"an annotation", func(s *membershipv1alpha1.Store) { s.Annotations = map[string]string{"x": "y"} }, true},
		{"deletion", func(s *membershipv1alpha1.Store) { now := metav1.Now(); s.DeletionTimestamp = &now }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			newer := base()
			tc.change(newer)
			NewWithT(t).Expect(membersSeeChange(base(), newer)).To(Equal(tc.seen))
		})
	}
}

func TestACountOnlyStoreUpdateBringsBackOnlyTheMembersNotActive(t *testing.T) {
	g := NewWithT(t)
	scheme := runtime.NewScheme()
	_ = membershipv1alpha1.AddToScheme(scheme)
	member := func(name string, phase membershipv1alpha1.MemberPhase) *membershipv1alpha1.Member {
		m := &membershipv1alpha1.Member{ObjectMeta: metav1.ObjectMeta{Namespace: "shops", Name: name}}
		m.Spec.StoreRef.Name, m.Status.Phase = "acme", phase
		return m
	}
	r := &Reconciler{Client: fake.NewClientBuilder().WithScheme(scheme).
		WithIndex(&membershipv1alpha1.Member{}, index.MemberStore, func(o client.Object) []string {
			return []string{o.(*membershipv1alpha1.Member).Spec.StoreRef.Name}
		}).
		WithObjects(member("ann", membershipv1alpha1.MemberActive), member("bob", membershipv1alpha1.MemberActive),
			member("cy", membershipv1alpha1.MemberConflict), member("dee", "")).Build()}
	older := &membershipv1alpha1.Store{ObjectMeta: metav1.ObjectMeta{Namespace: "shops", Name: "acme", Generation: 1}}
	queued := func(newer *membershipv1alpha1.Store) []string {
		q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
		defer q.ShutDown()
		r.storeEvents().Update(context.Background(), event.UpdateEvent{ObjectOld: older, ObjectNew: newer}, q)
		var names []string
		for q.Len() > 0 {
			req, _ := q.Get()
			names = append(names, req.Name)
			q.Done(req)
		}
		slices.Sort(names)
		return names
	}

	counted := older.DeepCopy()
	counted.Status.Members = 3
	g.Expect(queued(counted)).To(Equal([]string{"cy", "dee"}), "a seat may have freed: only those waiting look")
	renamed := older.DeepCopy()
	renamed.Spec.DisplayName, renamed.Generation = "Acme 2", 2
	g.Expect(queued(renamed)).To(Equal([]string{"ann", "bob", "cy", "dee"}), "every Member shows the Store's name")
}
