// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package account

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/ownsecret"
)

// A login name is unique across the cluster. The cache cannot promise that (two people may ask
// for one name within a moment, and each reconcile would see the other's Account without it), so
// the name is claimed first: a Secret named after the name (LoginNameClaimName), created by the
// Account that takes it and controlled by it. The API server creates one object of a name, so
// exactly one Account wins; the other's request is refused with an event. Only the Account that
// holds a claim releases it (after its spec stopped naming it, in the same reconcile or a later
// one), except that a claim whose Account is gone, or which a moving person's old Account holds,
// is taken over.

// loginNameChange is a login name a request asked for: name ("" removes it), and the address the
// Account moved from when a move carries it.
type loginNameChange struct {
	name      string
	movedFrom string
}

// claimLoginName claims name for acct and reports whether acct holds it now. It is false, with
// no error, when another Account holds it (or a Secret of the claim's name that no Account
// controls: nothing is done to it).
func (r *Reconciler) claimLoginName(ctx context.Context, acct *membershipv1alpha1.Account, name, movedFrom string) (bool, error) {
	claim := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: membershipv1alpha1.LoginNameClaimName(name), Namespace: r.Namespace,
			Labels: map[string]string{
				membershipv1alpha1.ManagedByLabel:      membershipv1alpha1.ManagedByValue,
				membershipv1alpha1.AccountLabel:        acct.Name,
				membershipv1alpha1.LoginNameClaimLabel: name,
			},
		},
		Type: corev1.SecretTypeOpaque,
	}
	if err := controllerutil.SetControllerReference(acct, claim, r.Scheme); err != nil {
		return false, err
	}
	err := r.Create(ctx, claim)
	if err == nil || !apierrors.IsAlreadyExists(err) {
		return err == nil, err
	}
	existing := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(claim), existing); err != nil {
		if apierrors.IsNotFound(err) {
			return false, errStale // released in between: claim again
		}
		return false, err
	}
	if metav1.IsControlledBy(existing, acct) {
		return true, nil // ours: an earlier reconcile claimed it and stopped before the write
	}
	holder := metav1.GetControllerOf(existing)
	if holder == nil || holder.Kind != "Account" || holder.APIVersion != membershipv1alpha1.GroupVersion.String() ||
		existing.Labels[membershipv1alpha1.LoginNameClaimLabel] != name {
		return false, nil // not a claim of ours: left alone, and the name is not given out
	}
	held := &membershipv1alpha1.Account{}
	err = r.APIReader.Get(ctx, types.NamespacedName{Name: holder.Name}, held)
	if client.IgnoreNotFound(err) != nil {
		return false, err
	}
	gone := apierrors.IsNotFound(err) || held.UID != holder.UID
	moving := !gone && movedFrom != "" && strings.EqualFold(string(held.Spec.Email), movedFrom)
	if !gone && !moving {
		return false, nil
	}
	// Left by an Account that no longer exists, or the person's own old Account: it goes (the
	// UID precondition spares one claimed again since), and the next try claims it.
	if _, err := ownsecret.Delete(ctx, r.Client, existing); err != nil {
		return false, err
	}
	return false, errStale
}

// applyLoginName takes the login name a request asked for, when the Account can hold it: it is
// claimed, then written to the Account's Secret (data) for every store's credential Secret and,
// by the caller, to the spec. It reports the name refused, if any.
func (r *Reconciler) applyLoginName(ctx context.Context, acct *membershipv1alpha1.Account, change *loginNameChange,
	data map[string][]byte) (string, error) {
	if change != nil && change.name != string(acct.Spec.LoginName) {
		if change.name != "" {
			held, err := r.claimLoginName(ctx, acct, change.name, change.movedFrom)
			if err != nil {
				return "", err
			}
			if !held {
				return change.name, nil
			}
		}
		acct.Spec.LoginName = membershipv1alpha1.LoginName(change.name)
	}
	if acct.Spec.LoginName == "" {
		delete(data, membershipv1alpha1.CredentialLoginName)
	} else {
		data[membershipv1alpha1.CredentialLoginName] = []byte(acct.Spec.LoginName)
	}
	return "", nil
}

// releaseLoginNames deletes the claims acct holds on names its spec does not name (all of them
// for an Account about to go): read from the API server, since a claim made a moment ago may not
// be in the cache.
func (r *Reconciler) releaseLoginNames(ctx context.Context, acct *membershipv1alpha1.Account, keep membershipv1alpha1.LoginName) error {
	var claims corev1.SecretList
	if err := r.APIReader.List(ctx, &claims, client.InNamespace(r.Namespace),
		client.MatchingLabels{membershipv1alpha1.AccountLabel: acct.Name}, client.HasLabels{membershipv1alpha1.LoginNameClaimLabel}); err != nil {
		return err
	}
	for i := range claims.Items {
		claim := &claims.Items[i]
		if !metav1.IsControlledBy(claim, acct) || keep != "" && claim.Labels[membershipv1alpha1.LoginNameClaimLabel] == string(keep) {
			continue
		}
		if _, err := ownsecret.Delete(ctx, r.Client, claim); err != nil {
			return err
		}
	}
	return nil
}

// loginNameOf reads a login-name request: the lower-cased name, "" to remove it; false when it is
// not a name the API server would accept (checked again here, as the server did).
func loginNameOf(req *corev1.Secret) (string, bool) {
	name := strings.ToLower(req.Annotations[membershipv1alpha1.LoginNameAnnotation])
	return name, name == "" || membershipv1alpha1.ValidLoginName(name)
}
