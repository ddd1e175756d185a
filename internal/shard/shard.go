/*
Copyright 2026 The StoreOps Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

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
	"strconv"
	"strings"
)

// Range is the half-open range [Start, End) of namespace hashes a manager owns. The zero Range
// is the whole space: one manager, no sharding.
type Range struct {
	// Start is the inclusive lower bound.
	Start uint64
	// End is the exclusive upper bound; ToEnd says the range runs to 2^64 instead (End is then 0).
	End   uint64
	ToEnd bool
	// Index and Count name the shard when it was given as "index/count" (Count is 0 otherwise).
	Index, Count int
}

// Whole is the range of a manager that is not sharded.
var Whole = Range{ToEnd: true}

// MaxShards bounds "index/count": a Lease and a Deployment per shard, so a few dozen at most make
// sense; the bound keeps every range at least 2^56 wide.
const MaxShards = 256

// Parse reads --shard: "" (the whole space), "index/count" with 0 <= index < count (the
// index-th of count equal ranges, numbered from 0 as the API server's examples are), or
// "0xSTART-0xEND" (hexadecimal, END up to 0x10000000000000000 = 2^64, exclusive).
func Parse(value string) (Range, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return Whole, nil
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
		return Range{}, fmt.Errorf("--shard %q: expected index/count (e.g. 1/4) or a hash range 0xSTART-0xEND", value)
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
	if end.Cmp(space) == 0 {
		r.ToEnd = true
	} else {
		r.End = end.Uint64()
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
	if index == count-1 {
		r.ToEnd = true
	} else {
		r.End = new(big.Int).Add(start, step).Uint64()
	}
	return r
}

// IsWhole reports whether r is the whole space: nothing to filter.
func (r Range) IsWhole() bool {
	return r.Start == 0 && r.ToEnd
}

// Hash is the 64-bit FNV-1a hash of a namespace's name, as the API server computes it.
func Hash(namespace string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(namespace))
	return h.Sum64()
}

// Contains reports whether the namespace belongs to r.
func (r Range) Contains(namespace string) bool {
	h := Hash(namespace)
	return h >= r.Start && (r.ToEnd || h < r.End)
}

// Selector is the ListOptions.ShardSelector that asks the API server for r's namespaces only;
// "" for the whole space.
func (r Range) Selector() string {
	if r.IsWhole() {
		return ""
	}
	return fmt.Sprintf("shardRange(object.metadata.namespace, '%s', '%s')", hex(r.Start, false), hex(r.End, r.ToEnd))
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
	bounds := fmt.Sprintf("[%s, %s)", hex(r.Start, false), hex(r.End, r.ToEnd))
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
	if r.IsWhole() {
		return base
	}
	return fmt.Sprintf("%s-shard-%016x-%s", base, r.Start, strings.TrimPrefix(hex(r.End, r.ToEnd), "0x"))
}
