// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package testenv

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// The objects most specs start from, shared by every suite so that what differs between them is
// what the spec studies.

// NewNamespace creates a namespace for one spec, named prefix and a random suffix: specs share a
// control plane, never each other's objects.
func NewNamespace(ctx context.Context, c client.Client, prefix string) (string, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix}}
	if err := c.Create(ctx, ns); err != nil {
		return "", fmt.Errorf("creating a namespace: %w", err)
	}
	return ns.Name, nil
}

// NewStore is a Store name in ns, shown as "Acme Shop", whose owner is owner, changed by each
// mutate. It is not created.
func NewStore(ns, name, owner string, mutate ...func(*membershipv1alpha1.Store)) *membershipv1alpha1.Store {
	store := &membershipv1alpha1.Store{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: membershipv1alpha1.StoreSpec{
			DisplayName: "Acme Shop", Owner: membershipv1alpha1.StoreOwner{Email: membershipv1alpha1.EmailAddress(owner)},
		},
	}
	for _, m := range mutate {
		m(store)
	}
	return store
}

// Must returns v, and panics (a failed spec, under Ginkgo) when err is not nil.
func Must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
