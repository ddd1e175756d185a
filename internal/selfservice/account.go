// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package selfservice

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	accounts "github.com/storeops/member-operator/internal/account"
	"github.com/storeops/member-operator/internal/accounttoken"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/credrequest"
	"github.com/storeops/member-operator/internal/index"
	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/internal/ownsecret"
	"github.com/storeops/member-operator/internal/web"
)

// Event reasons on Members.
const (
	EventPasswordChanged         = "PasswordChanged"
	EventPasswordResetRequested  = "PasswordResetRequested"
	EventPasswordEmailFailed     = "PasswordEmailFailed"
	passwordChangedMessageIDStem = "password-changed-"
)

// account is an Active Member with its Store and credential Secret: someone who can log in.
// joined is the Account the Member projects (its password is the person's in every store that
// joined it); empty for a Member with a login of its own.
type account struct {
	store       *membershipv1alpha1.Store
	member      *membershipv1alpha1.Member
	credentials *corev1.Secret
	joined      string
}

// limitKey is the bucket of the per-account failure limit: the Account, shared by every store
// of the person (and by joining a store with it), or the Member of a login of its own.
func (a *account) limitKey() string {
	if a.joined != "" {
		return "account/" + a.joined
	}
	return string(a.member.UID)
}

// findAccount resolves an email or login name, and optionally a store ("name", or
// "namespace/name"), to the login it names, from the cache. The person is found by email: their
// Account when the Members with the address joined one (every store of it is one login, so the
// store is not needed), or the one Member with the address. A login name (it never holds an '@')
// names an Account, and only the stores that joined it. A store narrows the choice to its
// Members, which also tells apart the logins of a person kept separately. nil when nothing, or
// nothing unique, matches: callers answer alike whether the store, the member or the
// credentials are missing.
func (s *Service) findAccount(ctx context.Context, storeRef, email string) (*account, error) {
	if email == "" || len(storeRef) > 317 || len(email) > 254 {
		return nil, nil
	}
	if !strings.Contains(email, "@") {
		person, err := s.accountByLoginName(ctx, email)
		if err != nil || person == nil {
			return nil, err
		}
		acct, err := s.findAccount(ctx, storeRef, string(person.Spec.Email))
		if err != nil || acct == nil || acct.joined != person.Name {
			return nil, err // a login of its own does not answer to the Account's name
		}
		return acct, nil
	}
	namespace, storeName, qualified := strings.Cut(storeRef, "/")
	if !qualified {
		namespace, storeName = "", storeRef
	}
	members, err := index.ListByLogin(ctx, s.Client, email)
	if err != nil {
		return nil, err
	}
	members = index.People(members)
	var found []*account
	for i := range members {
		m := &members[i]
		if m.Status.Phase != membershipv1alpha1.MemberActive || !m.DeletionTimestamp.IsZero() ||
			!strings.EqualFold(string(m.Spec.Email), email) ||
			storeName != "" && m.Spec.StoreRef.Name != storeName || namespace != "" && m.Namespace != namespace {
			continue
		}
		acct, err := s.loginOf(ctx, m, email)
		if err != nil {
			return nil, err
		}
		if acct != nil {
			found = append(found, acct)
		}
	}
	slices.SortFunc(found, func(a, b *account) int {
		return strings.Compare(a.member.Namespace+"/"+a.member.Name, b.member.Namespace+"/"+b.member.Name)
	})
	if len(found) == 1 {
		return found[0], nil
	}
	// Several: one person in several stores. Their Account is one login wherever it is used.
	var joined *account
	for _, acct := range found {
		switch {
		case acct.joined == "":
		case joined == nil:
			joined = acct
		case joined.joined != acct.joined:
			return nil, nil
		}
	}
	return joined, nil
}

// accountByLoginName is the Account whose login name is name (case-insensitively), from the
// cache; nil when none, or (a claim the cache has not caught up with) more than one, has it.
func (s *Service) accountByLoginName(ctx context.Context, name string) (*membershipv1alpha1.Account, error) {
	if !membershipv1alpha1.ValidLoginName(name) {
		return nil, nil
	}
	var list membershipv1alpha1.AccountList
	if err := s.Client.List(ctx, &list, client.MatchingFields{index.AccountLoginName: strings.ToLower(name)}); err != nil {
		return nil, err
	}
	if len(list.Items) != 1 {
		return nil, nil
	}
	return &list.Items[0], nil
}

// loginOf is m's login: its Store and its own credential Secret; nil when it has none.
func (s *Service) loginOf(ctx context.Context, m *membershipv1alpha1.Member, email string) (*account, error) {
	store := &membershipv1alpha1.Store{}
	if err := s.Client.Get(ctx, types.NamespacedName{Namespace: m.Namespace, Name: m.Spec.StoreRef.Name}, store); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	if membershipv1alpha1.HasOwnerRole(m.Spec.Roles) && store.Status.OwnerEmail != "" &&
		!strings.EqualFold(string(store.Status.OwnerEmail), email) {
		return nil, nil // an owner email the Store did not record: an edit it is putting back
	}
	secret, err := ownsecret.Get(ctx, s.Client, m, types.NamespacedName{Namespace: m.Namespace, Name: membershipv1alpha1.CredentialsSecretName(m.Name)})
	if ownsecret.IsForeign(err) || err == nil && secret == nil {
		return nil, nil // no credentials of its own: nobody to log in
	}
	if err != nil {
		return nil, err
	}
	acct := &account{store: store, member: m, credentials: secret}
	if name := m.Status.Account; name != "" && secret.Labels[membershipv1alpha1.AccountLabel] == name {
		acct.joined = name
	}
	return acct, nil
}

// accountKey is the failure-limit bucket of a store and email that resolve to no account (one that
// exists is keyed by its Member's UID), so probing unknown addresses is limited as well.
func accountKey(storeRef, email string) string {
	return strings.ToLower(storeRef) + "|" + index.NormalizeEmail(membershipv1alpha1.EmailAddress(email))
}

// errPasswordChangedMeanwhile: the credential Secret's password changed between the person
// signing in and their change reaching it; the change was not applied.
var errPasswordChangedMeanwhile = errors.New("the password changed while this change was being made: not applied")

// setPassword has the hash of password stored in the account's credential Secret (asked of the
// Member controller, over the hash the person signed in with: a concurrent write makes this fail
// rather than be undone), removes every outstanding link of the Member, and tells the Member by
// email.
func (s *Service) setPassword(ctx context.Context, acct *account, password string) error {
	hash, err := s.Passwords.Hash(ctx, password)
	if err != nil {
		return err
	}
	if acct.joined != "" {
		return s.setAccountPassword(ctx, acct, hash)
	}
	// The Member controller, the one writer of the credential Secret, applies the change only
	// over the hash the person signed in with: a password written in between (a transfer, a
	// reset, another session's change) is not undone, and this change fails instead. The person
	// is told once the old password no longer verifies.
	asked, err := credrequest.Ask(ctx, s.Client, s.APIReader, s.AccountNamespace, credrequest.Request{
		Kind: membershipv1alpha1.CredentialRequestPassword, Member: acct.member, PasswordHash: hash,
		Replaces: acct.credentials.Data[membershipv1alpha1.CredentialPasswordHash],
	})
	if err != nil {
		return err
	}
	switch outcome, err := credrequest.Await(ctx, s.Client, asked, acct.member, projectionTimeout); {
	case err != nil:
		return err
	case outcome == credrequest.Dropped:
		return errPasswordChangedMeanwhile
	case outcome == credrequest.Waiting:
		s.Log.Info("a password change is still reaching the credential Secret", "member", client.ObjectKeyFromObject(acct.member))
	}
	// A new password ends everything started with the old one: reset, email-change (and its
	// cancel) and 2FA-enrolment links alike.
	if err := accounttoken.RevokeAll(ctx, s.APIReader, s.Client, acct.member); err != nil {
		return err
	}
	now := s.Clock.Now()
	s.Recorder.Eventf(acct.member, nil, corev1.EventTypeNormal, EventPasswordChanged, "ChangePassword",
		"The password was changed by its Member; every outstanding reset, email-change and 2FA-enrolment link was revoked")
	s.sendAsync(acct, mail.KindPasswordChanged, mail.PasswordChangedData{
		StoreName: string(acct.store.Spec.DisplayName), MemberName: string(acct.member.Spec.DisplayName),
		Email: string(acct.member.Spec.Email), ChangedAt: now,
	}, mail.MessageID(acct.member.UID, passwordChangedMessageIDStem+asked.ResourceVersion, s.MailDomain))
	return nil
}

// issueReset stores a new single-use reset link for the account (only its hash, in a Secret the
// Member owns, expiring after ResetTTL) and emails it. invitation, when set, is the link token of
// the invitation the person came from (see returnTo), carried in the link to lead back to it.
func (s *Service) issueReset(ctx context.Context, acct *account, invitation string) error {
	expires := accounttoken.ExpiresAt(s.Clock.Now(), s.PasswordResetTTL)
	tok, secret, err := accounttoken.Issue(ctx, s.Client, s.Scheme, s.Random, acct.member, acct.store.Name,
		membershipv1alpha1.PurposePasswordReset, expires)
	if err != nil {
		return err
	}
	s.Recorder.Eventf(acct.member, nil, corev1.EventTypeNormal, EventPasswordResetRequested, "ForgotPassword",
		"A password reset link was emailed to %s; it works once, until %s", acct.member.Spec.Email, expires.Format(time.RFC3339))
	link := withReturn(strings.TrimRight(s.PublicURL, "/")+"/password/reset?token="+url.QueryEscape(tok.String()), invitation)
	s.sendAsync(acct, mail.KindPasswordReset, mail.PasswordResetData{
		StoreName: string(acct.store.Spec.DisplayName), MemberName: string(acct.member.Spec.DisplayName),
		Email: string(acct.member.Spec.Email), ResetURL: link, ExpiresAt: expires,
	}, mail.MessageID(secret.UID, string(mail.KindPasswordReset), s.MailDomain))
	return nil
}

// sendAsync renders and sends an email to the account's address without making the request
// wait for SMTP (so an answer's timing says nothing about the account either). A failure is
// logged and shown as a Warning event on the Member; the person can ask again.
func (s *Service) sendAsync(acct *account, kind mail.Kind, data any, messageID string) {
	s.sendAsyncTo(acct, string(acct.member.Spec.Email), kind, data, messageID)
}

// sendAsyncTo is sendAsync to another address (the new one of an email change, or the old).
func (s *Service) sendAsyncTo(acct *account, to string, kind mail.Kind, data any, messageID string) {
	member := acct.member.DeepCopy()
	locale := string(acct.store.Spec.Locale)
	s.Background.Add(1)
	go func() {
		defer s.Background.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := func() error {
			content, err := mail.Render(kind, locale, data)
			if err != nil {
				return err
			}
			return s.Mail.Send(ctx, mail.Message{To: to, MessageID: messageID, Content: content})
		}()
		if err != nil {
			s.Log.Info("account email not delivered", "kind", string(kind), "member", client.ObjectKeyFromObject(member), "error", err.Error())
			s.Recorder.Eventf(member, nil, corev1.EventTypeWarning, EventPasswordEmailFailed, "Email",
				"Could not send the %s email: %v", kind, err)
		}
	}()
}

// resolveAccountToken finds the account of a link of purpose and whether the link still works: the Secret
// with its ID, the secret's hash compared in constant time, its expiry against the clock.
func (s *Service) resolveAccountToken(ctx context.Context, raw, purpose string) (*account, *corev1.Secret, web.Outcome, error) {
	if _, err := credentials.ParseToken(raw); err != nil {
		return nil, nil, web.OutcomeBadInput, nil
	}
	secret, found, err := accounttoken.Find(ctx, s.Client, raw, purpose, s.Clock.Now())
	switch {
	case err != nil:
		return nil, nil, web.OutcomeInternalError, err
	case found == accounttoken.Unknown:
		return nil, nil, web.OutcomeUnknownToken, nil
	case found == accounttoken.Expired:
		return nil, nil, web.OutcomeNoLongerValid, nil
	}
	member := &membershipv1alpha1.Member{}
	err = s.Client.Get(ctx, types.NamespacedName{Namespace: secret.Namespace, Name: secret.Labels[membershipv1alpha1.TokenForLabel]}, member)
	if apierrors.IsNotFound(err) || err == nil && !metav1.IsControlledBy(secret, member) {
		return nil, nil, web.OutcomeNoLongerValid, nil
	}
	if err != nil {
		return nil, nil, web.OutcomeInternalError, err
	}
	acct, err := s.findAccount(ctx, member.Namespace+"/"+member.Spec.StoreRef.Name, string(member.Spec.Email))
	if err != nil {
		return nil, nil, web.OutcomeInternalError, err
	}
	if acct == nil || acct.member.UID != member.UID {
		return nil, nil, web.OutcomeNoLongerValid, nil // disabled, removed or its email moved
	}
	return acct, secret, web.OutcomeAccepted, nil
}

// reset uses a live reset link: deleting its Secret (with its UID as precondition, against the
// API server) is the claim that makes it single use; then the new password is stored.
func (s *Service) reset(ctx context.Context, acct *account, secret *corev1.Secret, password string) (web.Outcome, error) {
	used, err := accounttoken.Use(ctx, s.Client, secret)
	switch {
	case err != nil:
		return web.OutcomeInternalError, err
	case !used:
		return web.OutcomeAlreadyUsed, nil
	}
	if err := s.setPassword(ctx, acct, password); err != nil {
		return web.OutcomeInternalError, fmt.Errorf("store the new password: %w", err)
	}
	return web.OutcomeChanged, nil
}

// projectionTimeout bounds how long a password change waits for every store to carry it.
const projectionTimeout = 10 * time.Second

// setAccountPassword asks the Account controller to give the person's Account the new hash: every
// store of the person takes it at once (the Member controller projects it). What was started with
// the old password ends in every one of them, and the person is told once.
func (s *Service) setAccountPassword(ctx context.Context, acct *account, hash []byte) error {
	req, err := accounts.Ask(ctx, s.Client, s.AccountNamespace, accounts.Request{
		Kind: membershipv1alpha1.AccountRequestPassword, Email: acct.member.Spec.Email, PasswordHash: hash,
	})
	if err != nil {
		return err
	}
	members, err := index.ListOfAccount(ctx, s.Client, acct.joined)
	if err != nil {
		return err
	}
	// The person is told only once the old password verifies nowhere: every credential Secret
	// of the Account carries the new hash (the Account controller applies the request, each
	// store's Member controller projects it; moments, normally).
	for i := range members {
		m := &members[i]
		if m.Status.Account != acct.joined {
			continue
		}
		applied, err := accounts.Applied(ctx, s.Client, types.NamespacedName{Namespace: m.Namespace, Name: membershipv1alpha1.CredentialsSecretName(m.Name)},
			projectionTimeout, func(secret *corev1.Secret) bool {
				return bytes.Equal(secret.Data[membershipv1alpha1.CredentialPasswordHash], hash)
			})
		if err != nil {
			return err
		}
		if !applied {
			s.Log.Info("a password change is still reaching a store", "member", client.ObjectKeyFromObject(m))
		}
	}
	for i := range members {
		m := &members[i]
		if m.Status.Account != acct.joined {
			continue
		}
		if err := accounttoken.RevokeAll(ctx, s.APIReader, s.Client, m); err != nil {
			return err
		}
		s.Recorder.Eventf(m, nil, corev1.EventTypeNormal, EventPasswordChanged, "ChangePassword",
			"The password of the person's account was changed; every outstanding reset, email-change and 2FA-enrolment link was revoked")
	}
	s.sendAsync(acct, mail.KindPasswordChanged, mail.PasswordChangedData{
		StoreName: string(acct.store.Spec.DisplayName), MemberName: string(acct.member.Spec.DisplayName),
		Email: string(acct.member.Spec.Email), ChangedAt: s.Clock.Now(),
	}, mail.MessageID(req.UID, passwordChangedMessageIDStem+"account", s.MailDomain))
	return nil
}
