// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package member

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	accounts "github.com/storeops/member-operator/internal/account"
	"github.com/storeops/member-operator/internal/accounttoken"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/internal/ownsecret"
	"github.com/storeops/member-operator/internal/skeleton"
)

// Event reasons of the administrator annotations.
const (
	EventPasswordResetSent = "PasswordResetSent"
	EventTwoFactorReset    = "TwoFactorReset"
	EventResetIgnored      = "ResetIgnored"
)

// resetAction is what a value of an administrator annotation asks for.
type resetAction int

const (
	// resetNone: no new value.
	resetNone resetAction = iota
	// resetRecord: a new value to remember without acting (the Member was never reconciled
	// before: a value applied with it from Git is not a request; or it has no access to reset).
	resetRecord
	// resetAct: act on the new value.
	resetAct
)

// resetRequest reads an administrator annotation against the value last acted on.
func resetRequest(value, observed string, firstReconcile, active bool) resetAction {
	switch {
	case value == "" || value == observed:
		return resetNone
	case firstReconcile || !active:
		return resetRecord
	}
	return resetAct
}

// handleResets acts on new values of the reset-password and reset-2fa annotations, each once:
// the value is recorded in status before acting, against the latest version of the Member (so a
// stale cache cannot act twice), and un-recorded when the action fails (so it is retried with
// backoff). A crash between the record and the email loses that email: set a new value.
func (r *Reconciler) handleResets(ctx context.Context, member *membershipv1alpha1.Member, firstReconcile bool) error {
	if member.Annotations[membershipv1alpha1.ResetPasswordAnnotation] == member.Status.ObservedResetPassword &&
		member.Annotations[membershipv1alpha1.ResetTwoFactorAnnotation] == member.Status.ObservedResetTwoFactor {
		return nil
	}
	store := &membershipv1alpha1.Store{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: member.Namespace, Name: member.Spec.StoreRef.Name}, store); err != nil {
		return client.IgnoreNotFound(err) // the phases report the missing Store; act when it is back
	}
	if membershipv1alpha1.HasOwnerRole(member.Spec.Roles) || member.IsIntegration() {
		// The owner resets through the self-service pages (or hands the store over); an
		// annotation anybody who may edit Members can set must not email the owner links. An
		// integration has no email to send a link to, nor 2FA.
		if !firstReconcile {
			why := "The owner's password and 2FA are not reset by annotation: the owner uses the self-service pages"
			if member.IsIntegration() {
				why = "An integration has no email or 2FA: rotate its secret through spec.passwordSecretRef"
			}
			r.Recorder.Eventf(member, nil, corev1.EventTypeWarning, EventResetIgnored, "Reset", "%s", why)
		}
		member.Status.ObservedResetPassword = member.Annotations[membershipv1alpha1.ResetPasswordAnnotation]
		member.Status.ObservedResetTwoFactor = member.Annotations[membershipv1alpha1.ResetTwoFactorAnnotation]
		return nil
	}
	active := member.Status.Phase == membershipv1alpha1.MemberActive
	value := member.Annotations[membershipv1alpha1.ResetPasswordAnnotation]
	switch resetRequest(value, member.Status.ObservedResetPassword, firstReconcile, active) {
	case resetRecord:
		if !firstReconcile {
			r.Recorder.Eventf(member, nil, corev1.EventTypeWarning, EventResetIgnored, "ResetPassword",
				"A Member that is %s has no password to reset", member.Status.Phase)
		}
		member.Status.ObservedResetPassword = value
	case resetAct:
		previous := member.Status.ObservedResetPassword
		if acted, err := r.claimReset(ctx, member, func(st *membershipv1alpha1.MemberStatus) { st.ObservedResetPassword = value }); !acted || err != nil {
			return err
		}
		if err := r.sendPasswordReset(ctx, member, store); err != nil {
			return r.releaseReset(ctx, member, func(st *membershipv1alpha1.MemberStatus) { st.ObservedResetPassword = previous }, err)
		}
	}

	value = member.Annotations[membershipv1alpha1.ResetTwoFactorAnnotation]
	switch resetRequest(value, member.Status.ObservedResetTwoFactor, firstReconcile, active && twoFactorRequired(member)) {
	case resetRecord:
		if !firstReconcile {
			r.Recorder.Eventf(member, nil, corev1.EventTypeWarning, EventResetIgnored, "ResetTwoFactor",
				"The Member has no two-factor authentication to reset (phase %s, spec.twoFactor.required %t)",
				member.Status.Phase, member.Spec.TwoFactor.Required)
		}
		member.Status.ObservedResetTwoFactor = value
	case resetAct:
		previous := member.Status.ObservedResetTwoFactor
		if acted, err := r.claimReset(ctx, member, func(st *membershipv1alpha1.MemberStatus) { st.ObservedResetTwoFactor = value }); !acted || err != nil {
			return err
		}
		if err := r.resetTwoFactor(ctx, member, store); err != nil {
			return r.releaseReset(ctx, member, func(st *membershipv1alpha1.MemberStatus) { st.ObservedResetTwoFactor = previous }, err)
		}
	}
	return nil
}

// claimReset records, before acting (internal/skeleton's record before acting), that a value is being acted on, and only if the Member read
// is the latest version: a stale cache (our own record not seen yet, after the Secret we wrote
// brought the Member back) gets a conflict instead of acting twice. It reports whether to act.
func (r *Reconciler) claimReset(ctx context.Context, member *membershipv1alpha1.Member, record func(*membershipv1alpha1.MemberStatus)) (bool, error) {
	base := member.DeepCopy()
	record(&member.Status)
	if err := skeleton.Record(ctx, r.Client, member, base); err != nil {
		*member = *base
		if apierrors.IsConflict(err) {
			return false, nil // the newer version brings the Member back
		}
		return false, err
	}
	return true, nil
}

// releaseReset undoes claimReset after the action failed, so a retry (with backoff) acts again.
func (r *Reconciler) releaseReset(ctx context.Context, member *membershipv1alpha1.Member, restore func(*membershipv1alpha1.MemberStatus), cause error) error {
	base := member.DeepCopy()
	restore(&member.Status)
	if err := r.Status().Patch(ctx, member, client.MergeFrom(base)); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

// sendPasswordReset emails the Member a single-use reset link; its current password keeps
// working until the link is used.
func (r *Reconciler) sendPasswordReset(ctx context.Context, member *membershipv1alpha1.Member, store *membershipv1alpha1.Store) error {
	// An administrator's reset means the password is in doubt: what was started with it (an
	// email change and its cancel link, a 2FA enrolment) ends now. Earlier reset links stay
	// until one of them is used, as for a reset the person asks for.
	if err := accounttoken.RevokeAll(ctx, r.APIReader, r.Client, member, membershipv1alpha1.PurposeEmailChange,
		membershipv1alpha1.PurposeEmailChangeCancel, membershipv1alpha1.PurposeTwoFactorEnrolment); err != nil {
		return err
	}
	expires := accounttoken.ExpiresAt(r.Clock.Now(), r.PasswordResetTTL)
	tok, secret, err := accounttoken.Issue(ctx, r.Client, r.Scheme, r.Random, member, store.Name, membershipv1alpha1.PurposePasswordReset, expires)
	if err != nil {
		return err
	}
	err = r.sendAccountEmail(ctx, member, store, mail.KindPasswordReset, secret, mail.PasswordResetData{
		StoreName: string(store.Spec.DisplayName), MemberName: string(member.Spec.DisplayName), Email: string(member.Spec.Email),
		ResetURL: r.link("/password/reset", tok), ExpiresAt: expires, ByAdministrator: true,
	})
	if err != nil {
		return err
	}
	r.Recorder.Eventf(member, nil, corev1.EventTypeNormal, EventPasswordResetSent, "ResetPassword",
		"A password reset link was emailed to %s; it works once, until %s", member.Spec.Email, expires.Format(time.RFC3339))
	return nil
}

// resetTwoFactor gives the Member a new TOTP secret (the old one stops validating with this
// write) and emails a single-use link to enrol it.
func (r *Reconciler) resetTwoFactor(ctx context.Context, member *membershipv1alpha1.Member, store *membershipv1alpha1.Store) error {
	current, err := r.ownSecret(ctx, member, membershipv1alpha1.CredentialsSecretName(member.Name))
	if err != nil || current == nil {
		return err
	}
	enrolment, err := credentials.NewTOTP(r.Random, string(store.Spec.DisplayName), string(member.Spec.Email))
	if err != nil {
		return err
	}
	if account := current.Labels[membershipv1alpha1.AccountLabel]; account != "" && account != membershipv1alpha1.AccountSeparate {
		// The key is the person's, in every store: their Account's controller replaces it, and
		// the projection brings it here.
		if _, err := accounts.Ask(ctx, r.Client, r.AccountNamespace, accounts.Request{
			Kind: membershipv1alpha1.AccountRequestTwoFactor, Email: member.Spec.Email, TOTPSecret: enrolment.Secret,
		}); err != nil {
			return err
		}
		// The old key stops validating before the link goes out: wait for the Account to hold
		// the new one, then carry it here at once (other stores follow through their Members).
		applied, err := accounts.Applied(ctx, r.accountSecrets(), types.NamespacedName{Namespace: r.AccountNamespace, Name: membershipv1alpha1.AccountSecretName(account)},
			accountApplyTimeout, func(secret *corev1.Secret) bool {
				return string(secret.Data[membershipv1alpha1.CredentialTOTPSecret]) == enrolment.Secret
			})
		if err != nil {
			return err
		}
		if !applied {
			return fmt.Errorf("the Account %s did not take the new 2FA key within %s", account, accountApplyTimeout)
		}
		updated := current.DeepCopy()
		updated.Data = maps.Clone(current.Data)
		updated.Data[membershipv1alpha1.CredentialTOTPSecret] = []byte(enrolment.Secret)
		updated.Data[membershipv1alpha1.CredentialTOTPURI] = []byte(credentials.TOTPURI(string(store.Spec.DisplayName), string(member.Spec.Email), enrolment.Secret))
		if err := r.Update(ctx, updated); err != nil {
			return err
		}
	} else {
		updated := current.DeepCopy()
		updated.Data = maps.Clone(current.Data)
		updated.Data[membershipv1alpha1.CredentialTOTPSecret] = []byte(enrolment.Secret)
		updated.Data[membershipv1alpha1.CredentialTOTPURI] = []byte(enrolment.URI)
		if err := r.Update(ctx, updated); err != nil { // resourceVersion: never over a newer write
			return err
		}
	}
	if err := accounttoken.RevokeAll(ctx, r.APIReader, r.Client, member, membershipv1alpha1.PurposeTwoFactorEnrolment); err != nil {
		return err
	}
	expires := accounttoken.ExpiresAt(r.Clock.Now(), r.PasswordResetTTL)
	tok, secret, err := accounttoken.Issue(ctx, r.Client, r.Scheme, r.Random, member, store.Name, membershipv1alpha1.PurposeTwoFactorEnrolment, expires)
	if err != nil {
		return err
	}
	err = r.sendAccountEmail(ctx, member, store, mail.KindTwoFactorReset, secret, mail.TwoFactorResetData{
		StoreName: string(store.Spec.DisplayName), MemberName: string(member.Spec.DisplayName), Email: string(member.Spec.Email),
		EnrolURL: r.link("/2fa/enrol", tok), ExpiresAt: expires,
	})
	if err != nil {
		return err
	}
	r.Recorder.Eventf(member, nil, corev1.EventTypeNormal, EventTwoFactorReset, "ResetTwoFactor",
		"Two-factor authentication reset: the previous key no longer works; an enrolment link was emailed to %s", member.Spec.Email)
	return nil
}

// accountApplyTimeout bounds how long a reset waits for the Account controller.
const accountApplyTimeout = 10 * time.Second

// sendAccountEmail sends an email carrying the link of token Secret secret; when it fails, the
// Secret goes (nobody has its link) and the error brings the reconcile back with backoff.
func (r *Reconciler) sendAccountEmail(ctx context.Context, member *membershipv1alpha1.Member, store *membershipv1alpha1.Store,
	kind mail.Kind, secret *corev1.Secret, data any) error {
	content, err := mail.Render(kind, string(store.Spec.Locale), data)
	if err == nil {
		err = r.Mail.Send(ctx, mail.Message{
			To: string(member.Spec.Email), MessageID: mail.MessageID(secret.UID, string(kind), r.MailDomain), Content: content,
		})
	}
	if err != nil {
		_, _ = ownsecret.Delete(ctx, r.Client, secret)
		return fmt.Errorf("%s email to the Member: %w", kind, err)
	}
	return nil
}

func (r *Reconciler) link(path string, tok credentials.Token) string {
	return strings.TrimRight(r.PublicURL, "/") + path + "?token=" + url.QueryEscape(tok.String())
}
