// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package index_test

import (
	"context"
	"fmt"
	"maps"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/index"
	"github.com/storeops/member-operator/test/devenv"
	"github.com/storeops/member-operator/test/testenv"
)

func TestCachePolicy(t *testing.T) {
	if testing.Short() {
		t.Skip("envtest suite: needs a control plane")
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "Cache policy Suite")
}

var _ = Describe("the manager's cache", func() {
	It("holds only the Secrets that carry the operator's label", func(ctx SpecContext) {
		assets, err := devenv.BinaryAssetsDir()
		Expect(err).NotTo(HaveOccurred())
		testEnv := &envtest.Environment{BinaryAssetsDirectory: assets}
		cfg, err := testEnv.Start()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(testEnv.Stop)

		c, err := client.New(cfg, client.Options{})
		Expect(err).NotTo(HaveOccurred())
		secret := func(name string, managed bool) *corev1.Secret {
			s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}}
			if managed {
				s.Labels = map[string]string{membershipv1alpha1.ManagedByLabel: membershipv1alpha1.ManagedByValue}
			}
			return s
		}
		for i := range 3 {
			Expect(c.Create(ctx, secret(fmt.Sprintf("managed-%d", i), true))).To(Succeed())
		}
		for i := range 20 {
			Expect(c.Create(ctx, secret(fmt.Sprintf("unrelated-%d", i), false))).To(Succeed())
		}
		other := secret("managed-by-someone-else", false)
		other.Labels = map[string]string{membershipv1alpha1.ManagedByLabel: "helm"}
		Expect(c.Create(ctx, other)).To(Succeed())

		opts := index.CacheOptions()
		opts.Scheme = scheme.Scheme
		informers, err := cache.New(cfg, opts)
		Expect(err).NotTo(HaveOccurred())
		cacheCtx, stop := context.WithCancel(ctx)
		DeferCleanup(stop)
		go func() { _ = informers.Start(cacheCtx) }()
		Expect(informers.WaitForCacheSync(ctx)).To(BeTrue())

		var cached corev1.SecretList
		Expect(informers.List(ctx, &cached)).To(Succeed())
		names := make([]string, 0, len(cached.Items))
		for _, s := range cached.Items {
			names = append(names, s.Name)
		}
		Expect(names).To(ConsistOf("managed-0", "managed-1", "managed-2"))
		for _, s := range cached.Items {
			Expect(s.ManagedFields).To(BeEmpty(), "kept without managedFields: memory the controllers never read")
		}
		stored := &corev1.Secret{}
		Expect(c.Get(ctx, client.ObjectKey{Namespace: "default", Name: "managed-0"}, stored)).To(Succeed())
		Expect(stored.ManagedFields).NotTo(BeEmpty(), "the API server still has them (the email-change check reads them there)")

		err = informers.Get(ctx, client.ObjectKey{Namespace: "default", Name: "unrelated-0"}, &corev1.Secret{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(),
			"an unlabelled Secret is invisible to the cache: read it with the manager's API reader")
	})

	It("in a namespace shard leaves out the Accounts' own Secrets and requests and keeps Accounts trimmed", func(ctx SpecContext) {
		assets, err := devenv.BinaryAssetsDir()
		Expect(err).NotTo(HaveOccurred())
		testEnv := &envtest.Environment{BinaryAssetsDirectory: assets, CRDDirectoryPaths: []string{testenv.CRDDir()},
			ErrorIfCRDPathMissing: true}
		cfg, err := testEnv.Start()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(testEnv.Stop)
		s := runtime.NewScheme()
		Expect(scheme.AddToScheme(s)).To(Succeed())
		Expect(membershipv1alpha1.AddToScheme(s)).To(Succeed())
		c, err := client.New(cfg, client.Options{Scheme: s})
		Expect(err).NotTo(HaveOccurred())

		const operatorNS, tenantNS = "member-operator-system", "tenant-a"
		for _, ns := range []string{operatorNS, tenantNS} {
			Expect(c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		}
		managed := func(ns, name string, extra map[string]string) *corev1.Secret {
			l := map[string]string{membershipv1alpha1.ManagedByLabel: membershipv1alpha1.ManagedByValue}
			maps.Copy(l, extra)
			return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: l},
				Data: map[string][]byte{membershipv1alpha1.CredentialPasswordHash: []byte("$2a$10$hash")}}
		}
		for _, secret := range []*corev1.Secret{
			managed(operatorNS, "account-pat-1", map[string]string{membershipv1alpha1.AccountLabel: "pat-1", membershipv1alpha1.AccountSecretLabel: "true"}),
			managed(operatorNS, "account-old-2", map[string]string{membershipv1alpha1.AccountLabel: "old-2"}), // written before the label
			managed(operatorNS, "account-request-x", map[string]string{membershipv1alpha1.AccountLabel: "pat-1",
				membershipv1alpha1.AccountRequestLabel: membershipv1alpha1.AccountRequestPassword}),
			managed(operatorNS, "credential-request-y", map[string]string{membershipv1alpha1.CredentialRequestLabel: "activation"}),
			managed(tenantNS, "staff-credentials", map[string]string{membershipv1alpha1.AccountLabel: "pat-1"}),
		} {
			Expect(c.Create(ctx, secret)).To(Succeed())
		}
		acct := &membershipv1alpha1.Account{
			ObjectMeta: metav1.ObjectMeta{Name: "pat-1", Labels: map[string]string{"team": "a"}},
			Spec: membershipv1alpha1.AccountSpec{Email: "pat@example.com", DisplayName: "Pat", Phone: "+31201234567",
				LoginName: "pat"},
		}
		Expect(c.Create(ctx, acct)).To(Succeed())
		acct.Status = membershipv1alpha1.AccountStatus{
			Members:        []membershipv1alpha1.AccountMember{{Namespace: tenantNS, Name: "staff", UID: "uid-1", Store: "shop"}},
			PasswordSource: &membershipv1alpha1.AccountPasswordSource{Namespace: tenantNS, Secret: "passwords", Key: "pat"},
			SecretVersion:  "42", Stores: 1, TwoFactor: true, ObservedGeneration: 1,
			Conditions: []metav1.Condition{{Type: membershipv1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: "Active",
				Message: "Used by 1 Member(s)", LastTransitionTime: metav1.Now()}},
		}
		Expect(c.Status().Update(ctx, acct)).To(Succeed())

		opts := index.ShardCacheOptions(operatorNS)
		opts.Scheme = s
		informers, err := cache.New(cfg, opts)
		Expect(err).NotTo(HaveOccurred())
		cacheCtx, stop := context.WithCancel(ctx)
		DeferCleanup(stop)
		go func() { _ = informers.Start(cacheCtx) }()
		// Informers start on first use: ask for both kinds, then wait.
		var cachedSecrets corev1.SecretList
		Eventually(func(g Gomega) []string {
			g.Expect(informers.List(ctx, &cachedSecrets)).To(Succeed())
			names := make([]string, 0, len(cachedSecrets.Items))
			for _, secret := range cachedSecrets.Items {
				names = append(names, secret.Namespace+"/"+secret.Name)
			}
			return names
		}).Should(ConsistOf(operatorNS+"/account-old-2", operatorNS+"/credential-request-y", tenantNS+"/staff-credentials"),
			"every managed Secret but the labelled account Secret and the account request")

		cached := &membershipv1alpha1.Account{}
		Eventually(func() error { return informers.Get(ctx, client.ObjectKey{Name: "pat-1"}, cached) }).Should(Succeed())
		Expect(cached.UID).To(Equal(acct.UID))
		Expect(cached.Spec).To(Equal(membershipv1alpha1.AccountSpec{Email: "pat@example.com"}))
		Expect(cached.Status).To(Equal(membershipv1alpha1.AccountStatus{
			Members: acct.Status.Members, PasswordSource: acct.Status.PasswordSource, SecretVersion: "42"}))
		Expect(cached.Labels).To(BeEmpty())
		Expect(cached.ManagedFields).To(BeEmpty())
	})
})
