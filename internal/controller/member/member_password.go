// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package member

import (
	"bytes"
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	accounts "github.com/storeops/member-operator/internal/account"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/metrics"
)

// Choosing a credential Secret's password: the Account's, one from Git, or one generated.

// passwordState is what choosing the password of a credential Secret found out.
type passwordState struct {
	// source is the version of spec.passwordSecretRef's Secret the hash came from.
	source string
	// rotated: the password changed (from Git, or the Account's).
	rotated bool
	// chosen are the kinds of credential request whose password data now carries.
	chosen []string
	// governing: the Member's source governs its Account's password.
	governing bool
	// askGit: the Account controller is to be asked to take the source's password and join it.
	askGit bool
	// adopting: the Member's source is to govern its (joined) Account; the Account was asked.
	adopting bool
	result   ctrl.Result
}

// projectAccount puts the person's own password and 2FA key, kept by their Account (the same in
// every store), into data; a Member whose source governs the Account follows the source, and one
// whose source may govern it (joinedGitAction) asks for that.
func (r *Reconciler) projectAccount(ctx context.Context, member *membershipv1alpha1.Member, store *membershipv1alpha1.Store,
	person *accounts.Person, data map[string][]byte, st *passwordState) (bool, error) {
	action := joinedGitAction(member, person.Account)
	if action == gitConflict {
		return true, r.passwordSourceConflict(ctx, member, person.Account)
	}
	st.governing = person.Account.GovernedBy(member.Namespace, member.Spec.PasswordSecretRef)
	st.adopting = action == gitAsk && !st.governing
	if action != gitAsk {
		st.source = "" // the version of the source followed, kept only by a Member whose source governs
	}
	previous := bytes.Clone(data[membershipv1alpha1.CredentialPasswordHash])
	delete(data, membershipv1alpha1.CredentialPassword)
	delete(data, membershipv1alpha1.CredentialTOTPSecret)
	delete(data, membershipv1alpha1.CredentialTOTPURI)
	maps.Copy(data, accounts.Projection(person.Secret, string(store.Spec.DisplayName), member.Spec.Email))
	member.Status.Account = person.Account.Name
	st.rotated = len(previous) > 0 && !bytes.Equal(previous, data[membershipv1alpha1.CredentialPasswordHash])
	if action != gitAsk {
		return false, nil
	}
	st.result.RequeueAfter = r.PasswordSecretResync // the source Secret is not watched
	return r.followGitSource(ctx, member, person, &st.source, !st.governing)
}

// suppliedPassword puts spec.passwordSecretRef's password into data, for a login of its own
// or the Account the source makes or governs (gitAccountOf); it stops at a Conflict.
func (r *Reconciler) suppliedPassword(ctx context.Context, member *membershipv1alpha1.Member, data map[string][]byte, st *passwordState) (bool, error) {
	st.result.RequeueAfter = r.PasswordSecretResync // the source Secret is not watched
	if member.IsIntegration() {
		// A machine's secret is its own: no Account, whatever address its client ID looks like.
		return r.applySuppliedPassword(ctx, member, member.Spec.PasswordSecretRef, data, &st.source, &st.rotated)
	}
	action, acct, err := r.gitAccountOf(ctx, member)
	if err != nil {
		return true, err
	}
	if action == gitConflict {
		return true, r.passwordSourceConflict(ctx, member, acct)
	}
	st.askGit = action == gitAsk
	if st.askGit && acct != nil {
		r.startFromAccount(ctx, acct, data, &st.source)
	}
	return r.applySuppliedPassword(ctx, member, member.Spec.PasswordSecretRef, data, &st.source, &st.rotated)
}

// generatePassword generates a password into data for a Member declared without one; an
// invitee's or the owner's waits for the one the person chooses.
func (r *Reconciler) generatePassword(member *membershipv1alpha1.Member, data map[string][]byte) (bool, error) {
	if inv := member.Annotations[membershipv1alpha1.InvitationAnnotation]; inv != "" || membershipv1alpha1.HasOwnerRole(member.Spec.Roles) {
		// The invitee chose a password on the acceptance page; the server writes its hash
		// into the credential Secret, whose creation brings the Member back here. The owner's
		// password only ever comes that way (the activation email), never generated.
		setPending(member, membershipv1alpha1.ReasonAwaitingPassword, fmt.Sprintf(
			"Waiting for the password chosen through Invitation %q", inv))
		return true, nil
	}
	password, err := credentials.GeneratePassword(r.Random, credentials.GeneratedPasswordLength)
	if err != nil {
		return true, err
	}
	metrics.PasswordHashes.Inc()
	hash, err := credentials.HashPassword(password, r.BcryptCost)
	if err != nil {
		return true, err
	}
	data[membershipv1alpha1.CredentialPassword] = []byte(password)
	data[membershipv1alpha1.CredentialPasswordHash] = hash
	return false, nil
}

// applySuppliedPassword hashes the password from spec.passwordSecretRef into data when that
// Secret changed since the hash was made (source records the version). It reports pending when
// the Secret or key is missing or the password unusable, with the Member's status saying why.
func (r *Reconciler) applySuppliedPassword(ctx context.Context, member *membershipv1alpha1.Member,
	ref *membershipv1alpha1.SecretKeyReference, data map[string][]byte, source *string, rotated *bool) (bool, error) {
	src := &corev1.Secret{}
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: member.Namespace, Name: ref.Name}, src)
	if err != nil && !apierrors.IsNotFound(err) {
		return false, err
	}
	password, ok := src.Data[ref.Key]
	if err != nil || src.Labels[membershipv1alpha1.PasswordSourceLabel] != "true" || !ok {
		// One message whatever is wrong, so that a Member cannot be used to learn whether some
		// Secret exists or which keys it has.
		r.pendingOnPasswordSecret(member, passwordSourceMissing(ref))
		return true, nil
	}
	version := string(src.UID) + "/" + src.ResourceVersion
	hash := data[membershipv1alpha1.CredentialPasswordHash]
	if *source == version && len(hash) > 0 {
		return false, nil // unchanged since the hash was made: no bcrypt work
	}
	switch {
	case ref.Key == membershipv1alpha1.CredentialPasswordHash:
		// An imported bcrypt hash (existing users, without plaintext in Git): used as it is.
		if err := credentials.CheckImportedHash(password); err != nil {
			setPending(member, membershipv1alpha1.ReasonPasswordInvalid, fmt.Sprintf(
				"the hash in Secret %q key %q cannot be used: %v", ref.Name, ref.Key, err))
			return true, nil
		}
		*rotated = len(hash) > 0 && !bytes.Equal(hash, password)
		data[membershipv1alpha1.CredentialPasswordHash] = bytes.Clone(password)
	case len(hash) == 0 || !credentials.VerifyPassword(hash, string(password)):
		metrics.PasswordHashes.Inc()
		newHash, err := credentials.HashPassword(string(password), r.BcryptCost)
		if err != nil {
			setPending(member, membershipv1alpha1.ReasonPasswordInvalid, fmt.Sprintf(
				"the password in Secret %q key %q cannot be used: it must be 1 to 72 bytes", ref.Name, ref.Key))
			return true, nil
		}
		*rotated = len(hash) > 0
		data[membershipv1alpha1.CredentialPasswordHash] = newHash
	}
	delete(data, membershipv1alpha1.CredentialPassword) // the operator did not generate it
	*source = version
	return false, nil
}

// passwordSourceMissing is the one message for a spec.passwordSecretRef that cannot be read: no
// such Secret, not opted in, or no such key.
func passwordSourceMissing(ref *membershipv1alpha1.SecretKeyReference) string {
	return fmt.Sprintf("no Secret %q labelled %s=true with key %q (spec.passwordSecretRef)",
		ref.Name, membershipv1alpha1.PasswordSourceLabel, ref.Key)
}

func (r *Reconciler) pendingOnPasswordSecret(member *membershipv1alpha1.Member, msg string) {
	if member.Status.Phase != membershipv1alpha1.MemberPending ||
		!meta.IsStatusConditionPresentAndEqual(member.Status.Conditions, membershipv1alpha1.ConditionCredentialsReady, metav1.ConditionFalse) {
		r.Recorder.Eventf(member, nil, corev1.EventTypeWarning, EventPasswordSecretNotFound, "IssueCredentials", "%s", msg)
	}
	setPending(member, membershipv1alpha1.ReasonPasswordSecretNotFound, msg)
}
