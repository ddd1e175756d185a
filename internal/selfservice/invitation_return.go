// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package selfservice

import (
	"context"
	"net/url"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/index"
)

// A person asked to sign in to join a store ("you already have an account") who has forgotten
// the password follows "forgot your password?" from the invitation page: the invitation's link
// token travels with the forgot form and the reset link, and the page that confirms the new
// password leads back to the invitation, where the person signs in with it.
//
// The token is carried only when it is an invitation to the very address the reset is for, so
// nobody can make a genuine reset email point to somebody else's invitation. Whether the
// invitation is still live is the invitation page's to judge when the person returns.

// returnParam is the query and form field carrying the invitation's link token.
const returnParam = "invitation"

// invitationEmail is the invited address of the Invitation the link token raw belongs to (any of
// its rounds: the index holds every token ID it has had), or "" when raw is not such a token.
func (s *Service) invitationEmail(ctx context.Context, raw string) string {
	if raw == "" || len(raw) > 512 {
		return ""
	}
	presented, err := credentials.ParseToken(raw)
	if err != nil {
		return ""
	}
	var list membershipv1alpha1.InvitationList
	if err := s.Client.List(ctx, &list, client.MatchingFields{index.InvitationTokenID: presented.ID}); err != nil || len(list.Items) != 1 {
		return ""
	}
	return string(list.Items[0].Spec.Email)
}

// returnTo is raw when it is the link token of an invitation to email, else "".
func (s *Service) returnTo(ctx context.Context, raw, email string) string {
	if invited := s.invitationEmail(ctx, raw); invited != "" && strings.EqualFold(invited, email) {
		return raw
	}
	return ""
}

// withReturn adds the invitation to come back to, when there is one, to link.
func withReturn(link, invitation string) string {
	if invitation == "" {
		return link
	}
	return link + "&" + returnParam + "=" + url.QueryEscape(invitation)
}
