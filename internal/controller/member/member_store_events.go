// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package member

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/index"
)

// A Store's status changes whenever one of its Members or Invitations does (it counts them), so
// bringing every Member back on every Store update makes each Member's change cost the size of
// its Store: quadratic for a large one. A Store update brings back every Member only when
// something a Member reads of its Store changed; otherwise only the Members that are not
// Active, which may be waiting for the seat the change freed.

// storeEvents is the Member controller's handler of Store events.
func (r *Reconciler) storeEvents() handler.EventHandler {
	enqueue := func(ctx context.Context, store client.Object, onlyWaiting bool, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		for _, req := range r.membersOfStore(ctx, store, onlyWaiting) {
			q.Add(req)
		}
	}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, e.Object, false, q)
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			older, okOld := e.ObjectOld.(*membershipv1alpha1.Store)
			newer, okNew := e.ObjectNew.(*membershipv1alpha1.Store)
			enqueue(ctx, e.ObjectNew, okOld && okNew && !membersSeeChange(older, newer), q)
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, e.Object, false, q)
		},
		GenericFunc: func(ctx context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, e.Object, false, q)
		},
	}
}

// membersSeeChange reports whether a Store's update changed anything its Members read: its
// spec, labels and annotations, deletion, who the owner is, the notification address, an owner
// transfer, and the suspension. Counts, observedGeneration and the Ready condition they feed are
// not.
func membersSeeChange(older, newer *membershipv1alpha1.Store) bool {
	return older.Generation != newer.Generation || !equality.Semantic.DeepEqual(older.Spec, newer.Spec) ||
		!equality.Semantic.DeepEqual(older.Labels, newer.Labels) || !equality.Semantic.DeepEqual(older.Annotations, newer.Annotations) ||
		!older.DeletionTimestamp.Equal(newer.DeletionTimestamp) ||
		older.Status.OwnerEmail != newer.Status.OwnerEmail || older.Status.OwnerMember != newer.Status.OwnerMember ||
		older.Status.OwnerMemberUID != newer.Status.OwnerMemberUID || older.Status.NotificationEmail != newer.Status.NotificationEmail ||
		!equality.Semantic.DeepEqual(older.Status.OwnerTransfer, newer.Status.OwnerTransfer) ||
		older.MembersSuspended() != newer.MembersSuspended()
}

// membersOfStore lists the Members of store from the cache, or with onlyWaiting those not Active.
func (r *Reconciler) membersOfStore(ctx context.Context, store client.Object, onlyWaiting bool) []reconcile.Request {
	var members membershipv1alpha1.MemberList
	if err := r.List(ctx, &members, client.InNamespace(store.GetNamespace()), client.UnsafeDisableDeepCopy,
		client.MatchingFields{index.MemberStore: store.GetName()}); err != nil {
		return nil
	}
	requests := make([]reconcile.Request, 0, len(members.Items))
	for i := range members.Items {
		if onlyWaiting && members.Items[i].Status.Phase == membershipv1alpha1.MemberActive {
			continue
		}
		requests = append(requests, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&members.Items[i])})
	}
	return requests
}
