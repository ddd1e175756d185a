// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package member holds the Member controller: it issues, updates, withholds and revokes the
// credential Secret (<member>-credentials) that is a person's access to a store's admin panel, and
// tells a removed person that their access is gone.
package member

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

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

	corev1 "k8s.io/api/core/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/index"
	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/internal/shard"
	"github.com/storeops/member-operator/internal/skeleton"
)

// Event reasons: a fixed vocabulary; Warning only for failures.
const (
	EventCredentialsIssued        = "CredentialsIssued"
	EventCredentialsUpdated       = "CredentialsUpdated"
	EventPasswordRotated          = "PasswordRotated"
	EventPasswordChosen           = "PasswordChosen"
	EventCredentialRequestRefused = "CredentialRequestRefused" //nolint:gosec // an event reason, not a credential
	EventAccessRevoked            = "AccessRevoked"
	EventAccessRestored           = "AccessRestored"
	EventAccessRemovedEmailSent   = "AccessRemovedEmailSent"
	EventAccessRemovedEmailError  = "AccessRemovedEmailFailed"
	EventAccessRemovedEmailGaveUp = "AccessRemovedEmailAbandoned"
	EventEmailConflict            = "EmailConflict"
	EventOwnerRoleRefused         = "OwnerRoleRefused"
	EventStoreNotFound            = "StoreNotFound"
	EventPasswordSecretNotFound   = "PasswordSecretNotFound"
	EventSecretConflict           = "SecretConflict"
	EventPasswordSourceConflict   = "PasswordSourceConflict"
)

// Reconciler reconciles Member objects. Every dependency is a field, so tests inject fakes.
type Reconciler struct {
	client.Client
	// APIReader reads Secrets the operator does not own (spec.passwordSecretRef): they are not in
	// the cache, which holds only the operator's labelled Secrets.
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Recorder  events.EventRecorder
	Clock     clock.PassiveClock
	Mail      mail.Sender
	// MailDomain is the domain of Message-IDs (the From address's domain).
	MailDomain string
	// Random is the source of passwords and TOTP secrets: crypto/rand.Reader.
	Random     io.Reader
	BcryptCost int
	// RemovalNoticeTimeout bounds how long a deletion waits for the "access removed" email; after
	// it the Member is released with a Warning event, so GitOps deletions never hang forever.
	RemovalNoticeTimeout time.Duration
	// PublicURL is the base of the links in the emails of the administrator annotations.
	PublicURL string
	// PasswordResetTTL is how long those links work (--password-reset-ttl; default 1h).
	PasswordResetTTL time.Duration
	// PasswordSecretResync is how often a Member with spec.passwordSecretRef re-reads that Secret:
	// it is not watched (that would cache every Secret in the cluster), so a change is picked up
	// within this interval.
	PasswordSecretResync time.Duration
	// ExclusiveMembership refuses access to a Member whose address an earlier Member of another
	// Store holds (--exclusive-membership).
	ExclusiveMembership bool
	// AccountNamespace is the operator's namespace, where Accounts keep their Secrets; empty
	// leaves every Member with a login of its own.
	AccountNamespace string
	// AccountSecrets is where the Accounts' own Secrets and the account requests are read: nil
	// for the cache (Client); the API server in a namespace shard, whose cache leaves both out
	// (index.ShardCacheOptions) and keeps Accounts trimmed to the fields this controller reads
	// (index.TrimAccount): their status.secretVersion is what tells it that a Secret changed.
	AccountSecrets client.Reader
	// Shard is the range of namespaces reconciled (--shard; zero: all): Reconcile drops the rest.
	Shard shard.Range
	// MaxConcurrentReconciles is how many Members are reconciled at once (--member-concurrency):
	// issuing credentials is a bcrypt hash, so this is what uses the CPUs. 0 means 1.
	MaxConcurrentReconciles int
}

// +kubebuilder:rbac:groups=membership.storeops.io,resources=members,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=membership.storeops.io,resources=members/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=membership.storeops.io,resources=members/finalizers,verbs=update
// +kubebuilder:rbac:groups=membership.storeops.io,resources=stores,verbs=get;list;watch
// +kubebuilder:rbac:groups=membership.storeops.io,resources=accounts,verbs=get;list;watch
// +kubebuilder:rbac:groups=membership.storeops.io,resources=invitations,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one Member to its spec through the shared skeleton (internal/skeleton): get,
// handle deletion, ensure the finalizer, run the phases, and write status once at the end, only
// when it changed.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return skeleton.Kind[*membershipv1alpha1.Member]{
		Shard:     r.Shard,
		Client:    r.Client,
		Finalizer: membershipv1alpha1.MemberFinalizer,
		Delete:    r.reconcileDelete,
		Steps: func(ctx context.Context, member *membershipv1alpha1.Member, _ *skeleton.Status[*membershipv1alpha1.Member]) (ctrl.Result, error) {
			return r.reconcileNormal(ctx, member)
		},
		Progress: memberProgress,
	}.Reconcile(ctx, req.NamespacedName, &membershipv1alpha1.Member{})
}

// SetupWithManager registers the controller and its watches. It reads the field indexes that
// index.Setup registers.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	// The defaults are internal/config's, filled in by internal/setup: none is repeated here.
	if r.RemovalNoticeTimeout <= 0 || r.PasswordSecretResync <= 0 {
		return errors.New("member controller: RemovalNoticeTimeout and PasswordSecretResync must be positive")
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&membershipv1alpha1.Member{}).
		// Credential and retained Secrets carry the operator's label, so they are in the cache.
		Owns(&corev1.Secret{}, builder.WithPredicates(predicate.ResourceVersionChangedPredicate{})).
		// A Store's name, locale, email preferences, owner and suspension show in its Members.
		Watches(&membershipv1alpha1.Store{}, r.storeEvents()).
		// When a Member changes its email or goes away, another Member waiting for that email may
		// now hold it (on an update both the old and the new email are mapped).
		Watches(&membershipv1alpha1.Member{}, handler.EnqueueRequestsFromMapFunc(r.sameEmailPeers)).
		// An Account's password, 2FA key and joined Members reach every credential Secret of the
		// person: its Secret maps to the Account, the Account to its Members.
		Watches(&membershipv1alpha1.Account{}, handler.EnqueueRequestsFromMapFunc(r.membersOfAccount)).
		// A credential request brings its Member (internal/credrequest).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.membersOfOperatorSecret),
			builder.WithPredicates(predicate.ResourceVersionChangedPredicate{})).
		Named("member").
		WithOptions(crcontroller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Complete(r)
}

// sameEmailPeers maps a Member to the other Members of its Store with the same email and, when
// it is going away, to the Members it may have kept from access: those of its Store waiting for a
// seat, and (--exclusive-membership) those with its address in other Stores.
func (r *Reconciler) sameEmailPeers(ctx context.Context, obj client.Object) []reconcile.Request {
	changed := obj.(*membershipv1alpha1.Member)
	inConflict := func(m *membershipv1alpha1.Member) bool { return m.Status.Phase == membershipv1alpha1.MemberConflict }
	type peers struct {
		opts []client.ListOption
		keep func(*membershipv1alpha1.Member) bool
	}
	queries := []peers{{
		opts: []client.ListOption{client.InNamespace(changed.Namespace),
			client.MatchingFields{index.MemberLogin: index.LoginKey(changed.Login())}},
		keep: func(m *membershipv1alpha1.Member) bool { return m.Spec.StoreRef.Name == changed.Spec.StoreRef.Name },
	}}
	if !changed.DeletionTimestamp.IsZero() {
		queries = append(queries, peers{
			opts: []client.ListOption{client.InNamespace(changed.Namespace), client.MatchingFields{index.MemberStore: changed.Spec.StoreRef.Name}},
			keep: inConflict,
		})
		if r.ExclusiveMembership && !changed.IsIntegration() {
			queries = append(queries, peers{
				opts: []client.ListOption{client.MatchingFields{index.MemberLogin: index.LoginKey(changed.Login())}},
				keep: func(m *membershipv1alpha1.Member) bool { return !m.IsIntegration() && inConflict(m) },
			})
		}
	}
	var requests []reconcile.Request
	for _, q := range queries {
		var members membershipv1alpha1.MemberList
		if err := r.List(ctx, &members, append(q.opts, client.UnsafeDisableDeepCopy)...); err != nil {
			return nil
		}
		for i := range members.Items {
			if m := &members.Items[i]; m.UID != changed.UID && q.keep(m) {
				requests = append(requests, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(m)})
			}
		}
	}
	return requests
}

// membersOfAccount maps an Account to the Members that joined it and, when Git governs its
// password, to the Members of its address in the source's namespace: they join it, or are in
// Conflict, once it exists.
func (r *Reconciler) membersOfAccount(ctx context.Context, obj client.Object) []reconcile.Request {
	acct := obj.(*membershipv1alpha1.Account)
	requests := make([]reconcile.Request, 0, len(acct.Status.Members))
	for _, m := range acct.Status.Members {
		requests = append(requests, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: m.Namespace, Name: m.Name}})
	}
	if src := acct.Status.PasswordSource; src != nil {
		peers, err := index.ListByLogin(ctx, r.Client, string(acct.Spec.Email), client.InNamespace(src.Namespace), client.UnsafeDisableDeepCopy)
		if err == nil {
			for _, p := range index.People(peers) {
				if !acct.Joined(string(p.UID)) {
					requests = append(requests, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&p)})
				}
			}
		}
	}
	return requests
}

// membersOfOperatorSecret maps a Secret in the operator's namespace to the Members it concerns:
// a credential request to its Member, an Account's Secret (never an account request) to the
// Account's Members.
func (r *Reconciler) membersOfOperatorSecret(ctx context.Context, obj client.Object) []reconcile.Request {
	if r.AccountNamespace == "" || obj.GetNamespace() != r.AccountNamespace {
		return nil
	}
	if obj.GetLabels()[membershipv1alpha1.CredentialRequestLabel] != "" {
		ns, name, ok := strings.Cut(obj.GetAnnotations()[membershipv1alpha1.MemberRefAnnotation], "/")
		if !ok {
			return nil
		}
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}}}
	}
	name := obj.GetLabels()[membershipv1alpha1.AccountLabel]
	if name == "" || obj.GetLabels()[membershipv1alpha1.AccountRequestLabel] != "" {
		return nil
	}
	acct := &membershipv1alpha1.Account{}
	if err := r.Get(ctx, types.NamespacedName{Name: name}, acct); err != nil {
		return nil
	}
	return r.membersOfAccount(ctx, acct)
}

// accountSecrets is the reader of the Accounts' own Secrets and of the account requests
// (AccountSecrets, or the cache).
func (r *Reconciler) accountSecrets() client.Reader {
	if r.AccountSecrets != nil {
		return r.AccountSecrets
	}
	return r.Client
}
