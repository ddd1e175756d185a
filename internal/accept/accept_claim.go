// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package accept

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/credrequest"
	"github.com/storeops/member-operator/internal/ownsecret"
	"github.com/storeops/member-operator/internal/seats"
	"github.com/storeops/member-operator/internal/web"
)

// Claiming the Member an acceptance creates: of two submissions of one link one wins (the
// creation is the claim), a crashed one is taken over after claimTimeout, and a claim that finds
// no seat under the Store's limits gives way.

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
	if asked, err := s.pendingCredentials(ctx, existing); err != nil {
		return nil, web.OutcomeInternalError, err
	} else if asked {
		return nil, web.OutcomeAlreadyUsed, s.finish(ctx, inv, existing.Name, now)
	}
	if s.usesAccounts(inv) {
		asked, err := s.askedForAccount(ctx, existing)
		if err != nil {
			return nil, web.OutcomeInternalError, err
		}
		if asked {
			return nil, web.OutcomeAlreadyUsed, s.finish(ctx, inv, existing.Name, now)
		}
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

// askForCredentials asks the Member controller, the one writer of credential Secrets, to create
// the Member's with the hash of the chosen password and, when 2FA is required, a new TOTP key
// shown once on the success page (internal/credrequest). The request's name is the claim: a
// second acceptance gets AlreadyExists. The person is answered once the Secret holds the hash,
// so that "you can sign in now" is true; a controller that is behind (credentialsTimeout) leaves
// the request to be applied later, and the answer is the same.
func (s *Server) askForCredentials(ctx context.Context, member *membershipv1alpha1.Member, store *membershipv1alpha1.Store,
	password, invitation string, result *accepted) error {
	hash, err := s.passwords.Hash(ctx, password)
	if err != nil {
		return err
	}
	req := credrequest.Request{Kind: membershipv1alpha1.CredentialRequestActivation, Member: member, PasswordHash: hash, Invitation: invitation}
	if member.Spec.TwoFactor.Required {
		enrolment, err := credentials.NewTOTP(s.Random, string(store.Spec.DisplayName), string(member.Spec.Email))
		if err != nil {
			return err
		}
		req.TOTPSecret, req.TOTPURI = enrolment.Secret, enrolment.URI
		result.TOTPSecret, result.TOTPURI = enrolment.Secret, enrolment.URI
	}
	asked, err := credrequest.Ask(ctx, s.Client, s.APIReader, s.AccountNamespace, req)
	if err != nil {
		return err
	}
	if outcome, err := credrequest.Await(ctx, s.Client, asked, member, credentialsTimeout); err != nil {
		return err
	} else if outcome == credrequest.Waiting {
		s.Log.Info("the chosen password is still reaching the credential Secret", "member", client.ObjectKeyFromObject(member))
	}
	return nil
}

// credentialsTimeout bounds how long an acceptance waits for the Member controller to write the
// credential Secret (moments, normally).
const credentialsTimeout = 10 * time.Second

// pendingCredentials reports whether an earlier acceptance asked for member's credentials and the
// request still waits (read from the API server).
func (s *Server) pendingCredentials(ctx context.Context, member *membershipv1alpha1.Member) (bool, error) {
	if s.AccountNamespace == "" {
		return false, nil
	}
	req, err := credrequest.Get(ctx, s.APIReader, s.AccountNamespace, membershipv1alpha1.CredentialRequestActivation, member)
	return req != nil, err
}
