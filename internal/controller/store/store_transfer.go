// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package store

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/accounttoken"
	"github.com/storeops/member-operator/internal/credrequest"
	"github.com/storeops/member-operator/internal/invitationpolicy"
	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/internal/ownsecret"
)

// Handing a Store to a new owner, in the order it happens:
//
//  1. Someone changes spec.owner.email (kubectl store transfer-owner, or Git). reconcileActiveOwner
//     (store_owner.go) sees an active owner and another address and creates the transfer
//     Invitation (createOwnerInvitation); noticeTransfer emails the current owner at once with a
//     single-use /transfer/cancel link; revokeOtherTransfers withdraws any earlier transfer.
//  2. The Invitation controller sends the invitation. The new owner accepts it on the acceptance
//     server, which writes their password hash and TOTP key into a new-owner Secret and marks the
//     Invitation Accepted; the current owner keeps full access meanwhile. If the current owner
//     follows the cancel link first, the acceptance server annotates the Invitation
//     (cancelled-by-owner) and revokeOtherTransfers withdraws it.
//  3. stagedSecrets finds the new-owner Secret and completeTransfer hands over, in an order safe
//     to repeat after a crash: it asks the Member controller (a transfer credential request,
//     internal/credrequest) to put the new hash and TOTP key into the owner's credential Secret
//     and waits for that write (the previous owner's login stops there); then the owner Member
//     takes the new address, notifyPreviousOwner tells the previous owner, the Store records the
//     new address, and the new-owner Secret goes last.

// revokeOtherTransfers revokes every live owner Invitation but keep, saying why: the owner
// stopped it, or the spec no longer names its address.
func (r *Reconciler) revokeOtherTransfers(ctx context.Context, store *membershipv1alpha1.Store, owned []*membershipv1alpha1.Invitation, keep string) error {
	var stopped, reverted []*membershipv1alpha1.Invitation
	for _, inv := range toRevoke(owned, keep) {
		if cancelledByOwner(inv) {
			stopped = append(stopped, inv)
		} else {
			reverted = append(reverted, inv)
		}
	}
	if err := r.revokeAll(ctx, store, stopped, "the owner stopped the hand-over through the link emailed to them"); err != nil {
		return err
	}
	return r.revokeAll(ctx, store, reverted, "the Store's spec.owner.email no longer names this address")
}

// noticeTransfer emails the current owner, once per transfer Invitation, that the store is being
// handed to its address, with a single-use link (a Secret the owner Member controls, naming the
// Invitation) that stops it until it is accepted. The notice is recorded on the Invitation after
// the send; a failed send drops the link and is retried with backoff, under the same Message-ID.
func (r *Reconciler) noticeTransfer(ctx context.Context, store *membershipv1alpha1.Store, owner *membershipv1alpha1.Member,
	inv *membershipv1alpha1.Invitation) error {
	if inv.Annotations[membershipv1alpha1.OwnerNotifiedAnnotation] != "" || inv.UID == "" || accepted(inv) {
		return nil
	}
	expires := r.Clock.Now().Add(invitationpolicy.LinkTTL(store)).UTC().Truncate(time.Second)
	tok, secret, err := accounttoken.Issue(ctx, r.Client, r.Scheme, r.Random, owner, store.Name, membershipv1alpha1.PurposeTransferCancel,
		expires, membershipv1alpha1.InvitationAnnotation, inv.Name)
	if err != nil {
		return err
	}
	err = func() error {
		content, err := mail.Render(mail.KindOwnershipTransferStarted, string(store.Spec.Locale), mail.OwnershipTransferData{
			StoreName: string(store.Spec.DisplayName), MemberName: string(owner.Spec.DisplayName), Email: string(owner.Spec.Email),
			NewOwnerEmail: string(inv.Spec.Email), ExpiresAt: expires,
			CancelURL: strings.TrimRight(r.PublicURL, "/") + "/transfer/cancel?token=" + url.QueryEscape(tok.String()),
		})
		if err != nil {
			return err
		}
		return r.Mail.Send(ctx, mail.Message{To: string(owner.Spec.Email), Content: content,
			MessageID: mail.MessageID(inv.UID, string(mail.KindOwnershipTransferStarted), r.MailDomain)})
	}()
	if err != nil {
		_, _ = ownsecret.Delete(ctx, r.Client, secret)
		r.Recorder.Eventf(store, inv, corev1.EventTypeWarning, EventOwnershipNoticeFailed, "Transfer",
			"Could not tell the owner %s about the hand-over to %s (retrying): %v", owner.Spec.Email, inv.Spec.Email, err)
		return fmt.Errorf("ownership-transfer-started email: %w", err)
	}
	base := inv.DeepCopy()
	if inv.Annotations == nil {
		inv.Annotations = map[string]string{}
	}
	inv.Annotations[membershipv1alpha1.OwnerNotifiedAnnotation] = r.Clock.Now().UTC().Format(time.RFC3339)
	if err := r.Patch(ctx, inv, client.MergeFrom(base)); err != nil {
		return client.IgnoreNotFound(err)
	}
	r.Recorder.Eventf(store, inv, corev1.EventTypeNormal, EventOwnerTransferNotice, "Transfer",
		"The owner %s was told of the hand-over to %s, with a link to stop it", owner.Spec.Email, inv.Spec.Email)
	return nil
}

// stagedSecrets reads the new-owner Secrets of the Store's accepted transfer Invitations. The
// cache may be behind the acceptance that wrote one (the Invitation and Secret informers are
// separate), so a miss is confirmed against the API server: deciding "no transfer under way" on
// a stale cache would start a second one.
func (r *Reconciler) stagedSecrets(ctx context.Context, store *membershipv1alpha1.Store,
	owned []*membershipv1alpha1.Invitation) (map[string]*corev1.Secret, error) {
	out := map[string]*corev1.Secret{}
	for _, inv := range owned {
		if !accepted(inv) || inv.Annotations[membershipv1alpha1.OwnerInvitationAnnotation] != membershipv1alpha1.OwnerTransfer {
			continue
		}
		key := types.NamespacedName{Namespace: store.Namespace, Name: membershipv1alpha1.NewOwnerCredentialsSecretName(inv.Name)}
		secret := &corev1.Secret{}
		err := r.Get(ctx, key, secret)
		if at := invitationpolicy.AcceptedAt(inv, time.Time{}); apierrors.IsNotFound(err) && !at.IsZero() && r.Clock.Since(at) < time.Minute {
			err = r.APIReader.Get(ctx, key, secret)
		}
		switch {
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			return nil, err
		}
		if metav1.IsControlledBy(secret, inv) {
			out[inv.Name] = secret
		}
	}
	return out, nil
}

// completeTransfer hands the store to the accepted transfer's address, in an order that is safe
// to repeat after a crash at any step: a Member that already has the address goes (one account
// per email per store; it is not told its access was removed: it is the new owner); the Member
// controller is asked to give the owner's credential Secret the new password hash and TOTP
// secret, which is the moment the previous owner's credentials stop working, and the transfer
// waits for that write (done is false meanwhile); the owner Member takes the new email; the
// previous owner is told; the new-owner Secret goes last, marking the transfer done.
func (r *Reconciler) completeTransfer(ctx context.Context, store *membershipv1alpha1.Store, owner *membershipv1alpha1.Member,
	members []membershipv1alpha1.Member, inv *membershipv1alpha1.Invitation, staged, credentials *corev1.Secret) (bool, error) {
	for i := range members {
		m := &members[i]
		if m.Name == owner.Name || !m.DeletionTimestamp.IsZero() || !strings.EqualFold(string(m.Spec.Email), string(inv.Spec.Email)) {
			continue
		}
		if m.Annotations[membershipv1alpha1.SupersededByAnnotation] != owner.Name {
			base := m.DeepCopy()
			if m.Annotations == nil {
				m.Annotations = map[string]string{}
			}
			m.Annotations[membershipv1alpha1.SupersededByAnnotation] = owner.Name
			if err := r.Patch(ctx, m, client.MergeFrom(base)); err != nil {
				return false, client.IgnoreNotFound(err)
			}
		}
		if err := r.Delete(ctx, m, client.Preconditions{UID: &m.UID}); client.IgnoreNotFound(err) != nil {
			return false, err
		}
		r.Recorder.Eventf(store, m, corev1.EventTypeNormal, EventMemberSuperseded, "Transfer",
			"Member %s removed: %s is becoming the owner (one account per email per store)", m.Name, inv.Spec.Email)
	}

	// The new owner's password and key reach the owner's credential Secret through its one
	// writer, the Member controller (internal/credrequest); that write, whose update brings the
	// Store back here, is the moment the previous owner's credentials stop working. Once the
	// Store recorded the new address (below) this step is done: a password the new owner
	// changed since is theirs, and a repeat after a crash must not put the staged one back.
	if !strings.EqualFold(string(store.Status.OwnerEmail), string(inv.Spec.Email)) &&
		(!bytes.Equal(credentials.Data[membershipv1alpha1.CredentialPasswordHash], staged.Data[membershipv1alpha1.CredentialPasswordHash]) ||
			!bytes.Equal(credentials.Data[membershipv1alpha1.CredentialTOTPSecret], staged.Data[membershipv1alpha1.CredentialTOTPSecret])) {
		_, err := credrequest.Ask(ctx, r.Client, r.APIReader, r.AccountNamespace, credrequest.Request{
			Kind: membershipv1alpha1.CredentialRequestTransfer, Member: owner, Invitation: inv.Name,
			PasswordHash: staged.Data[membershipv1alpha1.CredentialPasswordHash],
			TOTPSecret:   string(staged.Data[membershipv1alpha1.CredentialTOTPSecret]),
			TOTPURI:      string(staged.Data[membershipv1alpha1.CredentialTOTPURI]),
		})
		return false, err
	}

	if !strings.EqualFold(string(owner.Spec.Email), string(inv.Spec.Email)) || owner.Annotations[membershipv1alpha1.InvitationAnnotation] != inv.Name {
		base := owner.DeepCopy()
		owner.Spec.Email, owner.Spec.DisplayName = inv.Spec.Email, store.Spec.Owner.DisplayName
		if owner.Annotations == nil {
			owner.Annotations = map[string]string{}
		}
		owner.Annotations[membershipv1alpha1.InvitationAnnotation] = inv.Name
		if err := r.Patch(ctx, owner, client.MergeFrom(base)); err != nil {
			return false, err
		}
	}

	if previous := inv.Annotations[membershipv1alpha1.PreviousOwnerAnnotation]; previous != "" &&
		!strings.EqualFold(previous, string(inv.Spec.Email)) {
		if err := r.notifyPreviousOwner(ctx, store, inv, previous); err != nil {
			r.Recorder.Eventf(store, inv, corev1.EventTypeWarning, EventOwnershipNoticeFailed, "Transfer",
				"Could not tell the previous owner %s (retrying): %v", previous, err)
			return false, fmt.Errorf("ownership-transferred email: %w", err)
		}
	}
	// The new address is the owner's from now on: recorded before the staged Secret (the mark of
	// a transfer under way) goes, so a crash in between cannot put the previous address back.
	if !strings.EqualFold(string(store.Status.OwnerEmail), string(inv.Spec.Email)) {
		base := store.DeepCopy()
		store.Status.OwnerEmail = inv.Spec.Email
		if err := r.Status().Patch(ctx, store, client.MergeFrom(base)); err != nil {
			return false, err
		}
	}
	// The previous owner's link that would have stopped the hand-over ends with it.
	if err := accounttoken.RevokeAll(ctx, r.APIReader, r.Client, owner, membershipv1alpha1.PurposeTransferCancel); err != nil {
		return false, err
	}
	if err := r.Delete(ctx, staged, client.Preconditions{UID: &staged.UID}); client.IgnoreNotFound(err) != nil {
		return false, err
	}
	r.Recorder.Eventf(store, inv, corev1.EventTypeNormal, EventOwnershipTransferred, "Transfer",
		"Ownership transferred from %s to %s", inv.Annotations[membershipv1alpha1.PreviousOwnerAnnotation], inv.Spec.Email)
	return true, nil
}

// notifyPreviousOwner sends the ownership-transferred email. Its Message-ID is derived from the
// transfer Invitation, so a retry after a crash is recognisable as the same message.
func (r *Reconciler) notifyPreviousOwner(ctx context.Context, store *membershipv1alpha1.Store, inv *membershipv1alpha1.Invitation, previous string) error {
	at := invitationpolicy.AcceptedAt(inv, r.Clock.Now())
	content, err := mail.Render(mail.KindOwnershipTransferred, string(store.Spec.Locale), mail.OwnershipTransferredData{
		StoreName: string(store.Spec.DisplayName), MemberName: string(inv.Spec.InvitedBy), Email: previous,
		NewOwnerEmail: string(inv.Spec.Email), TransferredAt: at,
	})
	if err != nil {
		return err
	}
	return r.Mail.Send(ctx, mail.Message{
		To: previous, MessageID: mail.MessageID(inv.UID, string(mail.KindOwnershipTransferred), r.MailDomain), Content: content,
	})
}
