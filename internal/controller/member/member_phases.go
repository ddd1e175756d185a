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
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/accounttoken"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/index"
	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/internal/ownsecret"
	"github.com/storeops/member-operator/internal/seats"
)

// reconcileNormal expires the Member's account tokens (reset links), then runs the phases.
func (r *Reconciler) reconcileNormal(ctx context.Context, member *membershipv1alpha1.Member) (ctrl.Result, error) {
	firstReconcile := member.Status.Phase == ""
	next, err := r.expireAccountTokens(ctx, member, member.Spec.Disabled)
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
	var peers membershipv1alpha1.MemberList
	if err := r.List(ctx, &peers, client.InNamespace(member.Namespace), client.UnsafeDisableDeepCopy,
		client.MatchingFields{index.MemberStoreEmail: index.StoreEmailKey(store.Name, member.Spec.Email)}); err != nil {
		return ctrl.Result{}, err
	}
	if holder := emailHolder(peers.Items, string(member.Spec.Email)); holder != nil && holder.UID != member.UID {
		// A Member whose email moved onto another's loses the credentials it had.
		if _, err := r.revokeOwnSecret(ctx, member, membershipv1alpha1.CredentialsSecretName(member.Name)); err != nil {
			return ctrl.Result{}, err
		}
		msg := fmt.Sprintf("Member %q of Store %q already has this email; one account per email per store", holder.Name, store.Name)
		member.Status.Phase = membershipv1alpha1.MemberConflict
		member.Status.CredentialsSecret = ""
		setConditions(member, metav1.ConditionFalse, membershipv1alpha1.ReasonEmailConflict, msg)
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
	var err error
	if member.Spec.Disabled {
		err = r.withholdCredentials(ctx, member)
	} else {
		result, err = r.issueCredentials(ctx, member, store)
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

// issueCredentials creates or updates the credential Secret so that it matches the spec. The
// password hash and TOTP secret are made once and then kept: a plain reconcile regenerates nothing.
func (r *Reconciler) issueCredentials(ctx context.Context, member *membershipv1alpha1.Member,
	store *membershipv1alpha1.Store) (ctrl.Result, error) {
	name := membershipv1alpha1.CredentialsSecretName(member.Name)
	current, err := r.ownSecret(ctx, member, name)
	if err != nil {
		return ctrl.Result{}, err
	}
	retained, err := r.ownSecret(ctx, member, membershipv1alpha1.RetainedSecretName(member.Name))
	if err != nil {
		return ctrl.Result{}, err
	}
	data, source := map[string][]byte{}, ""
	switch {
	case current != nil:
		data, source = maps.Clone(current.Data), current.Annotations[membershipv1alpha1.PasswordSourceAnnotation]
	case retained != nil:
		data, source = maps.Clone(retained.Data), retained.Annotations[membershipv1alpha1.PasswordSourceAnnotation]
	}
	if data == nil {
		data = map[string][]byte{}
	}

	var result ctrl.Result
	rotated := false
	if ref := member.Spec.PasswordSecretRef; ref != nil {
		result.RequeueAfter = r.PasswordSecretResync // the source Secret is not watched
		pending, err := r.applySuppliedPassword(ctx, member, ref, data, &source, &rotated)
		if err != nil || pending {
			return result, err
		}
	} else if len(data[membershipv1alpha1.CredentialPasswordHash]) == 0 {
		if inv := member.Annotations[membershipv1alpha1.InvitationAnnotation]; inv != "" || membershipv1alpha1.HasOwnerRole(member.Spec.Roles) {
			// The invitee chose a password on the acceptance page; the server writes its hash
			// into the credential Secret, whose creation brings the Member back here. The owner's
			// password only ever comes that way (the activation email), never generated.
			setPending(member, membershipv1alpha1.ReasonAwaitingPassword, fmt.Sprintf(
				"Waiting for the password chosen through Invitation %q", inv))
			return ctrl.Result{}, nil
		}
		password, err := credentials.GeneratePassword(r.Random, credentials.GeneratedPasswordLength)
		if err != nil {
			return ctrl.Result{}, err
		}
		hash, err := credentials.HashPassword(password, r.BcryptCost)
		if err != nil {
			return ctrl.Result{}, err
		}
		data[membershipv1alpha1.CredentialPassword] = []byte(password)
		data[membershipv1alpha1.CredentialPasswordHash] = hash
	}

	if err := r.setGrants(member, store, data); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.writeCredentials(ctx, member, store, current, retained, data, source, rotated); err != nil {
		return ctrl.Result{}, err
	}
	if current != nil && (rotated || !bytes.Equal(current.Data[membershipv1alpha1.CredentialUsername], data[membershipv1alpha1.CredentialUsername])) {
		// A password from Git that changed, or a login email an administrator changed: every
		// link started before (reset, email change, 2FA enrolment) ends now.
		if err := accounttoken.RevokeAll(ctx, r.APIReader, r.Client, member); err != nil {
			return ctrl.Result{}, err
		}
	}

	member.Status.Phase = membershipv1alpha1.MemberActive
	member.Status.CredentialsSecret = name
	if member.Status.JoinedAt == nil {
		now := metav1.NewTime(r.Clock.Now())
		member.Status.JoinedAt = &now
	}
	setConditions(member, metav1.ConditionTrue, membershipv1alpha1.ReasonActive,
		fmt.Sprintf("Credentials are in Secret %s", name))
	return result, nil
}

// setGrants puts the login, roles, permissions and 2FA enrolment into data. A TOTP secret is made
// once; its URI is rebuilt from it, so it follows a changed email or store name.
func (r *Reconciler) setGrants(member *membershipv1alpha1.Member, store *membershipv1alpha1.Store, data map[string][]byte) error {
	email := string(member.Spec.Email)
	if twoFactorRequired(member) {
		if len(data[membershipv1alpha1.CredentialTOTPSecret]) == 0 {
			enrolment, err := credentials.NewTOTP(r.Random, string(store.Spec.DisplayName), email)
			if err != nil {
				return err
			}
			data[membershipv1alpha1.CredentialTOTPSecret] = []byte(enrolment.Secret)
		}
		data[membershipv1alpha1.CredentialTOTPURI] = []byte(credentials.TOTPURI(string(store.Spec.DisplayName), email,
			string(data[membershipv1alpha1.CredentialTOTPSecret])))
	} else {
		delete(data, membershipv1alpha1.CredentialTOTPSecret)
		delete(data, membershipv1alpha1.CredentialTOTPURI)
	}
	roles, permissions := rolesAndPermissions(member.Spec.Roles)
	data[membershipv1alpha1.CredentialUsername] = []byte(email)
	data[membershipv1alpha1.CredentialRoles] = []byte(roles)
	data[membershipv1alpha1.CredentialPermissions] = []byte(permissions)

	return nil
}

// writeCredentials creates the credential Secret or updates it when it differs from data, then
// drops the retained copy a disabled Member left.
func (r *Reconciler) writeCredentials(ctx context.Context, member *membershipv1alpha1.Member, store *membershipv1alpha1.Store,
	current, retained *corev1.Secret, data map[string][]byte, source string, rotated bool) error {
	name := membershipv1alpha1.CredentialsSecretName(member.Name)
	labels := map[string]string{
		membershipv1alpha1.ManagedByLabel: membershipv1alpha1.ManagedByValue,
		membershipv1alpha1.StoreLabel:     store.Name,
		membershipv1alpha1.MemberLabel:    member.Name,
	}
	switch {
	case current == nil:
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: member.Namespace, Labels: labels},
			Type:       corev1.SecretTypeOpaque,
			Data:       data,
		}
		if source != "" {
			secret.Annotations = map[string]string{membershipv1alpha1.PasswordSourceAnnotation: source}
		}
		if err := r.createOwnSecret(ctx, member, secret); err != nil {
			return err
		}
		if retained != nil {
			r.Recorder.Eventf(member, secret, corev1.EventTypeNormal, EventAccessRestored, "IssueCredentials",
				"Access restored: Secret %s re-created with the same password", name)
		} else {
			r.Recorder.Eventf(member, secret, corev1.EventTypeNormal, EventCredentialsIssued, "IssueCredentials",
				"Credentials issued in Secret %s", name)
		}
	case !sameData(current.Data, data) || !hasLabels(current.Labels, labels) ||
		current.Annotations[membershipv1alpha1.PasswordSourceAnnotation] != source:
		updated := current.DeepCopy()
		updated.Data = data
		if updated.Labels == nil {
			updated.Labels = map[string]string{}
		}
		maps.Copy(updated.Labels, labels)
		if source != "" {
			if updated.Annotations == nil {
				updated.Annotations = map[string]string{}
			}
			updated.Annotations[membershipv1alpha1.PasswordSourceAnnotation] = source
		}
		if err := r.Update(ctx, updated); err != nil {
			return err
		}
		if rotated {
			r.Recorder.Eventf(member, updated, corev1.EventTypeNormal, EventPasswordRotated, "IssueCredentials",
				"Password changed in the referenced Secret: new hash in Secret %s", name)
		} else {
			r.Recorder.Eventf(member, updated, corev1.EventTypeNormal, EventCredentialsUpdated, "IssueCredentials",
				"Secret %s updated to match the spec (login, roles, permissions or 2FA)", name)
		}
	}
	if retained != nil {
		if _, err := ownsecret.Delete(ctx, r.Client, retained); err != nil {
			return err
		}
	}

	return nil
}

// applySuppliedPassword hashes the password from spec.passwordSecretRef into data when that
// Secret changed since the hash was made (source records the version). It reports pending when
// the Secret or key is missing or the password unusable, with the Member's status saying why.
func (r *Reconciler) applySuppliedPassword(ctx context.Context, member *membershipv1alpha1.Member,
	ref *membershipv1alpha1.SecretKeyReference, data map[string][]byte, source *string, rotated *bool) (bool, error) {
	src := &corev1.Secret{}
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: member.Namespace, Name: ref.Name}, src)
	if err != nil && !apierrors.IsNotFound(err) {
		return false, err
	}
	password, ok := src.Data[ref.Key]
	if err != nil || src.Labels[membershipv1alpha1.PasswordSourceLabel] != "true" || !ok {
		// One message whatever is wrong, so that a Member cannot be used to learn whether some
		// Secret exists or which keys it has.
		r.pendingOnPasswordSecret(member, passwordSourceMissing(ref))
		return true, nil
	}
	version := string(src.UID) + "/" + src.ResourceVersion
	hash := data[membershipv1alpha1.CredentialPasswordHash]
	if *source == version && len(hash) > 0 {
		return false, nil // unchanged since the hash was made: no bcrypt work
	}
	if len(hash) == 0 || !credentials.VerifyPassword(hash, string(password)) {
		newHash, err := credentials.HashPassword(string(password), r.BcryptCost)
		if err != nil {
			setPending(member, membershipv1alpha1.ReasonPasswordInvalid, fmt.Sprintf(
				"the password in Secret %q key %q cannot be used: it must be 1 to 72 bytes", ref.Name, ref.Key))
			return true, nil
		}
		*rotated = len(hash) > 0
		data[membershipv1alpha1.CredentialPasswordHash] = newHash
	}
	delete(data, membershipv1alpha1.CredentialPassword) // the operator did not generate it
	*source = version
	return false, nil
}

// passwordSourceMissing is the one message for a spec.passwordSecretRef that cannot be read: no
// such Secret, not opted in, or no such key.
func passwordSourceMissing(ref *membershipv1alpha1.SecretKeyReference) string {
	return fmt.Sprintf("no Secret %q labelled %s=true with key %q (spec.passwordSecretRef)",
		ref.Name, membershipv1alpha1.PasswordSourceLabel, ref.Key)
}

func (r *Reconciler) pendingOnPasswordSecret(member *membershipv1alpha1.Member, msg string) {
	if member.Status.Phase != membershipv1alpha1.MemberPending ||
		!meta.IsStatusConditionPresentAndEqual(member.Status.Conditions, membershipv1alpha1.ConditionCredentialsReady, metav1.ConditionFalse) {
		r.Recorder.Eventf(member, nil, corev1.EventTypeWarning, EventPasswordSecretNotFound, "IssueCredentials", "%s", msg)
	}
	setPending(member, membershipv1alpha1.ReasonPasswordSecretNotFound, msg)
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
	if member.Spec.Disabled {
		return "the Member is disabled"
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
	// the store's owner (an ownership transfer to a Member).
	if member.Status.JoinedAt != nil && member.Annotations[membershipv1alpha1.SupersededByAnnotation] == "" {
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
