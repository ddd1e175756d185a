// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package accept

import (
	"context"
	"errors"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/invitationpolicy"
	"github.com/storeops/member-operator/internal/web"
)

// Declining an invitation: "this is not for me", from the acceptance page or the email's link.
// Like an acceptance, the server only records it on the Invitation (DeclinedAtAnnotation), and
// every reader counts the link dead from that write; the Invitation controller marks it
// Declined, deletes the link and tells the Store's notification address. Owner invitations
// cannot be declined: the Store asks for its owner, and a wrong address is the Store's to fix.

// decline records that the invitee of the live link l declined it. It answers 409 for an owner
// invitation, and is idempotent.
func (s *Server) decline(ctx context.Context, l *link) (web.Outcome, error) {
	inv := l.invitation
	if !invitationpolicy.ForMember(inv) {
		return web.OutcomeAlreadyUsed, nil
	}
	for range 3 {
		if _, accepted := invitationpolicy.Accepted(inv); accepted {
			return web.OutcomeAlreadyUsed, nil
		}
		if _, declined := invitationpolicy.Declined(inv, s.Clock.Now()); declined {
			return web.OutcomeAccepted, nil
		}
		base := inv.DeepCopy()
		if inv.Annotations == nil {
			inv.Annotations = map[string]string{}
		}
		inv.Annotations[membershipv1alpha1.DeclinedAtAnnotation] = s.Clock.Now().UTC().Format(time.RFC3339)
		// Against the version read: an acceptance recorded meanwhile (the cache may not show it
		// yet) wins, and this answers 409.
		err := s.Client.Patch(ctx, inv, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
		if !apierrors.IsConflict(err) {
			if err != nil {
				return web.OutcomeInternalError, err
			}
			return web.OutcomeAccepted, nil
		}
		fresh := &membershipv1alpha1.Invitation{}
		if err := s.APIReader.Get(ctx, client.ObjectKeyFromObject(base), fresh); err != nil {
			return web.OutcomeInternalError, err
		}
		if fresh.UID != base.UID || linkState(fresh, true, s.Clock.Now()) == web.OutcomeNoLongerValid {
			return web.OutcomeNoLongerValid, nil
		}
		inv = fresh
	}
	return web.OutcomeInternalError, errors.New("recording the decline: the Invitation kept changing")
}

// tryDecline resolves raw and declines it when it is live.
func (s *Server) tryDecline(ctx context.Context, raw string) (*link, web.Outcome) {
	if s.linkOverLimit(ctx, raw) {
		return nil, web.OutcomeRateLimited
	}
	l, outcome, err := s.resolve(ctx, raw)
	if err == nil && outcome == web.OutcomeAccepted {
		outcome, err = s.decline(ctx, l)
	}
	if err != nil {
		s.Log.Error(err, "declining an invitation failed")
		outcome = web.OutcomeInternalError
	}
	return l, outcome
}

// showDecline answers GET /invitations/decline?token=T (the email's link): a page with one
// button, so a mail scanner following the link declines nothing.
func (s *Server) showDecline(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.Query().Get("token")
	if s.linkOverLimit(r.Context(), raw) {
		web.RenderProblem(w, "en", web.OutcomeRateLimited)
		return
	}
	l, outcome, err := s.resolve(r.Context(), raw)
	if err != nil {
		s.Log.Error(err, "resolving an invitation link")
		outcome = web.OutcomeInternalError
	}
	if outcome == web.OutcomeAccepted && !invitationpolicy.ForMember(l.invitation) {
		outcome = web.OutcomeAlreadyUsed
	}
	if outcome != web.OutcomeAccepted {
		web.RenderProblem(w, localeOf(l), outcome)
		return
	}
	web.Render(w, http.StatusOK, web.ButtonPage(web.LocaleOf(l.store), raw, "decline", "decline",
		l.store.Spec.DisplayName, l.invitation.Spec.Email))
}

// submitDecline answers the decline button's POST (on the acceptance page and the decline page).
func (s *Server) submitDecline(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		web.RenderProblem(w, "en", web.OutcomeBadInput)
		return
	}
	l, outcome := s.tryDecline(r.Context(), r.PostForm.Get("token"))
	if outcome != web.OutcomeAccepted {
		web.RenderProblem(w, localeOf(l), outcome)
		return
	}
	web.Render(w, http.StatusOK, web.DonePage(web.LocaleOf(l.store), "decline", l.store.Spec.DisplayName))
}

// submitDeclineJSON answers POST /api/v1/invitations/decline {"token"}: 200 with the Invitation's
// name; 400 malformed, 404 unknown, 409 accepted (or an owner invitation), 410 expired, revoked
// or declined before, 429 rate limited.
func (s *Server) submitDeclineJSON(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Token string `json:"token"`
	}
	if !web.DecodeJSON(w, r, &body, "token") {
		return
	}
	l, outcome := s.tryDecline(r.Context(), body.Token)
	if outcome != web.OutcomeAccepted {
		s.answer(w, r, outcome, nil, nil)
		return
	}
	web.WriteJSON(w, http.StatusOK, map[string]string{"invitation": l.invitation.Name, "namespace": l.invitation.Namespace, "phase": "Declined"})
}

// localeOf is the language of a link's Store, English before it is known.
func localeOf(l *link) string {
	if l == nil {
		return "en"
	}
	return web.LocaleOf(l.store)
}
