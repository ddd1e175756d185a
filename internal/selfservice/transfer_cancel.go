// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package selfservice

import (
	"context"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/accounttoken"
	"github.com/storeops/member-operator/internal/invitationpolicy"
	"github.com/storeops/member-operator/internal/web"
)

// EventOwnerStoppedTransfer is the event on a transfer Invitation the current owner stopped.
const EventOwnerStoppedTransfer = "OwnerStoppedTransfer"

// The Store controller emails the current owner, when a transfer starts, a link to
// /transfer/cancel. Opening it shows one button; its POST spends the link and marks the transfer
// Invitation cancelled by the owner, which the Store then revokes (its link answers 410) and does
// not start again for that address while the Invitation exists.

// showCancelTransfer answers GET /transfer/cancel?token=...: a page with one button.
func (s *Service) showCancelTransfer(w http.ResponseWriter, r *http.Request) {
	raw, acct, secret := s.openAccountLink(w, r, membershipv1alpha1.PurposeTransferCancel)
	if acct == nil {
		return
	}
	locale := web.LocaleOf(acct.store)
	inv, err := s.pendingTransfer(r.Context(), acct, secret)
	if err != nil || inv == nil {
		if err != nil {
			s.Log.Error(err, "reading a transfer to stop")
		}
		s.renderResetProblem(w, locale, web.OutcomeNoLongerValid)
		return
	}
	web.Render(w, http.StatusOK, web.ButtonPage(locale, raw, "transfer.cancel", "cancel", acct.store.Spec.DisplayName, inv.Spec.Email))
}

// submitCancelTransfer spends the link and marks the transfer Invitation cancelled by the owner.
func (s *Service) submitCancelTransfer(w http.ResponseWriter, r *http.Request) {
	posted, ok := s.postedLink(w, r, membershipv1alpha1.PurposeTransferCancel)
	if !ok {
		return
	}
	ctx := r.Context()
	acct, secret, outcome, err := posted.acct, posted.secret, posted.outcome, posted.err
	locale := posted.locale
	var inv *membershipv1alpha1.Invitation
	if err == nil && outcome == web.OutcomeAccepted {
		if inv, err = s.pendingTransfer(ctx, acct, secret); err == nil && inv == nil {
			outcome = web.OutcomeNoLongerValid // accepted, revoked or gone meanwhile
		}
	}
	if err == nil && outcome == web.OutcomeAccepted {
		var used bool
		if used, err = accounttoken.Use(ctx, s.Client, secret); err == nil && !used {
			outcome = web.OutcomeAlreadyUsed
		}
	}
	if err == nil && outcome == web.OutcomeAccepted {
		base := inv.DeepCopy()
		if inv.Annotations == nil {
			inv.Annotations = map[string]string{}
		}
		inv.Annotations[membershipv1alpha1.CancelledByOwnerAnnotation] = s.Clock.Now().UTC().Format(time.RFC3339)
		err = s.Client.Patch(ctx, inv, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
	}
	if err != nil {
		s.Log.Error(err, "stopping a transfer failed")
		outcome = web.OutcomeInternalError
	}
	if outcome != web.OutcomeAccepted {
		s.renderResetProblem(w, locale, outcome)
		return
	}
	s.Recorder.Eventf(inv, acct.member, corev1.EventTypeNormal, EventOwnerStoppedTransfer, "CancelTransfer",
		"The owner %s stopped the hand-over of the store to %s", acct.member.Spec.Email, inv.Spec.Email)
	web.Render(w, http.StatusOK, web.DonePage(locale, "transfer.cancel", acct.store.Spec.DisplayName))
}

// pendingTransfer is the transfer Invitation a cancel link names, if it is still the Store's own,
// a transfer, and not accepted, revoked or stopped yet; nil otherwise.
func (s *Service) pendingTransfer(ctx context.Context, acct *account, secret *corev1.Secret) (*membershipv1alpha1.Invitation, error) {
	inv := &membershipv1alpha1.Invitation{}
	if err := s.Client.Get(ctx, client.ObjectKey{Namespace: secret.Namespace, Name: secret.Annotations[membershipv1alpha1.InvitationAnnotation]}, inv); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	if !metav1.IsControlledBy(inv, acct.store) || invitationpolicy.OwnerPurpose(inv) != membershipv1alpha1.OwnerTransfer ||
		!inv.DeletionTimestamp.IsZero() || inv.Annotations[membershipv1alpha1.CancelledByOwnerAnnotation] != "" {
		return nil, nil
	}
	if _, accepted := invitationpolicy.Accepted(inv); accepted || invitationpolicy.Revoked(inv) {
		return nil, nil
	}
	switch inv.Status.Phase {
	case membershipv1alpha1.InvitationExpired, membershipv1alpha1.InvitationFailed:
		return nil, nil
	}
	return inv, nil
}
