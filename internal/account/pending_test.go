// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package account

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	crclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/index"
)

// TestPendingFromTheCacheAndFromTheAPIServerAgree: the Account controller reads an Account's
// requests from the cache by index (index.SecretAccountRequest), a namespace shard from the API
// server by label; both find the same Secrets, oldest first, and nothing else that carries the
// Account's label: its own Secret, its login-name claim, a store's credential Secret, another
// Account's request, a request-looking Secret outside the operator's namespace.
func TestPendingFromTheCacheAndFromTheAPIServerAgree(t *testing.T) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, membershipv1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	const operatorNS, tenantNS, ann, bob = "member-operator-system", "tenant-a", "account-ann", "account-bob"
	base := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	secret := func(namespace, name string, created time.Duration, labels map[string]string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels,
			CreationTimestamp: metav1.NewTime(base.Add(created))}}
	}
	request := func(namespace, name, acct, kind string, created time.Duration) *corev1.Secret {
		return secret(namespace, name, created, map[string]string{
			membershipv1alpha1.AccountLabel: acct, membershipv1alpha1.AccountRequestLabel: kind})
	}
	objects := []*corev1.Secret{
		request(operatorNS, "ann-password", ann, membershipv1alpha1.AccountRequestPassword, 3*time.Second),
		request(operatorNS, "ann-join", ann, membershipv1alpha1.AccountRequestJoin, time.Second),
		request(operatorNS, "ann-2fa", ann, membershipv1alpha1.AccountRequestTwoFactor, 2*time.Second),
		request(operatorNS, "bob-join", bob, membershipv1alpha1.AccountRequestJoin, 0),
		request(tenantNS, "ann-elsewhere", ann, membershipv1alpha1.AccountRequestJoin, 0),
		secret(operatorNS, membershipv1alpha1.AccountSecretName(ann), 0, map[string]string{
			membershipv1alpha1.AccountLabel: ann, membershipv1alpha1.AccountSecretLabel: membershipv1alpha1.AccountSecretValue}),
		secret(operatorNS, membershipv1alpha1.LoginNameClaimName("ann.lima"), 0, map[string]string{
			membershipv1alpha1.AccountLabel: ann, membershipv1alpha1.LoginNameClaimLabel: "ann.lima"}),
		secret(tenantNS, "ann-credentials", 0, map[string]string{membershipv1alpha1.AccountLabel: ann}),
	}
	builder := fake.NewClientBuilder().WithScheme(scheme).WithIndex(&corev1.Secret{}, index.SecretAccountRequest, index.AccountRequestKeys)
	for _, obj := range objects {
		builder = builder.WithObjects(obj)
	}
	reader := builder.Build()
	names := func(secrets []corev1.Secret) []string {
		out := make([]string, 0, len(secrets))
		for _, s := range secrets {
			out = append(out, s.Name)
		}
		return out
	}
	ctx := context.Background()

	for _, tc := range []struct {
		name string
		read func(context.Context, crclient.Reader, string, string) ([]corev1.Secret, error)
	}{
		{"from the cache, by index", Pending},
		{"from the API server, by label", PendingLive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := tc.read(ctx, reader, operatorNS, ann)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(names(got)).To(Equal([]string{"ann-join", "ann-2fa", "ann-password"}))
			got, err = tc.read(ctx, reader, operatorNS, bob)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(names(got)).To(Equal([]string{"bob-join"}))
			got, err = tc.read(ctx, reader, operatorNS, "account-nobody")
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(BeEmpty())
		})
	}
}
