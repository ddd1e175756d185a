// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package login

import (
	"context"
	"errors"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// loginIndex finds a store's credential Secret by login: "<namespace>/<store>/<lowercased username>";
// loginNameIndex by a person's login name, the same way.
const (
	loginIndex     = "member-operator.login"
	loginNameIndex = "member-operator.loginName"
)

// Directory is an informer-backed view of the credential Secrets the operator writes (only those:
// it selects them by label, so the application's memory holds nothing else) and of their Members,
// to sign people and integrations in by store. The application needs get, list and watch on
// Secrets and Members in the stores' namespaces.
type Directory struct {
	cache cache.Cache
	steps Steps
	now   func() time.Time
}

// DirectoryOptions configure NewDirectory.
type DirectoryOptions struct {
	// Namespaces limits the view to these namespaces; all when empty.
	Namespaces []string
	// Steps records spent 2FA time steps; NewSteps() when nil.
	Steps Steps
	// Now is the clock for 2FA codes; time.Now when nil.
	Now func() time.Time
}

// NewDirectory prepares a Directory for the cluster at cfg. Run Start, then WaitForSync.
func NewDirectory(cfg *rest.Config, opts DirectoryOptions) (*Directory, error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := membershipv1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	managed, err := labels.NewRequirement(membershipv1alpha1.ManagedByLabel, selection.Equals, []string{membershipv1alpha1.ManagedByValue})
	if err != nil {
		return nil, err
	}
	grant, err := labels.NewRequirement(membershipv1alpha1.MemberLabel, selection.Exists, nil)
	if err != nil {
		return nil, err
	}
	cacheOpts := cache.Options{Scheme: scheme, ByObject: map[client.Object]cache.ByObject{
		&corev1.Secret{}: {Label: labels.NewSelector().Add(*managed, *grant)},
	}}
	if len(opts.Namespaces) > 0 {
		cacheOpts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range opts.Namespaces {
			cacheOpts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	c, err := cache.New(cfg, cacheOpts)
	if err != nil {
		return nil, err
	}
	if err := c.IndexField(context.Background(), &corev1.Secret{}, loginIndex, func(o client.Object) []string {
		s := o.(*corev1.Secret)
		return []string{loginKey(s.Namespace, s.Labels[membershipv1alpha1.StoreLabel], string(s.Data[membershipv1alpha1.CredentialUsername]))}
	}); err != nil {
		return nil, err
	}
	if err := c.IndexField(context.Background(), &corev1.Secret{}, loginNameIndex, func(o client.Object) []string {
		s := o.(*corev1.Secret)
		if name := s.Data[membershipv1alpha1.CredentialLoginName]; len(name) > 0 {
			return []string{loginKey(s.Namespace, s.Labels[membershipv1alpha1.StoreLabel], string(name))}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	d := &Directory{cache: c, steps: opts.Steps, now: opts.Now}
	if d.steps == nil {
		d.steps = NewSteps()
	}
	if d.now == nil {
		d.now = time.Now
	}
	return d, nil
}

func loginKey(namespace, store, login string) string {
	return namespace + "/" + store + "/" + strings.ToLower(login)
}

// Start runs the informers until ctx ends.
func (d *Directory) Start(ctx context.Context) error { return d.cache.Start(ctx) }

// WaitForSync waits until the informers have listed everything; false when ctx ended first.
func (d *Directory) WaitForSync(ctx context.Context) bool { return d.cache.WaitForCacheSync(ctx) }

// SignIn checks a sign-in to the Store store in namespace, by email, login name or client ID. The credential Secret must be the
// Member's own (controlled by it, named in its status) and the Member Active; anything else is
// ErrDenied, as a wrong password is.
func (d *Directory) SignIn(ctx context.Context, namespace, store, login, password, code string) (*Identity, error) {
	// The username (email or client ID) first: a person's login name that happens to be an
	// integration's client ID in this store must not lock the integration out.
	var secrets corev1.SecretList
	for _, ix := range []string{loginIndex, loginNameIndex} {
		if err := d.cache.List(ctx, &secrets, client.InNamespace(namespace),
			client.MatchingFields{ix: loginKey(namespace, store, login)}); err != nil {
			return nil, err
		}
		if len(secrets.Items) > 0 {
			break
		}
	}
	if len(secrets.Items) != 1 {
		// None, or two (the operator revokes the later of two Members with one login; until then
		// neither is trusted).
		spendBcrypt(password)
		return nil, ErrDenied
	}
	secret := &secrets.Items[0]
	if ok, err := d.granted(ctx, secret); err != nil || !ok {
		spendBcrypt(password)
		return nil, errors.Join(ErrDenied, err)
	}
	return Check(secret, login, password, code, d.now(), d.steps)
}

// granted reports whether secret is the credential Secret of an Active Member: an owner reference
// anybody may write is not enough, so the Member's status (which only the operator writes) must
// name it too.
func (d *Directory) granted(ctx context.Context, secret *corev1.Secret) (bool, error) {
	member := &membershipv1alpha1.Member{}
	err := d.cache.Get(ctx, client.ObjectKey{Namespace: secret.Namespace, Name: secret.Labels[membershipv1alpha1.MemberLabel]}, member)
	if err != nil {
		return false, client.IgnoreNotFound(err)
	}
	return metav1.IsControlledBy(secret, member) && member.Status.Phase == membershipv1alpha1.MemberActive &&
		member.Status.CredentialsSecret == secret.Name && member.Spec.StoreRef.Name == secret.Labels[membershipv1alpha1.StoreLabel], nil
}
