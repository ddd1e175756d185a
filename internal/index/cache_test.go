// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package index_test

import (
	"context"
	"fmt"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/index"
	"github.com/storeops/member-operator/test/devenv"
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
})
