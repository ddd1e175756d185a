// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package selfservice

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	accounts "github.com/storeops/member-operator/internal/account"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/web"
)

// What the account page changes of the person themselves, on their Account (whose one writer is
// the Account controller: the server asks through a request and waits until it shows): display
// name, phone and login name, and 2FA on or off. A login of its own (no Account) has none of these here.

// profileTimeout bounds how long a change waits to show on the Account or its Secrets.
const profileTimeout = 10 * time.Second

// personAccount is the signed-in person's Account; nil for a login of its own. It is read from
// the API server: the page that answers a change (a new display name, 2FA turned on) shows the
// Account the change was waited for on (waitForAccount), which the cache may not hold yet.
func (s *Service) personAccount(ctx context.Context, acct *account) (*membershipv1alpha1.Account, error) {
	if acct.joined == "" {
		return nil, nil
	}
	person := &membershipv1alpha1.Account{}
	if err := s.APIReader.Get(ctx, types.NamespacedName{Name: acct.joined}, person); err != nil {
		return nil, err
	}
	return person, nil
}

// twoFactorRequired reports whether any membership of the person requires 2FA: then it cannot be
// turned off.
func twoFactorRequired(all []membership) bool {
	for _, m := range all {
		if m.member.Spec.TwoFactor.Required || membershipv1alpha1.HasOwnerRole(m.member.Spec.Roles) {
			return true
		}
	}
	return false
}

// profile is what the "about you" form and POST /api/v1/account/profile change. loginName nil
// leaves the login name as it is; "" removes it.
type profile struct {
	displayName, phone string
	loginName          *string
}

// profileErrors checks a profile: field name to the web.Texts key of its error.
func profileErrors(p profile) map[string]string {
	errs := map[string]string{}
	if fe := web.CheckDisplayName(p.displayName); fe != nil {
		errs["displayName"] = "field." + fe.Code
	}
	if !membershipv1alpha1.ValidPhone(p.phone) {
		errs["phone"] = "account.phone.invalid"
	}
	if p.loginName != nil && *p.loginName != "" && !membershipv1alpha1.ValidLoginName(*p.loginName) {
		errs[fieldLoginName] = "account.loginName.invalid"
	}
	return errs
}

// fieldLoginName is the login name's field, in JSON and on forms.
const fieldLoginName = "loginName"

// errLoginNameTaken: another person's Account holds the login name asked for.
var errLoginNameTaken = errors.New("the login name is taken")

// setProfile asks the Account controller for the person's new login name (when it changes)
// and then for the display name and phone, and waits until the Account shows them. It is
// errLoginNameTaken, with nothing changed, when another person holds the name.
func (s *Service) setProfile(ctx context.Context, acct *account, p profile) error {
	if p.loginName != nil {
		person, err := s.personAccount(ctx, acct)
		if err != nil {
			return err
		}
		if name := strings.ToLower(*p.loginName); person != nil && name != string(person.Spec.LoginName) {
			if err := s.setLoginName(ctx, acct, name); err != nil {
				return err
			}
		}
	}
	if _, err := accounts.Ask(ctx, s.Client, s.AccountNamespace, accounts.Request{
		Kind: membershipv1alpha1.AccountRequestProfile, Email: acct.member.Spec.Email, DisplayName: p.displayName, Phone: p.phone,
	}); err != nil {
		return err
	}
	return s.waitForAccount(ctx, acct, func(a *membershipv1alpha1.Account) bool {
		return string(a.Spec.DisplayName) == p.displayName && a.Spec.Phone == p.phone
	})
}

// setLoginName asks for the login name name ("" removes it) and waits until the Account
// controller has decided (the request is gone): the Account then holds it, or another Account
// claimed it first. A name the cache already shows on another Account is refused at once.
func (s *Service) setLoginName(ctx context.Context, acct *account, name string) error {
	if name != "" {
		holder, err := s.accountByLoginName(ctx, name)
		if err != nil {
			return err
		}
		if holder != nil && holder.Name != acct.joined {
			return errLoginNameTaken
		}
	}
	req, err := accounts.Ask(ctx, s.Client, s.AccountNamespace, accounts.Request{
		Kind: membershipv1alpha1.AccountRequestLoginName, Email: acct.member.Spec.Email, LoginName: name,
	})
	if err != nil {
		return err
	}
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, profileTimeout, true, func(ctx context.Context) (bool, error) {
		err := s.APIReader.Get(ctx, client.ObjectKeyFromObject(req), &corev1.Secret{})
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
	if wait.Interrupted(err) {
		return nil // asked; the Account controller decides in a moment, and the page shows what it decided
	}
	if err != nil {
		return err
	}
	person := &membershipv1alpha1.Account{}
	if err := s.APIReader.Get(ctx, types.NamespacedName{Name: acct.joined}, person); err != nil {
		return err
	}
	if string(person.Spec.LoginName) != name {
		return errLoginNameTaken
	}
	return nil
}

// submitProfile is the page's "about you" form.
func (s *Service) submitProfile(w http.ResponseWriter, r *http.Request, acct *account) {
	t := web.Texts[web.RequestLocale(r)]
	p := profile{displayName: strings.TrimSpace(r.PostForm.Get("displayName")), phone: strings.TrimSpace(r.PostForm.Get("phone"))}
	if _, sent := r.PostForm[fieldLoginName]; sent {
		p.loginName = ptr.To(strings.TrimSpace(r.PostForm.Get(fieldLoginName)))
	}
	errs := profileErrors(p)
	for field, key := range errs {
		errs[field] = t[key]
	}
	if acct.joined == "" || len(errs) > 0 {
		s.renderAccountWith(w, r, acct, http.StatusBadRequest, accountNotes{errors: errs})
		return
	}
	if err := s.setProfile(r.Context(), acct, p); err != nil {
		if errors.Is(err, errLoginNameTaken) {
			s.renderAccountWith(w, r, acct, http.StatusConflict, accountNotes{errors: map[string]string{fieldLoginName: t["account.loginName.taken"]}})
			return
		}
		s.pageError(w, r, err)
		return
	}
	s.renderAccountWith(w, r, acct, http.StatusOK, accountNotes{notice: t["account.profile.saved"]})
}

// waitForAccount waits until the person's Account shows done (bounded by profileTimeout).
func (s *Service) waitForAccount(ctx context.Context, acct *account, done func(*membershipv1alpha1.Account) bool) error {
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, profileTimeout, true, func(ctx context.Context) (bool, error) {
		person := &membershipv1alpha1.Account{}
		return s.APIReader.Get(ctx, types.NamespacedName{Name: acct.joined}, person) == nil && done(person), nil
	})
	if wait.Interrupted(err) {
		return nil // asked; it shows in a moment, and the page says what the Account says
	}
	return err
}

// awaitCredentials waits (bounded by profileTimeout) until the login's credential Secret shows
// done: the Account's change has reached the stores.
func (s *Service) awaitCredentials(ctx context.Context, acct *account, done func(*corev1.Secret) bool) error {
	_, err := accounts.Applied(ctx, s.APIReader, types.NamespacedName{Namespace: acct.member.Namespace,
		Name: membershipv1alpha1.CredentialsSecretName(acct.member.Name)}, profileTimeout, done)
	return err
}

// enrolment carries a 2FA key being turned on from the page that shows it to the form that
// confirms it: the key and a signature over the person's email and the key, so the form cannot
// be handed someone else's key (it is the person's own to see: they are scanning it).
func (s *Service) enrolment(email, key string) string {
	return key + "." + base64.RawURLEncoding.EncodeToString(s.sign([]byte("enrol/"+strings.ToLower(email)+"/"+key)))
}

func (s *Service) openEnrolment(email, value string) (string, bool) {
	key, signature, ok := strings.Cut(value, ".")
	if !ok || len(s.SessionKey) < 32 {
		return "", false
	}
	mac, err := base64.RawURLEncoding.DecodeString(signature)
	return key, err == nil && hmac.Equal(mac, s.sign([]byte("enrol/"+strings.ToLower(email)+"/"+key)))
}

// startTwoFactor shows a new key as a QR code with the field for its first code.
func (s *Service) startTwoFactor(w http.ResponseWriter, r *http.Request, acct *account) {
	if acct.joined == "" {
		s.renderAccountWith(w, r, acct, http.StatusConflict, accountNotes{problem: web.Texts[web.RequestLocale(r)]["account.2fa.own-login"]})
		return
	}
	enrolment, err := credentials.NewTOTP(s.Random, string(acct.store.Spec.DisplayName), string(acct.member.Spec.Email))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.renderEnrolment(w, r, acct, http.StatusOK, enrolment.Secret, nil)
}

func (s *Service) renderEnrolment(w http.ResponseWriter, r *http.Request, acct *account, status int, key string, errs map[string]string) {
	uri := credentials.TOTPURI(string(acct.store.Spec.DisplayName), string(acct.member.Spec.Email), key)
	qr, err := web.QRSVG(uri)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.renderAccountWith(w, r, acct, status, accountNotes{errors: errs, enrol: &web.EnrolView{
		Key: key, QR: qr, Enrolment: s.enrolment(string(acct.member.Spec.Email), key)}})
}

// confirmTwoFactor turns 2FA on once the person typed a right code of the new key: the Account
// takes the key (every store of the person at once) and the step is spent.
func (s *Service) confirmTwoFactor(w http.ResponseWriter, r *http.Request, acct *account) {
	t := web.Texts[web.RequestLocale(r)]
	key, ok := s.openEnrolment(string(acct.member.Spec.Email), r.PostForm.Get("enrolment"))
	if !ok || acct.joined == "" {
		s.renderAccountWith(w, r, acct, http.StatusBadRequest, accountNotes{problem: t["account.2fa.expired"]})
		return
	}
	if _, matched := credentials.MatchTOTP(key, strings.TrimSpace(r.PostForm.Get(fieldTOTPCode)), s.Clock.Now()); !matched {
		s.renderEnrolment(w, r, acct, http.StatusBadRequest, key, map[string]string{fieldTOTPCode: t["field.wrong"]})
		return
	}
	if _, err := accounts.Ask(r.Context(), s.Client, s.AccountNamespace, accounts.Request{
		Kind: membershipv1alpha1.AccountRequestTwoFactor, Email: acct.member.Spec.Email, TOTPSecret: key,
	}); err != nil {
		s.pageError(w, r, err)
		return
	}
	if err := s.awaitCredentials(r.Context(), acct,
		func(secret *corev1.Secret) bool {
			return string(secret.Data[membershipv1alpha1.CredentialTOTPSecret]) == key
		}); err != nil {
		s.pageError(w, r, err)
		return
	}
	s.refreshCredentials(r.Context(), acct)
	s.renderAccountWith(w, r, acct, http.StatusOK, accountNotes{notice: t["account.2fa.on.done"]})
}

// stopTwoFactor turns 2FA off, when none of the person's memberships requires it.
func (s *Service) stopTwoFactor(w http.ResponseWriter, r *http.Request, acct *account) {
	t := web.Texts[web.RequestLocale(r)]
	all, err := s.memberships(r.Context(), acct)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if acct.joined == "" || twoFactorRequired(all) {
		s.renderAccountWith(w, r, acct, http.StatusConflict, accountNotes{problem: t["account.2fa.required"]})
		return
	}
	if _, err := accounts.Ask(r.Context(), s.Client, s.AccountNamespace, accounts.Request{
		Kind: membershipv1alpha1.AccountRequestTwoFactorOff, Email: acct.member.Spec.Email,
	}); err != nil {
		s.pageError(w, r, err)
		return
	}
	if err := s.awaitCredentials(r.Context(), acct,
		func(secret *corev1.Secret) bool {
			return len(secret.Data[membershipv1alpha1.CredentialTOTPSecret]) == 0
		}); err != nil {
		s.pageError(w, r, err)
		return
	}
	s.refreshCredentials(r.Context(), acct)
	s.renderAccountWith(w, r, acct, http.StatusOK, accountNotes{notice: t["account.2fa.off.done"]})
}

// refreshCredentials reads the login's credential Secret again, uncached, after a change the
// page is about to show.
func (s *Service) refreshCredentials(ctx context.Context, acct *account) {
	fresh := &corev1.Secret{}
	if err := s.APIReader.Get(ctx, types.NamespacedName{Namespace: acct.credentials.Namespace, Name: acct.credentials.Name}, fresh); err == nil &&
		fresh.UID == acct.credentials.UID {
		acct.credentials = fresh
	}
}
