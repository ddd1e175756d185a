// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package invitation

import (
	"context"
	"net/url"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/invitationpolicy"
	"github.com/storeops/member-operator/internal/ownsecret"
)

// The link: its token is derived from the token key, and only the hash of its secret is stored,
// in the Invitation's status (status.tokenHash), written with the delivery attempt and cleared
// when the link dies. Versions before that kept the hash in a token Secret; such a Secret is
// read by the acceptance server until this controller has moved its hash into the status, and
// then deleted.

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

// killLink makes the invitation's link stop working: its hash leaves the status (written by
// the caller) and the token Secret of an invitation sent before the hash moved there goes.
func (r *Reconciler) killLink(ctx context.Context, inv *membershipv1alpha1.Invitation) error {
	inv.Status.TokenHash = ""
	return r.deleteToken(ctx, inv)
}

// deleteToken deletes the invitation's token Secret of before status.tokenHash, if the cache
// has one and the invitation controls it: a reconcile that changes nothing writes nothing.
func (r *Reconciler) deleteToken(ctx context.Context, inv *membershipv1alpha1.Invitation) error {
	return r.deleteOwnedSecret(ctx, inv, membershipv1alpha1.InvitationTokenSecretName(inv.Name))
}

// deleteOwnedSecret deletes the Secret name if the cache has it and inv controls it.
func (r *Reconciler) deleteOwnedSecret(ctx context.Context, inv *membershipv1alpha1.Invitation, name string) error {
	_, err := ownsecret.Revoke(ctx, r.Client, r.Client, inv, client.ObjectKey{Namespace: inv.Namespace, Name: name})
	return err
}
