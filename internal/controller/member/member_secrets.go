// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package member

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/ownsecret"
)

// The Member's own Secrets (credentials, retained) are read, written and deleted only through
// internal/ownsecret: the operator acts only on Secrets the Member controls. A Member whose
// Secret name is taken by someone else's Secret is in Conflict and leaves that Secret alone.

// ownSecret reads the Secret name that member controls, from the cache; nil when there is none,
// a *ownsecret.ForeignError when the name is someone else's.
func (r *Reconciler) ownSecret(ctx context.Context, member *membershipv1alpha1.Member, name string) (*corev1.Secret, error) {
	return ownsecret.Get(ctx, r.Client, member, client.ObjectKey{Namespace: member.Namespace, Name: name})
}

// createOwnSecret creates secret with member as its controller (see ownsecret.Create).
func (r *Reconciler) createOwnSecret(ctx context.Context, member *membershipv1alpha1.Member, secret *corev1.Secret) error {
	return ownsecret.Create(ctx, r.Client, r.APIReader, r.Scheme, member, secret)
}

// revokeOwnSecret deletes the Secret name if member controls it (see ownsecret.Revoke).
func (r *Reconciler) revokeOwnSecret(ctx context.Context, member *membershipv1alpha1.Member, name string) (bool, error) {
	return ownsecret.Revoke(ctx, r.Client, r.Client, member, client.ObjectKey{Namespace: member.Namespace, Name: name})
}

// secretConflict puts member in Conflict because a Secret it needs is someone else's: no
// credentials are issued or kept, and a Warning names the Secret once. The foreign Secret is not
// watched (it may lack the operator's label), so the Member looks again after a minute.
func (r *Reconciler) secretConflict(member *membershipv1alpha1.Member, foreign error) ctrl.Result {
	previous := meta.FindStatusCondition(member.Status.Conditions, membershipv1alpha1.ConditionReady)
	member.Status.Phase = membershipv1alpha1.MemberConflict
	member.Status.CredentialsSecret = ""
	setConditions(member, metav1.ConditionFalse, membershipv1alpha1.ReasonSecretConflict, foreign.Error())
	if previous == nil || previous.Reason != membershipv1alpha1.ReasonSecretConflict || previous.Message != foreign.Error() {
		r.Recorder.Eventf(member, nil, corev1.EventTypeWarning, EventSecretConflict, "IssueCredentials", "%s", foreign.Error())
	}
	return ctrl.Result{RequeueAfter: time.Minute}
}
