// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package accept

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/index"
	"github.com/storeops/member-operator/internal/invitationpolicy"
	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/internal/metrics"
	"github.com/storeops/member-operator/internal/ownsecret"
	"github.com/storeops/member-operator/internal/web"
)

// link is a presented token resolved to its invitation.
type link struct {
	invitation *membershipv1alpha1.Invitation
	store      *membershipv1alpha1.Store // nil when the Store is gone
}

// resolve finds the invitation of a raw token through the token-ID index and decides what the
// link is worth. The secret is compared in constant time with the one derived for its round,
// and, for the current round, with the hash in the Invitation's status.tokenHash, which is the
// authority that the link is live: the controller writes it before the email goes and clears it
// when the link dies, and deleting the Invitation destroys it.
func (s *Server) resolve(ctx context.Context, raw string) (*link, web.Outcome, error) {
	presented, err := credentials.ParseToken(raw)
	if err != nil {
		return nil, web.OutcomeBadInput, nil
	}
	var list membershipv1alpha1.InvitationList
	if err := s.Client.List(ctx, &list, client.MatchingFields{index.InvitationTokenID: presented.ID}); err != nil {
		return nil, web.OutcomeInternalError, err
	}
	if len(list.Items) != 1 {
		return nil, web.OutcomeUnknownToken, nil
	}
	inv := &list.Items[0]
	// The round whose derived ID is the presented one (the index found inv by it).
	var expected credentials.Token
	round := int32(-1)
	for r := int32(0); r <= inv.Status.Resends && round < 0; r++ {
		tok, err := credentials.InvitationToken(s.TokenKey, string(inv.UID), r)
		if err != nil {
			return nil, web.OutcomeInternalError, err
		}
		if tok.ID == presented.ID {
			expected, round = tok, r
		}
	}
	if round < 0 || !credentials.SecretMatches(expected.Secret, presented.Secret) {
		return nil, web.OutcomeUnknownToken, nil
	}
	outcome, err := s.linkOutcome(ctx, inv, round, presented)
	if err != nil {
		return nil, web.OutcomeInternalError, err
	}
	if outcome == web.OutcomeNoLongerValid {
		// The cache may not have seen the status write that recorded this link's hash: the
		// controller makes it just before it sends, and a script can use the link the moment
		// the email lands. Only a holder of a real link of this invitation (it passed the
		// keyed comparison above) gets here, so the uncached read is theirs alone to cause.
		fresh := &membershipv1alpha1.Invitation{}
		switch err := s.APIReader.Get(ctx, client.ObjectKeyFromObject(inv), fresh); {
		case apierrors.IsNotFound(err):
		case err != nil:
			return nil, web.OutcomeInternalError, err
		case fresh.UID == inv.UID:
			inv = fresh
			if outcome, err = s.linkOutcome(ctx, inv, round, presented); err != nil {
				return nil, web.OutcomeInternalError, err
			}
		}
	}
	l := &link{invitation: inv}
	store := &membershipv1alpha1.Store{}
	switch err := s.Client.Get(ctx, types.NamespacedName{Namespace: inv.Namespace, Name: inv.Spec.StoreRef.Name}, store); {
	case err == nil:
		l.store = store
		if membershipv1alpha1.HasOwnerRole(inv.Spec.Roles) && !invitationpolicy.OwnerInvitationWanted(inv, store) && outcome == web.OutcomeAccepted {
			// A transfer whose spec was reverted, or an owner role nobody but the Store gave.
			outcome = web.OutcomeNoLongerValid
		}
	case apierrors.IsNotFound(err):
		if outcome == web.OutcomeAccepted {
			outcome = web.OutcomeNoLongerValid
		}
	default:
		return nil, web.OutcomeInternalError, err
	}
	return l, outcome, nil
}

// linkOutcome decides what the link of the given round of inv is worth as inv stands.
func (s *Server) linkOutcome(ctx context.Context, inv *membershipv1alpha1.Invitation, round int32, presented credentials.Token) (web.Outcome, error) {
	outcome := linkState(inv, round == inv.Status.Resends, s.Clock.Now())
	if outcome != web.OutcomeAccepted {
		return outcome, nil
	}
	live, err := s.linkLive(ctx, inv, presented)
	if err != nil || !live {
		return web.OutcomeNoLongerValid, err
	}
	return web.OutcomeAccepted, nil
}

// linkLive compares the presented secret, in constant time, with the stored hash of the current
// link: the Invitation's status.tokenHash; for an invitation sent before the hash moved there
// (none in the status), the token Secret it controls, until its controller has moved the hash.
func (s *Server) linkLive(ctx context.Context, inv *membershipv1alpha1.Invitation, presented credentials.Token) (bool, error) {
	if inv.Status.TokenHash != "" {
		return credentials.TokenMatches(inv.Status.TokenHash, presented.Secret), nil
	}
	if inv.Status.Phase != membershipv1alpha1.InvitationSent {
		return false, nil // being sent, or refused: no link of this version is out without its hash
	}
	secret := &corev1.Secret{}
	err := s.Client.Get(ctx, types.NamespacedName{Namespace: inv.Namespace, Name: membershipv1alpha1.InvitationTokenSecretName(inv.Name)}, secret)
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, err
	}
	return metav1.IsControlledBy(secret, inv) && credentials.TokenMatches(string(secret.Data[membershipv1alpha1.TokenHashKey]), presented.Secret), nil
}

// acceptance is what the invitee submits.
type acceptance struct {
	Token        string
	Password     string
	Confirmation string
	// Confirm: the HTML form asks for the password twice; the JSON API does not.
	Confirm     bool
	DisplayName string
	// TOTPCode is the 2FA code of an existing account the invitee signs in to.
	TOTPCode string
}

// accepted is what a successful acceptance returns.
type accepted struct {
	Member    string
	Namespace string
	// TOTPSecret and TOTPURI are shown once when the Member requires 2FA.
	TOTPSecret string
	TOTPURI    string
}

// accept turns a live link and a valid password (a new one, or the password of the invitee's
// existing Account) into a Member, in an order that is safe to retry: the Member is created (its
// creation is the claim: of two concurrent submissions, one creates it and the other gets 409),
// the Account controller is asked to join it to the person's Account (with the new password's
// bcrypt hash when there was none; an owner's login keeps its own credential Secret), the
// Invitation becomes Accepted (its controller then clears the link's hash), and the Store's
// notification address is told. The Member controller waits for the Account and never generates
// a password for such a Member.
func (s *Server) accept(ctx context.Context, l *link, in acceptance) (*accepted, web.Outcome, *web.FieldError, error) {
	inv, store := l.invitation, l.store
	purpose := invitationpolicy.OwnerPurpose(inv)
	if membershipv1alpha1.HasOwnerRole(inv.Spec.Roles) && !invitationpolicy.OwnerInvitationWanted(inv, store) {
		// Its roles were edited after it was sent, or the Store no longer wants this owner; the
		// controllers are refusing or revoking it too.
		return nil, web.OutcomeNoLongerValid, nil, nil
	}
	person, joins, err := s.existingAccount(ctx, inv)
	if err != nil {
		return nil, web.OutcomeInternalError, nil, err
	}
	if person == nil {
		if fe := web.CheckPassword(in.Password, in.Confirmation, in.Confirm, string(inv.Spec.Email)); fe != nil {
			return nil, web.OutcomeBadInput, fe, nil
		}
	}
	if fe := web.CheckDisplayName(in.DisplayName); fe != nil {
		return nil, web.OutcomeBadInput, fe, nil
	}
	if person != nil {
		// The invitee already has an account: they join with its password, not a new one.
		if outcome, fe, err := s.signIn(ctx, person, in.Password, in.TOTPCode); err != nil || outcome != web.OutcomeAccepted {
			return nil, outcome, fe, err
		}
	}
	now := s.Clock.Now()
	if purpose == membershipv1alpha1.OwnerTransfer {
		return s.acceptTransfer(ctx, inv, store, in.Password, now)
	}
	name := memberName(store.Name, inv.Spec.Email)
	if purpose == membershipv1alpha1.OwnerActivation {
		// The Store made the owner Member, annotated with this invitation, without credentials:
		// the claim below takes it over.
		name = membershipv1alpha1.OwnerMemberName(store.Name)
	}
	if outcome, err := s.stillLive(ctx, inv, now); err != nil || outcome != web.OutcomeAccepted {
		return nil, outcome, nil, err
	}
	member, outcome, err := s.claim(ctx, inv, store, name, in.DisplayName, now)
	if err != nil || outcome != web.OutcomeAccepted {
		return nil, outcome, nil, err
	}
	if purpose == "" {
		if outcome, err := s.keepSeat(ctx, member, store); err != nil || outcome != web.OutcomeAccepted {
			return nil, outcome, nil, err
		}
	}

	result := &accepted{Member: member.Name, Namespace: member.Namespace}
	if joins {
		err = s.askForAccount(ctx, member, store, person, in.Password, in.DisplayName, result)
	} else {
		err = s.askForCredentials(ctx, member, store, in.Password, inv.Name, result)
	}
	if err != nil {
		if apierrors.IsAlreadyExists(err) {
			return nil, web.OutcomeAlreadyUsed, nil, nil
		}
		return nil, web.OutcomeInternalError, nil, err
	}
	if err := s.finish(ctx, inv, member.Name, now); err != nil {
		return nil, web.OutcomeInternalError, nil, err
	}
	metrics.InvitationsAccepted.WithLabelValues(inv.Namespace).Inc()
	s.Recorder.Eventf(inv, member, corev1.EventTypeNormal, EventInvitationAccepted, "Accept",
		"Accepted by %s: Member %s created", inv.Spec.Email, member.Name)
	if purpose == "" { // the owner activating their own account has nobody to tell
		s.notifyJoined(ctx, inv, store, member, now)
	}
	return result, web.OutcomeAccepted, nil, nil
}

// stillLive asks the API server whether inv's link is still live: the cache the link was resolved
// from may not show yet a decline, a revocation or a resend written a moment ago, and those are
// final from their write on. One uncached read per acceptance, before anything is created.
func (s *Server) stillLive(ctx context.Context, inv *membershipv1alpha1.Invitation, now time.Time) (web.Outcome, error) {
	fresh := &membershipv1alpha1.Invitation{}
	if err := s.APIReader.Get(ctx, client.ObjectKeyFromObject(inv), fresh); err != nil {
		if apierrors.IsNotFound(err) {
			return web.OutcomeNoLongerValid, nil
		}
		return web.OutcomeInternalError, err
	}
	if fresh.UID != inv.UID || fresh.Status.Resends != inv.Status.Resends {
		return web.OutcomeNoLongerValid, nil
	}
	return linkState(fresh, true, now), nil
}

// acceptTransfer records the new owner's password hash and TOTP secret in a Secret of the
// Invitation and marks it Accepted. The Store controller then completes the transfer: it moves
// them into the owner's credential Secret (the previous owner's stop working at that write),
// gives the owner Member the new email and tells the previous owner. Until then the current
// owner keeps full access. Creating the Secret is the claim: a second submission gets 409.
func (s *Server) acceptTransfer(ctx context.Context, inv *membershipv1alpha1.Invitation, store *membershipv1alpha1.Store,
	password string, now time.Time) (*accepted, web.Outcome, *web.FieldError, error) {
	owner := membershipv1alpha1.OwnerMemberName(store.Name)
	hash, err := s.passwords.Hash(ctx, password)
	if err != nil {
		return nil, web.OutcomeInternalError, nil, err
	}
	enrolment, err := credentials.NewTOTP(s.Random, string(store.Spec.DisplayName), string(inv.Spec.Email))
	if err != nil {
		return nil, web.OutcomeInternalError, nil, err
	}
	staged := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: membershipv1alpha1.NewOwnerCredentialsSecretName(inv.Name), Namespace: inv.Namespace,
			Labels: map[string]string{
				membershipv1alpha1.ManagedByLabel:  membershipv1alpha1.ManagedByValue,
				membershipv1alpha1.StoreLabel:      store.Name,
				membershipv1alpha1.InvitationLabel: inv.Name,
			},
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{
			membershipv1alpha1.CredentialUsername:     []byte(inv.Spec.Email),
			membershipv1alpha1.CredentialPasswordHash: hash,
			membershipv1alpha1.CredentialTOTPSecret:   []byte(enrolment.Secret),
			membershipv1alpha1.CredentialTOTPURI:      []byte(enrolment.URI),
		},
	}
	if err := ownsecret.Create(ctx, s.Client, s.APIReader, s.Scheme, inv, staged); err != nil {
		if apierrors.IsAlreadyExists(err) {
			// An earlier submission got here first; complete what it may have left undone.
			return nil, web.OutcomeAlreadyUsed, nil, s.finish(ctx, inv, owner, now)
		}
		// A foreign Secret with the staged name is left alone, and the transfer is not marked
		// accepted: the Store would take that for a transfer already completed.
		return nil, web.OutcomeInternalError, nil, err
	}
	if err := s.finish(ctx, inv, owner, now); err != nil {
		return nil, web.OutcomeInternalError, nil, err
	}
	metrics.InvitationsAccepted.WithLabelValues(inv.Namespace).Inc()
	s.Recorder.Eventf(inv, store, corev1.EventTypeNormal, EventInvitationAccepted, "Accept",
		"Ownership accepted by %s; the Store completes the transfer", inv.Spec.Email)
	return &accepted{Member: owner, Namespace: inv.Namespace, TOTPSecret: enrolment.Secret, TOTPURI: enrolment.URI},
		web.OutcomeAccepted, nil, nil
}

// finish tells the Invitation controller, the one writer of an Invitation's status, that the
// invitee is now Member member (AcceptedByAnnotation): it marks the Invitation Accepted and
// deletes its link. Every reader, this server's link checks included, counts the Invitation
// accepted from this write on. It is idempotent, and an acceptance wins over a revocation asked
// for meanwhile (invitationpolicy.Revoked): the person's password is already stored.
func (s *Server) finish(ctx context.Context, inv *membershipv1alpha1.Invitation, member string, now time.Time) error {
	if recorded, accepted := invitationpolicy.Accepted(inv); accepted && recorded == member {
		return nil
	}
	base := inv.DeepCopy()
	if inv.Annotations == nil {
		inv.Annotations = map[string]string{}
	}
	inv.Annotations[membershipv1alpha1.AcceptedByAnnotation] = member
	inv.Annotations[membershipv1alpha1.AcceptedAtAnnotation] = now.UTC().Format(time.RFC3339)
	return s.Client.Patch(ctx, inv, client.MergeFrom(base))
}

// notifyJoined tells the Store's notification address, in the Store's language. A failure does
// not undo the acceptance: it is logged and shown as a Warning event on the Invitation.
func (s *Server) notifyJoined(ctx context.Context, inv *membershipv1alpha1.Invitation, store *membershipv1alpha1.Store,
	member *membershipv1alpha1.Member, now time.Time) {
	to := string(store.NotificationAddress())
	roles := make([]string, 0, len(inv.Spec.Roles))
	for _, r := range inv.Spec.Roles {
		roles = append(roles, string(r))
	}
	err := func() error {
		content, err := mail.Render(mail.KindMemberJoined, string(store.Spec.Locale), mail.MemberJoinedData{
			StoreName: string(store.Spec.DisplayName), MemberName: string(member.Spec.DisplayName), Email: string(member.Spec.Email),
			Roles: roles, InvitedBy: string(inv.Spec.InvitedBy), JoinedAt: now,
		})
		if err != nil {
			return err
		}
		sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		return s.Mail.Send(sendCtx, mail.Message{To: to, MessageID: mail.MessageID(member.UID, string(mail.KindMemberJoined), s.MailDomain), Content: content})
	}()
	if err != nil {
		s.Log.Info("member-joined email not delivered", "invitation", client.ObjectKeyFromObject(inv), "error", err.Error())
		s.Recorder.Eventf(inv, member, corev1.EventTypeWarning, EventMemberJoinedEmailFailed, "Accept",
			"Could not send the member-joined email to the Store's notification address: %v", err)
	}
}
