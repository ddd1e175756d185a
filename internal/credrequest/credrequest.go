// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package credrequest is how the others ask the Member controller, the one writer of a credential
// Secret's data, to put a password the person chose into a login of its own: the acceptance
// server (the password chosen at activation), self-service (the person's own change) and the
// Store controller (an accepted ownership transfer). A request is a Secret in the operator's
// namespace, where tenants cannot write, named per kind and Member
// (membershipv1alpha1.CredentialRequestName). The Member controller folds the waiting requests
// into the credential Secret (Fold, a pure function), writes it, and deletes them; the one who
// asked waits for the result when it must not answer before it holds (Await).
package credrequest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// Kinds in the order Fold applies them: a password change made while a transfer waits never
// outlives the transfer.
var Kinds = []string{
	membershipv1alpha1.CredentialRequestActivation,
	membershipv1alpha1.CredentialRequestPassword,
	membershipv1alpha1.CredentialRequestTransfer,
}

// Request is what is asked for one Member.
type Request struct {
	// Kind is one of Kinds.
	Kind string
	// Member is the Member whose credential Secret changes (its namespace, name and UID).
	Member *membershipv1alpha1.Member
	// PasswordHash is the bcrypt hash of the password the person chose.
	PasswordHash []byte
	// TOTPSecret and TOTPURI are the key enrolled at that moment (activation with 2FA, transfer).
	TOTPSecret, TOTPURI string
	// Replaces is the password hash a password change replaces: the one the person signed in with.
	Replaces []byte
	// Invitation names the Invitation the password was chosen through (activation, transfer).
	Invitation string
}

// ErrNoNamespace says that the operator's namespace is not configured.
var ErrNoNamespace = errors.New("the operator's namespace for credential requests is not known (--account-namespace)")

// Ask creates the request in namespace, the operator's. An activation request that exists is
// an earlier acceptance's claim: Ask returns the API server's AlreadyExists. A password or
// transfer request that waits is replaced (under its resourceVersion: of two concurrent changes,
// one write wins and the other gets the conflict).
func Ask(ctx context.Context, c client.Client, reader client.Reader, namespace string, req Request) (*corev1.Secret, error) {
	if namespace == "" {
		return nil, ErrNoNamespace
	}
	var err error
	for range askTries {
		secret := build(namespace, req)
		err = c.Create(ctx, secret)
		if err == nil || !apierrors.IsAlreadyExists(err) || req.Kind == membershipv1alpha1.CredentialRequestActivation {
			return secret, err
		}
		waiting := &corev1.Secret{}
		if err = reader.Get(ctx, client.ObjectKeyFromObject(secret), waiting); err != nil {
			if apierrors.IsNotFound(err) {
				continue // applied and deleted in between: create it again
			}
			return nil, err
		}
		if maps.Equal(waiting.Labels, secret.Labels) && maps.Equal(waiting.Annotations, secret.Annotations) &&
			maps.EqualFunc(waiting.Data, secret.Data, bytes.Equal) {
			return waiting, nil // asked again (the Store, at each reconcile while it waits): nothing to write
		}
		waiting.Labels, waiting.Annotations, waiting.Data = secret.Labels, secret.Annotations, secret.Data
		if err = c.Update(ctx, waiting); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return nil, err
		}
		return waiting, nil
	}
	return nil, err
}

// askTries bounds Ask's create-or-replace loop: each turn lost to the Member controller applying
// and deleting the waiting request between two of Ask's calls.
const askTries = 5

// build is the request Secret for req.
func build(namespace string, req Request) *corev1.Secret {
	m := req.Member
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:      membershipv1alpha1.CredentialRequestName(req.Kind, m.UID),
			Namespace: namespace,
			Labels: map[string]string{
				membershipv1alpha1.ManagedByLabel:         membershipv1alpha1.ManagedByValue,
				membershipv1alpha1.CredentialRequestLabel: req.Kind,
			},
			Annotations: map[string]string{
				membershipv1alpha1.MemberRefAnnotation: m.Namespace + "/" + m.Name,
				membershipv1alpha1.MemberUIDAnnotation: string(m.UID),
			},
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{membershipv1alpha1.CredentialPasswordHash: req.PasswordHash},
	}
	if req.TOTPSecret != "" {
		secret.Data[membershipv1alpha1.CredentialTOTPSecret] = []byte(req.TOTPSecret)
		secret.Data[membershipv1alpha1.CredentialTOTPURI] = []byte(req.TOTPURI)
	}
	if req.Kind == membershipv1alpha1.CredentialRequestPassword {
		secret.Annotations[membershipv1alpha1.ReplacesAnnotation] = Digest(req.Replaces)
	}
	if req.Invitation != "" {
		secret.Labels[membershipv1alpha1.InvitationLabel] = req.Invitation
	}
	return secret
}

// Digest is the hex SHA-256 of a password hash: what a password change names as the hash it
// replaces, so that the hash itself is not copied once more.
func Digest(hash []byte) string {
	sum := sha256.Sum256(hash)
	return hex.EncodeToString(sum[:])
}

// Pending is the requests waiting for member, in the order Fold applies them. Each is read from
// reader (the cache) and, when the cache has one, again from apiReader: a request the cache
// still shows after the Member controller applied and deleted it must not be applied twice.
func Pending(ctx context.Context, reader, apiReader client.Reader, namespace string, member *membershipv1alpha1.Member) ([]corev1.Secret, error) {
	if namespace == "" {
		return nil, nil
	}
	var out []corev1.Secret
	for _, kind := range Kinds {
		cached, err := Get(ctx, reader, namespace, kind, member)
		if err != nil {
			return nil, err
		}
		if cached == nil {
			continue
		}
		live, err := Get(ctx, apiReader, namespace, kind, member)
		if err != nil {
			return nil, err
		}
		if live != nil {
			out = append(out, *live)
		}
	}
	return out, nil
}

// Get reads member's request of kind from reader; nil when there is none (or the Secret of that
// name is not a request for member).
func Get(ctx context.Context, reader client.Reader, namespace, kind string, member *membershipv1alpha1.Member) (*corev1.Secret, error) {
	secret := &corev1.Secret{}
	key := client.ObjectKey{Namespace: namespace, Name: membershipv1alpha1.CredentialRequestName(kind, member.UID)}
	if err := reader.Get(ctx, key, secret); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	if !For(secret, member) {
		return nil, nil
	}
	return secret, nil
}

// For reports whether secret is a credential request for member: the kind its name says, the
// Member's namespace, name and UID.
func For(secret *corev1.Secret, member *membershipv1alpha1.Member) bool {
	kind := secret.Labels[membershipv1alpha1.CredentialRequestLabel]
	return kind != "" && secret.Name == membershipv1alpha1.CredentialRequestName(kind, member.UID) &&
		secret.Annotations[membershipv1alpha1.MemberUIDAnnotation] == string(member.UID) &&
		secret.Annotations[membershipv1alpha1.MemberRefAnnotation] == member.Namespace+"/"+member.Name
}

// Folded is what Fold did with each request, by kind.
type Folded struct {
	// Applied are the kinds whose password (and key) data now carries.
	Applied []string
	// Refused are the kinds dropped, each with why.
	Refused map[string]string
}

// Reasons a request is refused.
const (
	RefusedHasCredentials = "the Member has credentials already: only the first acceptance chooses its password"
	RefusedNoCredentials  = "the Member has no credentials to change"
	RefusedChanged        = "the password changed after the person signed in (a transfer, a reset or another change): " +
		"it is not undone"
	RefusedEmpty = "the request carries no password hash"
)

// Fold applies requests, in the order Pending returns them, to data: the content of the
// Member's credential Secret (exists says whether it has one, or a retained copy). A password
// the person chose replaces a generated one, which is removed.
func Fold(data map[string][]byte, exists bool, requests []corev1.Secret) Folded {
	out := Folded{Refused: map[string]string{}}
	for i := range requests {
		req := &requests[i]
		kind := req.Labels[membershipv1alpha1.CredentialRequestLabel]
		hash := req.Data[membershipv1alpha1.CredentialPasswordHash]
		why := ""
		switch {
		case len(hash) == 0:
			why = RefusedEmpty
		case kind == membershipv1alpha1.CredentialRequestActivation && exists:
			why = RefusedHasCredentials
		case kind == membershipv1alpha1.CredentialRequestPassword && !exists:
			why = RefusedNoCredentials
		case kind == membershipv1alpha1.CredentialRequestPassword &&
			req.Annotations[membershipv1alpha1.ReplacesAnnotation] != Digest(data[membershipv1alpha1.CredentialPasswordHash]):
			why = RefusedChanged
		}
		if why != "" {
			out.Refused[kind] = why
			continue
		}
		data[membershipv1alpha1.CredentialPasswordHash] = bytes.Clone(hash)
		delete(data, membershipv1alpha1.CredentialPassword) // a generated one no longer applies
		if totp := req.Data[membershipv1alpha1.CredentialTOTPSecret]; len(totp) > 0 {
			data[membershipv1alpha1.CredentialTOTPSecret] = bytes.Clone(totp)
			data[membershipv1alpha1.CredentialTOTPURI] = bytes.Clone(req.Data[membershipv1alpha1.CredentialTOTPURI])
		}
		exists = true
		out.Applied = append(out.Applied, kind)
	}
	return out
}

// Done deletes requests once the credential Secret holds what they asked (or they were refused),
// each under its UID and resourceVersion: a request replaced meanwhile (a newer password change)
// stays, and its update brings the Member back.
func Done(ctx context.Context, c client.Client, requests []corev1.Secret) error {
	for i := range requests {
		req := &requests[i]
		err := c.Delete(ctx, req, client.Preconditions{UID: &req.UID, ResourceVersion: &req.ResourceVersion})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return err
		}
	}
	return nil
}

// awaitPoll is how often Await looks at the cache.
const awaitPoll = 20 * time.Millisecond

// Outcome is what became of a request Await watched.
type Outcome int

const (
	// Waiting: neither applied nor dropped within the timeout (the Member controller is behind
	// or not running); it stays and is applied later.
	Waiting Outcome = iota
	// Applied: the credential Secret holds the requested password hash.
	Applied
	// Dropped: the Member controller deleted the request without the hash reaching the Secret
	// (refused, or replaced and applied by a newer request).
	Dropped
)

// Await waits, up to timeout, for the request asked (the Secret Ask returned) to reach member's
// credential Secret, read from reader (the cache, kept current by the watch).
func Await(ctx context.Context, reader client.Reader, asked *corev1.Secret, member *membershipv1alpha1.Member,
	timeout time.Duration) (Outcome, error) {
	hash := asked.Data[membershipv1alpha1.CredentialPasswordHash]
	credentialsKey := client.ObjectKey{Namespace: member.Namespace, Name: membershipv1alpha1.CredentialsSecretName(member.Name)}
	seen, outcome := false, Waiting
	err := wait.PollUntilContextTimeout(ctx, awaitPoll, timeout, true, func(ctx context.Context) (bool, error) {
		secret := &corev1.Secret{}
		if err := reader.Get(ctx, credentialsKey, secret); client.IgnoreNotFound(err) != nil {
			return false, err
		} else if err == nil && bytes.Equal(secret.Data[membershipv1alpha1.CredentialPasswordHash], hash) {
			outcome = Applied
			return true, nil
		}
		req := &corev1.Secret{}
		switch err := reader.Get(ctx, client.ObjectKeyFromObject(asked), req); {
		case err == nil:
			seen = true // the cache has it: its disappearance from there means something
		case !apierrors.IsNotFound(err):
			return false, err
		case seen:
			outcome = Dropped
			return true, nil
		}
		return false, nil
	})
	if wait.Interrupted(err) {
		return Waiting, nil
	}
	return outcome, err
}
