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
	"github.com/storeops/member-operator/internal/seats"
	"github.com/storeops/member-operator/internal/web"
)

// link is a presented token resolved to its invitation.
type link struct {
	invitation *membershipv1alpha1.Invitation
	store      *membershipv1alpha1.Store // nil when the Store is gone
}

// resolve finds the invitation of a raw token through the token-ID index and decides what the
// link is worth. The secret is compared in constant time with the one derived for its round,
// and, for the current round, with the hash stored in the token Secret, which is the authority
// that the link is live (deleting it revokes the link).
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
	current := round == inv.Status.Resends
	outcome := linkState(inv, current, s.Clock.Now())
	if outcome == web.OutcomeAccepted {
		secret := &corev1.Secret{}
		err := s.Client.Get(ctx, types.NamespacedName{Namespace: inv.Namespace, Name: membershipv1alpha1.InvitationTokenSecretName(inv.Name)}, secret)
		switch {
		case apierrors.IsNotFound(err):
			outcome = web.OutcomeNoLongerValid
		case err != nil:
			return nil, web.OutcomeInternalError, err
		case !credentials.TokenMatches(string(secret.Data[membershipv1alpha1.TokenHashKey]), presented.Secret):
			outcome = web.OutcomeNoLongerValid
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

// acceptance is what the invitee submits.
type acceptance struct {
	Token        string
	Password     string
	Confirmation string
	// Confirm: the HTML form asks for the password twice; the JSON API does not.
	Confirm     bool
	DisplayName string
}

// accepted is what a successful acceptance returns.
type accepted struct {
	Member    string
	Namespace string
	// TOTPSecret and TOTPURI are shown once when the Member requires 2FA.
	TOTPSecret string
	TOTPURI    string
}

// accept turns a live link and a valid password into a Member, in an order that is safe to
// retry: the Member is created (its creation is the claim: of two concurrent submissions, one
// creates it and the other gets 409), the credential Secret gets the bcrypt hash (the member
// controller waits for it and never generates a password for such a Member), the Invitation
// becomes Accepted, its token Secret goes, and the Store's notification address is told.
func (s *Server) accept(ctx context.Context, l *link, in acceptance) (*accepted, web.Outcome, *web.FieldError, error) {
	inv, store := l.invitation, l.store
	purpose := invitationpolicy.OwnerPurpose(inv)
	if membershipv1alpha1.HasOwnerRole(inv.Spec.Roles) && !invitationpolicy.OwnerInvitationWanted(inv, store) {
		// Its roles were edited after it was sent, or the Store no longer wants this owner; the
		// controllers are refusing or revoking it too.
		return nil, web.OutcomeNoLongerValid, nil, nil
	}
	if fe := web.CheckPassword(in.Password, in.Confirmation, in.Confirm, string(inv.Spec.Email)); fe != nil {
		return nil, web.OutcomeBadInput, fe, nil
	}
	if fe := web.CheckDisplayName(in.DisplayName); fe != nil {
		return nil, web.OutcomeBadInput, fe, nil
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
	if err := s.writeCredentials(ctx, member, store, in.Password, result); err != nil {
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

// keepSeat checks, after the claim and against the API server (the Store's limit included), that
// member may have access under its Store's limits (internal/seats: memberLimit, --exclusive-membership). Of two acceptances
// racing for the last seat, each reads after its own claim, so the later one always sees the
// earlier and gives way: its Member is deleted (it never had credentials) and it answers 409.
func (s *Server) keepSeat(ctx context.Context, member *membershipv1alpha1.Member, cached *membershipv1alpha1.Store) (web.Outcome, error) {
	store := &membershipv1alpha1.Store{}
	if err := s.APIReader.Get(ctx, client.ObjectKeyFromObject(cached), store); err != nil {
		return web.OutcomeInternalError, client.IgnoreNotFound(err) // a Store gone meanwhile: its Members go too
	}
	reason, _, err := seats.CheckLive(ctx, s.APIReader, member, store, s.ExclusiveMembership)
	if err != nil {
		return web.OutcomeInternalError, err
	}
	if reason == "" {
		return web.OutcomeAccepted, nil
	}
	if err := s.Client.Delete(ctx, member, client.Preconditions{UID: &member.UID}); client.IgnoreNotFound(err) != nil {
		return web.OutcomeInternalError, err
	}
	return web.OutcomeNoSeat, nil
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

// claim creates the Member. If it exists, it is this acceptance's only when it names inv and
// has no credentials yet: the owner Member the Store made for its activation, or one an earlier
// acceptance claimed and did not finish for claimTimeout (it crashed). Anything else is 409.
func (s *Server) claim(ctx context.Context, inv *membershipv1alpha1.Invitation, store *membershipv1alpha1.Store,
	name, displayName string, now time.Time) (*membershipv1alpha1.Member, web.Outcome, error) {
	member := &membershipv1alpha1.Member{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: inv.Namespace, Labels: memberLabels(store),
			Annotations: map[string]string{
				membershipv1alpha1.InvitationAnnotation:  inv.Name,
				membershipv1alpha1.AcceptClaimAnnotation: now.UTC().Format(time.RFC3339),
				// Its place in line for a seat is the invitation's.
				membershipv1alpha1.SeatSinceAnnotation: inv.CreationTimestamp.UTC().Format(time.RFC3339),
			},
		},
		Spec: membershipv1alpha1.MemberSpec{
			StoreRef:    membershipv1alpha1.StoreReference{Name: store.Name},
			Email:       inv.Spec.Email,
			DisplayName: membershipv1alpha1.DisplayName(displayName),
			Roles:       inv.Spec.Roles,
			TwoFactor:   inv.Spec.TwoFactor,
		},
	}
	// The operator's field manager owns spec.email of a Member it created: its person may change
	// it through self-service (a Member applied from Git may not).
	err := s.Client.Create(ctx, member, client.FieldOwner(membershipv1alpha1.OperatorFieldManager))
	if err == nil {
		return member, web.OutcomeAccepted, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return nil, web.OutcomeInternalError, err
	}
	// The controllers write the Member too (finalizer, status), so a conflict on the takeover is
	// usually theirs: read again and decide again, a few times, before calling it someone else's.
	for range 5 {
		existing, outcome, err := s.takeOver(ctx, inv, client.ObjectKeyFromObject(member), now)
		if err == nil && outcome == "" {
			continue
		}
		return existing, outcome, err
	}
	return nil, web.OutcomeAlreadyUsed, nil
}

// takeOver claims an existing Member for inv: one the Store made for its owner's activation, or
// one an earlier acceptance claimed and did not finish (no credentials) for claimTimeout. It
// returns an empty outcome when the update lost to a concurrent write and should be tried again.
func (s *Server) takeOver(ctx context.Context, inv *membershipv1alpha1.Invitation, key client.ObjectKey,
	now time.Time) (*membershipv1alpha1.Member, web.Outcome, error) {
	existing := &membershipv1alpha1.Member{}
	if err := s.APIReader.Get(ctx, key, existing); err != nil {
		return nil, web.OutcomeInternalError, client.IgnoreNotFound(err)
	}
	if existing.Annotations[membershipv1alpha1.InvitationAnnotation] != inv.Name || !existing.DeletionTimestamp.IsZero() {
		return nil, web.OutcomeAlreadyUsed, nil // the address is already a Member of the Store
	}
	secret, err := ownsecret.Get(ctx, s.APIReader, existing,
		types.NamespacedName{Namespace: existing.Namespace, Name: membershipv1alpha1.CredentialsSecretName(existing.Name)})
	switch {
	case err != nil:
		return nil, web.OutcomeInternalError, err // a foreign Secret has the name: the Member is in Conflict
	case secret != nil:
		// The earlier acceptance stored its password; complete what it may have left undone.
		return nil, web.OutcomeAlreadyUsed, s.finish(ctx, inv, existing.Name, now)
	}
	if !claimIsStale(existing.Annotations[membershipv1alpha1.AcceptClaimAnnotation], now) {
		return nil, web.OutcomeAlreadyUsed, nil // another submission is completing it right now
	}
	existing.Annotations[membershipv1alpha1.AcceptClaimAnnotation] = now.UTC().Format(time.RFC3339)
	if err := s.Client.Update(ctx, existing); err != nil { // resourceVersion: of two takeovers, one wins
		if apierrors.IsConflict(err) {
			return nil, "", nil
		}
		return nil, web.OutcomeInternalError, err
	}
	return existing, web.OutcomeAccepted, nil
}

// writeCredentials creates the Member's credential Secret with the hash of the chosen password
// and, when 2FA is required, a new TOTP secret shown once on the success page.
func (s *Server) writeCredentials(ctx context.Context, member *membershipv1alpha1.Member, store *membershipv1alpha1.Store,
	password string, result *accepted) error {
	hash, err := s.passwords.Hash(ctx, password)
	if err != nil {
		return err
	}
	data := map[string][]byte{
		membershipv1alpha1.CredentialUsername:     []byte(member.Spec.Email),
		membershipv1alpha1.CredentialPasswordHash: hash,
	}
	if member.Spec.TwoFactor.Required {
		enrolment, err := credentials.NewTOTP(s.Random, string(store.Spec.DisplayName), string(member.Spec.Email))
		if err != nil {
			return err
		}
		data[membershipv1alpha1.CredentialTOTPSecret] = []byte(enrolment.Secret)
		data[membershipv1alpha1.CredentialTOTPURI] = []byte(enrolment.URI)
		result.TOTPSecret, result.TOTPURI = enrolment.Secret, enrolment.URI
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: membershipv1alpha1.CredentialsSecretName(member.Name), Namespace: member.Namespace,
			Labels: map[string]string{
				membershipv1alpha1.ManagedByLabel: membershipv1alpha1.ManagedByValue,
				membershipv1alpha1.StoreLabel:     store.Name,
				membershipv1alpha1.MemberLabel:    member.Name,
			},
		},
		Type: corev1.SecretTypeOpaque,
		Data: data,
	}
	return ownsecret.Create(ctx, s.Client, s.APIReader, s.Scheme, member, secret)
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
