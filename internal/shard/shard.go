// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package shard says which namespaces a manager reconciles when the work is split across
// managers (--shard): those whose name hashes into its range of the 64-bit FNV-1a space, the
// hash kube-apiserver's sharded list and watch uses (KEP-5866, feature gate ShardedListAndWatch,
// ListOptions.ShardSelector "shardRange(object.metadata.namespace, '0x…', '0x…')"). Contains is
// the same decision made client-side, so a manager stays correct on an API server without the
// feature gate, and Selector is what asks the API server to make it.
package shard

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Range is the half-open range [Start, End) of namespace hashes a manager owns. The zero Range
// is the whole space: one manager, no sharding.
type Range struct {
	// Start is the inclusive lower bound.
	Start uint64
	// End is the exclusive upper bound when Bounded; otherwise the range runs to 2^64.
	End     uint64
	Bounded bool
	// Index and Count name the shard when it was given as "index/count" (Count is 0 otherwise).
	Index, Count int
	// ClusterOnly is the shard of cluster-scoped objects (Accounts): it reconciles no namespace,
	// and its caches hold every namespace's objects, which the Account controller, the acceptance
	// server and the webhooks read.
	ClusterOnly bool
}

// Whole is the range of a manager that is not sharded.
var Whole = Range{}

// Cluster is the shard of cluster-scoped objects (--shard=cluster).
var Cluster = Range{ClusterOnly: true}

// MaxShards bounds "index/count": a Lease and a Deployment per shard, so a few dozen at most make
// sense; the bound keeps every range at least 2^56 wide.
const MaxShards = 256

// Parse reads --shard: "" (the whole space), "index/count" with 0 <= index < count (the
// index-th of count equal ranges, numbered from 0 as the API server's examples are),
// "0xSTART-0xEND" (hexadecimal, END up to 0x10000000000000000 = 2^64, exclusive), or "cluster"
// (the shard of cluster-scoped objects, which reconciles no namespace).
func Parse(value string) (Range, error) {
	value = strings.TrimSpace(value)
	switch value {
	case "":
		return Whole, nil
	case "cluster":
		return Cluster, nil
	}
	if i, n, ok := strings.Cut(value, "/"); ok {
		index, errI := strconv.Atoi(i)
		count, errN := strconv.Atoi(n)
		if errI != nil || errN != nil || count < 1 || count > MaxShards || index < 0 || index >= count {
			return Range{}, fmt.Errorf("--shard %q: index/count needs 0 <= index < count <= %d, e.g. 0/4 .. 3/4", value, MaxShards)
		}
		return Of(index, count), nil
	}
	s, e, ok := strings.Cut(value, "-")
	if !ok {
		return Range{}, fmt.Errorf("--shard %q: expected index/count (e.g. 1/4), a hash range 0xSTART-0xEND or cluster", value)
	}
	start, errS := parseBound(s)
	end, errE := parseBound(e)
	if err := errors.Join(errS, errE); err != nil {
		return Range{}, fmt.Errorf("--shard %q: %w", value, err)
	}
	if start.Cmp(end) >= 0 {
		return Range{}, fmt.Errorf("--shard %q: the range is empty: START must be below END", value)
	}
	r := Range{Start: start.Uint64()}
	if end.Cmp(space) < 0 {
		r.End, r.Bounded = end.Uint64(), true
	}
	if r.IsWhole() {
		return Range{}, fmt.Errorf("--shard %q: that is every namespace: leave --shard out", value)
	}
	return r, nil
}

// space is 2^64, the hash space's size and the largest END.
var space = new(big.Int).Lsh(big.NewInt(1), 64)

// parseBound reads one 0x-prefixed hexadecimal bound in [0, 2^64].
func parseBound(s string) (*big.Int, error) {
	digits, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(s)), "0x")
	if !ok || digits == "" {
		return nil, fmt.Errorf("bound %q must be hexadecimal with a 0x prefix", s)
	}
	v, ok := new(big.Int).SetString(digits, 16)
	if !ok || v.Sign() < 0 || v.Cmp(space) > 0 {
		return nil, fmt.Errorf("bound %q must be a hexadecimal number from 0x0 to 0x10000000000000000", s)
	}
	return v, nil
}

// Of is the index-th of count equal ranges (the last takes the remainder).
func Of(index, count int) Range {
	step := new(big.Int).Div(space, big.NewInt(int64(count)))
	start := new(big.Int).Mul(step, big.NewInt(int64(index)))
	r := Range{Start: start.Uint64(), Index: index, Count: count}
	if index < count-1 {
		r.End, r.Bounded = new(big.Int).Add(start, step).Uint64(), true
	}
	return r
}

// IsWhole reports whether r is the whole space: nothing to filter, every controller.
func (r Range) IsWhole() bool {
	return r.Start == 0 && !r.Bounded && !r.ClusterOnly
}

// Namespaced reports whether r is a range of namespaces (not the whole space, not the
// cluster-scoped shard): its caches hold its namespaces only.
func (r Range) Namespaced() bool {
	return !r.IsWhole() && !r.ClusterOnly
}

// Hash is the 64-bit FNV-1a hash of a namespace's name, as the API server computes it.
func Hash(namespace string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(namespace))
	return h.Sum64()
}

// Contains reports whether the namespace belongs to r: whether r's manager reconciles it. Each
// controller asks it of every request before anything else, whatever brought the request: the API
// server may not filter (no ShardedListAndWatch), and a watch may map one namespace's object to
// another namespace's.
func (r Range) Contains(namespace string) bool {
	if r.ClusterOnly {
		return false
	}
	h := Hash(namespace)
	return h >= r.Start && (!r.Bounded || h < r.End)
}

// Selector is the ListOptions.ShardSelector that asks the API server for r's namespaces only;
// "" when r's caches hold every namespace (the whole space, the cluster-scoped shard).
func (r Range) Selector() string {
	if !r.Namespaced() {
		return ""
	}
	return fmt.Sprintf("shardRange(object.metadata.namespace, '%s', '%s')", hex(r.Start, false), hex(r.End, !r.Bounded))
}

// hex is a bound as the API server writes it: 0x and 16 lowercase digits, or 2^64's 17.
func hex(v uint64, toEnd bool) string {
	if toEnd {
		return "0x10000000000000000"
	}
	return fmt.Sprintf("0x%016x", v)
}

// String names r for people and logs: "1/4 [0x4000000000000000, 0x8000000000000000)".
func (r Range) String() string {
	if r.ClusterOnly {
		return "cluster-scoped objects only"
	}
	bounds := fmt.Sprintf("[%s, %s)", hex(r.Start, false), hex(r.End, !r.Bounded))
	if r.IsWhole() {
		return "all namespaces " + bounds
	}
	if r.Count > 0 {
		return fmt.Sprintf("%d/%d %s", r.Index, r.Count, bounds)
	}
	return bounds
}

// LeaseName is the leader-election Lease of r's managers: base for the whole space, else base
// with the range, so each shard elects its own leader and two managers of one range share one.
func (r Range) LeaseName(base string) string {
	switch {
	case r.IsWhole():
		return base
	case r.ClusterOnly:
		return base + "-shard-cluster"
	}
	return fmt.Sprintf("%s-shard-%016x-%s", base, r.Start, strings.TrimPrefix(hex(r.End, !r.Bounded), "0x"))
}

// Resources are the cluster-wide collections a namespace shard's informers list and watch with
// its Selector: the namespaced kinds the operator caches. Cluster-scoped ones (Accounts) and
// lists within one namespace are left as they are.
var Resources = []string{
	"/api/v1/secrets",
	"/apis/membership.storeops.io/v1alpha1/stores",
	"/apis/membership.storeops.io/v1alpha1/members",
	"/apis/membership.storeops.io/v1alpha1/invitations",
}

// WrapTransport adds r's Selector to every list and watch of Resources, as rest.Config's
// WrapTransport: controller-runtime's informers have no option for it, and at the transport the
// one rule covers every informer and every cluster-wide list of the manager. The identity for
// a range whose caches hold every namespace.
func (r Range) WrapTransport(next http.RoundTripper) http.RoundTripper {
	selector := r.Selector()
	if selector == "" {
		return next
	}
	return roundTripper{next: next, selector: selector}
}

type roundTripper struct {
	next     http.RoundTripper
	selector string
}

func (t roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet || !isResource(req.URL.Path) || req.URL.Query().Has(selectorParameter) {
		return t.next.RoundTrip(req)
	}
	req = req.Clone(req.Context()) // a RoundTripper must not change the request it was given
	query := req.URL.Query()
	query.Set(selectorParameter, t.selector)
	req.URL.RawQuery = query.Encode()
	return t.next.RoundTrip(req)
}

// isResource reports whether path is one of Resources, behind whatever prefix the API server's
// address has (a proxy's /k8s/clusters/<id>).
func isResource(path string) bool {
	return slices.ContainsFunc(Resources, func(r string) bool { return strings.HasSuffix(path, r) })
}

// selectorParameter is ListOptions.ShardSelector's query parameter.
const selectorParameter = "shardSelector"
