// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package credrequest

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

const operatorNamespace = "storeops-system"

func member() *membershipv1alpha1.Member {
	return &membershipv1alpha1.Member{ObjectMeta: metav1.ObjectMeta{Namespace: "shops", Name: "acme-owner", UID: "owner-uid"}}
}

func request(kind string, hash string, mutate ...func(*corev1.Secret)) corev1.Secret {
	req := Request{Kind: kind, Member: member(), PasswordHash: []byte(hash)}
	if kind == membershipv1alpha1.CredentialRequestPassword {
		req.Replaces = []byte("signed-in-hash")
	}
	secret := *build(operatorNamespace, req)
	for _, m := range mutate {
		m(&secret)
	}
	return secret
}

func TestFold(t *testing.T) {
	withTOTP := func(s *corev1.Secret) {
		s.Data[membershipv1alpha1.CredentialTOTPSecret] = []byte("NEWKEY")
		s.Data[membershipv1alpha1.CredentialTOTPURI] = []byte("otpauth://new")
	}
	replacing := func(hash string) func(*corev1.Secret) {
		return func(s *corev1.Secret) { s.Annotations[membershipv1alpha1.ReplacesAnnotation] = Digest([]byte(hash)) }
	}
	cases := []struct {
		name     string
		data     map[string][]byte
		exists   bool
		requests []corev1.Secret
		want     map[string][]byte
		applied  []string
		refused  map[string]string
	}{
		{
			name:     "an activation creates the login with the chosen hash and key",
			requests: []corev1.Secret{request(membershipv1alpha1.CredentialRequestActivation, "chosen", withTOTP)},
			want: map[string][]byte{membershipv1alpha1.CredentialPasswordHash: []byte("chosen"),
				membershipv1alpha1.CredentialTOTPSecret: []byte("NEWKEY"), membershipv1alpha1.CredentialTOTPURI: []byte("otpauth://new")},
			applied: []string{membershipv1alpha1.CredentialRequestActivation},
		},
		{
			name:     "a second activation never replaces the first one's password",
			data:     map[string][]byte{membershipv1alpha1.CredentialPasswordHash: []byte("first")},
			exists:   true,
			requests: []corev1.Secret{request(membershipv1alpha1.CredentialRequestActivation, "second")},
			want:     map[string][]byte{membershipv1alpha1.CredentialPasswordHash: []byte("first")},
			refused:  map[string]string{membershipv1alpha1.CredentialRequestActivation: RefusedHasCredentials},
		},
		{
			name: "a password change over the hash the person signed in with replaces it and a generated password",
			data: map[string][]byte{membershipv1alpha1.CredentialPasswordHash: []byte("signed-in-hash"),
				membershipv1alpha1.CredentialPassword: []byte("generated"), membershipv1alpha1.CredentialRoles: []byte("staff")},
			exists:   true,
			requests: []corev1.Secret{request(membershipv1alpha1.CredentialRequestPassword, "changed")},
			want: map[string][]byte{membershipv1alpha1.CredentialPasswordHash: []byte("changed"),
				membershipv1alpha1.CredentialRoles: []byte("staff")},
			applied: []string{membershipv1alpha1.CredentialRequestPassword},
		},
		{
			name:     "a password change made against a password that changed since is refused",
			data:     map[string][]byte{membershipv1alpha1.CredentialPasswordHash: []byte("reset-in-between")},
			exists:   true,
			requests: []corev1.Secret{request(membershipv1alpha1.CredentialRequestPassword, "changed")},
			want:     map[string][]byte{membershipv1alpha1.CredentialPasswordHash: []byte("reset-in-between")},
			refused:  map[string]string{membershipv1alpha1.CredentialRequestPassword: RefusedChanged},
		},
		{
			name:     "a password change for a Member without credentials is refused",
			requests: []corev1.Secret{request(membershipv1alpha1.CredentialRequestPassword, "changed")},
			want:     map[string][]byte{},
			refused:  map[string]string{membershipv1alpha1.CredentialRequestPassword: RefusedNoCredentials},
		},
		{
			name: "the previous owner's change waiting beside a transfer never outlives it",
			data: map[string][]byte{membershipv1alpha1.CredentialPasswordHash: []byte("signed-in-hash"),
				membershipv1alpha1.CredentialTOTPSecret: []byte("OLDKEY")},
			exists: true,
			requests: []corev1.Secret{
				request(membershipv1alpha1.CredentialRequestPassword, "previous-owner's"),
				request(membershipv1alpha1.CredentialRequestTransfer, "new-owner's", withTOTP),
			},
			want: map[string][]byte{membershipv1alpha1.CredentialPasswordHash: []byte("new-owner's"),
				membershipv1alpha1.CredentialTOTPSecret: []byte("NEWKEY"), membershipv1alpha1.CredentialTOTPURI: []byte("otpauth://new")},
			applied: []string{membershipv1alpha1.CredentialRequestPassword, membershipv1alpha1.CredentialRequestTransfer},
		},
		{
			name: "a password change asked right after an activation applies over the activation's hash",
			requests: []corev1.Secret{request(membershipv1alpha1.CredentialRequestActivation, "chosen"),
				request(membershipv1alpha1.CredentialRequestPassword, "changed", replacing("chosen"))},
			want:    map[string][]byte{membershipv1alpha1.CredentialPasswordHash: []byte("changed")},
			applied: []string{membershipv1alpha1.CredentialRequestActivation, membershipv1alpha1.CredentialRequestPassword},
		},
		{
			name:     "a request without a hash is refused",
			data:     map[string][]byte{membershipv1alpha1.CredentialPasswordHash: []byte("kept")},
			exists:   true,
			requests: []corev1.Secret{request(membershipv1alpha1.CredentialRequestTransfer, "")},
			want:     map[string][]byte{membershipv1alpha1.CredentialPasswordHash: []byte("kept")},
			refused:  map[string]string{membershipv1alpha1.CredentialRequestTransfer: RefusedEmpty},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			data := tc.data
			if data == nil {
				data = map[string][]byte{}
			}
			folded := Fold(data, tc.exists, tc.requests)
			g.Expect(data).To(Equal(tc.want))
			g.Expect(folded.Applied).To(Equal(tc.applied))
			if tc.refused == nil {
				tc.refused = map[string]string{}
			}
			g.Expect(folded.Refused).To(Equal(tc.refused))
		})
	}
}

func newClient(g Gomega, objs ...client.Object) client.WithWatch {
	scheme := runtime.NewScheme()
	g.Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	g.Expect(membershipv1alpha1.AddToScheme(scheme)).To(Succeed())
	return fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
}

func TestAskClaimsAnActivationAndReplacesAWaitingChange(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	c := newClient(g)

	_, err := Ask(ctx, c, c, "", Request{Kind: membershipv1alpha1.CredentialRequestActivation, Member: member()})
	g.Expect(err).To(MatchError(ErrNoNamespace))

	first, err := Ask(ctx, c, c, operatorNamespace, Request{Kind: membershipv1alpha1.CredentialRequestActivation, Member: member(),
		PasswordHash: []byte("first"), Invitation: "acme-owner-activation"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(first.Name).To(Equal("credentials-activation-owner-uid"))
	g.Expect(first.Labels).To(HaveKeyWithValue(membershipv1alpha1.ManagedByLabel, membershipv1alpha1.ManagedByValue),
		"in the operator's cache")
	g.Expect(first.Labels).To(HaveKeyWithValue(membershipv1alpha1.InvitationLabel, "acme-owner-activation"))
	_, err = Ask(ctx, c, c, operatorNamespace, Request{Kind: membershipv1alpha1.CredentialRequestActivation, Member: member(),
		PasswordHash: []byte("second")})
	g.Expect(apierrors.IsAlreadyExists(err)).To(BeTrue(), "the first acceptance's request is the claim")

	for _, hash := range []string{"one", "two"} {
		_, err := Ask(ctx, c, c, operatorNamespace, Request{Kind: membershipv1alpha1.CredentialRequestPassword, Member: member(),
			PasswordHash: []byte(hash), Replaces: []byte("signed-in-hash")})
		g.Expect(err).NotTo(HaveOccurred())
	}
	waiting := &corev1.Secret{}
	g.Expect(c.Get(ctx, client.ObjectKey{Namespace: operatorNamespace, Name: "credentials-password-owner-uid"}, waiting)).To(Succeed())
	g.Expect(waiting.Data[membershipv1alpha1.CredentialPasswordHash]).To(Equal([]byte("two")), "the later change replaced the waiting one")
	g.Expect(waiting.Annotations).To(HaveKeyWithValue(membershipv1alpha1.ReplacesAnnotation, Digest([]byte("signed-in-hash"))))
}

func TestPendingConfirmsWhatTheCacheShows(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	activation, transfer := request(membershipv1alpha1.CredentialRequestActivation, "a"), request(membershipv1alpha1.CredentialRequestTransfer, "t")
	stale := newClient(g, &activation, &transfer) // the cache, behind
	live := newClient(g, &transfer)               // the API server: the activation was applied and deleted
	pending, err := Pending(ctx, stale, live, operatorNamespace, member())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pending).To(HaveLen(1))
	g.Expect(pending[0].Name).To(Equal(transfer.Name))

	other := member()
	other.UID = "another-uid"
	pending, err = Pending(ctx, live, live, operatorNamespace, other)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pending).To(BeEmpty(), "a request names one Member by UID")

	moved := member()
	moved.Namespace = "elsewhere"
	g.Expect(For(&transfer, moved)).To(BeFalse(), "nor a Member of that UID in another place")
}

func TestDoneLeavesAReplacedRequest(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	password := request(membershipv1alpha1.CredentialRequestPassword, "one")
	c := newClient(g, &password)
	read := &corev1.Secret{}
	g.Expect(c.Get(ctx, client.ObjectKeyFromObject(&password), read)).To(Succeed())
	_, err := Ask(ctx, c, c, operatorNamespace, Request{Kind: membershipv1alpha1.CredentialRequestPassword, Member: member(),
		PasswordHash: []byte("two"), Replaces: []byte("signed-in-hash")})
	g.Expect(err).NotTo(HaveOccurred())

	g.Expect(Done(ctx, c, []corev1.Secret{*read})).To(Succeed())
	g.Expect(c.Get(ctx, client.ObjectKeyFromObject(&password), &corev1.Secret{})).To(Succeed(),
		"the newer change, not yet applied, stays")

	g.Expect(c.Get(ctx, client.ObjectKeyFromObject(&password), read)).To(Succeed())
	g.Expect(Done(ctx, c, []corev1.Secret{*read})).To(Succeed())
	err = c.Get(ctx, client.ObjectKeyFromObject(&password), &corev1.Secret{})
	g.Expect(apierrors.IsNotFound(err)).To(BeTrue())
	g.Expect(Done(ctx, c, []corev1.Secret{*read})).To(Succeed(), "gone already is done")
}

func TestAwait(t *testing.T) {
	ctx := context.Background()
	credentialsOf := func(hash string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "shops",
			Name: membershipv1alpha1.CredentialsSecretName(member().Name)},
			Data: map[string][]byte{membershipv1alpha1.CredentialPasswordHash: []byte(hash)}}
	}
	t.Run("applied: the credential Secret has the hash", func(t *testing.T) {
		g := NewWithT(t)
		asked := request(membershipv1alpha1.CredentialRequestPassword, "new")
		c := newClient(g, credentialsOf("new"))
		outcome, err := Await(ctx, c, &asked, member(), time.Second)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(outcome).To(Equal(Applied))
	})
	t.Run("dropped: the request went and the hash did not come", func(t *testing.T) {
		g := NewWithT(t)
		asked := request(membershipv1alpha1.CredentialRequestPassword, "new")
		c := newClient(g, credentialsOf("old"), &asked)
		go func() {
			time.Sleep(3 * awaitPoll) // the controller refusing it a moment later
			_ = c.Delete(ctx, &asked)
		}()
		outcome, err := Await(ctx, c, &asked, member(), 5*time.Second)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(outcome).To(Equal(Dropped))
	})
	t.Run("waiting: nothing happened within the timeout", func(t *testing.T) {
		g := NewWithT(t)
		asked := request(membershipv1alpha1.CredentialRequestPassword, "new")
		c := newClient(g, credentialsOf("old"))
		outcome, err := Await(ctx, c, &asked, member(), 5*awaitPoll)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(outcome).To(Equal(Waiting), "a request the cache never showed is not taken for dropped")
	})
}
