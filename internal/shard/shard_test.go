// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package shard

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/sharding"
	"k8s.io/apimachinery/pkg/util/validation"
)

func TestParse(t *testing.T) {
	cases := []struct {
		value string
		want  Range
		err   string
	}{
		{value: "", want: Whole},
		{value: "cluster", want: Cluster},
		{value: "0/1", want: Range{Count: 1}},
		{value: "0/2", want: Range{End: 1 << 63, Bounded: true, Count: 2}},
		{value: "1/2", want: Range{Start: 1 << 63, Index: 1, Count: 2}},
		{value: "2/4", want: Range{Start: 1 << 63, End: 3 << 62, Bounded: true, Index: 2, Count: 4}},
		{value: "0x0-0x8000000000000000", want: Range{End: 1 << 63, Bounded: true}},
		{value: "0X8000000000000000-0x10000000000000000", want: Range{Start: 1 << 63}},
		{value: "0x0-0x10000000000000000", err: "that is every namespace: leave --shard out"},
		{value: "4/4", err: "0 <= index < count"},
		{value: "-1/4", err: "0 <= index < count"},
		{value: "1/0", err: "0 <= index < count"},
		{value: "1/257", err: "count <= 256"},
		{value: "a/b", err: "index/count"},
		{value: "1", err: "expected index/count (e.g. 1/4), a hash range 0xSTART-0xEND or cluster"},
		{value: "10-20", err: "must be hexadecimal with a 0x prefix"},
		{value: "0x0-0x10000000000000001", err: "from 0x0 to 0x10000000000000000"},
		{value: "0x8-0x8", err: "the range is empty"},
		{value: "0xzz-0x8", err: "must be a hexadecimal number"},
	}
	for _, tc := range cases {
		t.Run(tc.value, func(t *testing.T) {
			g := NewWithT(t)
			got, err := Parse(tc.value)
			if tc.err != "" {
				g.Expect(err).To(MatchError(And(ContainSubstring("--shard"), ContainSubstring(tc.err))))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

// Equal ranges cover the whole space, each hash in exactly one.
func TestOfCoversTheSpace(t *testing.T) {
	g := NewWithT(t)
	for _, count := range []int{1, 2, 3, 4, 7, 16, MaxShards} {
		var next uint64
		for i := range count {
			r := Of(i, count)
			g.Expect(r.Start).To(Equal(next), "shard %d/%d starts where the one before ends", i, count)
			g.Expect(r.Bounded).To(Equal(i < count-1))
			next = r.End
		}
	}
	namespaces := names(2000)
	for _, count := range []int{2, 4, 7} {
		for _, ns := range namespaces {
			owners := 0
			for i := range count {
				if Of(i, count).Contains(ns) {
					owners++
				}
			}
			g.Expect(owners).To(Equal(1), "namespace %q among %d shards", ns, count)
		}
	}
}

// Contains decides as kube-apiserver's sharded list does (apimachinery's selector, the code the
// API server runs), and Selector is the expression that selector prints.
func TestContainsAgreesWithTheAPIServersSelector(t *testing.T) {
	g := NewWithT(t)
	edge, err := Parse("0x0000000000000001-0xfffffffffffffffe")
	g.Expect(err).NotTo(HaveOccurred())
	ranges := []Range{Of(0, 2), Of(1, 2), Of(0, 4), Of(2, 4), Of(3, 4), Of(5, 7), edge}
	for _, r := range ranges {
		req := sharding.ShardRangeRequirement{Key: "object.metadata.namespace", Start: hex(r.Start, false), End: hex(r.End, !r.Bounded)}
		selector := sharding.NewSelector(req)
		g.Expect(r.Selector()).To(Equal(selector.String()))
		in := 0
		for _, ns := range names(3000) {
			obj := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "x"}}
			matches, err := selector.Matches(obj)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(r.Contains(ns)).To(Equal(matches), "namespace %q in %s", ns, r)
			if matches {
				in++
			}
		}
		g.Expect(in).To(BeNumerically(">", 0), "%s holds some of the namespaces", r)
	}
	g.Expect(Whole.Selector()).To(BeEmpty(), "the whole space asks for no filter")
	g.Expect(Whole.Contains("anything")).To(BeTrue())
	g.Expect(Range{}).To(Equal(Whole), "the zero Range reconciles everything, as a manager without --shard")
	g.Expect(Cluster.Selector()).To(BeEmpty(), "the cluster-scoped shard caches every namespace")
	g.Expect(Cluster.Contains("anything")).To(BeFalse(), "and reconciles none")
	g.Expect(Of(0, 1).IsWhole()).To(BeTrue())
}

func TestLeaseName(t *testing.T) {
	g := NewWithT(t)
	const base = "member-operator.membership.storeops.io"
	g.Expect(Whole.LeaseName(base)).To(Equal(base), "an unsharded manager keeps the Lease it always had")
	seen := map[string]bool{}
	for i := range MaxShards {
		name := Of(i, MaxShards).LeaseName(base)
		g.Expect(validation.IsDNS1123Subdomain(name)).To(BeEmpty(), name)
		g.Expect(seen).NotTo(HaveKey(name))
		seen[name] = true
	}
	g.Expect(Of(1, 4).LeaseName(base)).To(Equal(base + "-shard-4000000000000000-8000000000000000"))
	g.Expect(Of(3, 4).LeaseName(base)).To(Equal(base + "-shard-c000000000000000-10000000000000000"))
	g.Expect(Of(1, 4).String()).To(Equal("1/4 [0x4000000000000000, 0x8000000000000000)"))
	g.Expect(Cluster.LeaseName(base)).To(Equal(base + "-shard-cluster"))
}

func names(n int) []string {
	out := make([]string, 0, n)
	for i := range n {
		out = append(out, fmt.Sprintf("tenant-%d", i))
	}
	return append(out, "default", "kube-system", "member-operator-system", "")
}

func TestWrapTransportAsksForTheRangeOnClusterWideListsAndWatches(t *testing.T) {
	g := NewWithT(t)
	var seen []string
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Method+" "+r.URL.Path+" "+r.URL.Query().Get("shardSelector"))
	}))
	defer server.Close()
	r := Of(1, 4)
	c := &http.Client{Transport: r.WrapTransport(http.DefaultTransport)}
	for _, path := range []string{
		"/api/v1/secrets?labelSelector=a%3Db&watch=true",
		"/apis/membership.storeops.io/v1alpha1/members?limit=500",
		"/proxy/k8s/clusters/c-1/apis/membership.storeops.io/v1alpha1/stores",
		"/api/v1/namespaces/shop/secrets",
		"/apis/membership.storeops.io/v1alpha1/accounts",
		"/apis/membership.storeops.io/v1alpha1/invitations?shardSelector=mine",
	} {
		resp, err := c.Get(server.URL + path)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(resp.Body.Close()).To(Succeed())
	}
	resp, err := c.Post(server.URL+"/api/v1/secrets", "application/json", strings.NewReader("{}"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(resp.Body.Close()).To(Succeed())
	g.Expect(seen).To(Equal([]string{
		"GET /api/v1/secrets " + r.Selector(),
		"GET /apis/membership.storeops.io/v1alpha1/members " + r.Selector(),
		"GET /proxy/k8s/clusters/c-1/apis/membership.storeops.io/v1alpha1/stores " + r.Selector(),
		"GET /api/v1/namespaces/shop/secrets ",
		"GET /apis/membership.storeops.io/v1alpha1/accounts ",
		"GET /apis/membership.storeops.io/v1alpha1/invitations mine",
		"POST /api/v1/secrets ",
	}))
	g.Expect(Whole.WrapTransport(http.DefaultTransport)).To(BeIdenticalTo(http.DefaultTransport))
	g.Expect(Cluster.WrapTransport(http.DefaultTransport)).To(BeIdenticalTo(http.DefaultTransport))
}
