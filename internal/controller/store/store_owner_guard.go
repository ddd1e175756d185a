// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package store

import (
	"context"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// Guarding the owner Member: it is the Store's, whatever is edited on it. The Store decides who
// the owner is from its own spec and status, never from metadata a user can edit.

// keepOwnerEmail records the active owner's login email the first time (the address it was
// activated for) and puts it back when someone else changed it (webhooks off), before anything
// reads it, so no reset link can go to an address the owner never had.
func (r *Reconciler) keepOwnerEmail(ctx context.Context, store *membershipv1alpha1.Store, owner *membershipv1alpha1.Member) error {
	if store.Status.OwnerEmail == "" {
		store.Status.OwnerEmail = owner.Spec.Email
	}
	if strings.EqualFold(string(owner.Spec.Email), string(store.Status.OwnerEmail)) {
		return nil
	}
	base := owner.DeepCopy()
	owner.Spec.Email = store.Status.OwnerEmail
	if err := r.Patch(ctx, owner, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		return err
	}
	r.Recorder.Eventf(store, owner, corev1.EventTypeWarning, membershipv1alpha1.ReasonOwnerManagedByStore, "Reconcile",
		"Owner Member %s's email was edited; put back to %s: the Store manages its owner", owner.Name, store.Status.OwnerEmail)
	return nil
}

// isRecordedOwner reports whether m is the owner Member the Store recorded (by UID).
func isRecordedOwner(store *membershipv1alpha1.Store, m *membershipv1alpha1.Member) bool {
	return store.Status.OwnerMemberUID != "" && m.UID == store.Status.OwnerMemberUID
}

// restoreOwnerMetadata puts back the Store's controller reference and the operator's labels on
// its owner Member after someone removed them (webhooks off).
func (r *Reconciler) restoreOwnerMetadata(ctx context.Context, store *membershipv1alpha1.Store, owner *membershipv1alpha1.Member) error {
	base := owner.DeepCopy()
	owner.OwnerReferences = slices.DeleteFunc(owner.OwnerReferences, func(ref metav1.OwnerReference) bool {
		return ref.Controller != nil && *ref.Controller
	})
	if err := controllerutil.SetControllerReference(store, owner, r.Scheme); err != nil {
		return err
	}
	if owner.Labels == nil {
		owner.Labels = map[string]string{}
	}
	owner.Labels[membershipv1alpha1.ManagedByLabel] = membershipv1alpha1.ManagedByValue
	owner.Labels[membershipv1alpha1.StoreLabel] = store.Name
	if err := r.Patch(ctx, owner, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		return err
	}
	r.Recorder.Eventf(store, owner, corev1.EventTypeWarning, membershipv1alpha1.ReasonOwnerManagedByStore, "Reconcile",
		"Owner Member %s's owner reference or labels were edited; put back: the Store manages its owner", owner.Name)
	return nil
}
