// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package member

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/index"
	"github.com/storeops/member-operator/internal/ownsecret"
	"github.com/storeops/member-operator/internal/seats"
)

// reconcileNormal expires the Member's account tokens (reset links), then runs the phases.
func (r *Reconciler) reconcileNormal(ctx context.Context, member *membershipv1alpha1.Member) (ctrl.Result, error) {
	firstReconcile := member.Status.Phase == ""
	expired, _ := accessLeft(member, r.Clock.Now())
	next, err := r.expireAccountTokens(ctx, member, member.Spec.Disabled || expired)
	if err != nil {
		return ctrl.Result{}, err
	}
	result, err := r.reconcilePhases(ctx, member)
	if err == nil {
		err = r.handleResets(ctx, member, firstReconcile)
	}
	if next > 0 && (result.RequeueAfter == 0 || next < result.RequeueAfter) {
		result.RequeueAfter = next
	}
	return result, err
}

// expireAccountTokens deletes the Member's account token Secrets whose links have expired (all
// of them when all is true: a disabled or deleted Member's links die with its access) and says
// when the next one expires.
func (r *Reconciler) expireAccountTokens(ctx context.Context, member *membershipv1alpha1.Member, all bool) (time.Duration, error) {
	var secrets corev1.SecretList
	if err := r.List(ctx, &secrets, client.InNamespace(member.Namespace),
		client.MatchingFields{index.SecretTokenFor: member.Name}); err != nil {
		return 0, err
	}
	owned := secrets.Items[:0]
	for _, s := range secrets.Items {
		if metav1.IsControlledBy(&s, member) {
			owned = append(owned, s)
		}
	}
	expired, next := tokenExpiry(owned, r.Clock.Now())
	if all {
		expired, next = nil, 0
		for i := range owned {
			expired = append(expired, &owned[i])
		}
	}
	for _, s := range expired {
		if err := r.Delete(ctx, s, client.Preconditions{UID: &s.UID}); client.IgnoreNotFound(err) != nil {
			return 0, err
		}
	}
	return next, nil
}

// reconcilePhases runs the ordered phases for a Member that is not being deleted: find its Store,
// refuse a duplicate email, then either withhold (disabled) or issue its credentials.
func (r *Reconciler) reconcilePhases(ctx context.Context, member *membershipv1alpha1.Member) (ctrl.Result, error) {
	previous := member.Status.Phase
	store := &membershipv1alpha1.Store{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: member.Namespace, Name: member.Spec.StoreRef.Name}, store); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, err
		}
		// Existing credentials stay: a Store briefly missing (GitOps sync order) must not cost
		// anyone their access. The Store watch brings the Member back when it appears.
		setPending(member, membershipv1alpha1.ReasonStoreNotFound,
			fmt.Sprintf("Store %q does not exist in namespace %q", member.Spec.StoreRef.Name, member.Namespace))
		if previous != membershipv1alpha1.MemberPending {
			r.Recorder.Eventf(member, nil, corev1.EventTypeWarning, EventStoreNotFound, "Reconcile",
				"Store %q does not exist in namespace %q", member.Spec.StoreRef.Name, member.Namespace)
		}
		return ctrl.Result{}, nil
	}
	member.Status.Permissions = membershipv1alpha1.PermissionsFor(member.Spec.Roles)
	member.Status.Invitation = member.Annotations[membershipv1alpha1.InvitationAnnotation]
	member.Status.EmailPreferences = effectivePreferences(store.Spec.EmailPreferences, member.Spec.EmailPreferences)

	// Only the Members contending for this address, read-only from the cache.
	peers, err := index.ListByLogin(ctx, r.Client, member.Login(), client.InNamespace(member.Namespace), client.UnsafeDisableDeepCopy)
	if err != nil {
		return ctrl.Result{}, err
	}
	peers = index.OfStore(peers, store.Name)
	if holder := emailHolder(peers, member.Login()); holder != nil && holder.UID != member.UID {
		// A Member whose email moved onto another's loses the credentials it had.
		if _, err := r.revokeOwnSecret(ctx, member, membershipv1alpha1.CredentialsSecretName(member.Name)); err != nil {
			return ctrl.Result{}, err
		}
		msg := fmt.Sprintf("Member %q of Store %q already has this email; one account per email per store", holder.Name, store.Name)
		reason := membershipv1alpha1.ReasonEmailConflict
		if member.IsIntegration() || holder.IsIntegration() {
			msg = fmt.Sprintf("Member %q of Store %q already signs in as %q; every login of a store is unique", holder.Name, store.Name, member.Login())
			reason = membershipv1alpha1.ReasonLoginConflict
		}
		member.Status.Phase = membershipv1alpha1.MemberConflict
		member.Status.CredentialsSecret = ""
		setConditions(member, metav1.ConditionFalse, reason, msg)
		if previous != membershipv1alpha1.MemberConflict {
			r.Recorder.Eventf(member, holder, corev1.EventTypeWarning, EventEmailConflict, "Reconcile", "%s", msg)
		}
		return ctrl.Result{}, nil
	}

	if msg := ownerRoleRefusal(member, store); msg != "" {
		if _, err := r.revokeOwnSecret(ctx, member, membershipv1alpha1.CredentialsSecretName(member.Name)); err != nil {
			return ctrl.Result{}, err
		}
		member.Status.Phase = membershipv1alpha1.MemberConflict
		member.Status.CredentialsSecret = ""
		setConditions(member, metav1.ConditionFalse, membershipv1alpha1.ReasonOwnerRoleNotAllowed, msg)
		if previous != membershipv1alpha1.MemberConflict {
			r.Recorder.Eventf(member, store, corev1.EventTypeWarning, EventOwnerRoleRefused, "Reconcile", "%s", msg)
		}
		return ctrl.Result{}, nil
	}

	if reason, msg, err := r.seatRefusal(ctx, member, store); err != nil || reason != "" {
		if err != nil {
			return ctrl.Result{}, err
		}
		// Access is withheld as for a disabled Member: the data is retained, so a seat regained
		// restores the same password (an invitee's was chosen once and is stored nowhere else).
		if err := r.revokeRetaining(ctx, member); err != nil {
			return ctrl.Result{}, err
		}
		member.Status.Phase = membershipv1alpha1.MemberConflict
		member.Status.CredentialsSecret = ""
		ready := meta.FindStatusCondition(member.Status.Conditions, membershipv1alpha1.ConditionReady)
		setConditions(member, metav1.ConditionFalse, reason, msg)
		if ready == nil || ready.Reason != reason {
			r.Recorder.Eventf(member, store, corev1.EventTypeWarning, reason, "Reconcile", "%s", msg)
		}
		// A seat frees when a Member or Invitation of the Store goes, which is not watched here:
		// look again shortly (a change of the Store itself brings every Member back at once).
		return ctrl.Result{RequeueAfter: seatRecheck}, nil
	}
	if ownerEmailUnsanctioned(member, store) {
		// Someone changed the owner's login email (webhooks off); the Store puts it back. Until
		// then the credential Secret does not follow: no login and no reset link for an address
		// the owner never had.
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	var result ctrl.Result
	expired, left := accessLeft(member, r.Clock.Now())
	switch {
	case member.Spec.Disabled:
		err = r.withholdCredentials(ctx, member)
	case expired:
		err = r.expireAccess(ctx, member, store)
	case suspended(member, store):
		err = r.suspendAccess(ctx, member, store)
	default:
		result, err = r.issueCredentials(ctx, member, store)
		if left > 0 && (result.RequeueAfter == 0 || left < result.RequeueAfter) {
			result.RequeueAfter = left // exactly at the end of access
		}
	}
	if ownsecret.IsForeign(err) {
		// No credentials while in Conflict: the Member's own credential Secret (if it has one)
		// goes too; the foreign Secret stays exactly as it is.
		if _, revokeErr := r.revokeOwnSecret(ctx, member, membershipv1alpha1.CredentialsSecretName(member.Name)); revokeErr != nil {
			return ctrl.Result{}, revokeErr
		}
		return r.secretConflict(member, err), nil
	}
	return result, err
}

// seatRecheck is how soon a Member refused a seat looks again.
const seatRecheck = 30 * time.Second

// seatRefusal asks internal/seats whether member may have access under its Store's limits, from
// the cache; before a refusal takes away credentials the Member has, the API server confirms it
// (a cache that still holds a Member already gone must not cost anyone their access).
func (r *Reconciler) seatRefusal(ctx context.Context, member *membershipv1alpha1.Member, store *membershipv1alpha1.Store) (string, string, error) {
	reason, message, err := seats.Check(ctx, r.Client, member, store, r.ExclusiveMembership)
	if err != nil || reason == "" {
		return reason, message, err
	}
	granted, err := r.ownSecret(ctx, member, membershipv1alpha1.CredentialsSecretName(member.Name))
	if err != nil || granted == nil {
		return reason, message, client.IgnoreNotFound(err)
	}
	return seats.CheckLive(ctx, r.APIReader, member, store, r.ExclusiveMembership)
}

// withholdCredentials revokes a disabled Member's access: the credential Secret goes, after its
// data is kept in the retained Secret (which the admin application does not read) so that enabling
// restores the same password and 2FA enrolment. Crash-safe: retained first, then the grant goes.
func (r *Reconciler) withholdCredentials(ctx context.Context, member *membershipv1alpha1.Member) error {
	if err := r.revokeRetaining(ctx, member); err != nil {
		return err
	}
	member.Status.Phase = membershipv1alpha1.MemberDisabled
	member.Status.CredentialsSecret = ""
	meta.SetStatusCondition(&member.Status.Conditions, metav1.Condition{
		Type: membershipv1alpha1.ConditionCredentialsReady, Status: metav1.ConditionFalse,
		Reason: membershipv1alpha1.ReasonDisabled, Message: "spec.disabled is true: no credential Secret", ObservedGeneration: member.Generation,
	})
	meta.SetStatusCondition(&member.Status.Conditions, metav1.Condition{
		Type: membershipv1alpha1.ConditionReady, Status: metav1.ConditionTrue,
		Reason: membershipv1alpha1.ReasonDisabled, Message: "The Member is disabled and has no access", ObservedGeneration: member.Generation,
	})
	return nil
}

// revokeRetaining deletes the Member's credential Secret after keeping its data in the retained
// Secret (which the admin application does not read), so that access given back restores the same
// password and 2FA enrolment. Crash-safe: retained first, then the grant goes.
func (r *Reconciler) revokeRetaining(ctx context.Context, member *membershipv1alpha1.Member) error {
	name := membershipv1alpha1.CredentialsSecretName(member.Name)
	// Both names first: a foreign Secret under either is a Conflict on every reconcile, not only
	// on the one that found it.
	if _, err := r.ownSecret(ctx, member, membershipv1alpha1.RetainedSecretName(member.Name)); err != nil {
		return err
	}
	current, err := r.ownSecret(ctx, member, name)
	if err != nil || current == nil {
		return err
	}
	if err := r.retain(ctx, member, current); err != nil {
		return err
	}
	deleted, err := ownsecret.Delete(ctx, r.Client, current)
	if err != nil {
		return err
	}
	if deleted {
		r.Recorder.Eventf(member, nil, corev1.EventTypeNormal, EventAccessRevoked, "Revoke",
			"Access revoked: Secret %s deleted (%s); its data is kept to restore it", name, revokeCause(member))
	}
	return nil
}

// revokeCause says in an event why access was withheld.
func revokeCause(member *membershipv1alpha1.Member) string {
	switch {
	case member.Spec.Disabled:
		return "the Member is disabled"
	case member.Status.Phase == membershipv1alpha1.MemberSuspended:
		return "the Store's owner did not activate by the deadline"
	}
	return "no seat under the Store's limits"
}

// retain copies the credential Secret's data into the retained Secret.
func (r *Reconciler) retain(ctx context.Context, member *membershipv1alpha1.Member, current *corev1.Secret) error {
	name := membershipv1alpha1.RetainedSecretName(member.Name)
	existing, err := r.ownSecret(ctx, member, name)
	if err != nil {
		return err
	}
	if existing != nil {
		if sameData(existing.Data, current.Data) {
			return nil
		}
		updated := existing.DeepCopy()
		updated.Data = maps.Clone(current.Data)
		updated.Annotations = maps.Clone(current.Annotations)
		return r.Update(ctx, updated)
	}
	retained := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: member.Namespace, Annotations: maps.Clone(current.Annotations),
			Labels: map[string]string{
				membershipv1alpha1.ManagedByLabel:   membershipv1alpha1.ManagedByValue,
				membershipv1alpha1.StoreLabel:       member.Spec.StoreRef.Name,
				membershipv1alpha1.RetainedForLabel: member.Name,
			},
		},
		Type: corev1.SecretTypeOpaque,
		Data: maps.Clone(current.Data),
	}
	return r.createOwnSecret(ctx, member, retained)
}

func sameData(a, b map[string][]byte) bool {
	return maps.EqualFunc(a, b, bytes.Equal)
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// setPending marks the Member as waiting for something it names.
func setPending(member *membershipv1alpha1.Member, reason, message string) {
	member.Status.Phase = membershipv1alpha1.MemberPending
	setConditions(member, metav1.ConditionFalse, reason, message)
}

// setConditions sets Ready and CredentialsReady alike.
func setConditions(member *membershipv1alpha1.Member, status metav1.ConditionStatus, reason, message string) {
	for _, t := range []string{membershipv1alpha1.ConditionCredentialsReady, membershipv1alpha1.ConditionReady} {
		meta.SetStatusCondition(&member.Status.Conditions, metav1.Condition{
			Type: t, Status: status, Reason: reason, Message: message, ObservedGeneration: member.Generation,
		})
	}
}
