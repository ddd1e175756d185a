// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package member

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	accounts "github.com/storeops/member-operator/internal/account"
	"github.com/storeops/member-operator/internal/accounttoken"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/credrequest"
	"github.com/storeops/member-operator/internal/ownsecret"
)

// The credential Secret: what the admin application reads. Issued from an accepted invitation
// or spec.passwordSecretRef, written only to a Secret this Member controls.

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
	data, source := startingData(current, retained)

	person, err := r.joinedAccount(ctx, member)
	if err != nil {
		return ctrl.Result{}, err
	}
	member.Status.Account = ""
	delete(data, membershipv1alpha1.CredentialLoginName) // the Account's, projected again below while joined
	st := &passwordState{source: source}
	requests, err := credrequest.Pending(ctx, r.Client, r.APIReader, r.AccountNamespace, member)
	if err != nil {
		return ctrl.Result{}, err
	}
	folded := r.foldRequests(member, person, data, current != nil || retained != nil, requests)
	st.chosen = folded.Applied
	var stop bool
	switch {
	case person != nil:
		stop, err = r.projectAccount(ctx, member, store, person, data, st)
	case member.Spec.PasswordSecretRef != nil:
		stop, err = r.suppliedPassword(ctx, member, data, st)
	case len(data[membershipv1alpha1.CredentialPasswordHash]) == 0:
		stop, err = r.generatePassword(member, data)
	}
	if err != nil || stop {
		return st.result, err
	}
	result, rotated, governing, askGit := st.result, st.rotated, st.governing || st.adopting, st.askGit

	if person == nil {
		if err := r.setTwoFactor(member, store, data, leftAccount(member, current, retained)); err != nil {
			return ctrl.Result{}, err
		}
	}
	setGrants(member, data)
	if askGit {
		// The login of its own is written meanwhile, with the same password: nothing waits for
		// the Account, and the projection that follows changes nothing a person notices.
		if err := r.askGitAccount(ctx, member, data); err != nil {
			return ctrl.Result{}, err
		}
	}
	if err := r.writeCredentials(ctx, member, store, current, retained, data, st); err != nil {
		return ctrl.Result{}, err
	}
	// Only now that the Secret holds what they asked (or they were refused) do the requests go.
	if err := credrequest.Done(ctx, r.Client, requests); err != nil {
		return ctrl.Result{}, err
	}
	r.refusedRequests(member, folded)
	if current != nil && (rotated || !bytes.Equal(current.Data[membershipv1alpha1.CredentialUsername], data[membershipv1alpha1.CredentialUsername])) {
		// A password from Git that changed (the Member's own, or its Account's), or a login email
		// an administrator changed: every link started before (reset, email change, 2FA
		// enrolment) ends now.
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
	message := fmt.Sprintf("Credentials are in Secret %s", name)
	if governing {
		message += fmt.Sprintf("; the password of Account %s is declared by Secret %q (spec.passwordSecretRef)",
			person.Account.Name, member.Spec.PasswordSecretRef.Name)
	} else if person != nil && member.Spec.PasswordSecretRef != nil {
		// The person's Account is used in other namespaces too (or declared from another): a
		// reference one tenant adds to its Member does not set the password of the others' stores.
		message += fmt.Sprintf("; spec.passwordSecretRef is ignored: Account %s is used in other namespaces too, "+
			"and its password is the person's", person.Account.Name)
		if ready := meta.FindStatusCondition(member.Status.Conditions, membershipv1alpha1.ConditionReady); ready == nil || ready.Message != message {
			r.Recorder.Eventf(member, nil, corev1.EventTypeWarning, EventPasswordSourceConflict, "IssueCredentials", "%s", message)
		}
	}
	setConditions(member, metav1.ConditionTrue, membershipv1alpha1.ReasonActive, message)
	return result, nil
}

// startingData is what a reconcile starts from: a copy of the credential Secret's data, else of
// the retained copy a disabled Member left, with the version of the password source it records.
func startingData(current, retained *corev1.Secret) (map[string][]byte, string) {
	var data map[string][]byte
	source := ""
	switch {
	case current != nil:
		data, source = maps.Clone(current.Data), current.Annotations[membershipv1alpha1.PasswordSourceAnnotation]
	case retained != nil:
		data, source = maps.Clone(retained.Data), retained.Annotations[membershipv1alpha1.PasswordSourceAnnotation]
	}
	if data == nil {
		data = map[string][]byte{}
	}
	return data, source
}

// setTwoFactor puts the 2FA enrolment of a Member with a login of its own into data. A TOTP secret
// is made once; its URI is rebuilt from it, so it follows a changed email or store name.
func (r *Reconciler) setTwoFactor(member *membershipv1alpha1.Member, store *membershipv1alpha1.Store, data map[string][]byte,
	keepEnrolled bool) error {
	email := string(member.Spec.Email)
	// A Member that left its Account (its login email moved) keeps the 2FA the person enrolled
	// there, required or not.
	keep := keepEnrolled && len(data[membershipv1alpha1.CredentialTOTPSecret]) > 0 && !member.IsIntegration()
	if !twoFactorRequired(member) && !keep {
		delete(data, membershipv1alpha1.CredentialTOTPSecret)
		delete(data, membershipv1alpha1.CredentialTOTPURI)
		return nil
	}
	if len(data[membershipv1alpha1.CredentialTOTPSecret]) == 0 {
		enrolment, err := credentials.NewTOTP(r.Random, string(store.Spec.DisplayName), email)
		if err != nil {
			return err
		}
		data[membershipv1alpha1.CredentialTOTPSecret] = []byte(enrolment.Secret)
	}
	data[membershipv1alpha1.CredentialTOTPURI] = []byte(credentials.TOTPURI(string(store.Spec.DisplayName), email,
		string(data[membershipv1alpha1.CredentialTOTPSecret])))
	return nil
}

// leftAccount reports whether member, which projects no Account now, carried one before (its
// Secret still names it), so that what the person chose there is kept.
func leftAccount(member *membershipv1alpha1.Member, current, retained *corev1.Secret) bool {
	name := accountLabel(member, current, retained)
	return name != "" && name != membershipv1alpha1.AccountSeparate
}

// setGrants puts the login, roles, permissions and effective email preferences (status, set
// by the phases before) into data.
func setGrants(member *membershipv1alpha1.Member, data map[string][]byte) {
	roles, permissions := rolesAndPermissions(member.Spec.Roles)
	data[membershipv1alpha1.CredentialUsername] = []byte(member.Login())
	if member.IsIntegration() {
		data[membershipv1alpha1.CredentialLoginType] = []byte(membershipv1alpha1.LoginTypeIntegration)
	} else {
		delete(data, membershipv1alpha1.CredentialLoginType)
	}
	data[membershipv1alpha1.CredentialRoles] = []byte(roles)
	data[membershipv1alpha1.CredentialPermissions] = []byte(permissions)
	data[membershipv1alpha1.CredentialEmailPreferences] = preferencesJSON(member.Status.EmailPreferences)
}

// preferencesJSON is preferences as a JSON object with sorted keys ({} when none), so that the
// same preferences are always the same bytes and a plain reconcile writes nothing.
func preferencesJSON(preferences map[string]bool) []byte {
	if preferences == nil {
		preferences = map[string]bool{}
	}
	out, err := json.Marshal(preferences) // encoding/json sorts map keys
	if err != nil {
		return []byte("{}")
	}
	return out
}

// joinedAccount is the Account whose credentials member's Secret carries: the one of its address,
// when the person joined member to it (Account.status.members, which only the Account controller
// writes, from the acceptance server's requests) and it has a password. nil otherwise: the Member
// keeps a login of its own. The owner's login is the Store's business (activation, transfer) and
// stays its own.
func (r *Reconciler) joinedAccount(ctx context.Context, member *membershipv1alpha1.Member) (*accounts.Person, error) {
	if r.AccountNamespace == "" || membershipv1alpha1.HasOwnerRole(member.Spec.Roles) || member.IsIntegration() {
		return nil, nil
	}
	// Joined first, from the cache: the account Secret is read (from the API server in a
	// namespace shard) only for a Member that joined the Account.
	acct, err := accounts.Of(ctx, r.Client, member.Spec.Email)
	if err != nil || acct == nil || !acct.Joined(string(member.UID)) {
		return nil, err
	}
	return accounts.PersonOf(ctx, r.accountSecrets(), r.AccountNamespace, acct)
}

// writeCredentials creates the credential Secret or updates it when it differs from data, then
// drops the retained copy a disabled Member left.
func (r *Reconciler) writeCredentials(ctx context.Context, member *membershipv1alpha1.Member, store *membershipv1alpha1.Store,
	current, retained *corev1.Secret, data map[string][]byte, st *passwordState) error {
	source := st.source
	name := membershipv1alpha1.CredentialsSecretName(member.Name)
	labels := map[string]string{
		membershipv1alpha1.ManagedByLabel: membershipv1alpha1.ManagedByValue,
		membershipv1alpha1.StoreLabel:     store.Name,
		membershipv1alpha1.MemberLabel:    member.Name,
	}
	if account := accountLabel(member, current, retained); account != "" {
		labels[membershipv1alpha1.AccountLabel] = account
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
		switch {
		case st.rotated:
			r.Recorder.Eventf(member, updated, corev1.EventTypeNormal, EventPasswordRotated, "IssueCredentials",
				"Password changed in the referenced Secret: new hash in Secret %s", name)
		case len(st.chosen) > 0:
			r.Recorder.Eventf(member, updated, corev1.EventTypeNormal, EventPasswordChosen, "IssueCredentials",
				"The password chosen through %s is in Secret %s", chosenThrough(st.chosen), name)
		default:
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

// accountLabel is the AccountLabel of member's credential Secret: the Account it projects (or last
// projected, once it left it), or AccountSeparate. A Secret an earlier version wrote for an accepted invitation keeps having none
// until the Account controller made the person's Account from it (legacySeed there): that is the
// one mark of credentials a person chose before accounts existed, which nothing written since
// can carry.
func accountLabel(member *membershipv1alpha1.Member, current, retained *corev1.Secret) string {
	if member.Status.Account != "" {
		return member.Status.Account
	}
	for _, existing := range []*corev1.Secret{current, retained} {
		if existing == nil {
			continue
		}
		if name := existing.Labels[membershipv1alpha1.AccountLabel]; name != "" && name != membershipv1alpha1.AccountSeparate {
			return name // the Account it left: what the person chose there stays (leftAccount)
		}
		if _, labelled := existing.Labels[membershipv1alpha1.AccountLabel]; !labelled &&
			member.Annotations[membershipv1alpha1.InvitationAnnotation] != "" && !membershipv1alpha1.HasOwnerRole(member.Spec.Roles) {
			return ""
		}
	}
	return membershipv1alpha1.AccountSeparate
}
