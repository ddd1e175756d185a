// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"testing"

	. "github.com/onsi/gomega"

	"github.com/storeops/member-operator/internal/shard"
)

// The scale-out row compares a shard holding its share with one manager holding that share: the
// namespaces must split exactly, whatever the hash does with them.
func TestBalancedNamespacesSplitEvenly(t *testing.T) {
	for _, tc := range []struct {
		count, shards int
		want          []int
	}{
		{count: 200, shards: 4, want: []int{50, 50, 50, 50}},
		{count: 10, shards: 3, want: []int{4, 3, 3}},
		{count: 50, shards: 1, want: []int{50}},
	} {
		g := NewWithT(t)
		names := balancedNamespaces(tc.count, tc.shards)
		g.Expect(names).To(HaveLen(tc.count))
		per, seen := make([]int, tc.shards), map[string]bool{}
		for _, name := range names {
			g.Expect(seen).NotTo(HaveKey(name), "namespace %s twice", name)
			seen[name] = true
			for s := range tc.shards {
				if shard.Of(s, tc.shards).Contains(name) {
					per[s]++
				}
			}
		}
		g.Expect(per).To(Equal(tc.want), "%d namespaces over %d shards", tc.count, tc.shards)
	}
}
