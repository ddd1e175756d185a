// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package index is what the manager caches and how the cache is searched: the cache policy (only
// the operator's own Secrets, no managedFields) and the field indexes that the controllers, the
// acceptance server and the webhooks read. It sits below all of them, so none imports another
// to find an object.
package index

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// ManagedSecretSelector selects the Secrets the operator writes (credentials, invitation token
// hashes): app.kubernetes.io/managed-by=member-operator.
func ManagedSecretSelector() labels.Selector {
	return labels.SelectorFromSet(labels.Set{membershipv1alpha1.ManagedByLabel: membershipv1alpha1.ManagedByValue})
}

// CacheOptions keeps only the operator's own Secrets in the informer cache. A cluster may hold
// tens of thousands of unrelated Secrets; caching them would cost memory in proportion to all of
// them. Secrets the operator does not own (a Member's spec.passwordSecretRef) are read uncached.
//
// Cached objects are kept without metadata.managedFields, often the larger part of a small object:
// nothing the controllers decide reads it, and the one reader (self-service email change asks who
// manages spec.email) gets the Member from the API server. The strings cached objects repeat (the
// namespace, label keys, Store names, roles, condition reasons) are shared (Interner).
//
// Secrets of the namespaces in apart get an informer of their own, beside the cluster-wide one
// (which then leaves them out): a namespace shard's cluster-wide informers hold its own namespaces
// only, and every shard reads the operator's namespace (account Secrets, account and credential
// requests).
func CacheOptions(apart ...string) cache.Options {
	secrets := cache.ByObject{Label: ManagedSecretSelector()}
	if len(apart) > 0 {
		secrets.Namespaces = map[string]cache.Config{cache.AllNamespaces: {}}
		for _, ns := range apart {
			secrets.Namespaces[ns] = cache.Config{}
		}
	}
	strip, interner := cache.TransformStripManagedFields(), NewInterner()
	return cache.Options{
		DefaultTransform: func(obj any) (any, error) {
			obj, err := strip(obj)
			if err != nil {
				return nil, err
			}
			return interner.Transform(obj)
		},
		ByObject: map[client.Object]cache.ByObject{&corev1.Secret{}: secrets},
	}
}
