// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package tokenkey keeps the key from which the operator derives invitation link tokens. A token
// is derived from the key, the Invitation's UID and its send round, so a retried email (after an
// SMTP failure or a crash) carries the same link although only the token's hash is stored. The key
// lives in one Secret in the operator's namespace, made on first start; tenants who can read
// Secrets in their own namespace cannot derive anyone's link.
package tokenkey

import (
	"context"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// DataKey is the key of the Secret's data that holds the token key.
const DataKey = "key"

// Size is the number of random bytes in a new key.
const Size = 32

// Ensure returns the key stored in the Secret at name, creating it from random first when it does
// not exist. Replicas starting together agree: the one whose create loses reads the winner's key.
// c must not be a cached client (Ensure runs before the manager's caches start).
func Ensure(ctx context.Context, c client.Client, name types.NamespacedName, random io.Reader) ([]byte, error) {
	for range 3 {
		secret := &corev1.Secret{}
		err := c.Get(ctx, name, secret)
		if err == nil {
			key := secret.Data[DataKey]
			if len(key) < Size {
				return nil, fmt.Errorf("secret %s: key %q holds %d bytes; it needs at least %d (delete the Secret to have a new one made; pending invitation links will stop working)",
					name, DataKey, len(key), Size)
			}
			return key, nil
		}
		if !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("read token key Secret %s: %w", name, err)
		}
		key := make([]byte, Size)
		if _, err := io.ReadFull(random, key); err != nil {
			return nil, fmt.Errorf("read randomness: %w", err)
		}
		secret = &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{
				Name: name.Name, Namespace: name.Namespace,
				Labels: map[string]string{
					membershipv1alpha1.ManagedByLabel: membershipv1alpha1.ManagedByValue,
					membershipv1alpha1.TokenKeyLabel:  "true",
				},
				Annotations: map[string]string{
					"membership.storeops.io/description": "Key from which invitation link tokens are derived, made by the operator. Links already sent keep working without it; do not delete it while emails are being retried.",
				},
			},
			Type:      corev1.SecretTypeOpaque,
			Immutable: ptrTo(true),
			Data:      map[string][]byte{DataKey: key},
		}
		err = c.Create(ctx, secret)
		if err == nil {
			return key, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("create token key Secret %s: %w", name, err)
		}
		// Another replica made it first: read theirs.
	}
	return nil, fmt.Errorf("token key Secret %s: could not read or create it", name)
}

func ptrTo[T any](v T) *T { return &v }
