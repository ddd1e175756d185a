// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package account reconciles Accounts: one per person, the one writer of an Account and of its
// Secret (the password hash and TOTP key in the operator's namespace). It applies the requests
// the acceptance server and the Member controller leave (internal/account), keeps the list of the
// Members that joined, and deletes the Account with its Secret when the last of them is gone.
package account

import (
	"context"
	"io"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/index"
)

// Event reasons on Accounts.
const (
	EventAccountCreated  = "AccountCreated"
	EventMemberJoined    = "MemberJoined"
	EventMemberLeft      = "MemberLeft"
	EventPasswordChanged = "PasswordChanged"
	EventTwoFactorReset  = "TwoFactorReset"
	EventAccountDeleted  = "AccountDeleted"
	EventMoved           = "AccountMoved"
	EventMoveRefused     = "MoveRefused"
	// EventLoginNameChanged: the person set, changed or removed their login name.
	EventLoginNameChanged = "LoginNameChanged"
	// EventLoginNameTaken: a login name asked for that another Account holds.
	EventLoginNameTaken = "LoginNameTaken"
	// EventPasswordSourceRefused: a password change that Git's governance does not allow.
	EventPasswordSourceRefused = "PasswordSourceConflict"
	// EventPasswordSourceRemoved: no Member declares the Account's password in Git any more.
	EventPasswordSourceRemoved = "PasswordSourceRemoved"
)

// Reconciler reconciles Accounts.
type Reconciler struct {
	client.Client
	// APIReader reads past the cache: a Member a request names may be newer than the cache.
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Recorder  events.EventRecorder
	Clock     clock.PassiveClock
	Random    io.Reader
	// Namespace is the operator's namespace, where Account Secrets and requests live.
	Namespace string

	MaxConcurrentReconciles int
}

// +kubebuilder:rbac:groups=membership.storeops.io,resources=accounts,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=membership.storeops.io,resources=accounts/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=membership.storeops.io,resources=members,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch;delete

// SetupWithManager registers the controller and its watches.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&membershipv1alpha1.Account{}).
		// Requests and the Account's Secret, both labelled with the Account's name.
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.accountOfSecret),
			builder.WithPredicates(predicate.ResourceVersionChangedPredicate{})).
		// A Member that appears, changes its address or goes changes who uses an Account.
		Watches(&membershipv1alpha1.Member{}, handler.EnqueueRequestsFromMapFunc(accountsOfMember)).
		Named("account").
		WithOptions(crcontroller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Complete(r)
}

func (r *Reconciler) accountOfSecret(_ context.Context, obj client.Object) []reconcile.Request {
	name := obj.GetLabels()[membershipv1alpha1.AccountLabel]
	if obj.GetNamespace() != r.Namespace || name == "" || name == membershipv1alpha1.AccountSeparate {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: name}}}
}

// accountsOfMember maps a Member to the Account of its address and to the one it projects, when
// its address moved away from it.
func accountsOfMember(_ context.Context, obj client.Object) []reconcile.Request {
	m := obj.(*membershipv1alpha1.Member)
	requests := []reconcile.Request{{NamespacedName: types.NamespacedName{Name: membershipv1alpha1.AccountName(m.Spec.Email)}}}
	if previous := m.Status.Account; previous != "" && previous != requests[0].Name {
		requests = append(requests, reconcile.Request{NamespacedName: types.NamespacedName{Name: previous}})
	}
	return requests
}

// membersOf lists the Members of the Account name's address, from the cache.
func (r *Reconciler) membersOf(ctx context.Context, name string) ([]membershipv1alpha1.Member, error) {
	return index.ListOfAccount(ctx, r.Client, name)
}

// getAccount reads the Account name; nil when there is none.
func (r *Reconciler) getAccount(ctx context.Context, name string) (*membershipv1alpha1.Account, error) {
	acct := &membershipv1alpha1.Account{}
	if err := r.Get(ctx, types.NamespacedName{Name: name}, acct); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return acct, nil
}
