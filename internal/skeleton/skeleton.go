// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package skeleton is the reconcile skeleton the Store, Member and Invitation controllers share,
// after Cluster API's: get the object; when it is being deleted, the kind's cleanup; ensure the
// finalizer; run the kind's ordered steps; and write the status once, at the end, only when it
// changed, with observedGeneration and the kstatus conditions (internal/progress) settled when
// the steps succeeded.
//
// # Record before acting
//
// Some steps cause what must not happen twice: an email sent, an administrator's reset acted on.
// Such a step first records what it is about to do in the status with Status.Record (or Record),
// and acts only when that write succeeded. The write is made onto the version that was read and
// no other (an optimistic lock): a reconcile that read a stale cache (its own earlier record not
// seen yet, say) gets a conflict and runs again from fresh data instead of acting twice. A crash
// between the record and the act leaves the record, so the next reconcile knows the act may
// have happened; each kind says what it then does (the invitation email goes again with the
// same Message-ID and link: at most one duplicate, which mail systems drop).
//
// # The final write
//
// The status written at the end is a merge patch against the status read, so it carries only
// the fields the steps changed. Read from a cache that has not yet seen this controller's own
// previous write, that patch would leave the previous write's other fields in place: a Member
// Disabled that still names the credential Secret it just deleted. So the final write, too, is
// made onto the version read (a stale read gets a conflict and the reconcile runs again from
// fresh data) unless a record was written in the same reconcile: the record was made onto the
// latest version and this controller is the one writer of the status, so the status it patches
// against is the API server's, and what the steps did after the record must land.
package skeleton

import (
	"context"
	"errors"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/storeops/member-operator/internal/progress"
	"github.com/storeops/member-operator/internal/shard"
)

// Object is a kind the skeleton reconciles (api/v1alpha1/status.go).
type Object interface {
	client.Object
	StatusConditions() *[]metav1.Condition
	SetObservedGeneration(int64)
	StatusValue() any
}

// Kind is what one controller plugs into the skeleton.
type Kind[T Object] struct {
	// Client reads from the manager's cache and writes to the API server.
	Client client.Client
	// Finalizer is added before any step runs; Delete removes it.
	Finalizer string
	// NeedsFinalizer, when set, says whether obj needs the finalizer at all: a kind whose cleanup
	// the garbage collector does for most objects spares them the write (the Invitation's link
	// dies with it). Nil means every object does.
	NeedsFinalizer func(T) bool
	// Delete cleans up after an object being deleted and removes the finalizer.
	Delete func(context.Context, T) (ctrl.Result, error)
	// Steps bring the object to its spec, in order, changing its status in memory; a step that
	// must not act twice records first (Status.Record).
	Steps func(context.Context, T, *Status[T]) (ctrl.Result, error)
	// Progress is the kind's kstatus progress, read from the status the steps left.
	Progress func(T) (progress.Progress, string, string)
	// Shard is the range of namespaces reconciled (--shard; zero: all): a request for another
	// namespace ends here, whatever brought it (internal/shard, Range.Contains).
	Shard shard.Range
}

// Reconcile runs the skeleton for the object at key, read into obj (a new, empty object).
func (k Kind[T]) Reconcile(ctx context.Context, key client.ObjectKey, obj T) (result ctrl.Result, retErr error) {
	if !k.Shard.Contains(key.Namespace) {
		return ctrl.Result{}, nil // another shard's
	}
	defer func() { result, retErr = progress.Outcome(ctx, result, retErr) }()
	if err := k.Client.Get(ctx, key, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !obj.GetDeletionTimestamp().IsZero() {
		return k.Delete(ctx, obj)
	}
	if !controllerutil.ContainsFinalizer(obj, k.Finalizer) && (k.NeedsFinalizer == nil || k.NeedsFinalizer(obj)) {
		base := obj.DeepCopyObject().(client.Object)
		controllerutil.AddFinalizer(obj, k.Finalizer)
		if err := k.Client.Patch(ctx, obj, client.MergeFrom(base)); err != nil {
			return ctrl.Result{}, err
		}
	}

	status := &Status[T]{client: k.Client, progress: k.Progress, base: copyOf(obj)}
	defer func() {
		if err := status.flush(ctx, obj); err != nil {
			retErr = errors.Join(retErr, err)
		}
	}()
	result, err := k.Steps(ctx, obj, status)
	if err == nil {
		status.Settle(obj)
	}
	return result, err
}

// Status writes one object's status: once at the end of the reconcile, and mid-way where a step
// records before acting.
type Status[T Object] struct {
	client   client.Client
	progress func(T) (progress.Progress, string, string)
	// base is the last version written (or read): what the next patch is computed against, and
	// whose conditions' transition times a settled condition keeps.
	base      T
	abandoned bool
	// recorded: a record was written in this reconcile, so base's status is the API server's.
	recorded bool
}

// Changed reports whether obj's status differs from the last version written.
func (s *Status[T]) Changed(obj T) bool {
	return !equality.Semantic.DeepEqual(s.base.StatusValue(), obj.StatusValue())
}

// Settle sets what a finished reconcile writes: observedGeneration, and the kstatus conditions
// (Reconciling, Stalled, Ready) the kind's progress says. A step that records an outcome whole
// (a refusal) settles it first, so no reader sees it half-written.
func (s *Status[T]) Settle(obj T) {
	obj.SetObservedGeneration(obj.GetGeneration())
	standing, reason, message := s.progress(obj)
	progress.Set(obj.StatusConditions(), *s.base.StatusConditions(), obj.GetGeneration(), standing, reason, message)
}

// Record writes obj's status now, onto the version last read or written and no other (see the
// package doc): on a conflict, act on nothing and return the error, and the reconcile runs again.
func (s *Status[T]) Record(ctx context.Context, obj T) error {
	if err := Record(ctx, s.client, obj, s.base); err != nil {
		return err
	}
	s.base = copyOf(obj)
	s.recorded = true
	return nil
}

// Abandon drops whatever is left to write: the object read was stale, and writing from it could
// undo a newer status.
func (s *Status[T]) Abandon() { s.abandoned = true }

// flush writes what changed since the last write; nothing when nothing did.
func (s *Status[T]) flush(ctx context.Context, obj T) error {
	if s.abandoned || !s.Changed(obj) {
		return nil
	}
	patch := client.MergeFrom(s.base)
	if !s.recorded {
		// Onto the latest version this reconcile knows of: obj's, which a step's own write of
		// the object (a Member's reset claim) moved on from the version read. The lock reads
		// the version from the base, which is replaced by obj's copy once written.
		s.base.SetResourceVersion(obj.GetResourceVersion())
		patch = client.MergeFromWithOptions(s.base, client.MergeFromWithOptimisticLock{})
	}
	if err := s.client.Status().Patch(ctx, obj, patch); err != nil {
		return err
	}
	s.base = copyOf(obj)
	return nil
}

// Record writes obj's status onto base's version only (an optimistic lock): the mechanism behind
// Status.Record, for a step that keeps its own base.
func Record(ctx context.Context, c client.Client, obj, base client.Object) error {
	return c.Status().Patch(ctx, obj, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
}

func copyOf[T Object](obj T) T {
	return obj.DeepCopyObject().(T)
}
