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

package accept

import (
	"container/list"
	"context"
	"errors"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/metrics"
)

// defaultLimiterSize bounds how many keys a limiter remembers (about 100 bytes each).
const defaultLimiterSize = 100_000

// keyedLimiter keeps one token bucket per key (a client's network, a link's ID, an account). It
// holds at most size keys: a new key beyond that evicts the least recently used one, so a flood
// of distinct keys costs bounded memory and never refuses a key because the table is full. An
// evicted key starts again with a full bucket, which an attacker can at most earn by sending
// size other keys in between: the per-client limit makes that slow.
type keyedLimiter struct {
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

func newKeyedLimiter(limit rate.Limit, burst, size int) *keyedLimiter {
	if size <= 0 {
		size = defaultLimiterSize
	}
	return &keyedLimiter{limit: limit, burst: burst, size: size, buckets: map[string]*list.Element{}}
}

// bucketAt returns key's bucket refilled up to now, made full when new, and marks it the most
// recently used, evicting the least recently used key when the table is full. l.mu is held.
func (l *keyedLimiter) bucketAt(key string, now time.Time) *bucket {
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

// allow takes one token from key's bucket at now.
func (l *keyedLimiter) allow(key string, now time.Time) bool {
	_, ok := l.reserve(key, now)
	return ok
}

// reserve takes one token from key's bucket at now, if it has one, and returns the function that
// gives it back. Limits that count failures reserve before the costly check (so concurrent
// attempts cannot all pass a check made before any of them failed) and refund on success.
func (l *keyedLimiter) reserve(key string, now time.Time) (refund func(), ok bool) {
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

// len is how many keys the limiter remembers.
func (l *keyedLimiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// clientKey is the rate-limit key of a client address: the address itself for IPv4, its /64 for
// IPv6, since one subscriber commonly holds a whole /64 and could otherwise take a new bucket
// for every request.
func clientKey(addr netip.Addr) string {
	addr = addr.Unmap()
	if addr.Is6() {
		prefix, err := addr.Prefix(64)
		if err == nil {
			return prefix.String()
		}
	}
	return addr.String()
}

// errBcryptBusy is returned when every bcrypt slot stayed taken for BcryptWait.
var errBcryptBusy = errors.New("every bcrypt slot is in use")

// DefaultBcryptWait is how long a request waits for a bcrypt slot before it is answered 503: a
// burst of honest requests queues briefly, a flood is turned away instead of piling up.
const DefaultBcryptWait = 2 * time.Second

// bcryptSlots bounds the bcrypt comparisons and hashes the server runs at once, so that
// unauthenticated requests cannot take every CPU from the controllers and webhooks in the same
// process: by default the CPUs the process may use (GOMAXPROCS follows the container's CPU
// limit), at least 1.
func (s *Server) bcryptSlots() chan struct{} {
	s.bcryptOnce.Do(func() {
		n := s.BcryptConcurrency
		if n <= 0 {
			n = runtime.GOMAXPROCS(0)
		}
		s.bcrypt = make(chan struct{}, max(n, 1))
	})
	return s.bcrypt
}

// acquireBcrypt takes a bcrypt slot, waiting at most BcryptWait; errBcryptBusy when none freed.
func (s *Server) acquireBcrypt(ctx context.Context) (release func(), err error) {
	slots := s.bcryptSlots()
	release = func() { <-slots }
	select {
	case slots <- struct{}{}:
		return release, nil
	default:
	}
	wait := s.BcryptWait
	if wait <= 0 {
		wait = DefaultBcryptWait
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case slots <- struct{}{}:
		return release, nil
	case <-timer.C:
		metrics.AcceptanceBusy.Inc()
		return nil, errBcryptBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// hashPassword is credentials.HashPassword in a bcrypt slot.
func (s *Server) hashPassword(ctx context.Context, password string) ([]byte, error) {
	release, err := s.acquireBcrypt(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return credentials.HashPassword(password, s.BcryptCost)
}

// busy answers 503 with Retry-After: the server is saturated with password work, not broken.
func (s *Server) busy(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "5")
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: string(OutcomeBusy), Message: apiMessages[OutcomeBusy]})
		return
	}
	s.renderProblem(w, requestLocale(r), OutcomeBusy)
}
