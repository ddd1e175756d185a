/*
Copyright 2026 The StoreOps Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package invitation

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/invitationpolicy"
	"github.com/storeops/member-operator/internal/ownsecret"
)

// The link's token Secret: derived from the token key, created before the email goes (the link
// must work when it lands) and deleted when the link dies.

// token is the link token of the invitation's current round. It is derived, not stored: the
// same key, UID and round give the same token on every retry.
func (r *Reconciler) token(inv *membershipv1alpha1.Invitation) (credentials.Token, error) {
	return credentials.InvitationToken(r.TokenKey, string(inv.UID), inv.Status.Resends)
}

func (r *Reconciler) acceptURL(tok credentials.Token) string {
	return strings.TrimRight(r.PublicURL, "/") + "/invitations/accept?token=" + url.QueryEscape(tok.String())
}

// declineURL is the "this is not for me" link of a member invitation: its page posts the decline.
// Owner invitations have none (the Store asks for its owner; a wrong address is the Store's to fix).
func (r *Reconciler) declineURL(inv *membershipv1alpha1.Invitation, tok credentials.Token) string {
	if !invitationpolicy.ForMember(inv) {
		return ""
	}
	return strings.TrimRight(r.PublicURL, "/") + "/invitations/decline?token=" + url.QueryEscape(tok.String())
}

// ensureTokenSecret makes the invitation's token Secret hold the hash of tok, labelled with its
// ID so the acceptance server finds it through an index. It writes nothing when it already does.
func (r *Reconciler) ensureTokenSecret(ctx context.Context, inv *membershipv1alpha1.Invitation, tok credentials.Token) error {
	name := membershipv1alpha1.InvitationTokenSecretName(inv.Name)
	hash := []byte(credentials.HashTokenSecret(tok.Secret))
	labels := map[string]string{
		membershipv1alpha1.ManagedByLabel: membershipv1alpha1.ManagedByValue,
		membershipv1alpha1.TokenIDLabel:   tok.ID,
	}
	current := &corev1.Secret{}
	err := r.Get(ctx, types.NamespacedName{Namespace: inv.Namespace, Name: name}, current)
	switch {
	case apierrors.IsNotFound(err):
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: inv.Namespace, Labels: labels},
			Type:       corev1.SecretTypeOpaque,
			Data:       map[string][]byte{membershipv1alpha1.TokenHashKey: hash},
		}
		if err := controllerutil.SetControllerReference(inv, secret, r.Scheme); err != nil {
			return err
		}
		if err := r.Create(ctx, secret); err != nil {
			if apierrors.IsAlreadyExists(err) {
				// Not in the cache, so not labelled as ours: someone else's Secret has the name.
				return fmt.Errorf("%w: Secret %s exists and is not the operator's; rename or delete it so the invitation's link can be stored",
					errForeignTokenSecret, name)
			}
			return err
		}
		return nil
	case err != nil:
		return err
	}
	if !metav1.IsControlledBy(current, inv) {
		return fmt.Errorf("%w: Secret %s is not controlled by Invitation %s; rename or delete it so the invitation's link can be stored",
			errForeignTokenSecret, name, inv.Name)
	}
	if bytes.Equal(current.Data[membershipv1alpha1.TokenHashKey], hash) && current.Labels[membershipv1alpha1.TokenIDLabel] == tok.ID &&
		len(current.Data) == 1 {
		return nil
	}
	updated := current.DeepCopy()
	updated.Data = map[string][]byte{membershipv1alpha1.TokenHashKey: hash}
	if updated.Labels == nil {
		updated.Labels = map[string]string{}
	}
	for k, v := range labels {
		updated.Labels[k] = v
	}
	return r.Update(ctx, updated)
}

// deleteToken deletes the invitation's token Secret, if the cache has one: a reconcile that
// changes nothing writes nothing.
func (r *Reconciler) deleteToken(ctx context.Context, inv *membershipv1alpha1.Invitation) error {
	return r.deleteOwnedSecret(ctx, inv, membershipv1alpha1.InvitationTokenSecretName(inv.Name))
}

// deleteOwnedSecret deletes the Secret name if the cache has it and inv controls it.
func (r *Reconciler) deleteOwnedSecret(ctx context.Context, inv *membershipv1alpha1.Invitation, name string) error {
	_, err := ownsecret.Revoke(ctx, r.Client, r.Client, inv, client.ObjectKey{Namespace: inv.Namespace, Name: name})
	return err
}
