// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package account

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	accounts "github.com/storeops/member-operator/internal/account"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/ownsecret"
)

// Reconcile brings the Account name in line with its requests and its Members, in an order safe
// to repeat: the Account is made when a request (or an upgrade, see legacySeed) calls for one;
// the joined Members that are gone or moved away leave; with none left and nothing asked, the
// Account and its Secret go. Otherwise the requests are applied to a copy of its Secret, which is
// written once; the status (who joined) is written next, against the version read; only then are
// the requests deleted, so a write that loses leaves them to apply again.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	name := req.Name
	acct, err := r.getAccount(ctx, name)
	if err != nil {
		return ctrl.Result{}, err
	}
	requests, err := accounts.Pending(ctx, r.Client, r.Namespace, name)
	if err != nil {
		return ctrl.Result{}, err
	}
	members, err := r.membersOf(ctx, name)
	if err != nil {
		return ctrl.Result{}, err
	}
	var seed *seedSource
	if acct == nil {
		if len(requests) == 0 {
			if seed, err = r.legacySeed(ctx, members); err != nil || seed == nil {
				return ctrl.Result{}, err
			}
		}
		if acct, err = r.createAccount(ctx, name, requests, seed); err != nil || acct == nil {
			return ctrl.Result{}, err
		}
	}
	if !acct.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}

	base := acct.DeepCopy()
	joined := map[string]membershipv1alpha1.AccountMember{}
	for _, m := range acct.Status.Members {
		joined[m.UID] = m
	}
	if seed != nil {
		joined[string(seed.member.UID)] = memberRef(seed.member)
	}
	left, err := r.keepJoined(ctx, acct, members, joined)
	if err != nil {
		return ctrl.Result{}, err
	}
	ungoverned := keepGoverned(acct, members, joined)
	if len(joined) == 0 && len(requests) == 0 {
		return ctrl.Result{}, r.deleteAccount(ctx, acct)
	}

	secret, err := r.ensureSecret(ctx, acct, seed)
	if err != nil {
		return ctrl.Result{}, err
	}
	data := maps.Clone(secret.Data)
	if data == nil {
		data = map[string][]byte{}
	}
	changes := r.apply(ctx, acct, requests, data, joined)
	changes.left, changes.ungoverned = left, ungoverned
	if err := r.ensureTwoFactor(acct, members, joined, data); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.writeChoices(ctx, acct, base, changes, data); err != nil {
		return ctrl.Result{}, err
	}
	if secret, err = r.writeSecret(ctx, secret, data); err != nil {
		return ctrl.Result{}, err
	}
	// The joined Members are recorded before the requests that joined them go: a status write
	// that loses (a cache behind the last one: the lock refuses it) leaves them to apply again.
	r.setStatus(acct, joined, data, changes)
	if secretVersionAdvances(acct.Status.SecretVersion, secret.ResourceVersion) {
		acct.Status.SecretVersion = secret.ResourceVersion
	}
	if err := r.Status().Patch(ctx, acct, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	r.report(acct, changes)
	if changes.loginName != nil {
		// After the spec no longer names them, before the request that changed it goes: a
		// reconcile that stops in between finds the request and releases them then.
		if err := r.releaseLoginNames(ctx, acct, acct.Spec.LoginName); err != nil {
			return ctrl.Result{}, err
		}
	}
	for i := range requests {
		if changes.waiting[requests[i].Name] {
			continue
		}
		if _, err := ownsecret.Delete(ctx, r.Client, &requests[i]); err != nil {
			return ctrl.Result{}, err
		}
	}
	if len(changes.waiting) > 0 {
		// The Members' updates bring this Account back; the requeue is for a lost event.
		return ctrl.Result{RequeueAfter: moveRecheck}, nil
	}
	return ctrl.Result{}, nil
}

// writeSecret writes data into the Account's Secret when it differs, against the version read
// (never over a newer write), and returns the Secret as written. A Secret written before
// AccountSecretLabel existed gets the label with its next write, or now: until then namespace
// shards cache it (correct, only larger).
func (r *Reconciler) writeSecret(ctx context.Context, secret *corev1.Secret, data map[string][]byte) (*corev1.Secret, error) {
	if maps.EqualFunc(secret.Data, data, bytes.Equal) && secret.Labels[membershipv1alpha1.AccountSecretLabel] == membershipv1alpha1.AccountSecretValue {
		return secret, nil
	}
	updated := secret.DeepCopy()
	updated.Data = data
	if updated.Labels == nil {
		updated.Labels = map[string]string{}
	}
	updated.Labels[membershipv1alpha1.AccountSecretLabel] = membershipv1alpha1.AccountSecretValue
	if err := r.Update(ctx, updated); err != nil { // resourceVersion: never over a newer write
		return nil, err
	}
	return updated, nil
}

// writeChoices writes the person's choices from the account page (login name, display name,
// phone) to the Account's spec, whose one writer this is, on the version read (a conflict
// reconciles again, and the requests are still there); base follows the write. The login name
// goes into data too, for the stores.
func (r *Reconciler) writeChoices(ctx context.Context, acct, base *membershipv1alpha1.Account, changes *changes, data map[string][]byte) error {
	var err error
	if changes.refusedLoginName, err = r.applyLoginName(ctx, acct, changes.loginName, data); err != nil {
		return err
	}
	changes.loginNameChanged = acct.Spec.LoginName != base.Spec.LoginName
	if p := changes.profile; p != nil {
		acct.Spec.DisplayName, acct.Spec.Phone = p.DisplayName, p.Phone
	}
	if acct.Spec == base.Spec {
		return nil
	}
	specBase := acct.DeepCopy()
	specBase.Spec = base.Spec
	if err := r.Patch(ctx, acct, client.MergeFromWithOptions(specBase, client.MergeFromWithOptimisticLock{})); err != nil {
		return err
	}
	base.ResourceVersion = acct.ResourceVersion
	base.Spec = acct.Spec
	return nil
}

// seedSource is what an Account starts from on an upgrade: the earliest Member of the address
// that joined through an invitation before accounts existed, and its credential Secret.
type seedSource struct {
	member      *membershipv1alpha1.Member
	credentials *corev1.Secret
}

// legacySeed finds, for an address with no Account, a Member that an earlier version of the
// operator made from an accepted invitation: Active, with a credential Secret of its own that
// carries no AccountLabel (every credential Secret written since accounts exist carries one, so a
// Member a tenant declares now can never become someone's Account). Of several, the earliest
// joined is the seed; the others keep their own password (they cannot be told apart from a
// different person's by their hashes), so no working password stops working.
func (r *Reconciler) legacySeed(ctx context.Context, members []membershipv1alpha1.Member) (*seedSource, error) {
	var seed *seedSource
	for i := range members {
		m := &members[i]
		if m.Status.Phase != membershipv1alpha1.MemberActive || !m.DeletionTimestamp.IsZero() ||
			m.Annotations[membershipv1alpha1.InvitationAnnotation] == "" || membershipv1alpha1.HasOwnerRole(m.Spec.Roles) {
			continue
		}
		secret, err := ownsecret.Get(ctx, r.Client, m, types.NamespacedName{Namespace: m.Namespace, Name: membershipv1alpha1.CredentialsSecretName(m.Name)})
		if ownsecret.IsForeign(err) || secret == nil {
			continue
		}
		if err != nil {
			return nil, err
		}
		if _, labelled := secret.Labels[membershipv1alpha1.AccountLabel]; labelled || len(secret.Data[membershipv1alpha1.CredentialPasswordHash]) == 0 {
			continue
		}
		if seed == nil || joinedBefore(m, seed.member) {
			seed = &seedSource{member: m, credentials: secret}
		}
	}
	return seed, nil
}

func joinedBefore(a, b *membershipv1alpha1.Member) bool {
	at, bt := a.CreationTimestamp.Time, b.CreationTimestamp.Time
	if a.Status.JoinedAt != nil {
		at = a.Status.JoinedAt.Time
	}
	if b.Status.JoinedAt != nil {
		bt = b.Status.JoinedAt.Time
	}
	if !at.Equal(bt) {
		return at.Before(bt)
	}
	return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
}

// createAccount makes the Account for the first request's address (or the seed's). It returns
// nil when the requests name an address that is not this Account's (nothing the server writes).
func (r *Reconciler) createAccount(ctx context.Context, name string, requests []corev1.Secret, seed *seedSource) (*membershipv1alpha1.Account, error) {
	var email, displayName, phone string
	if seed != nil {
		email, displayName, phone = string(seed.member.Spec.Email), string(seed.member.Spec.DisplayName), seed.member.Spec.Phone
	} else {
		email = requests[0].Annotations[membershipv1alpha1.EmailAnnotation]
		displayName = requests[0].Annotations[membershipv1alpha1.DisplayNameAnnotation]
		phone = requests[0].Annotations[membershipv1alpha1.PhoneAnnotation] // a move carries the person's
	}
	if !membershipv1alpha1.ValidDisplayName(displayName) || !membershipv1alpha1.ValidPhone(phone) {
		displayName, phone = "", "" // checked again here: a create the API server refuses would hold the Account in a loop
	}
	if membershipv1alpha1.AccountName(membershipv1alpha1.EmailAddress(email)) != name {
		return nil, fmt.Errorf("account request %s names an address that is not Account %s's", requests[0].Name, name)
	}
	acct := &membershipv1alpha1.Account{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{membershipv1alpha1.ManagedByLabel: membershipv1alpha1.ManagedByValue}},
		Spec: membershipv1alpha1.AccountSpec{
			Email:       membershipv1alpha1.EmailAddress(strings.ToLower(email)),
			DisplayName: membershipv1alpha1.DisplayName(displayName),
			Phone:       phone,
		},
	}
	if err := r.Create(ctx, acct); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return nil, err // the cache is behind our own write: try again
		}
		return nil, err
	}
	r.Recorder.Eventf(acct, nil, corev1.EventTypeNormal, EventAccountCreated, "Create", "Account created for %s", acct.Spec.Email)
	return acct, nil
}

// ensureSecret returns the Account's Secret, creating it (empty, or with the seed's password hash
// and TOTP key) when it has none. A Secret of that name the Account does not control is an error:
// nothing is read from it or written to it.
func (r *Reconciler) ensureSecret(ctx context.Context, acct *membershipv1alpha1.Account, seed *seedSource) (*corev1.Secret, error) {
	if secret, err := accounts.SecretOf(ctx, r.Client, r.Namespace, acct); err != nil || secret != nil {
		return secret, err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: membershipv1alpha1.AccountSecretName(acct.Name), Namespace: r.Namespace,
			Labels: map[string]string{
				membershipv1alpha1.ManagedByLabel:     membershipv1alpha1.ManagedByValue,
				membershipv1alpha1.AccountLabel:       acct.Name,
				membershipv1alpha1.AccountSecretLabel: membershipv1alpha1.AccountSecretValue,
			},
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{},
	}
	if seed != nil {
		for _, key := range []string{membershipv1alpha1.CredentialPasswordHash, membershipv1alpha1.CredentialTOTPSecret} {
			if v := seed.credentials.Data[key]; len(v) > 0 {
				secret.Data[key] = v
			}
		}
	}
	if err := controllerutil.SetControllerReference(acct, secret, r.Scheme); err != nil {
		return nil, err
	}
	if err := r.Create(ctx, secret); err != nil {
		if apierrors.IsAlreadyExists(err) {
			existing := &corev1.Secret{}
			if getErr := r.APIReader.Get(ctx, client.ObjectKeyFromObject(secret), existing); getErr != nil {
				return nil, errors.Join(err, getErr)
			}
			if metav1.IsControlledBy(existing, acct) {
				return existing, nil // our own, newer than the cache
			}
			if owner := metav1.GetControllerOf(existing); owner != nil && owner.Kind == "Account" && owner.Name == acct.Name &&
				owner.APIVersion == membershipv1alpha1.GroupVersion.String() {
				// Left by an earlier Account of this address (a reconcile that read it from a
				// cache after it was deleted): nobody uses it; it goes, and the next try makes
				// this Account's own.
				if _, err := ownsecret.Delete(ctx, r.Client, existing); err != nil {
					return nil, err
				}
				return nil, errStale
			}
			return nil, &ownsecret.ForeignError{Namespace: secret.Namespace, Name: secret.Name}
		}
		return nil, err
	}
	return secret, nil
}

// keepJoined drops the joined Members that are gone, being deleted, or no longer hold the
// address. One missing from the cache is looked up on the API server before it is dropped: the
// cache may not have caught up with a Member that joined a moment ago.
func (r *Reconciler) keepJoined(ctx context.Context, acct *membershipv1alpha1.Account, members []membershipv1alpha1.Member,
	joined map[string]membershipv1alpha1.AccountMember) ([]membershipv1alpha1.AccountMember, error) {
	var left []membershipv1alpha1.AccountMember
	present := map[string]*membershipv1alpha1.Member{}
	for i := range members {
		present[string(members[i].UID)] = &members[i]
	}
	for uid, ref := range joined {
		m, ok := present[uid]
		if !ok {
			live := &membershipv1alpha1.Member{}
			err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, live)
			if client.IgnoreNotFound(err) != nil {
				return nil, err
			}
			if err == nil && string(live.UID) == uid && strings.EqualFold(string(live.Spec.Email), string(acct.Spec.Email)) {
				m, ok = live, true
			}
		}
		if !ok || !m.DeletionTimestamp.IsZero() {
			delete(joined, uid)
			left = append(left, ref)
		}
	}
	return left, nil
}

// ensureTwoFactor gives the Account a TOTP key when a joined Member requires 2FA and the person
// never enrolled (a role or spec.twoFactor changed after joining): the Member's credential
// Secret then carries it, and an administrator's reset-2fa sends the enrolment link.
func (r *Reconciler) ensureTwoFactor(acct *membershipv1alpha1.Account, members []membershipv1alpha1.Member,
	joined map[string]membershipv1alpha1.AccountMember, data map[string][]byte) error {
	if len(data[membershipv1alpha1.CredentialTOTPSecret]) > 0 {
		return nil
	}
	for i := range members {
		m := &members[i]
		if _, ok := joined[string(m.UID)]; ok && (m.Spec.TwoFactor.Required || membershipv1alpha1.HasOwnerRole(m.Spec.Roles)) {
			// The issuer only labels the key here: each store's Secret carries its own URI.
			enrolment, err := credentials.NewTOTP(r.Random, m.Spec.StoreRef.Name, string(acct.Spec.Email))
			if err != nil {
				return err
			}
			data[membershipv1alpha1.CredentialTOTPSecret] = []byte(enrolment.Secret)
			return nil
		}
	}
	return nil
}

// deleteAccount deletes the Account's Secret and then the Account, each with its UID as
// precondition. The garbage collector would take the Secret too; it is deleted here so that it
// goes even where none runs, and first, so that no Secret outlives its Account.
func (r *Reconciler) deleteAccount(ctx context.Context, acct *membershipv1alpha1.Account) error {
	// Confirmed on the API server first: the Secret goes only with an Account nobody joined.
	fresh := &membershipv1alpha1.Account{}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(acct), fresh); err != nil {
		return client.IgnoreNotFound(err)
	}
	if fresh.ResourceVersion != acct.ResourceVersion {
		return errStale
	}
	secret := &corev1.Secret{}
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: r.Namespace, Name: membershipv1alpha1.AccountSecretName(acct.Name)}, secret)
	if client.IgnoreNotFound(err) != nil {
		return err
	}
	if err == nil && metav1.IsControlledBy(secret, acct) {
		if _, err := ownsecret.Delete(ctx, r.Client, secret); err != nil {
			return err
		}
	}
	if err := r.releaseLoginNames(ctx, acct, ""); err != nil {
		return err
	}
	// The version read is a precondition too: a cache behind a join (the Account's status not
	// seen yet) must not delete an Account somebody uses.
	if err := r.Delete(ctx, acct, client.Preconditions{UID: &acct.UID, ResourceVersion: &acct.ResourceVersion}); client.IgnoreNotFound(err) != nil {
		return err
	}
	r.Recorder.Eventf(acct, nil, corev1.EventTypeNormal, EventAccountDeleted, "Delete",
		"Account of %s deleted with its Secret: no Member uses it", acct.Spec.Email)
	return nil
}

// errStale sends a reconcile that read an Account older than the API server's back to read again.
var errStale = errors.New("the cached Account is older than the stored one; reading it again")
