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

// Package store holds the Store controller: it fixes the Store's notification address, keeps its
// member and invitation counts current, and on deletion removes its Members and Invitations
// (whose finalizers revoke access and links) before letting the Store go.
package store

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/controller"
)

// Event reasons.
const (
	EventStoreRemoving = "RemovingMembers"
)

// cascadePoll is how often a deleting Store looks again while its Members' finalizers work (each
// of those deletions also brings the Store back through the watches).
const cascadePoll = 5 * time.Second

// Reconciler reconciles Store objects.
type Reconciler struct {
	client.Client
	Scheme   *runtime.Scheme
	Recorder events.EventRecorder
}

// +kubebuilder:rbac:groups=membership.storeops.io,resources=stores,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=membership.storeops.io,resources=stores/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=membership.storeops.io,resources=stores/finalizers,verbs=update
// +kubebuilder:rbac:groups=membership.storeops.io,resources=members,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups=membership.storeops.io,resources=invitations,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile: get, cascade on deletion, ensure the finalizer, then compute the status and write it
// once, only when it changed.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	store := &membershipv1alpha1.Store{}
	if err := r.Get(ctx, req.NamespacedName, store); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !store.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, store)
	}
	if !controllerutil.ContainsFinalizer(store, membershipv1alpha1.StoreFinalizer) {
		base := store.DeepCopy()
		controllerutil.AddFinalizer(store, membershipv1alpha1.StoreFinalizer)
		if err := r.Patch(ctx, store, client.MergeFrom(base)); err != nil {
			return ctrl.Result{}, err
		}
	}
	base := store.DeepCopy()
	defer func() {
		if equality.Semantic.DeepEqual(base.Status, store.Status) {
			return
		}
		if err := r.Status().Patch(ctx, store, client.MergeFrom(base)); err != nil {
			retErr = errors.Join(retErr, err)
		}
	}()

	store.Status.NotificationEmail = notificationEmail(store)
	members, invitations, err := r.children(ctx, store)
	if err != nil {
		return ctrl.Result{}, err
	}
	store.Status.Members, store.Status.PendingInvitations = counts(members, invitations)
	store.Status.ObservedGeneration = store.Generation
	return ctrl.Result{}, nil
}

// notificationEmail is spec.notificationEmail when set; otherwise the address recorded at the
// first reconcile (the owner's then), which does not follow later owner changes.
func notificationEmail(store *membershipv1alpha1.Store) membershipv1alpha1.EmailAddress {
	switch {
	case store.Spec.NotificationEmail != "":
		return store.Spec.NotificationEmail
	case store.Status.NotificationEmail != "":
		return store.Status.NotificationEmail
	default:
		return store.Spec.Owner.Email
	}
}

// counts are status.members (Members not being deleted, the owner excluded) and
// status.pendingInvitations (Invitations being sent or sent).
func counts(members []membershipv1alpha1.Member, invitations []membershipv1alpha1.Invitation) (int32, int32) {
	var m, p int32
	for i := range members {
		if members[i].DeletionTimestamp.IsZero() && !membershipv1alpha1.HasOwnerRole(members[i].Spec.Roles) {
			m++
		}
	}
	for i := range invitations {
		switch invitations[i].Status.Phase {
		case membershipv1alpha1.InvitationPending, membershipv1alpha1.InvitationSent:
			if invitations[i].DeletionTimestamp.IsZero() {
				p++
			}
		}
	}
	return m, p
}

// children lists the Store's Members and Invitations from the cache.
func (r *Reconciler) children(ctx context.Context, store *membershipv1alpha1.Store) ([]membershipv1alpha1.Member, []membershipv1alpha1.Invitation, error) {
	var members membershipv1alpha1.MemberList
	if err := r.List(ctx, &members, client.InNamespace(store.Namespace),
		client.MatchingFields{controller.MemberStoreIndex: store.Name}); err != nil {
		return nil, nil, err
	}
	var invitations membershipv1alpha1.InvitationList
	if err := r.List(ctx, &invitations, client.InNamespace(store.Namespace),
		client.MatchingFields{controller.InvitationStoreIndex: store.Name}); err != nil {
		return nil, nil, err
	}
	return members.Items, invitations.Items, nil
}

// reconcileDelete deletes the Store's Invitations and Members and waits until they are gone:
// their finalizers revoke links and credentials and tell removed people. Only this Store's
// children are touched, whatever else shares the namespace.
func (r *Reconciler) reconcileDelete(ctx context.Context, store *membershipv1alpha1.Store) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(store, membershipv1alpha1.StoreFinalizer) {
		return ctrl.Result{}, nil
	}
	members, invitations, err := r.children(ctx, store)
	if err != nil {
		return ctrl.Result{}, err
	}
	if len(members)+len(invitations) > 0 {
		var objs []client.Object
		for i := range invitations {
			objs = append(objs, &invitations[i])
		}
		for i := range members {
			objs = append(objs, &members[i])
		}
		deleted := 0
		for _, obj := range objs {
			if !obj.GetDeletionTimestamp().IsZero() {
				continue
			}
			uid := obj.GetUID()
			if err := r.Delete(ctx, obj, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) {
				return ctrl.Result{}, err
			}
			deleted++
		}
		if deleted > 0 {
			r.Recorder.Eventf(store, nil, corev1.EventTypeNormal, EventStoreRemoving, "Delete",
				"Store deleted: removing %d Members and %d Invitations; their access and links are revoked",
				len(members), len(invitations))
		}
		return ctrl.Result{RequeueAfter: cascadePoll}, nil
	}
	base := store.DeepCopy()
	controllerutil.RemoveFinalizer(store, membershipv1alpha1.StoreFinalizer)
	return ctrl.Result{}, client.IgnoreNotFound(r.Patch(ctx, store, client.MergeFrom(base)))
}

// SetupWithManager registers the controller; Members and Invitations bring back their Store. It
// reads the field indexes that controller.SetupIndexes registers.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	toStore := func(_ context.Context, obj client.Object) []reconcile.Request {
		var name string
		switch o := obj.(type) {
		case *membershipv1alpha1.Member:
			name = o.Spec.StoreRef.Name
		case *membershipv1alpha1.Invitation:
			name = o.Spec.StoreRef.Name
		default:
			return nil
		}
		return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: obj.GetNamespace(), Name: name}}}
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&membershipv1alpha1.Store{}).
		Watches(&membershipv1alpha1.Member{}, handler.EnqueueRequestsFromMapFunc(toStore)).
		Watches(&membershipv1alpha1.Invitation{}, handler.EnqueueRequestsFromMapFunc(toStore)).
		Named("store").
		Complete(r)
}
