// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package accept

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"time"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/invitationpolicy"
	"github.com/storeops/member-operator/internal/web"
)

// Pure decisions of the acceptance server, table-tested in policy_test.go.

var nonName = regexp.MustCompile(`[^a-z0-9]+`)

// memberName is the deterministic name of the Member an accepted invitation creates: the
// address's local part, made a valid name, and a hash of the Store and address. The same
// acceptance retried gives the same name, and it fits in a label value (63 characters).
func memberName(store string, email membershipv1alpha1.EmailAddress) string {
	normalized := strings.ToLower(string(email))
	local, _, _ := strings.Cut(normalized, "@")
	base := strings.Trim(nonName.ReplaceAllString(local, "-"), "-")
	if len(base) > 40 {
		base = strings.Trim(base[:40], "-")
	}
	if base == "" {
		base = "member"
	}
	sum := sha256.Sum256([]byte(store + "/" + normalized))
	return base + "-" + hex.EncodeToString(sum[:])[:10]
}

// linkState decides what a presented link is worth from its invitation alone: current says the
// token is the invitation's current round (not one a resend rotated away). It does not compare the
// secret; the caller has done that.
func linkState(inv *membershipv1alpha1.Invitation, current bool, now time.Time) web.Outcome {
	if _, accepted := invitationpolicy.Accepted(inv); accepted {
		if current {
			return web.OutcomeAlreadyUsed
		}
		return web.OutcomeNoLongerValid
	}
	switch inv.Status.Phase {
	case membershipv1alpha1.InvitationExpired, membershipv1alpha1.InvitationRevoked, membershipv1alpha1.InvitationFailed,
		membershipv1alpha1.InvitationDeclined:
		return web.OutcomeNoLongerValid
	}
	if _, declined := invitationpolicy.Declined(inv, now); declined {
		return web.OutcomeNoLongerValid // the invitee said it is not for them, even before the controller marks it
	}
	if !inv.DeletionTimestamp.IsZero() || !current || invitationpolicy.Revoked(inv) {
		return web.OutcomeNoLongerValid // withdrawn, even before the controller marks it
	}
	if expired, _ := invitationpolicy.LinkExpired(inv, now); expired {
		return web.OutcomeNoLongerValid // past its time, even before the controller marks it
	}
	// Sent, or Pending while a retry of the very email this link came in is under way.
	return web.OutcomeAccepted
}

// claimIsStale says whether an acceptance that claimed a Member at claimedAt, and did not finish
// (no credentials yet), may be taken over by a retry at now.
func claimIsStale(claimedAt string, now time.Time) bool {
	at, err := time.Parse(time.RFC3339, claimedAt)
	if err != nil {
		return true
	}
	return now.Sub(at) >= claimTimeout
}

// claimTimeout is how long an unfinished acceptance holds its Member against a retry.
const claimTimeout = time.Minute

// memberLabels are the labels of a Member created by an acceptance: the Store's, except those
// that GitOps tools use to track what they own. Copying Argo CD's or Flux's tracking labels would
// make the tool count the Member as part of the application and prune it, since it is not in
// Git. The Member is labelled as the operator's, with its Store.
func memberLabels(store *membershipv1alpha1.Store) map[string]string {
	labels := map[string]string{}
	for k, v := range store.Labels {
		if gitOpsTrackingLabel(k) {
			continue
		}
		labels[k] = v
	}
	labels[membershipv1alpha1.ManagedByLabel] = membershipv1alpha1.ManagedByValue
	labels[membershipv1alpha1.StoreLabel] = store.Name
	return labels
}

func gitOpsTrackingLabel(key string) bool {
	switch key {
	case "app.kubernetes.io/instance", "app.kubernetes.io/part-of", membershipv1alpha1.ManagedByLabel:
		return true
	}
	for _, prefix := range []string{"argocd.argoproj.io/", "kustomize.toolkit.fluxcd.io/", "helm.toolkit.fluxcd.io/", "fluxcd.io/"} {
		if strings.HasPrefix(key, prefix) {
			return true
		}
	}
	return false
}
