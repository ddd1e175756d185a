// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package web

import (
	"container/list"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultLimiterSize bounds how many keys a limiter remembers (about 100 bytes each).
const DefaultLimiterSize = 100_000

// KeyedLimiter keeps one token bucket per key (a client's network, a link's ID, an account). It
// holds at most size keys: a new key beyond that evicts the least recently used one, so a flood
// of distinct keys costs bounded memory and never refuses a key because the table is full. An
// evicted key starts again with a full bucket, which an attacker can at most earn by sending
// size other keys in between: the per-client limit makes that slow.
type KeyedLimiter struct {
	limit rate.Limit
	burst int
	size  int

	mu      sync.Mutex
	buckets map[string]*list.Element // of *bucket
	lru     list.List                // front: most recently used
}

type bucket struct {
	key    string
	tokens float64
	last   time.Time
}

func NewKeyedLimiter(limit rate.Limit, burst, size int) *KeyedLimiter {
	if size <= 0 {
		size = DefaultLimiterSize
	}
	return &KeyedLimiter{limit: limit, burst: burst, size: size, buckets: map[string]*list.Element{}}
}

// bucketAt returns key's bucket refilled up to now, made full when new, and marks it the most
// recently used, evicting the least recently used key when the table is full. l.mu is held.
func (l *KeyedLimiter) bucketAt(key string, now time.Time) *bucket {
	if e, ok := l.buckets[key]; ok {
		l.lru.MoveToFront(e)
		b := e.Value.(*bucket)
		if elapsed := now.Sub(b.last); elapsed > 0 {
			b.tokens = min(float64(l.burst), b.tokens+elapsed.Seconds()*float64(l.limit))
			b.last = now
		}
		return b
	}
	if len(l.buckets) >= l.size {
		oldest := l.lru.Back()
		l.lru.Remove(oldest)
		delete(l.buckets, oldest.Value.(*bucket).key)
	}
	b := &bucket{key: key, tokens: float64(l.burst), last: now}
	l.buckets[key] = l.lru.PushFront(b)
	return b
}

// Allow takes one token from key's bucket at now.
func (l *KeyedLimiter) Allow(key string, now time.Time) bool {
	_, ok := l.Reserve(key, now)
	return ok
}

// Reserve takes one token from key's bucket at now, if it has one, and returns the function that
// gives it back. Limits that count failures reserve before the costly check (so concurrent
// attempts cannot all pass a check made before any of them failed) and refund on success.
func (l *KeyedLimiter) Reserve(key string, now time.Time) (refund func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucketAt(key, now)
	if b.tokens < 1 {
		return nil, false
	}
	b.tokens--
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if e, ok := l.buckets[key]; ok && e.Value.(*bucket) == b {
			b.tokens = min(float64(l.burst), b.tokens+1)
		}
	}, true
}

// Len is how many keys the limiter remembers.
func (l *KeyedLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// ClientKey is the rate-limit key of a client address: the address itself for IPv4, its /64 for
// IPv6, since one subscriber commonly holds a whole /64 and could otherwise take a new bucket
// for every request.
func ClientKey(addr netip.Addr) string {
	addr = addr.Unmap()
	if addr.Is6() {
		prefix, err := addr.Prefix(64)
		if err == nil {
			return prefix.String()
		}
	}
	return addr.String()
}
