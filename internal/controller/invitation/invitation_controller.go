// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package invitation holds the Invitation controller: it refuses invitations that cannot be
// honoured, records the hash of each invitation's single-use link token in the Invitation's
// status together with the delivery attempt, sends the invitation email (at least once, with
// bounded duplicates that share a Message-ID), expires the link at status.expiresAt, rotates it
// on resend, and deletes finished invitations after a retention period. Sending an invitation
// costs two API writes: the attempt (with the hash) before the send, the result after it.
package invitation

import (
	"context"
	"errors"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/index"
	"github.com/storeops/member-operator/internal/invitationpolicy"
	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/internal/shard"
	"github.com/storeops/member-operator/internal/skeleton"
)

// Event reasons: a fixed vocabulary; Warning only for failures and refusals.
const (
	EventInvitationSent           = "InvitationSent"
	EventInvitationDeliveryFailed = "InvitationDeliveryFailed"
	EventInvitationResent         = "InvitationResent"
	EventInvitationExpired        = "InvitationExpired"
	EventInvitationRevoked        = "InvitationRevoked"
	EventInvitationRefused        = "InvitationRefused"
	EventInvitationWaiting        = "InvitationWaiting"
	EventInvitationDeleted        = "InvitationDeleted"
	EventResendIgnored            = "ResendIgnored"
)

// Reconciler reconciles Invitation objects. Every dependency is a field, so tests inject fakes.
type Reconciler struct {
	client.Client
	Scheme   *runtime.Scheme
	Recorder events.EventRecorder
	Clock    clock.PassiveClock
	Mail     mail.Sender
	// MailDomain is the domain of Message-IDs (the From address's domain).
	MailDomain string
	// TokenKey derives each link token from the Invitation's UID and send round (see
	// internal/tokenkey), so a retried email carries the same link while only its hash is stored.
	TokenKey []byte
	// PublicURL is the base of links in emails (--public-url).
	PublicURL string
	// ExclusiveMembership refuses an address that belongs to a Member of another Store.
	ExclusiveMembership bool
	// Retention is how long finished (Accepted, Expired, Revoked) Invitations are kept.
	Retention time.Duration
	// Shard is the range of namespaces reconciled (--shard; zero: all): Reconcile drops the rest.
	Shard shard.Range
	// MaxConcurrentReconciles is how many Invitations are reconciled at once
	// (--invitation-concurrency): sending waits on the SMTP server. 0 means 1.
	MaxConcurrentReconciles int
}

// +kubebuilder:rbac:groups=membership.storeops.io,resources=invitations,verbs=get;list;watch;update;patch;delete
// +kubebuilder:rbac:groups=membership.storeops.io,resources=invitations/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=membership.storeops.io,resources=invitations/finalizers,verbs=update
// +kubebuilder:rbac:groups=membership.storeops.io,resources=members,verbs=get;list;watch
// +kubebuilder:rbac:groups=membership.storeops.io,resources=stores,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one Invitation forward through the shared skeleton (internal/skeleton): get,
// clean up on deletion, ensure the finalizer where one is needed (needsFinalizer), run the
// phases, and write status at the end when it changed. The one extra status write is the
// delivery attempt, recorded with the link's hash before the email is handed to the SMTP server
// (record before acting).
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return skeleton.Kind[*membershipv1alpha1.Invitation]{
		Shard:          r.Shard,
		Client:         r.Client,
		Finalizer:      membershipv1alpha1.InvitationFinalizer,
		NeedsFinalizer: needsFinalizer,
		Delete: func(ctx context.Context, inv *membershipv1alpha1.Invitation) (ctrl.Result, error) {
			return ctrl.Result{}, r.reconcileDelete(ctx, inv)
		},
		Steps:    r.reconcileNormal,
		Progress: invitationProgress,
	}.Reconcile(ctx, req.NamespacedName, &membershipv1alpha1.Invitation{})
}

// statusWriter is the skeleton's status writer for Invitations.
type statusWriter = skeleton.Status[*membershipv1alpha1.Invitation]

// SetupWithManager registers the controller and its watches. It reads the field indexes that
// index.Setup registers.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	// The default is internal/config's, filled in by internal/setup.
	if r.Retention <= 0 {
		return errors.New("invitation controller: Retention must be positive")
	}
	if len(r.TokenKey) < 32 {
		return errors.New("invitation controller: TokenKey must hold at least 32 bytes")
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&membershipv1alpha1.Invitation{}).
		// A Store appearing or changing may let a refused invitation go out.
		Watches(&membershipv1alpha1.Store{}, handler.EnqueueRequestsFromMapFunc(r.waitingForStore)).
		// A Member leaving may free an address or a seat; one joining may take it.
		Watches(&membershipv1alpha1.Member{}, handler.EnqueueRequestsFromMapFunc(r.waitingForMember)).
		// An invitation finishing or going away may free a seat for one refused by the limit.
		Watches(&membershipv1alpha1.Invitation{}, handler.EnqueueRequestsFromMapFunc(r.waitingForSeat)).
		Named("invitation").
		WithOptions(crcontroller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Complete(r)
}

// needsFinalizer: only an owner transfer holds what no garbage collector might remove in time
// (the new owner's password hash, NewOwnerCredentialsSecretName, in a cluster without one, such
// as envtest). Every other Invitation keeps its link's hash in its own status, so deleting it
// destroys the link with no finalizer, and sending it costs no write for one.
func needsFinalizer(inv *membershipv1alpha1.Invitation) bool {
	return invitationpolicy.OwnerPurpose(inv) == membershipv1alpha1.OwnerTransfer
}

// unsent reports whether an invitation has not been sent yet and so depends on its Store and the
// Store's Members: the refusals are re-checked for it.
func unsent(inv *membershipv1alpha1.Invitation) bool {
	switch inv.Status.Phase {
	case "", membershipv1alpha1.InvitationPending, membershipv1alpha1.InvitationFailed:
		return true
	}
	return false
}

func (r *Reconciler) waitingForStore(ctx context.Context, store client.Object) []reconcile.Request {
	return r.unsentOf(ctx, store.GetNamespace(), client.MatchingFields{index.InvitationStore: store.GetName()},
		func(*membershipv1alpha1.Invitation) bool { return true })
}

func (r *Reconciler) waitingForMember(ctx context.Context, obj client.Object) []reconcile.Request {
	m := obj.(*membershipv1alpha1.Member)
	requests := r.unsentOf(ctx, m.Namespace, client.MatchingFields{index.InvitationStore: m.Spec.StoreRef.Name},
		func(*membershipv1alpha1.Invitation) bool { return true })
	if r.ExclusiveMembership {
		// The same address in other Stores, in any namespace.
		requests = append(requests, r.unsentOf(ctx, "", client.MatchingFields{index.InvitationEmail: index.NormalizeEmail(m.Spec.Email)},
			func(inv *membershipv1alpha1.Invitation) bool {
				return inv.Namespace != m.Namespace || inv.Spec.StoreRef.Name != m.Spec.StoreRef.Name
			})...)
	}
	return requests
}

func (r *Reconciler) waitingForSeat(ctx context.Context, obj client.Object) []reconcile.Request {
	changed := obj.(*membershipv1alpha1.Invitation)
	return r.unsentOf(ctx, changed.Namespace, client.MatchingFields{index.InvitationStore: changed.Spec.StoreRef.Name},
		func(inv *membershipv1alpha1.Invitation) bool {
			return inv.UID != changed.UID && invitationpolicy.FailedFor(inv, membershipv1alpha1.ReasonMemberLimitReached)
		})
}

// unsentOf lists, from the cache, the unsent invitations matching fields (in namespace, or in all
// namespaces when it is empty) that keep says to enqueue.
func (r *Reconciler) unsentOf(ctx context.Context, namespace string, fields client.MatchingFields,
	keep func(*membershipv1alpha1.Invitation) bool) []reconcile.Request {
	var list membershipv1alpha1.InvitationList
	opts := []client.ListOption{fields, client.UnsafeDisableDeepCopy}
	if namespace != "" {
		opts = append(opts, client.InNamespace(namespace))
	}
	if err := r.List(ctx, &list, opts...); err != nil {
		return nil
	}
	var requests []reconcile.Request
	for i := range list.Items {
		inv := &list.Items[i]
		if unsent(inv) && keep(inv) {
			requests = append(requests, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(inv)})
		}
	}
	return requests
}
