// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package sharding checks internal/shard against a real kube-apiserver: with the
// ShardedListAndWatch feature gate (on in every control plane of the project), a list or watch
// with shard.Range.Selector returns exactly the namespaces shard.Range.Contains says; without the
// gate the API server ignores the selector and returns everything, which is why a sharded
// manager filters client-side as well.
package sharding

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sort"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/shard"
	"github.com/storeops/member-operator/test/testenv"
)

const label = "sharding-test"

// populate creates count namespaces, each with a labelled Secret and a Store, and returns them.
func populate(ctx context.Context, g Gomega, c client.Client, count int) []string {
	namespaces := make([]string, 0, count)
	for i := range count {
		// FNV-1a's high bits hardly move between names that differ in their last character or
		// two ("shop-01", "shop-02" all fall in one quarter): a digest spreads twenty names.
		ns := fmt.Sprintf("shop-%x", sha256.Sum256([]byte(strconv.Itoa(i))))[:13]
		g.Expect(c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		g.Expect(c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "s",
			Labels: map[string]string{label: "true"}}})).To(Succeed())
		g.Expect(c.Create(ctx, testenv.NewStore(ns, "shop", "owner@example.com"))).To(Succeed())
		namespaces = append(namespaces, ns)
	}
	sort.Strings(namespaces)
	return namespaces
}

// listed is the namespaces of what a cluster-wide list with selector returns.
func listed(ctx context.Context, g Gomega, c client.Client, list client.ObjectList, selector string) []string {
	opts := []client.ListOption{&client.ListOptions{Raw: &metav1.ListOptions{ShardSelector: selector}}}
	if _, secrets := list.(*corev1.SecretList); secrets {
		opts = append(opts, client.HasLabels{label})
	}
	g.Expect(c.List(ctx, list, opts...)).To(Succeed())
	var out []string
	switch l := list.(type) {
	case *corev1.SecretList:
		for _, s := range l.Items {
			out = append(out, s.Namespace)
		}
	case *membershipv1alpha1.StoreList:
		for _, s := range l.Items {
			out = append(out, s.Namespace)
		}
	}
	sort.Strings(out)
	return out
}

func in(r shard.Range, namespaces []string) []string {
	var out []string
	for _, ns := range namespaces {
		if r.Contains(ns) {
			out = append(out, ns)
		}
	}
	return out
}

func TestTheAPIServerShardsAsContainsSays(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	g := NewWithT(t)
	ctx := context.Background()
	cp, err := testenv.StartControlPlane()
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { g.Expect(cp.Stop()).To(Succeed()) }()
	namespaces := populate(ctx, g, cp.Client, 20)

	for _, count := range []int{2, 4} {
		union := 0
		for i := range count {
			r := shard.Of(i, count)
			want := in(r, namespaces)
			g.Expect(listed(ctx, g, cp.Client, &corev1.SecretList{}, r.Selector())).To(Equal(want), "Secrets of %s", r)
			g.Expect(listed(ctx, g, cp.Client, &membershipv1alpha1.StoreList{}, r.Selector())).To(Equal(want), "Stores of %s", r)
			union += len(want)
		}
		g.Expect(union).To(Equal(len(namespaces)), "%d shards hold every namespace once", count)
	}
	g.Expect(listed(ctx, g, cp.Client, &corev1.SecretList{}, shard.Whole.Selector())).To(Equal(namespaces))

	// A watch with the selector sees only its range's events.
	watcher, err := client.NewWithWatch(cp.Config, client.Options{Scheme: cp.Scheme})
	g.Expect(err).NotTo(HaveOccurred())
	r := shard.Of(0, 2)
	w, err := watcher.Watch(ctx, &corev1.SecretList{}, client.HasLabels{label},
		&client.ListOptions{Raw: &metav1.ListOptions{ShardSelector: r.Selector()}})
	g.Expect(err).NotTo(HaveOccurred())
	defer w.Stop()
	var inside, outside string
	for _, ns := range namespaces {
		if r.Contains(ns) && inside == "" {
			inside = ns
		} else if !r.Contains(ns) && outside == "" {
			outside = ns
		}
	}
	for _, ns := range []string{outside, inside} { // the outside one first: it must never arrive
		g.Expect(cp.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "watched",
			Labels: map[string]string{label: "true"}}})).To(Succeed())
	}
	seen := []string{}
	g.Eventually(func() []string {
		for {
			select {
			case e := <-w.ResultChan():
				if s, ok := e.Object.(*corev1.Secret); ok && e.Type == watch.Added && s.Name == "watched" {
					seen = append(seen, s.Namespace)
				}
			default:
				return seen
			}
		}
	}).WithTimeout(20 * time.Second).Should(ContainElement(inside))
	g.Expect(seen).To(Equal([]string{inside}), "the event of %s (outside %s) never came", outside, r)
}

// Without the gate the selector is ignored: everything comes back, so the manager's own filter
// is what keeps a shard to its range there.
func TestWithoutTheGateTheSelectorIsIgnored(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	g := NewWithT(t)
	ctx := context.Background()
	cp, err := testenv.StartControlPlane(func(env *envtest.Environment) {
		env.ControlPlane.GetAPIServer().Configure().Set("feature-gates", "ShardedListAndWatch=false")
	})
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { g.Expect(cp.Stop()).To(Succeed()) }()
	namespaces := populate(ctx, g, cp.Client, 6)
	g.Expect(listed(ctx, g, cp.Client, &corev1.SecretList{}, shard.Of(0, 2).Selector())).To(Equal(namespaces))
}
