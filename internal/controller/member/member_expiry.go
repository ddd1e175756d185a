// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package member

import (
	"context"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/mail"
)

// Access that ends by itself: spec.accessExpiresAt. The Member is reconciled at that instant
// (accessLeft sets the requeue; nothing polls), its credentials are set aside as for a disabled
// Member, and the person is told once per expiry. A later date gives the same credentials back.

// EventAccessExpired is the event of a Member whose access ended at spec.accessExpiresAt.
const EventAccessExpired = "AccessExpired"

// expireAccess withholds member's credentials (kept aside), shows it Expired and emails the
// person, once per spec.accessExpiresAt (recorded in status before it is sent: internal/skeleton's
// record before acting; a failed send is released and retried with backoff).
func (r *Reconciler) expireAccess(ctx context.Context, member *membershipv1alpha1.Member, store *membershipv1alpha1.Store) error {
	if err := r.revokeRetaining(ctx, member); err != nil {
		return err
	}
	end := member.Spec.AccessExpiresAt.DeepCopy()
	previous := member.Status.Phase
	member.Status.Phase = membershipv1alpha1.MemberExpired
	member.Status.CredentialsSecret = ""
	msg := fmt.Sprintf("Access ended at %s (spec.accessExpiresAt); the credentials are kept aside, and a later date restores them",
		end.UTC().Format(time.RFC3339))
	meta.SetStatusCondition(&member.Status.Conditions, metav1.Condition{
		Type: membershipv1alpha1.ConditionCredentialsReady, Status: metav1.ConditionFalse,
		Reason: membershipv1alpha1.ReasonAccessExpired, Message: msg, ObservedGeneration: member.Generation,
	})
	meta.SetStatusCondition(&member.Status.Conditions, metav1.Condition{
		Type: membershipv1alpha1.ConditionReady, Status: metav1.ConditionTrue,
		Reason: membershipv1alpha1.ReasonAccessExpired, Message: msg, ObservedGeneration: member.Generation,
	})
	if previous != membershipv1alpha1.MemberExpired {
		r.Recorder.Eventf(member, nil, corev1.EventTypeNormal, EventAccessExpired, "ExpireAccess", "%s", msg)
	}
	if notice := member.Status.AccessExpiredNotice; notice != nil && notice.Equal(end) || member.IsIntegration() {
		return nil // told already, or a machine: nobody to tell
	}
	told := member.Status.AccessExpiredNotice
	if claimed, err := r.claimReset(ctx, member, func(st *membershipv1alpha1.MemberStatus) { st.AccessExpiredNotice = end }); !claimed || err != nil {
		return err
	}
	content, err := mail.Render(mail.KindAccessExpired, string(store.Spec.Locale), mail.AccessRemovedData{
		StoreName: string(store.Spec.DisplayName), MemberName: string(member.Spec.DisplayName), Email: string(member.Spec.Email),
		RemovedAt: end.Time,
	})
	if err == nil {
		err = r.Mail.Send(ctx, mail.Message{
			To:        string(member.Spec.Email),
			MessageID: mail.MessageID(member.UID, string(mail.KindAccessExpired)+"-"+strconv.FormatInt(end.Unix(), 10), r.MailDomain),
			Content:   content,
		})
	}
	if err != nil {
		return r.releaseReset(ctx, member, func(st *membershipv1alpha1.MemberStatus) { st.AccessExpiredNotice = told }, err)
	}
	return nil
}
