// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package web

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"

	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/metrics"
)

// ErrBusy is returned when every bcrypt slot stayed taken for PasswordWork.Wait.
var ErrBusy = errors.New("every bcrypt slot is in use")

// DefaultBcryptWait is how long a request waits for a bcrypt slot before it is answered 503: a
// burst of honest requests queues briefly, a flood is turned away instead of piling up.
const DefaultBcryptWait = 2 * time.Second

// PasswordWork bounds the bcrypt comparisons and hashes the server runs at once, so that
// unauthenticated requests cannot take every CPU from the controllers and webhooks in the same
// process: by default the CPUs the process may use (GOMAXPROCS follows the container's CPU
// limit), at least 1. A request waits at most Wait (DefaultBcryptWait when zero) for a slot.
type PasswordWork struct {
	// Cost is the bcrypt cost of new hashes.
	Cost        int
	Concurrency int
	Wait        time.Duration

	once  sync.Once
	slots chan struct{}
}

// Acquire takes a bcrypt slot, waiting at most Wait; ErrBusy when none freed.
func (p *PasswordWork) Acquire(ctx context.Context) (release func(), err error) {
	p.once.Do(func() {
		n := p.Concurrency
		if n <= 0 {
			n = runtime.GOMAXPROCS(0)
		}
		p.slots = make(chan struct{}, max(n, 1))
	})
	slots := p.slots
	release = func() { <-slots }
	select {
	case slots <- struct{}{}:
		return release, nil
	default:
	}
	wait := p.Wait
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
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Hash is credentials.HashPassword in a bcrypt slot.
func (p *PasswordWork) Hash(ctx context.Context, password string) ([]byte, error) {
	release, err := p.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return credentials.HashPassword(password, p.Cost)
}
