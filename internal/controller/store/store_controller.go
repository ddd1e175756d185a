// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package store holds the Store controller: it manages the Store's owner (the owner Member, its
// activation and ownership transfers), fixes the notification address, keeps the member and
// invitation counts current, and on deletion removes its Members and Invitations (whose
// finalizers revoke access and links) before letting the Store go.
package store

import (
	"context"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/index"
	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/internal/shard"
	"github.com/storeops/member-operator/internal/skeleton"
)

// Event reasons.
const (
	EventStoreRemoving          = "RemovingMembers"
	EventOwnerCreated           = "OwnerCreated"
	EventOwnerTransferStarted   = "OwnerTransferStarted"
	EventOwnerTransferNotice    = "OwnerTransferNotice"
	EventOwnerInvitationRevoked = "OwnerInvitationRevoked"
	EventOwnershipTransferred   = "OwnershipTransferred"
	EventOwnershipNoticeFailed  = "OwnershipNoticeFailed"
	EventMemberSuperseded       = "MemberSuperseded"
)

// ReasonOwnerMemberConflict: a Member named <store>-owner exists that the Store does not control.
const ReasonOwnerMemberConflict = "OwnerMemberConflict"

// cascadePoll is how often a deleting Store looks again while its Members' finalizers work (each
// of those deletions also brings the Store back through the watches).
const cascadePoll = 5 * time.Second

// Reconciler reconciles Store objects. Every dependency is a field, so tests inject fakes.
type Reconciler struct {
	client.Client
	// APIReader confirms, against the API server, a new-owner Secret the cache has not seen yet.
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Recorder  events.EventRecorder
	Clock     clock.PassiveClock
	// Mail sends the previous owner the ownership-transferred email.
	Mail mail.Sender
	// MailDomain is the domain of Message-IDs (the From address's domain).
	MailDomain string
	// PublicURL is the base of the link that stops a transfer (--public-url).
	PublicURL string
	// Random is the source of that link's token: crypto/rand.Reader.
	Random io.Reader
	// AccountNamespace is the operator's namespace, where the Store asks the Member controller
	// for a transfer's new owner credentials (internal/credrequest).
	AccountNamespace string
	// Shard is the range of namespaces reconciled (--shard; zero: all): Reconcile drops the rest.
	Shard shard.Range
	// MaxConcurrentReconciles is how many Stores are reconciled at once (--store-concurrency);
	// 0 means 1.
	MaxConcurrentReconciles int
}

// +kubebuilder:rbac:groups=membership.storeops.io,resources=stores,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=membership.storeops.io,resources=stores/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=membership.storeops.io,resources=stores/finalizers,verbs=update
// +kubebuilder:rbac:groups=membership.storeops.io,resources=members,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=membership.storeops.io,resources=invitations,verbs=get;list;watch;create;delete;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile runs the shared skeleton (internal/skeleton): get, cascade on deletion, ensure the
// finalizer, then compute the status and write it once, only when it changed.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return skeleton.Kind[*membershipv1alpha1.Store]{
		Shard:     r.Shard,
		Client:    r.Client,
		Finalizer: membershipv1alpha1.StoreFinalizer,
		Delete:    r.reconcileDelete,
		Steps:     r.reconcileNormal,
		Progress:  storeProgress,
	}.Reconcile(ctx, req.NamespacedName, &membershipv1alpha1.Store{})
}

// reconcileNormal counts the Store's Members and pending invitations and keeps its owner.
func (r *Reconciler) reconcileNormal(ctx context.Context, store *membershipv1alpha1.Store,
	_ *skeleton.Status[*membershipv1alpha1.Store]) (ctrl.Result, error) {
	store.Status.NotificationEmail = store.NotificationAddress()
	members, invitations, err := r.children(ctx, store)
	if err != nil {
		return ctrl.Result{}, err
	}
	store.Status.Members, store.Status.Integrations, store.Status.PendingInvitations = counts(members, invitations)
	ownerMembers, ownerInvs := ownerParts(store, members, invitations)
	return r.reconcileOwner(ctx, store, ownerMembers, ownerInvs)
}

// children lists the Store's Members and Invitations from the cache without copying them: they
// are the cache's own objects, to read and never to change. A Store may have tens of thousands
// of Members and is recounted up to once a second while they change; copying every one of them
// each time was most of what the manager allocated while a large Store converged. What the owner
// steps may change is copied first (ownerParts).
func (r *Reconciler) children(ctx context.Context, store *membershipv1alpha1.Store) ([]membershipv1alpha1.Member, []membershipv1alpha1.Invitation, error) {
	var members membershipv1alpha1.MemberList
	if err := r.List(ctx, &members, client.InNamespace(store.Namespace),
		client.MatchingFields{index.MemberStore: store.Name}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, nil, err
	}
	var invitations membershipv1alpha1.InvitationList
	if err := r.List(ctx, &invitations, client.InNamespace(store.Namespace),
		client.MatchingFields{index.InvitationStore: store.Name}, client.UnsafeDisableDeepCopy); err != nil {
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
	members, invitations, err := r.children(ctx, store) // the cache's own: only read (Delete reads the name and UID)
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

// childCountsDelay is how long a change of an ordinary Member or Invitation waits before it wakes
// its Store: changes within it cost the Store one reconcile and one status write.
const childCountsDelay = time.Second

// childEvents brings back the Store of a changed Member or Invitation. What concerns the owner
// (the owner Member, owner invitations) wakes the Store at once: a person waits on it. Any other
// child only changes the Store's counts, so it wakes the Store after delay, and a burst of a
// thousand new Members costs the Store a few status writes instead of a thousand (measured in
// docs/benchmarks.md).
func childEvents(delay time.Duration) handler.EventHandler {
	enqueue := func(obj client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		store, urgent := storeOfChild(obj)
		if store == "" {
			return
		}
		req := reconcile.Request{NamespacedName: client.ObjectKey{Namespace: obj.GetNamespace(), Name: store}}
		if urgent {
			q.Add(req)
			return
		}
		q.AddAfter(req, delay)
	}
	return handler.Funcs{
		CreateFunc: func(_ context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(e.Object, q)
		},
		UpdateFunc: func(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(e.ObjectOld, q) // a changed storeRef concerns the Store it left too
			enqueue(e.ObjectNew, q)
		},
		DeleteFunc: func(_ context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(e.Object, q)
		},
		GenericFunc: func(_ context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(e.Object, q)
		},
	}
}

// storeOfChild names the Store a Member or Invitation belongs to and whether it concerns the owner.
func storeOfChild(obj client.Object) (store string, owner bool) {
	switch o := obj.(type) {
	case *membershipv1alpha1.Member:
		return o.Spec.StoreRef.Name, o.Name == membershipv1alpha1.OwnerMemberName(o.Spec.StoreRef.Name) ||
			membershipv1alpha1.HasOwnerRole(o.Spec.Roles)
	case *membershipv1alpha1.Invitation:
		_, isOwner := o.Annotations[membershipv1alpha1.OwnerInvitationAnnotation]
		return o.Spec.StoreRef.Name, isOwner || membershipv1alpha1.HasOwnerRole(o.Spec.Roles)
	}
	return "", false
}

// SetupWithManager registers the controller; Members and Invitations bring back their Store. It
// reads the field indexes that index.Setup registers.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	// The owner's credential Secret and a transfer's new-owner Secret carry the Store's label.
	labelledSecret := func(_ context.Context, obj client.Object) []reconcile.Request {
		name := obj.GetLabels()[membershipv1alpha1.StoreLabel]
		if name == "" {
			return nil
		}
		return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: obj.GetNamespace(), Name: name}}}
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&membershipv1alpha1.Store{}).
		Watches(&membershipv1alpha1.Member{}, childEvents(childCountsDelay)).
		Watches(&membershipv1alpha1.Invitation{}, childEvents(childCountsDelay)).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(labelledSecret),
			builder.WithPredicates(predicate.NewPredicateFuncs(func(obj client.Object) bool {
				labels := obj.GetLabels()
				store, inv := labels[membershipv1alpha1.StoreLabel], labels[membershipv1alpha1.InvitationLabel]
				return store != "" && (obj.GetName() == membershipv1alpha1.CredentialsSecretName(membershipv1alpha1.OwnerMemberName(store)) ||
					inv != "" && obj.GetName() == membershipv1alpha1.NewOwnerCredentialsSecretName(inv))
			}))).
		Named("store").
		WithOptions(crcontroller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Complete(r)
}
