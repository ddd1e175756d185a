// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package accept

import (
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/web"
)

func TestMemberNameIsDeterministicValidAndFitsALabel(t *testing.T) {
	g := NewWithT(t)
	name := memberName("acme", "Dave.Smith+shop@Example.com")
	g.Expect(name).To(MatchRegexp(`^dave-smith-shop-[0-9a-f]{10}$`))
	g.Expect(memberName("acme", "dave.smith+shop@example.com")).To(Equal(name), "addresses compare case-insensitively")
	g.Expect(memberName("acme", "dave.smith@example.com")).NotTo(Equal(name), "plus-aliases are other addresses")
	g.Expect(memberName("other", "Dave.Smith+shop@Example.com")).NotTo(Equal(name))
	for _, email := range []string{"a@b.co", "___@example.com", strings.Repeat("x", 64) + "@example.com", "-.-@example.com"} {
		n := memberName("acme", membershipv1alpha1.EmailAddress(email))
		g.Expect(validation.IsDNS1123Label(n)).To(BeEmpty(), n)
	}
}

func TestLinkState(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	later, earlier := metav1.NewTime(now.Add(time.Hour)), metav1.NewTime(now.Add(-time.Second))
	deleting := metav1.NewTime(now)
	for _, tc := range []struct {
		name        string
		status      membershipv1alpha1.InvitationStatus
		current     bool
		deleted     bool
		want        web.Outcome
		annotations map[string]string
	}{
		{"sent", membershipv1alpha1.InvitationStatus{Phase: membershipv1alpha1.InvitationSent, ExpiresAt: &later}, true, false, web.OutcomeAccepted, nil},
		{"pending retry", membershipv1alpha1.InvitationStatus{Phase: membershipv1alpha1.InvitationPending}, true, false, web.OutcomeAccepted, nil},
		{"past expiresAt, not yet marked", membershipv1alpha1.InvitationStatus{Phase: membershipv1alpha1.InvitationSent, ExpiresAt: &earlier}, true, false, web.OutcomeNoLongerValid, nil},
		{"expired", membershipv1alpha1.InvitationStatus{Phase: membershipv1alpha1.InvitationExpired}, true, false, web.OutcomeNoLongerValid, nil},
		{"revoked", membershipv1alpha1.InvitationStatus{Phase: membershipv1alpha1.InvitationRevoked}, true, false, web.OutcomeNoLongerValid, nil},
		{"failed", membershipv1alpha1.InvitationStatus{Phase: membershipv1alpha1.InvitationFailed}, true, false, web.OutcomeNoLongerValid, nil},
		{"accepted", membershipv1alpha1.InvitationStatus{Phase: membershipv1alpha1.InvitationAccepted}, true, false, web.OutcomeAlreadyUsed, nil},
		{"rotated by a resend", membershipv1alpha1.InvitationStatus{Phase: membershipv1alpha1.InvitationSent, ExpiresAt: &later}, false, false, web.OutcomeNoLongerValid, nil},
		{"being deleted", membershipv1alpha1.InvitationStatus{Phase: membershipv1alpha1.InvitationSent, ExpiresAt: &later}, true, true, web.OutcomeNoLongerValid, nil},
		// What the server and the Store asked for counts before the controller records it.
		{"accepted, not recorded yet", membershipv1alpha1.InvitationStatus{Phase: membershipv1alpha1.InvitationSent, ExpiresAt: &later}, true, false,
			web.OutcomeAlreadyUsed, map[string]string{membershipv1alpha1.AcceptedByAnnotation: "shop-ann"}},
		{"revocation asked for", membershipv1alpha1.InvitationStatus{Phase: membershipv1alpha1.InvitationSent, ExpiresAt: &later}, true, false,
			web.OutcomeNoLongerValid, map[string]string{membershipv1alpha1.RevokeAnnotation: "Withdrawn by the Store: replaced"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			inv := &membershipv1alpha1.Invitation{Status: tc.status}
			inv.Annotations = tc.annotations
			if tc.deleted {
				inv.DeletionTimestamp = &deleting
			}
			g.Expect(linkState(inv, tc.current, now)).To(Equal(tc.want))
		})
	}
}

func TestClaimIsStaleAfterAMinute(t *testing.T) {
	g := NewWithT(t)
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	g.Expect(claimIsStale(now.Add(-59*time.Second).Format(time.RFC3339), now)).To(BeFalse())
	g.Expect(claimIsStale(now.Add(-time.Minute).Format(time.RFC3339), now)).To(BeTrue())
	g.Expect(claimIsStale("garbage", now)).To(BeTrue())
}

func TestMemberLabelsLeaveGitOpsTrackingBehind(t *testing.T) {
	g := NewWithT(t)
	store := &membershipv1alpha1.Store{}
	store.Name = "acme"
	store.Labels = map[string]string{
		"team": "web", "tier": "gold",
		"app.kubernetes.io/instance":       "stores", // Argo CD's default tracking label
		"argocd.argoproj.io/instance":      "stores",
		"kustomize.toolkit.fluxcd.io/name": "stores",
		"app.kubernetes.io/managed-by":     "Helm",
	}
	g.Expect(memberLabels(store)).To(Equal(map[string]string{
		"team": "web", "tier": "gold",
		"app.kubernetes.io/managed-by": "member-operator", "membership.storeops.io/store": "acme",
	}))
}
