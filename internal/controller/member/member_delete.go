// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package member

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/mail"
)

// Deleting a Member: its access goes first (credential Secret, links), the person is told, then
// the finalizer goes.

// reconcileDelete revokes access first, always; then tells the person, in the Store's language;
// then releases the Member. A failing email is retried until RemovalNoticeTimeout, then given up
// with a Warning event.
func (r *Reconciler) reconcileDelete(ctx context.Context, member *membershipv1alpha1.Member) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(member, membershipv1alpha1.MemberFinalizer) {
		return ctrl.Result{}, nil
	}
	revoked, err := r.revokeOwnSecret(ctx, member, membershipv1alpha1.CredentialsSecretName(member.Name))
	if err != nil {
		return ctrl.Result{}, err
	}
	if _, err := r.revokeOwnSecret(ctx, member, membershipv1alpha1.RetainedSecretName(member.Name)); err != nil {
		return ctrl.Result{}, err
	}
	if _, err := r.expireAccountTokens(ctx, member, true); err != nil {
		return ctrl.Result{}, err
	}
	if revoked {
		r.Recorder.Eventf(member, nil, corev1.EventTypeNormal, EventAccessRevoked, "Delete",
			"Access revoked: the Member is being deleted")
	}

	// Only someone who had access is told it was removed, and not someone whose address became
	// the store's owner (an ownership transfer to a Member), nor a machine (no address).
	if member.Status.JoinedAt != nil && member.Annotations[membershipv1alpha1.SupersededByAnnotation] == "" && !member.IsIntegration() {
		// Deleting the Secrets above wakes this Member again; if the previous reconcile has sent
		// the email and removed the finalizer, a cache that has not seen that yet would send it
		// twice. The API server knows: one uncached read per deletion.
		if finished, err := r.finalizerGone(ctx, member); err != nil || finished {
			return ctrl.Result{}, err
		}
		if err := r.sendRemovalNotice(ctx, member); err != nil {
			giveUp, retryAfter := removalNoticeRetry(*member.DeletionTimestamp, r.Clock.Now(), r.RemovalNoticeTimeout)
			if !giveUp {
				logf.FromContext(ctx).Info("access-removed email failed; retrying", "retryAfter", retryAfter, "error", err.Error())
				r.Recorder.Eventf(member, nil, corev1.EventTypeWarning, EventAccessRemovedEmailError, "Delete",
					"Could not send the access-removed email (retrying for up to %s): %v", r.RemovalNoticeTimeout, err)
				return ctrl.Result{RequeueAfter: retryAfter}, nil
			}
			r.Recorder.Eventf(member, nil, corev1.EventTypeWarning, EventAccessRemovedEmailGaveUp, "Delete",
				"Gave up the access-removed email after %s; the Member is removed without it: %v", r.RemovalNoticeTimeout, err)
		} else {
			r.Recorder.Eventf(member, nil, corev1.EventTypeNormal, EventAccessRemovedEmailSent, "Delete",
				"Access-removed email sent to %s", member.Spec.Email)
		}
	}

	base := member.DeepCopy()
	controllerutil.RemoveFinalizer(member, membershipv1alpha1.MemberFinalizer)
	return ctrl.Result{}, client.IgnoreNotFound(r.Patch(ctx, member, client.MergeFrom(base)))
}

// finalizerGone reports whether the API server no longer holds member with the operator's
// finalizer (it is gone, or the finalizer was removed), when the cache may still say it does.
func (r *Reconciler) finalizerGone(ctx context.Context, member *membershipv1alpha1.Member) (bool, error) {
	live := &membershipv1alpha1.Member{}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(member), live); err != nil {
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	}
	return live.UID != member.UID || !controllerutil.ContainsFinalizer(live, membershipv1alpha1.MemberFinalizer), nil
}

func (r *Reconciler) sendRemovalNotice(ctx context.Context, member *membershipv1alpha1.Member) error {
	storeName, locale := member.Spec.StoreRef.Name, string(membershipv1alpha1.LocaleEnglish)
	store := &membershipv1alpha1.Store{}
	err := r.Get(ctx, types.NamespacedName{Namespace: member.Namespace, Name: member.Spec.StoreRef.Name}, store)
	switch {
	case err == nil:
		storeName, locale = string(store.Spec.DisplayName), string(store.Spec.Locale)
	case !apierrors.IsNotFound(err):
		return err
	}
	content, err := mail.Render(mail.KindAccessRemoved, locale, mail.AccessRemovedData{
		StoreName: storeName, MemberName: string(member.Spec.DisplayName), Email: string(member.Spec.Email),
		RemovedAt: member.DeletionTimestamp.Time,
	})
	if err != nil {
		return err
	}
	return r.Mail.Send(ctx, mail.Message{
		To:        string(member.Spec.Email),
		MessageID: mail.MessageID(member.UID, string(mail.KindAccessRemoved), r.MailDomain),
		Content:   content,
	})
}
