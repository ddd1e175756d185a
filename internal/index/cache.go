// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package index is what the manager caches and how the cache is searched: the cache policy (only
// the operator's own Secrets, no managedFields) and the field indexes that the controllers, the
// acceptance server and the webhooks read. It sits below all of them, so none imports another
// to find an object.
package index

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
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
func CacheOptions() cache.Options {
	return cacheOptions(cache.ByObject{Label: ManagedSecretSelector()})
}

// cacheOptions is the cache policy with secrets as the Secrets' configuration. ByObject is keyed
// by object pointers: a second entry for Secrets would not replace the first, and which of the
// two controller-runtime applied would be the map's iteration order. So each policy makes the
// one entry it wants.
func cacheOptions(secrets cache.ByObject) cache.Options {
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

// ShardCacheOptions is a namespace shard's cache: CacheOptions, except for what belongs to every
// person of the cluster rather than to the shard's namespaces. A shard's cluster-wide informers
// hold its own namespaces only (the API server's sharded watch, or the shard's filter); the
// operator's namespace, which every shard reads for credential requests, gets an informer of its
// own that leaves out the Accounts' own Secrets (AccountSecretLabel) and the account requests
// (AccountRequestLabel): the Member controller reads the few of those it needs from the API
// server, an Account's Secret when the Account says it changed (status.secretVersion), its own
// Member's waiting requests before it asks again. Requests wait there for the one cluster shard:
// while it works through a cluster's new Members, every namespace shard would hold the requests
// of every shard's (thousands of Secrets, each with a hash and five annotations). Accounts,
// cluster-scoped, are kept trimmed to what the Member controller decides on (TrimAccount). So
// what a shard caches follows its own Members, not the cluster's people.
func ShardCacheOptions(operatorNamespace string) cache.Options {
	notAccountSecrets, err := labels.NewRequirement(membershipv1alpha1.AccountSecretLabel, selection.NotIn, []string{membershipv1alpha1.AccountSecretValue})
	if err != nil {
		panic(err) // a constant key and value: cannot happen
	}
	notAccountRequests, err := labels.NewRequirement(membershipv1alpha1.AccountRequestLabel, selection.DoesNotExist, nil)
	if err != nil {
		panic(err) // a constant key: cannot happen
	}
	opts := cacheOptions(cache.ByObject{
		Label: ManagedSecretSelector(),
		Namespaces: map[string]cache.Config{
			cache.AllNamespaces: {},
			operatorNamespace:   {LabelSelector: ManagedSecretSelector().Add(*notAccountSecrets, *notAccountRequests)},
		},
	})
	base := opts.DefaultTransform
	opts.ByObject[&membershipv1alpha1.Account{}] = cache.ByObject{
		Transform: func(obj any) (any, error) {
			if acct, ok := obj.(*membershipv1alpha1.Account); ok {
				obj = TrimAccount(acct)
			}
			return base(obj)
		},
	}
	return opts
}

// TrimAccount is an Account as a namespace shard caches it: what the Member controller reads of
// it (its identity, deletion, address, joined Members, password source and the version of its
// Secret) and nothing else: no conditions, no profile (display name, login name, phone), no
// labels or annotations. Nothing else in a namespace shard reads Accounts: the Account
// controller, the acceptance server and the webhooks run elsewhere (internal/config refuses them
// with a namespace range).
func TrimAccount(acct *membershipv1alpha1.Account) *membershipv1alpha1.Account {
	return &membershipv1alpha1.Account{
		TypeMeta: acct.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name: acct.Name, UID: acct.UID, ResourceVersion: acct.ResourceVersion, Generation: acct.Generation,
			CreationTimestamp: acct.CreationTimestamp, DeletionTimestamp: acct.DeletionTimestamp,
		},
		Spec: membershipv1alpha1.AccountSpec{Email: acct.Spec.Email},
		Status: membershipv1alpha1.AccountStatus{
			Members: acct.Status.Members, PasswordSource: acct.Status.PasswordSource, SecretVersion: acct.Status.SecretVersion,
		},
	}
}
