// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package accept

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/credentials"
)

// TestLinkLive: a link is live while the Invitation's status holds its hash; an invitation sent
// before the hash moved there (none in its status) is read from the token Secret it controls,
// and from no other Secret of that name.
func TestLinkLive(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := membershipv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	invitation := func(phase membershipv1alpha1.InvitationPhase, hash string) *membershipv1alpha1.Invitation {
		return &membershipv1alpha1.Invitation{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "invite", UID: "uid-1"},
			Status:     membershipv1alpha1.InvitationStatus{Phase: phase, TokenHash: hash},
		}
	}
	tok, err := credentials.InvitationToken(key, "uid-1", 0)
	if err != nil {
		t.Fatal(err)
	}
	other, err := credentials.InvitationToken(key, "uid-1", 1)
	if err != nil {
		t.Fatal(err)
	}
	hash := credentials.HashTokenSecret(tok.Secret)
	legacySecret := func(owner *membershipv1alpha1.Invitation, controlled bool, hash string) *corev1.Secret {
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: membershipv1alpha1.InvitationTokenSecretName("invite")},
			Data: map[string][]byte{membershipv1alpha1.TokenHashKey: []byte(hash)}}
		if controlled {
			if err := controllerutil.SetControllerReference(owner, secret, scheme); err != nil {
				t.Fatal(err)
			}
		}
		return secret
	}
	for _, tc := range []struct {
		name   string
		inv    *membershipv1alpha1.Invitation
		secret func(*membershipv1alpha1.Invitation) *corev1.Secret
		want   bool
	}{
		{name: "the status holds the link's hash", inv: invitation(membershipv1alpha1.InvitationSent, hash), want: true},
		{name: "a retry under way: Pending with the hash of the email being resent", inv: invitation(membershipv1alpha1.InvitationPending, hash), want: true},
		{name: "the status holds another link's hash", inv: invitation(membershipv1alpha1.InvitationSent, credentials.HashTokenSecret(other.Secret))},
		{name: "no hash and no token Secret: the link is dead", inv: invitation(membershipv1alpha1.InvitationSent, "")},
		{name: "sent by the previous version: its token Secret", inv: invitation(membershipv1alpha1.InvitationSent, ""),
			secret: func(inv *membershipv1alpha1.Invitation) *corev1.Secret { return legacySecret(inv, true, hash) }, want: true},
		{name: "sent by the previous version, another link's hash", inv: invitation(membershipv1alpha1.InvitationSent, ""),
			secret: func(inv *membershipv1alpha1.Invitation) *corev1.Secret {
				return legacySecret(inv, true, credentials.HashTokenSecret(other.Secret))
			}},
		{name: "a Secret of that name the invitation does not control proves nothing", inv: invitation(membershipv1alpha1.InvitationSent, ""),
			secret: func(inv *membershipv1alpha1.Invitation) *corev1.Secret { return legacySecret(inv, false, hash) }},
		{name: "a hash in the status wins over a token Secret", inv: invitation(membershipv1alpha1.InvitationSent, credentials.HashTokenSecret(other.Secret)),
			secret: func(inv *membershipv1alpha1.Invitation) *corev1.Secret { return legacySecret(inv, true, hash) }},
		{name: "not sent and no hash: no token Secret counts", inv: invitation(membershipv1alpha1.InvitationPending, ""),
			secret: func(inv *membershipv1alpha1.Invitation) *corev1.Secret { return legacySecret(inv, true, hash) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			objects := []client.Object{tc.inv}
			if tc.secret != nil {
				objects = append(objects, tc.secret(tc.inv))
			}
			s := &Server{Client: fake.NewClientBuilder().WithScheme(scheme).WithObjects(objects...).Build(), TokenKey: key}
			live, err := s.linkLive(context.Background(), tc.inv, tok)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(live).To(Equal(tc.want))
		})
	}
}
