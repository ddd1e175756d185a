// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package account

import (
	"context"
	"errors"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/credentials"
)

// A TOTP code is accepted once: its time step is recorded (TOTPLastStepAnnotation) on one
// credential Secret per login, with the version read as the precondition, so of two uses of one
// code, on any replica, at most one succeeds. A person's Account is one login in every store, so
// its steps are recorded in one place too: the credential Secret of its first joined Member
// (StepRecord). Otherwise a code spent in one store's self-service, or to join a store, could be
// spent again within its 30 seconds through another store.

// StepRecord is where the TOTP steps of the Account acct are recorded: the credential Secret of
// its first joined Member (by namespace and name) that has one of its own projecting acct. nil
// when none does yet.
func StepRecord(ctx context.Context, reader client.Reader, acct *membershipv1alpha1.Account) (*corev1.Secret, *membershipv1alpha1.Member, error) {
	for _, ref := range acct.Status.Members { // sorted by namespace and name
		m := &membershipv1alpha1.Member{}
		if err := reader.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, m); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return nil, nil, err
		}
		if string(m.UID) != ref.UID {
			continue
		}
		secret := &corev1.Secret{}
		err := reader.Get(ctx, types.NamespacedName{Namespace: m.Namespace, Name: membershipv1alpha1.CredentialsSecretName(m.Name)}, secret)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		if metav1.IsControlledBy(secret, m) && secret.Labels[membershipv1alpha1.AccountLabel] == acct.Name {
			return secret, m, nil
		}
	}
	return nil, nil, nil
}

// SpendTOTPStep records step as used on record, a credential Secret owner controls, unless it
// (or a later step) was used already, which it reports as false. key is the TOTP key the code
// was checked against: when record no longer carries it (a reset meanwhile), nothing is spent.
func SpendTOTPStep(ctx context.Context, c client.Client, apiReader client.Reader, record *corev1.Secret, owner *membershipv1alpha1.Member,
	key string, step int64) (*corev1.Secret, bool, error) {
	current := record
	for range 3 {
		if !credentials.TOTPStepFresh(step, current.Annotations[membershipv1alpha1.TOTPLastStepAnnotation]) {
			return current, false, nil
		}
		updated := current.DeepCopy()
		if updated.Annotations == nil {
			updated.Annotations = map[string]string{}
		}
		updated.Annotations[membershipv1alpha1.TOTPLastStepAnnotation] = strconv.FormatInt(step, 10)
		err := c.Update(ctx, updated)
		if err == nil {
			return updated, true, nil
		}
		if !apierrors.IsConflict(err) {
			return current, false, err
		}
		fresh := &corev1.Secret{}
		if err := apiReader.Get(ctx, client.ObjectKeyFromObject(current), fresh); err != nil {
			return current, false, client.IgnoreNotFound(err)
		}
		if !metav1.IsControlledBy(fresh, owner) || string(fresh.Data[membershipv1alpha1.CredentialTOTPSecret]) != key {
			return current, false, nil // no longer the owner's, or its 2FA key was reset meanwhile
		}
		current = fresh
	}
	return current, false, errors.New("recording the used 2FA time step: the credential Secret kept changing")
}
