// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/invitationpolicy"
	"github.com/storeops/member-operator/internal/ownsecret"
)

// ownerPoll is how soon a Store looks again when the owner Member it waits on is being deleted.
const ownerPoll = 5 * time.Second

// reconcileOwner makes the owner Member and the owner Invitations match spec.owner:
//   - the owner has not activated (no credentials): the owner Member carries spec.owner.email and
//     names the activation Invitation to that address, which the acceptance server completes;
//   - the owner is active and spec.owner.email is theirs: nothing is pending; a transfer that was
//     under way (the spec was reverted) is revoked;
//   - the owner is active and spec.owner.email is another address: a transfer Invitation goes there;
//     the current owner keeps full access until it is accepted, then completeTransfer hands over.
func (r *Reconciler) reconcileOwner(ctx context.Context, store *membershipv1alpha1.Store,
	members []membershipv1alpha1.Member, invitations []membershipv1alpha1.Invitation) (ctrl.Result, error) {
	name := membershipv1alpha1.OwnerMemberName(store.Name)
	store.Status.OwnerMember = name
	owned := ownerInvitations(invitations, store.UID)

	var owner *membershipv1alpha1.Member
	for i := range members {
		if members[i].Name == name {
			owner = &members[i]
		}
	}
	if owner != nil && !metav1.IsControlledBy(owner, store) && isRecordedOwner(store, owner) {
		// The Store's own owner, whose metadata someone edited: put it back, never treat it as
		// a stranger (that would withhold the owner's credentials).
		if err := r.restoreOwnerMetadata(ctx, store, owner); err != nil {
			return ctrl.Result{}, err
		}
	}
	if owner != nil && !metav1.IsControlledBy(owner, store) {
		msg := fmt.Sprintf("Member %s exists and is not this Store's; delete or rename it so the Store can manage its owner", name)
		if !meta.IsStatusConditionPresentAndEqual(store.Status.Conditions, membershipv1alpha1.ConditionReady, metav1.ConditionFalse) ||
			meta.FindStatusCondition(store.Status.Conditions, membershipv1alpha1.ConditionReady).Reason != ReasonOwnerMemberConflict {
			r.Recorder.Eventf(store, owner, corev1.EventTypeWarning, ReasonOwnerMemberConflict, "Reconcile", "%s", msg)
		}
		setReady(store, metav1.ConditionFalse, ReasonOwnerMemberConflict, msg)
		return ctrl.Result{}, nil
	}
	if owner == nil {
		created, err := r.createOwner(ctx, store)
		if err != nil {
			return ctrl.Result{}, err
		}
		owner = created
	}
	store.Status.OwnerMemberUID = owner.UID
	if !owner.DeletionTimestamp.IsZero() {
		setReady(store, metav1.ConditionFalse, membershipv1alpha1.ReasonAwaitingOwnerActivation,
			fmt.Sprintf("The owner Member %s is being deleted; a new one and a new activation email follow", name))
		return ctrl.Result{RequeueAfter: ownerPoll}, nil
	}
	if drift := ownerDrift(owner); len(drift) > 0 {
		base := owner.DeepCopy()
		resetOwnerSpec(owner)
		if err := r.Patch(ctx, owner, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
			return ctrl.Result{}, err
		}
		r.Recorder.Eventf(store, owner, corev1.EventTypeWarning, membershipv1alpha1.ReasonOwnerManagedByStore, "Reconcile",
			"Owner Member %s was edited (%s); put back: the Store manages its owner", name, strings.Join(drift, ", "))
	}

	// Only the owner Member's own credential Secret: one that merely has the name is never
	// taken for an activated owner, nor written by a transfer.
	credentials, err := ownsecret.Get(ctx, r.Client, owner, types.NamespacedName{Namespace: store.Namespace, Name: membershipv1alpha1.CredentialsSecretName(name)})
	if err != nil && !ownsecret.IsForeign(err) {
		return ctrl.Result{}, err
	}
	if credentials == nil {
		next, err := r.awaitActivation(ctx, store, owner, owned)
		return ctrl.Result{RequeueAfter: next}, err
	}
	r.restoreMembers(store, fmt.Sprintf("the owner %s activated", owner.Spec.Email))

	return r.reconcileActiveOwner(ctx, store, owner, members, owned, credentials)
}

// reconcileActiveOwner handles an owner who has credentials: it keeps their display name, and
// starts, continues, completes or cancels a transfer to the address spec.owner.email names.
func (r *Reconciler) reconcileActiveOwner(ctx context.Context, store *membershipv1alpha1.Store, owner *membershipv1alpha1.Member,
	members []membershipv1alpha1.Member, owned []*membershipv1alpha1.Invitation, credentials *corev1.Secret) (ctrl.Result, error) {
	name, want := owner.Name, store.Spec.Owner.Email
	if err := r.keepOwnerEmail(ctx, store, owner); err != nil {
		return ctrl.Result{}, err
	}
	if owner.Spec.DisplayName != store.Spec.Owner.DisplayName && strings.EqualFold(string(owner.Spec.Email), string(want)) {
		base := owner.DeepCopy()
		owner.Spec.DisplayName = store.Spec.Owner.DisplayName
		if err := r.Patch(ctx, owner, client.MergeFrom(base)); err != nil {
			return ctrl.Result{}, err
		}
	}
	staged, err := r.stagedSecrets(ctx, store, owned)
	if err != nil {
		return ctrl.Result{}, err
	}
	isStaged := func(inv *membershipv1alpha1.Invitation) bool { return staged[inv.Name] != nil }
	transfer := transferFor(owned, want, isStaged)
	if strings.EqualFold(string(owner.Spec.Email), string(want)) && (transfer == nil || !isStaged(transfer)) {
		transfer = nil // the current owner is the one the spec names: nothing to hand over
	}
	keep := ""
	if transfer != nil {
		keep = transfer.Name
	}
	if err := r.revokeOtherTransfers(ctx, store, owned, keep); err != nil {
		return ctrl.Result{}, err
	}
	// A transfer accepted just as the spec was reverted holds a new owner's password that will
	// never be used: drop it.
	for invName, secret := range staged {
		if invName == keep {
			continue
		}
		if err := r.Delete(ctx, secret, client.Preconditions{UID: &secret.UID}); client.IgnoreNotFound(err) != nil {
			return ctrl.Result{}, err
		}
	}

	switch {
	case transfer == nil:
		store.Status.OwnerTransfer = nil
	case isStaged(transfer):
		done, err := r.completeTransfer(ctx, store, owner, members, transfer, staged[transfer.Name], credentials)
		if err != nil {
			return ctrl.Result{}, err
		}
		store.Status.OwnerTransfer = nil
		if !done { // waiting for the Member controller to write the new owner's credentials
			store.Status.OwnerTransfer = transferStatus(want, transfer)
		}
	default:
		store.Status.OwnerTransfer = transferStatus(want, transfer)
		if err := r.noticeTransfer(ctx, store, owner, transfer); err != nil {
			return ctrl.Result{}, err
		}
	}
	stoppedTransfer := cancelledTransferTo(owned, want)
	if transfer == nil && stoppedTransfer == nil && !strings.EqualFold(string(owner.Spec.Email), string(want)) {
		inv, created, err := r.createOwnerInvitation(ctx, store, owner, membershipv1alpha1.OwnerTransfer)
		if err != nil {
			return ctrl.Result{}, err
		}
		if err := r.noticeTransfer(ctx, store, owner, inv); err != nil {
			return ctrl.Result{}, err
		}
		since := inv.CreationTimestamp
		if since.IsZero() { // made by an earlier reconcile that the cache does not show yet
			since = metav1.NewTime(r.Clock.Now())
		}
		store.Status.OwnerTransfer = &membershipv1alpha1.OwnerTransferStatus{Email: want, Since: since, Invitation: inv.Name}
		if created {
			r.Recorder.Eventf(store, inv, corev1.EventTypeNormal, EventOwnerTransferStarted, "Reconcile",
				"Ownership transfer to %s started: Invitation %s; %s keeps access until it is accepted", want, inv.Name, owner.Spec.Email)
		}
	}

	msg := fmt.Sprintf("The owner %s is active", owner.Spec.Email)
	if transfer == nil && stoppedTransfer != nil {
		msg += fmt.Sprintf("; the owner stopped the hand-over to %s (Invitation %s): delete that Invitation to start it again",
			stoppedTransfer.Spec.Email, stoppedTransfer.Name)
	}
	if t := store.Status.OwnerTransfer; t != nil {
		msg += fmt.Sprintf("; ownership transfer to %s pending (Invitation %s)", t.Email, t.Invitation)
	}
	if owner.Status.Phase != membershipv1alpha1.MemberActive {
		setReady(store, metav1.ConditionFalse, membershipv1alpha1.ReasonAwaitingOwnerActivation,
			fmt.Sprintf("The owner's credentials exist; waiting for Member %s to become Active", name))
		return ctrl.Result{}, nil
	}
	setReady(store, metav1.ConditionTrue, membershipv1alpha1.ReasonOwnerActive, msg)
	return ctrl.Result{}, nil
}

// createOwner creates the owner Member, without credentials, naming the activation Invitation
// that awaitActivation then creates.
func (r *Reconciler) createOwner(ctx context.Context, store *membershipv1alpha1.Store) (*membershipv1alpha1.Member, error) {
	owner := &membershipv1alpha1.Member{
		ObjectMeta: metav1.ObjectMeta{
			Name: membershipv1alpha1.OwnerMemberName(store.Name), Namespace: store.Namespace,
			Labels: map[string]string{
				membershipv1alpha1.ManagedByLabel: membershipv1alpha1.ManagedByValue,
				membershipv1alpha1.StoreLabel:     store.Name,
			},
		},
		Spec: membershipv1alpha1.MemberSpec{
			StoreRef:    membershipv1alpha1.StoreReference{Name: store.Name},
			Email:       store.Spec.Owner.Email,
			DisplayName: store.Spec.Owner.DisplayName,
			Roles:       []membershipv1alpha1.Role{membershipv1alpha1.RoleOwner},
			TwoFactor:   membershipv1alpha1.TwoFactorSpec{Required: true},
		},
	}
	if err := controllerutil.SetControllerReference(store, owner, r.Scheme); err != nil {
		return nil, err
	}
	if err := r.Create(ctx, owner, client.FieldOwner(membershipv1alpha1.OperatorFieldManager)); err != nil {
		return nil, err
	}
	r.Recorder.Eventf(store, owner, corev1.EventTypeNormal, EventOwnerCreated, "Reconcile",
		"Owner Member %s created for %s; it gets credentials when the owner activates", owner.Name, owner.Spec.Email)
	return owner, nil
}

// awaitActivation keeps one activation Invitation out to spec.owner.email and the owner Member
// pointing at it (the acceptance server only completes the invitation the Member names), and
// holds the owner to spec.owner.activationDeadline. It returns when to look again.
func (r *Reconciler) awaitActivation(ctx context.Context, store *membershipv1alpha1.Store, owner *membershipv1alpha1.Member,
	owned []*membershipv1alpha1.Invitation) (time.Duration, error) {
	want := store.Spec.Owner.Email
	current := owner.Annotations[membershipv1alpha1.InvitationAnnotation]
	var inv *membershipv1alpha1.Invitation
	for _, o := range owned {
		if o.Name == current {
			inv = o
		}
	}
	if usableActivation(inv, want) && !strings.EqualFold(string(owner.Spec.Email), string(want)) {
		// Someone changed the email of the owner Member (webhooks off): put it back, so the
		// activation's credentials are for the address the Store names.
		base := owner.DeepCopy()
		owner.Spec.Email = want
		if err := r.Patch(ctx, owner, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
			return 0, err
		}
		r.Recorder.Eventf(store, owner, corev1.EventTypeWarning, membershipv1alpha1.ReasonOwnerManagedByStore, "Reconcile",
			"Owner Member %s's email was edited; put back to %s: the Store manages its owner", owner.Name, want)
	}
	store.Status.OwnerEmail = ""
	if !usableActivation(inv, want) {
		current = ownerInvitationName(store.Name, membershipv1alpha1.OwnerActivation, want, owner.UID, store.Generation)
		// The Member names the invitation first: an acceptance arriving in between must find it.
		base := owner.DeepCopy()
		owner.Spec.Email, owner.Spec.DisplayName = want, store.Spec.Owner.DisplayName
		if owner.Annotations == nil {
			owner.Annotations = map[string]string{}
		}
		owner.Annotations[membershipv1alpha1.InvitationAnnotation] = current
		delete(owner.Annotations, membershipv1alpha1.AcceptClaimAnnotation)
		if err := r.Patch(ctx, owner, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
			return 0, err
		}
		if _, _, err := r.createOwnerInvitation(ctx, store, owner, membershipv1alpha1.OwnerActivation); err != nil {
			return 0, err
		}
	}
	if err := r.revokeAll(ctx, store, toRevoke(owned, current), "the Store's owner is now activated through another invitation"); err != nil {
		return 0, err
	}
	store.Status.OwnerTransfer = nil
	phase := "being sent"
	if inv != nil && inv.Name == current && inv.Status.Phase != "" {
		phase = strings.ToLower(string(inv.Status.Phase))
	}
	setReady(store, metav1.ConditionFalse, membershipv1alpha1.ReasonAwaitingOwnerActivation, fmt.Sprintf(
		"Waiting for the owner %s to set their password through the activation email (Invitation %s, %s)", want, current, phase))
	if inv != nil && inv.Name != current {
		inv = nil // replaced by the one just made, which the cache does not show yet
	}
	return r.enforceActivationDeadline(ctx, store, inv)
}

// createOwnerInvitation creates the owner Invitation for spec.owner.email (AlreadyExists means a
// retry, or a cache behind our own write: the same one). It reports whether this call created it.
func (r *Reconciler) createOwnerInvitation(ctx context.Context, store *membershipv1alpha1.Store, owner *membershipv1alpha1.Member,
	purpose string) (*membershipv1alpha1.Invitation, bool, error) {
	want := store.Spec.Owner.Email
	inv := &membershipv1alpha1.Invitation{
		ObjectMeta: metav1.ObjectMeta{
			Name: ownerInvitationName(store.Name, purpose, want, owner.UID, store.Generation), Namespace: store.Namespace,
			Labels: map[string]string{
				membershipv1alpha1.ManagedByLabel: membershipv1alpha1.ManagedByValue,
				membershipv1alpha1.StoreLabel:     store.Name,
			},
			Annotations: map[string]string{membershipv1alpha1.OwnerInvitationAnnotation: purpose},
		},
		Spec: membershipv1alpha1.InvitationSpec{
			StoreRef:  membershipv1alpha1.StoreReference{Name: store.Name},
			Email:     want,
			Roles:     []membershipv1alpha1.Role{membershipv1alpha1.RoleOwner},
			TwoFactor: membershipv1alpha1.TwoFactorSpec{Required: true},
		},
	}
	if purpose == membershipv1alpha1.OwnerTransfer {
		inv.Annotations[membershipv1alpha1.PreviousOwnerAnnotation] = string(owner.Spec.Email)
		inv.Spec.InvitedBy = membershipv1alpha1.DisplayName(owner.Spec.Email)
		if owner.Spec.DisplayName != "" {
			inv.Spec.InvitedBy = owner.Spec.DisplayName
		}
	}
	if err := controllerutil.SetControllerReference(store, inv, r.Scheme); err != nil {
		return nil, false, err
	}
	switch err := r.Create(ctx, inv); {
	case apierrors.IsAlreadyExists(err):
		return inv, false, nil
	case err != nil:
		return nil, false, err
	}
	return inv, true, nil
}

// revokeAll asks the Invitation controller, the one writer of an Invitation's status, to
// withdraw owner Invitations (RevokeAnnotation): it makes them Revoked and deletes their token
// Secret, so a link already emailed answers 410 Gone rather than 404. Every reader (this
// controller's policy, the acceptance server) takes the request for the revocation at once
// (invitationpolicy.Revoked). The request is written onto the version read, so it never lands
// on an acceptance this reconcile did not see; the next reconcile decides again.
func (r *Reconciler) revokeAll(ctx context.Context, store *membershipv1alpha1.Store, invs []*membershipv1alpha1.Invitation, why string) error {
	for _, inv := range invs {
		if _, accepted := invitationpolicy.Accepted(inv); accepted || invitationpolicy.Revoked(inv) {
			continue
		}
		base := inv.DeepCopy()
		if inv.Annotations == nil {
			inv.Annotations = map[string]string{}
		}
		inv.Annotations[membershipv1alpha1.RevokeAnnotation] = "Withdrawn by the Store: " + why
		if err := r.Patch(ctx, inv, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
			return client.IgnoreNotFound(err)
		}
		r.Recorder.Eventf(store, inv, corev1.EventTypeNormal, EventOwnerInvitationRevoked, "Reconcile",
			"Owner invitation %s to %s revoked: %s", inv.Name, inv.Spec.Email, why)
	}
	return nil
}

// setReady records where the owner stands in OwnerActive and Ready alike; SetProgress then
// settles Ready's status (a Store waiting for its owner is Ready: the operator has done its part).
func setReady(store *membershipv1alpha1.Store, status metav1.ConditionStatus, reason, message string) {
	for _, conditionType := range []string{membershipv1alpha1.ConditionReady, membershipv1alpha1.ConditionOwnerActive} {
		meta.SetStatusCondition(&store.Status.Conditions, metav1.Condition{
			Type: conditionType, Status: status, Reason: reason, Message: message, ObservedGeneration: store.Generation,
		})
	}
}

// transferStatus is the Store's status of a transfer under way to want.
func transferStatus(want membershipv1alpha1.EmailAddress, transfer *membershipv1alpha1.Invitation) *membershipv1alpha1.OwnerTransferStatus {
	return &membershipv1alpha1.OwnerTransferStatus{Email: want, Since: transfer.CreationTimestamp, Invitation: transfer.Name}
}
