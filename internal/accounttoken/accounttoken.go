// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package accounttoken issues, finds and revokes a Member's single-use account links (a
// password reset, an email change and its cancellation, a 2FA enrolment): the token goes into an email, and only the SHA-256 of its
// secret is kept, in a Secret the Member owns, labelled with the token's public ID and purpose
// and annotated with when it expires. The acceptance server and the Member controller share it.
package accounttoken

import (
	"context"
	"io"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/credentials"
)

// Issue makes a new token of purpose for member (of store), valid until expires, and stores its
// hash. The returned Secret has the UID to derive the email's Message-ID from. Key-value pairs in
// annotations are added to the Secret (the new address of an email change).
func Issue(ctx context.Context, c client.Client, scheme *runtime.Scheme, random io.Reader, member *membershipv1alpha1.Member,
	store, purpose string, expires time.Time, annotations ...string) (credentials.Token, *corev1.Secret, error) {
	tok, err := credentials.NewToken(random)
	if err != nil {
		return credentials.Token{}, nil, err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:      membershipv1alpha1.AccountTokenSecretName(member.Name, purpose, tok.ID),
			Namespace: member.Namespace,
			Labels: map[string]string{
				membershipv1alpha1.ManagedByLabel:    membershipv1alpha1.ManagedByValue,
				membershipv1alpha1.StoreLabel:        store,
				membershipv1alpha1.TokenForLabel:     member.Name,
				membershipv1alpha1.TokenPurposeLabel: purpose,
				membershipv1alpha1.TokenIDLabel:      tok.ID,
			},
			Annotations: map[string]string{membershipv1alpha1.ExpiresAtAnnotation: expires.UTC().Format(time.RFC3339)},
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{membershipv1alpha1.TokenHashKey: []byte(credentials.HashTokenSecret(tok.Secret))},
	}
	for i := 0; i+1 < len(annotations); i += 2 {
		secret.Annotations[annotations[i]] = annotations[i+1]
	}
	if err := controllerutil.SetControllerReference(member, secret, scheme); err != nil {
		return credentials.Token{}, nil, err
	}
	if err := c.Create(ctx, secret); err != nil {
		return credentials.Token{}, nil, err
	}
	return tok, secret, nil
}

// Outcome is what a presented token is worth.
type Outcome int

// The outcomes of Find.
const (
	Valid   Outcome = iota
	Unknown         // malformed, or no Secret holds it
	Expired         // past its expiry
)

// Find looks up a raw token of purpose in reader (the cache: the Secrets carry the operator's
// label), comparing the secret's hash in constant time and the expiry with now.
func Find(ctx context.Context, reader client.Reader, raw, purpose string, now time.Time) (*corev1.Secret, Outcome, error) {
	tok, err := credentials.ParseToken(raw)
	if err != nil {
		return nil, Unknown, nil
	}
	var secrets corev1.SecretList
	if err := reader.List(ctx, &secrets, client.MatchingLabels{
		membershipv1alpha1.TokenIDLabel: tok.ID, membershipv1alpha1.TokenPurposeLabel: purpose,
	}); err != nil {
		return nil, Unknown, err
	}
	if len(secrets.Items) != 1 || !credentials.TokenMatches(string(secrets.Items[0].Data[membershipv1alpha1.TokenHashKey]), tok.Secret) {
		return nil, Unknown, nil
	}
	secret := &secrets.Items[0]
	if HasExpired(secret, now) {
		return secret, Expired, nil
	}
	return secret, Valid, nil
}

// DefaultTTL is how long an account link (password reset, email change, 2FA enrolment) works
// when --password-reset-ttl does not say.
const DefaultTTL = time.Hour

// ExpiresAt is when a link issued at now works until: ttl after now (DefaultTTL when ttl is 0),
// to the second, as the annotation, the email and the event all state it.
func ExpiresAt(now time.Time, ttl time.Duration) time.Time {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return now.Add(ttl).UTC().Truncate(time.Second)
}

// HasExpired reports whether a token Secret's link has expired at now (a missing or garbled expiry
// counts as expired).
func HasExpired(secret *corev1.Secret, now time.Time) bool {
	expired, _ := Expiry(secret, now)
	return expired
}

// Expiry reads a token Secret's expiry: whether its link has expired at now (a missing or
// garbled expiry counts as expired), and otherwise how long it has left. The acceptance server
// refuses a link by it and the Member controller deletes expired links by it.
func Expiry(secret *corev1.Secret, now time.Time) (expired bool, left time.Duration) {
	at, err := time.Parse(time.RFC3339, secret.Annotations[membershipv1alpha1.ExpiresAtAnnotation])
	if err != nil || !now.Before(at) {
		return true, 0
	}
	return false, at.Sub(now)
}

// Use spends a token: deleting its Secret, with its UID as precondition, against the API server
// is the claim. It reports false when another request spent it first.
func Use(ctx context.Context, c client.Client, secret *corev1.Secret) (bool, error) {
	if err := c.Delete(ctx, secret, client.Preconditions{UID: &secret.UID}); err != nil {
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// RevokeAll deletes every token of member whose purpose is one of purposes, or every token of
// member when none is named, read from the API server (a token just issued may not be in the
// cache yet). Only Secrets the Member controls go, each with its UID as precondition.
func RevokeAll(ctx context.Context, reader client.Reader, c client.Client, member *membershipv1alpha1.Member, purposes ...string) error {
	var secrets corev1.SecretList
	if err := reader.List(ctx, &secrets, client.InNamespace(member.Namespace), client.MatchingLabels{
		membershipv1alpha1.TokenForLabel: member.Name,
	}); err != nil {
		return err
	}
	for i := range secrets.Items {
		secret := &secrets.Items[i]
		if !metav1.IsControlledBy(secret, member) ||
			len(purposes) > 0 && !slices.Contains(purposes, secret.Labels[membershipv1alpha1.TokenPurposeLabel]) {
			continue
		}
		if err := c.Delete(ctx, secret, client.Preconditions{UID: &secret.UID}); client.IgnoreNotFound(err) != nil && !apierrors.IsConflict(err) {
			return err
		}
	}
	return nil
}
