// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// The objects the scenarios create, and the helpers that create many of them at once.

func storeName(i int) string { return fmt.Sprintf("shop-%02d", i) }

func newStore(namespace string, i int, ttl time.Duration) *membershipv1alpha1.Store {
	s := &membershipv1alpha1.Store{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: storeName(i)},
		Spec: membershipv1alpha1.StoreSpec{
			DisplayName: membershipv1alpha1.DisplayName(fmt.Sprintf("Shop %02d", i)),
			Owner: membershipv1alpha1.StoreOwner{
				Email:       membershipv1alpha1.EmailAddress(fmt.Sprintf("owner-%02d@%s.bench.example", i, namespace)),
				DisplayName: "Bench Owner",
			},
		},
	}
	if ttl > 0 {
		s.Spec.InvitationTTL = &metav1.Duration{Duration: ttl}
	}
	return s
}

func memberName(i int) string { return fmt.Sprintf("m-%05d", i) }

// newMember is a Member declared directly (as from Git): the operator generates its password.
func newMember(namespace string, i, stores int) *membershipv1alpha1.Member {
	return &membershipv1alpha1.Member{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: memberName(i)},
		Spec: membershipv1alpha1.MemberSpec{
			StoreRef: membershipv1alpha1.StoreReference{Name: storeName(i % stores)},
			Email:    membershipv1alpha1.EmailAddress(fmt.Sprintf("member-%05d@bench.example", i)),
			Roles:    []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff},
		},
	}
}

func invitee(namespace string, i int) string {
	return fmt.Sprintf("invitee-%05d@%s.bench.example", i, namespace)
}

func newInvitation(namespace string, i, stores int) *membershipv1alpha1.Invitation {
	return &membershipv1alpha1.Invitation{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: fmt.Sprintf("inv-%05d", i)},
		Spec: membershipv1alpha1.InvitationSpec{
			StoreRef:  membershipv1alpha1.StoreReference{Name: storeName(i % stores)},
			Email:     membershipv1alpha1.EmailAddress(invitee(namespace, i)),
			Roles:     []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff},
			InvitedBy: "Bench Owner",
		},
	}
}

// unrelatedSecret is a Secret of some other application: no operator label, 2 KiB of data (about
// a TLS key pair).
func unrelatedSecret(namespace string, i int) (*corev1.Secret, error) {
	data := make([]byte, 2048)
	if _, err := rand.Read(data); err != nil {
		return nil, err
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: fmt.Sprintf("other-app-%05d", i),
			Labels: map[string]string{"app.kubernetes.io/name": "other-app"}},
		Data: map[string][]byte{"tls.key": data},
	}, nil
}

func ensureNamespace(ctx context.Context, c client.Client, name string) error {
	err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// parallel runs fn(0..n-1) on workers goroutines and returns the first error.
func parallel(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// createAll creates n objects made by build, creators at a time, and hands each created object
// to created (when not nil) as soon as it exists.
func createAll[T client.Object](ctx context.Context, c client.Client, n, creators int, build func(i int) (T, error),
	created chan<- T) error {
	return parallel(ctx, n, creators, func(ctx context.Context, i int) error {
		obj, err := build(i)
		if err != nil {
			return err
		}
		if err := c.Create(ctx, obj); err != nil {
			return fmt.Errorf("create %s: %w", obj.GetName(), err)
		}
		if created != nil {
			created <- obj
		}
		return nil
	})
}

// waitFor polls cond every interval until it holds, the timeout passes or it fails.
func waitFor(ctx context.Context, timeout, interval time.Duration, what string, cond func(ctx context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		ok, err := cond(ctx)
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not within %s", what, timeout)
		case <-time.After(interval):
		}
	}
}
