// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package account

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// TestFindTrustsTheAddressNotTheName: an Account's name keeps 48 bits of a hash of its address,
// so a second address can be found (GPU-hours) whose name is another person's Account's. Find
// gives a person's Account only when its spec.email is their address; the Account named for an
// address but kept for another is nobody's to sign in to, join or move from.
func TestFindTrustsTheAddressNotTheName(t *testing.T) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, membershipv1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	const namespace = "member-operator-system"
	accountOf := func(name, email string) (*membershipv1alpha1.Account, *corev1.Secret) {
		acct := &membershipv1alpha1.Account{ObjectMeta: metav1.ObjectMeta{Name: name, UID: "account-uid"},
			Spec: membershipv1alpha1.AccountSpec{Email: membershipv1alpha1.EmailAddress(email)}}
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: membershipv1alpha1.AccountSecretName(name)},
			Data: map[string][]byte{membershipv1alpha1.CredentialPasswordHash: []byte("$2a$10$hash")}}
		if err := controllerutil.SetControllerReference(acct, secret, scheme); err != nil {
			t.Fatal(err)
		}
		return acct, secret
	}
	alice := membershipv1alpha1.EmailAddress("alice@example.com")
	for _, tc := range []struct {
		name      string
		keptFor   string // the Account's spec.email, stored under alice's Account name
		wantFound bool
	}{
		{name: "alice's own Account", keptFor: "alice@example.com", wantFound: true},
		{name: "alice's own Account, the address in other case", keptFor: "Alice@Example.com", wantFound: true},
		{name: "another address's Account under alice's name (a second preimage)", keptFor: "alice.example@evil.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			acct, secret := accountOf(membershipv1alpha1.AccountName(alice), tc.keptFor)
			reader := fake.NewClientBuilder().WithScheme(scheme).WithObjects(acct, secret).Build()
			ctx := context.Background()

			found, err := Of(ctx, reader, alice)
			g.Expect(err).NotTo(HaveOccurred())
			person, err := Find(ctx, reader, reader, namespace, alice)
			g.Expect(err).NotTo(HaveOccurred())
			if tc.wantFound {
				g.Expect(found).NotTo(BeNil())
				g.Expect(person).NotTo(BeNil())
				g.Expect(person.Credentials.PasswordHash).To(Equal([]byte("$2a$10$hash")))
			} else {
				g.Expect(found).To(BeNil())
				g.Expect(person).To(BeNil(), "no password of another address's Account is offered")
			}
		})
	}
	t.Run("no Account at all", func(t *testing.T) {
		g := NewWithT(t)
		reader := fake.NewClientBuilder().WithScheme(scheme).Build()
		found, err := Of(context.Background(), reader, alice)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(found).To(BeNil())
	})
}
