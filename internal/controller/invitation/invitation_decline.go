// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package invitation

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/mail"
)

// Declining: the invitee says "this is not for me" on the acceptance page or in the email's
// link, and the acceptance server records it (DeclinedAtAnnotation). This controller, the one
// writer of the Invitation's status, marks it Declined with its link dead, then tells the
// Store's notification address once (recorded before it is sent, released when the send fails).

// Events of declined invitations.
const (
	EventInvitationDeclined  = "InvitationDeclined"
	EventDeclineNoticeFailed = "DeclineNoticeFailed"
	EventDeclineNoticeSent   = "DeclineNoticeSent"
)

// declinedMessage is the Ready condition's message of a declined Invitation.
const declinedMessage = "The invitee declined: it is not for them; the link no longer works"

// markDeclined records the decline the acceptance server stored: the Invitation is Declined,
// without its link's hash, onto the version read (a stale cache never turns an acceptance it did
// not see into a decline). The next reconcile tells the notification address.
func (r *Reconciler) markDeclined(ctx context.Context, inv *membershipv1alpha1.Invitation, status *statusWriter, at time.Time) error {
	if err := r.killLink(ctx, inv); err != nil {
		return err
	}
	declinedAt := metav1.NewTime(at)
	inv.Status.Phase = membershipv1alpha1.InvitationDeclined
	inv.Status.DeclinedAt = &declinedAt
	inv.Status.NextAttemptAt = nil
	setFinishedConditions(inv)
	status.Settle(inv)
	if err := status.Record(ctx, inv); err != nil {
		status.Abandon()
		return err
	}
	r.Recorder.Eventf(inv, nil, corev1.EventTypeNormal, EventInvitationDeclined, "Decline",
		"%s declined the invitation; its link no longer works", inv.Spec.Email)
	return nil
}

// notifyDeclined tells the Store's notification address, in the Store's language, that inv was
// declined: once, recorded (status.declineNotified) before the send and released when it fails,
// so a retry with backoff sends it again.
func (r *Reconciler) notifyDeclined(ctx context.Context, inv *membershipv1alpha1.Invitation, status *statusWriter) error {
	store, err := r.getStore(ctx, inv)
	if err != nil {
		return err
	}
	inv.Status.DeclineNotified = true
	if err := status.Record(ctx, inv); err != nil {
		status.Abandon()
		if apierrors.IsConflict(err) {
			return nil // a newer version brings the Invitation back
		}
		return err
	}
	if store == nil {
		return nil // nobody to tell
	}
	roles := make([]string, 0, len(inv.Spec.Roles))
	for _, role := range inv.Spec.Roles {
		roles = append(roles, string(role))
	}
	declinedAt := time.Time{}
	if inv.Status.DeclinedAt != nil {
		declinedAt = inv.Status.DeclinedAt.Time
	}
	content, err := mail.Render(mail.KindInvitationDeclined, string(store.Spec.Locale), mail.InvitationDeclinedData{
		StoreName: string(store.Spec.DisplayName), Email: string(inv.Spec.Email), Roles: roles, DeclinedAt: declinedAt,
	})
	if err == nil {
		err = r.Mail.Send(ctx, mail.Message{
			To:        string(store.NotificationAddress()),
			MessageID: mail.MessageID(inv.UID, string(mail.KindInvitationDeclined), r.MailDomain),
			Content:   content,
		})
	}
	if err != nil {
		r.Recorder.Eventf(inv, nil, corev1.EventTypeWarning, EventDeclineNoticeFailed, "Decline",
			"Could not tell the Store's notification address that the invitation was declined (retrying): %v", err)
		inv.Status.DeclineNotified = false
		if releaseErr := status.Record(ctx, inv); releaseErr != nil {
			status.Abandon()
		}
		return err
	}
	r.Recorder.Eventf(inv, nil, corev1.EventTypeNormal, EventDeclineNoticeSent, "Decline",
		"The Store's notification address was told that %s declined", inv.Spec.Email)
	return nil
}
