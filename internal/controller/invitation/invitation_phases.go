// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package invitation

import (
	"context"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/invitationpolicy"
	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/internal/metrics"
)

// reconcileNormal runs the ordered phases: act on a resend request; keep finished invitations
// until their retention ends; expire a sent one at its time; and for one not sent yet, re-check
// the refusals and deliver.
func (r *Reconciler) reconcileNormal(ctx context.Context, inv *membershipv1alpha1.Invitation, status *statusWriter) (ctrl.Result, error) {
	now := r.Clock.Now()
	// What others ask through the Invitation's annotations comes first: an acceptance the server
	// stored, then a revocation the Store wants; a resend cannot undo either.
	if member, accepted := invitationpolicy.Accepted(inv); accepted && inv.Status.Phase != membershipv1alpha1.InvitationAccepted {
		markAccepted(inv, member, now)
	}
	if at, declined := invitationpolicy.Declined(inv, now); declined && inv.Status.Phase != membershipv1alpha1.InvitationDeclined {
		return ctrl.Result{}, r.markDeclined(ctx, inv, status, at)
	}
	if invitationpolicy.Revoked(inv) && inv.Status.Phase != membershipv1alpha1.InvitationRevoked {
		return ctrl.Result{}, r.revoke(ctx, inv, status, now)
	}
	if err := r.handleResend(ctx, inv); err != nil {
		return ctrl.Result{}, err
	}

	switch inv.Status.Phase {
	case membershipv1alpha1.InvitationAccepted, membershipv1alpha1.InvitationRevoked, membershipv1alpha1.InvitationExpired,
		membershipv1alpha1.InvitationDeclined:
		if err := r.killLink(ctx, inv); err != nil {
			return ctrl.Result{}, err
		}
		if inv.Status.Phase == membershipv1alpha1.InvitationDeclined && !inv.Status.DeclineNotified {
			if err := r.notifyDeclined(ctx, inv, status); err != nil {
				return ctrl.Result{}, err
			}
		}
		setFinishedConditions(inv)
		return r.retain(ctx, inv, now)
	case membershipv1alpha1.InvitationSent:
		if invitationpolicy.GrantsOwnerWithoutStore(inv) { // roles may be edited after sending
			reason, message := invitationpolicy.Refusal(inv, nil, nil, nil, 0, false)
			return ctrl.Result{}, r.refuse(ctx, inv, status, reason, message)
		}
		expired, untilExpiry := expiry(inv, now)
		if expired {
			return r.expire(ctx, inv, now)
		}
		if inv.Status.TokenHash == "" {
			return r.adoptLegacyLink(ctx, inv, status, untilExpiry)
		}
		return ctrl.Result{RequeueAfter: untilExpiry}, nil
	}

	store, err := r.getStore(ctx, inv)
	if err != nil {
		return ctrl.Result{}, err
	}
	reason, message, err := invitationpolicy.Check(ctx, r.Client, inv, store, r.ExclusiveMembership)
	if err != nil {
		return ctrl.Result{}, err
	}
	if reason != "" {
		return ctrl.Result{}, r.refuse(ctx, inv, status, reason, message)
	}
	if store.MembersSuspended() && invitationpolicy.OwnerPurpose(inv) == "" {
		// The owner's activation is overdue: member invitations wait for it (the Store's change
		// brings them back); the owner's own activation goes out, it is how this ends.
		return ctrl.Result{}, r.refuse(ctx, inv, status, membershipv1alpha1.ReasonOwnerActivationOverdue,
			"The Store's owner did not activate by spec.owner.activationDeadline")
	}
	if wait := deliveryWait(inv, now); wait > 0 {
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	return r.deliver(ctx, inv, store, status)
}

// handleResend acts on a new value of the resend annotation: the link's hash goes at once (the
// old link stops working), the TTL and the attempt count restart, and the invitation is sent
// again under a new round (a new token and a new Message-ID).
func (r *Reconciler) handleResend(ctx context.Context, inv *membershipv1alpha1.Invitation) error {
	action, value := resendRequest(inv)
	switch action {
	case resendNone:
		return nil
	case resendRecord:
		if inv.Status.Phase != "" {
			r.Recorder.Eventf(inv, nil, corev1.EventTypeWarning, EventResendIgnored, "Resend",
				"An invitation that is %s cannot be resent; create a new Invitation instead", inv.Status.Phase)
		}
		inv.Status.ObservedResend = value
		return nil
	}
	if err := r.killLink(ctx, inv); err != nil {
		return err
	}
	inv.Status.ObservedResend = value
	inv.Status.Resends++
	inv.Status.Phase = membershipv1alpha1.InvitationPending
	inv.Status.DeliveryAttempts = 0
	inv.Status.SentAt, inv.Status.ExpiresAt, inv.Status.NextAttemptAt = nil, nil, nil
	meta.RemoveStatusCondition(&inv.Status.Conditions, membershipv1alpha1.ConditionDelivered)
	r.Recorder.Eventf(inv, nil, corev1.EventTypeNormal, EventInvitationResent, "Resend",
		"Resend requested: the previous link no longer works; a new one is being sent to %s", inv.Spec.Email)
	return nil
}

// refuse marks the invitation Failed with reason; its link, if one was made, stops working. It
// is re-checked when its Store, the Store's Members or its invitations change. A missing Store is
// not a refusal but a wait: GitOps tools apply in any order, so the invitation stays Pending
// (Reconciling) until its Store is applied.
//
// The status is written at once, without the link's hash, and only onto the version read
// (optimistic lock): a reconcile that read a stale cache (the invitation was sent meanwhile,
// say) conflicts and runs again instead of failing an invitation whose link is already in
// someone's mailbox.
func (r *Reconciler) refuse(ctx context.Context, inv *membershipv1alpha1.Invitation, status *statusWriter, reason, message string) error {
	// Refusals that end by themselves leave the invitation Pending: it goes once they do.
	waitingFor := map[string]string{
		membershipv1alpha1.ReasonStoreNotFound:          "the Store exists",
		membershipv1alpha1.ReasonOwnerActivationOverdue: "the owner activates",
	}[reason]
	waiting := waitingFor != ""
	announce := readyReason(inv) != reason
	inv.Status.Phase = membershipv1alpha1.InvitationFailed
	if waiting {
		inv.Status.Phase = membershipv1alpha1.InvitationPending
	}
	inv.Status.NextAttemptAt = nil
	inv.Status.TokenHash = ""
	setCondition(inv, membershipv1alpha1.ConditionReady, metav1.ConditionFalse, reason, message)
	meta.RemoveStatusCondition(&inv.Status.Conditions, membershipv1alpha1.ConditionDelivered)
	// The refusal is written whole (kstatus conditions and observedGeneration too), as the
	// final status write would: a reader never sees Failed without Stalled.
	status.Settle(inv)
	if status.Changed(inv) {
		if err := status.Record(ctx, inv); err != nil {
			return err
		}
	}
	if err := r.deleteToken(ctx, inv); err != nil {
		return err
	}
	if announce {
		if waiting {
			r.Recorder.Eventf(inv, nil, corev1.EventTypeNormal, EventInvitationWaiting, reason, "%s; it is sent once %s", message, waitingFor)
		} else {
			r.Recorder.Eventf(inv, nil, corev1.EventTypeWarning, EventInvitationRefused, reason, "%s; no email is sent", message)
		}
	}
	return nil
}

// markAccepted records the acceptance the acceptance server stored (AcceptedByAnnotation): the
// invitee is Member member. The finished phase then kills the link and sets Ready.
func markAccepted(inv *membershipv1alpha1.Invitation, member string, now time.Time) {
	at := metav1.NewTime(invitationpolicy.AcceptedAt(inv, now))
	inv.Status.Phase = membershipv1alpha1.InvitationAccepted
	inv.Status.AcceptedAt = &at
	inv.Status.Member = member
	inv.Status.NextAttemptAt = nil
}

// revoke withdraws the invitation on the request of RevokeAnnotation (the Store's, for owner
// invitations it no longer wants): it is recorded Revoked, without its link's hash, with the
// request's reason, onto the version read, so a reconcile from a stale cache never turns an
// acceptance it did not see into a revocation. (The acceptance server refuses the link as soon
// as it sees the annotation.) The next reconcile settles it as finished.
func (r *Reconciler) revoke(ctx context.Context, inv *membershipv1alpha1.Invitation, status *statusWriter, now time.Time) error {
	if err := r.killLink(ctx, inv); err != nil {
		return err
	}
	at := metav1.NewTime(now)
	why := inv.Annotations[membershipv1alpha1.RevokeAnnotation]
	inv.Status.Phase = membershipv1alpha1.InvitationRevoked
	inv.Status.RevokedAt = &at
	inv.Status.NextAttemptAt = nil
	setCondition(inv, membershipv1alpha1.ConditionReady, metav1.ConditionFalse, membershipv1alpha1.ReasonRevoked, why)
	status.Settle(inv)
	if err := status.Record(ctx, inv); err != nil {
		status.Abandon()
		return err
	}
	r.Recorder.Eventf(inv, nil, corev1.EventTypeNormal, EventInvitationRevoked, "Revoke",
		"Invitation to %s revoked: %s; its link no longer works", inv.Spec.Email, why)
	return nil
}

// deliver sends the invitation email: the attempt is recorded together with the link's hash in
// one optimistically locked status write (the link must work when the email lands), then the
// email goes out, then the result is written. A crash after the send and before the final status
// write sends again on restart with the same link and Message-ID: at most one duplicate, which
// receiving systems can drop.
func (r *Reconciler) deliver(ctx context.Context, inv *membershipv1alpha1.Invitation, store *membershipv1alpha1.Store,
	status *statusWriter) (ctrl.Result, error) {
	tok, err := r.token(inv)
	if err != nil {
		return ctrl.Result{}, err
	}
	expires := invitationpolicy.LinkExpiresAt(store, r.Clock.Now())
	roles := make([]string, 0, len(inv.Spec.Roles))
	for _, role := range inv.Spec.Roles {
		roles = append(roles, string(role))
	}
	kind := mail.KindInvitation
	var activateBy time.Time
	switch invitationpolicy.OwnerPurpose(inv) {
	case membershipv1alpha1.OwnerActivation:
		kind = mail.KindOwnerActivation
		if deadline := store.Spec.Owner.ActivationDeadline; deadline != nil {
			activateBy = deadline.Time
		}
	case membershipv1alpha1.OwnerTransfer:
		kind = mail.KindOwnerTransfer
	}
	content, err := mail.Render(kind, string(store.Spec.Locale), mail.InvitationData{
		StoreName: string(store.Spec.DisplayName), InvitedBy: string(inv.Spec.InvitedBy), Email: string(inv.Spec.Email),
		Roles: roles, Message: inv.Spec.Message, AcceptURL: r.acceptURL(tok), ExpiresAt: expires,
		DeclineURL: r.declineURL(inv, tok), ActivateBy: activateBy,
	})
	if err != nil {
		return ctrl.Result{}, err
	}

	inv.Status.Phase = membershipv1alpha1.InvitationPending
	inv.Status.TokenHash = credentials.HashTokenSecret(tok.Secret)
	inv.Status.DeliveryAttempts++
	attempt := inv.Status.DeliveryAttempts
	msg := fmt.Sprintf("Handing the invitation email to the SMTP server (attempt %d)", attempt)
	setCondition(inv, membershipv1alpha1.ConditionDelivered, metav1.ConditionFalse, membershipv1alpha1.ReasonSending, msg)
	setCondition(inv, membershipv1alpha1.ConditionReady, metav1.ConditionFalse, membershipv1alpha1.ReasonSending, msg)
	if err := status.Record(ctx, inv); err != nil {
		// Nothing was sent, so nothing of this attempt is to be written.
		status.Abandon()
		if apierrors.IsConflict(err) {
			// The cache is behind a write of ours (or someone else's); the watch event for the
			// newer version brings the invitation back. Sending now could send twice.
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}

	sendErr := r.Mail.Send(ctx, mail.Message{
		To:        string(inv.Spec.Email),
		MessageID: mail.MessageID(inv.UID, "invitation-"+strconv.Itoa(int(inv.Status.Resends)), r.MailDomain),
		Content:   content,
	})
	now := r.Clock.Now()
	if sendErr != nil {
		metrics.InvitationDeliveryFailures.WithLabelValues(inv.Namespace).Inc()
		backoff := deliveryBackoff(attempt)
		next := metav1.NewTime(now.Add(backoff))
		inv.Status.NextAttemptAt = &next
		msg := fmt.Sprintf("Attempt %d failed, next in %s: %v", attempt, backoff, sendErr)
		setCondition(inv, membershipv1alpha1.ConditionDelivered, metav1.ConditionFalse, membershipv1alpha1.ReasonDeliveryFailed, msg)
		setCondition(inv, membershipv1alpha1.ConditionReady, metav1.ConditionFalse, membershipv1alpha1.ReasonDeliveryFailed, msg)
		r.Recorder.Eventf(inv, nil, corev1.EventTypeWarning, EventInvitationDeliveryFailed, "Deliver",
			"Invitation email to %s not delivered (attempt %d; retrying in %s): %v", inv.Spec.Email, attempt, backoff, sendErr)
		logf.FromContext(ctx).Info("invitation email not delivered; retrying", "attempt", attempt, "retryAfter", backoff, "error", sendErr.Error())
		return ctrl.Result{RequeueAfter: backoff}, nil
	}

	metrics.InvitationsSent.WithLabelValues(inv.Namespace).Inc()
	// Second precision, as the API stores it, so the requeue and the stored expiresAt agree.
	sentAt := metav1.NewTime(now.Truncate(time.Second))
	expiresAt := metav1.NewTime(expires) // what the email said
	inv.Status.Phase = membershipv1alpha1.InvitationSent
	inv.Status.SentAt, inv.Status.ExpiresAt, inv.Status.NextAttemptAt = &sentAt, &expiresAt, nil
	msg = fmt.Sprintf("Invitation email accepted by the SMTP server (attempt %d); the link works until %s",
		attempt, expiresAt.UTC().Format(time.RFC3339))
	setCondition(inv, membershipv1alpha1.ConditionDelivered, metav1.ConditionTrue, membershipv1alpha1.ReasonSent, msg)
	setCondition(inv, membershipv1alpha1.ConditionReady, metav1.ConditionTrue, membershipv1alpha1.ReasonSent, msg)
	r.Recorder.Eventf(inv, nil, corev1.EventTypeNormal, EventInvitationSent, "Deliver",
		"Invitation email sent to %s; the link works until %s", inv.Spec.Email, expiresAt.UTC().Format(time.RFC3339))
	return ctrl.Result{RequeueAfter: expiresAt.Sub(now)}, nil
}

// expire ends a sent invitation whose time is up: its link stops working.
func (r *Reconciler) expire(ctx context.Context, inv *membershipv1alpha1.Invitation, now time.Time) (ctrl.Result, error) {
	if err := r.killLink(ctx, inv); err != nil {
		return ctrl.Result{}, err
	}
	inv.Status.Phase = membershipv1alpha1.InvitationExpired
	metrics.InvitationsExpired.WithLabelValues(inv.Namespace).Inc()
	setFinishedConditions(inv)
	r.Recorder.Eventf(inv, nil, corev1.EventTypeNormal, EventInvitationExpired, "Expire",
		"Invitation to %s expired at %s (noticed %s later); its link no longer works",
		inv.Spec.Email, inv.Status.ExpiresAt.UTC().Format(time.RFC3339), now.Sub(inv.Status.ExpiresAt.Time).Round(time.Millisecond))
	return r.retain(ctx, inv, now)
}

// retain deletes a finished invitation once --invitation-retention has passed, and otherwise
// asks to be called again then.
func (r *Reconciler) retain(ctx context.Context, inv *membershipv1alpha1.Invitation, now time.Time) (ctrl.Result, error) {
	deleteNow, after := retention(inv, now, r.Retention)
	if !deleteNow {
		return ctrl.Result{RequeueAfter: after}, nil
	}
	if err := r.Delete(ctx, inv, client.Preconditions{UID: &inv.UID}); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	r.Recorder.Eventf(inv, nil, corev1.EventTypeNormal, EventInvitationDeleted, "Retention",
		"Invitation %s for %s deleted: %s ago and kept for --invitation-retention %s",
		inv.Status.Phase, inv.Spec.Email, now.Sub(finishedAt(inv).Time).Round(time.Second), r.Retention)
	return ctrl.Result{}, nil
}

// adoptLegacyLink moves the link of an invitation sent before status.tokenHash (its hash in a
// token Secret) into the status, onto the version read, and only then deletes the token Secret:
// the link in the email works throughout (the acceptance server reads the Secret while the
// status has no hash), and the invitation costs nothing more afterwards. The token is derived,
// so its hash is the one the Secret held.
func (r *Reconciler) adoptLegacyLink(ctx context.Context, inv *membershipv1alpha1.Invitation, status *statusWriter,
	untilExpiry time.Duration) (ctrl.Result, error) {
	tok, err := r.token(inv)
	if err != nil {
		return ctrl.Result{}, err
	}
	inv.Status.TokenHash = credentials.HashTokenSecret(tok.Secret)
	if err := status.Record(ctx, inv); err != nil {
		status.Abandon()
		if apierrors.IsConflict(err) {
			return ctrl.Result{}, nil // a newer version is on its way
		}
		return ctrl.Result{}, err
	}
	if err := r.deleteToken(ctx, inv); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: untilExpiry}, nil
}

// reconcileDelete revokes the link at once, then releases the Invitation.
func (r *Reconciler) reconcileDelete(ctx context.Context, inv *membershipv1alpha1.Invitation) error {
	if !controllerutil.ContainsFinalizer(inv, membershipv1alpha1.InvitationFinalizer) {
		return nil
	}
	if err := r.deleteToken(ctx, inv); err != nil {
		return err
	}
	// A transfer accepted but not yet completed leaves the new owner's password hash behind; with
	// no garbage collector (envtest) nothing else would remove it.
	if err := r.deleteOwnedSecret(ctx, inv, membershipv1alpha1.NewOwnerCredentialsSecretName(inv.Name)); err != nil {
		return err
	}
	switch inv.Status.Phase {
	case "", membershipv1alpha1.InvitationPending, membershipv1alpha1.InvitationSent:
		r.Recorder.Eventf(inv, nil, corev1.EventTypeNormal, EventInvitationRevoked, "Delete",
			"Invitation to %s revoked by its deletion; its link no longer works", inv.Spec.Email)
	}
	base := inv.DeepCopy()
	controllerutil.RemoveFinalizer(inv, membershipv1alpha1.InvitationFinalizer)
	return client.IgnoreNotFound(r.Patch(ctx, inv, client.MergeFrom(base)))
}

func (r *Reconciler) getStore(ctx context.Context, inv *membershipv1alpha1.Invitation) (*membershipv1alpha1.Store, error) {
	store := &membershipv1alpha1.Store{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: inv.Namespace, Name: inv.Spec.StoreRef.Name}, store); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return store, nil
}

// setFinishedConditions sets Ready for an Accepted, Expired or Revoked invitation.
func setFinishedConditions(inv *membershipv1alpha1.Invitation) {
	switch inv.Status.Phase {
	case membershipv1alpha1.InvitationAccepted:
		setCondition(inv, membershipv1alpha1.ConditionReady, metav1.ConditionTrue, membershipv1alpha1.ReasonAccepted,
			invitationpolicy.AcceptedMessage(inv.Status.Member))
	case membershipv1alpha1.InvitationExpired:
		at := "its expiry time"
		if inv.Status.ExpiresAt != nil {
			at = inv.Status.ExpiresAt.UTC().Format(time.RFC3339)
		}
		setCondition(inv, membershipv1alpha1.ConditionReady, metav1.ConditionFalse, membershipv1alpha1.ReasonExpired,
			fmt.Sprintf("The link expired at %s; annotate %s to send a new one", at, membershipv1alpha1.ResendAnnotation))
	case membershipv1alpha1.InvitationDeclined:
		setCondition(inv, membershipv1alpha1.ConditionReady, metav1.ConditionTrue, membershipv1alpha1.ReasonDeclined, declinedMessage)
	case membershipv1alpha1.InvitationRevoked:
		why := inv.Annotations[membershipv1alpha1.RevokeAnnotation]
		if why == "" {
			why = "The invitation was withdrawn; its link no longer works"
		}
		setCondition(inv, membershipv1alpha1.ConditionReady, metav1.ConditionFalse, membershipv1alpha1.ReasonRevoked, why)
	}
}

func setCondition(inv *membershipv1alpha1.Invitation, conditionType string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&inv.Status.Conditions, metav1.Condition{
		Type: conditionType, Status: status, Reason: reason, Message: message, ObservedGeneration: inv.Generation,
	})
}
