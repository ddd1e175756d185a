// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package ownsecret reads, creates and deletes the Secrets an object controls (a controller
// reference with its UID), and nothing else: the operator never creates over, adopts, rewrites or
// deletes a Secret it does not control. A name is not an identity: a tenant who may create
// Members and Invitations but no Secrets could otherwise pick a name whose derived Secret name is
// an application's Secret and have the operator overwrite or delete it. Every writer of the
// operator's Secrets (the controllers and the acceptance server) goes through here.
package ownsecret

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

// ForeignError says that a Secret an object needs has the name but is not the object's.
type ForeignError struct {
	Namespace, Name string
}

func (e *ForeignError) Error() string {
	return fmt.Sprintf("Secret %s/%s exists and is not controlled by this object; the operator leaves it alone: "+
		"delete or rename it, or rename the object", e.Namespace, e.Name)
}

// IsForeign reports whether err is (or wraps) a *ForeignError.
func IsForeign(err error) bool {
	var foreign *ForeignError
	return errors.As(err, &foreign)
}

// Get reads the Secret key that owner controls from reader (the cache, which holds only the
// operator's labelled Secrets); nil when there is none. A Secret of that name that owner does not
// control is a *ForeignError.
func Get(ctx context.Context, reader client.Reader, owner client.Object, key client.ObjectKey) (*corev1.Secret, error) {
	secret := &corev1.Secret{}
	if err := reader.Get(ctx, key, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	if !metav1.IsControlledBy(secret, owner) {
		return nil, &ForeignError{Namespace: key.Namespace, Name: key.Name}
	}
	return secret, nil
}

// Create creates secret with owner as its controller. When the name is taken, apiReader (the API
// server, since a Secret without the operator's label is not in the cache) tells whose it is:
// owner's own (a cache behind the write) is returned as the AlreadyExists error to retry on, any
// other is a *ForeignError.
func Create(ctx context.Context, c client.Client, apiReader client.Reader, scheme *runtime.Scheme,
	owner client.Object, secret *corev1.Secret) error {
	if err := controllerutil.SetControllerReference(owner, secret, scheme); err != nil {
		return err
	}
	err := c.Create(ctx, secret)
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	existing := &corev1.Secret{}
	if getErr := apiReader.Get(ctx, client.ObjectKeyFromObject(secret), existing); getErr != nil {
		return errors.Join(err, getErr)
	}
	if !metav1.IsControlledBy(existing, owner) {
		return &ForeignError{Namespace: secret.Namespace, Name: secret.Name}
	}
	return err
}

// Delete deletes secret, which the caller read as one it controls, with its UID as precondition
// (a Secret re-created under the name since is not touched), and reports whether it went.
func Delete(ctx context.Context, c client.Client, secret *corev1.Secret) (bool, error) {
	if err := c.Delete(ctx, secret, client.Preconditions{UID: &secret.UID}); err != nil {
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// Revoke deletes the Secret key if owner controls it and reports whether it did; a Secret of
// that name that is not owner's is left exactly as it is.
func Revoke(ctx context.Context, reader client.Reader, c client.Client, owner client.Object, key client.ObjectKey) (bool, error) {
	secret, err := Get(ctx, reader, owner, key)
	if IsForeign(err) || secret == nil {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return Delete(ctx, c, secret)
}
