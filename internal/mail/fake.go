// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package mail

import (
	"context"
	"sync"
)

// FakeSender records messages instead of sending them, for unit tests. Set Err to make every Send
// fail with it.
type FakeSender struct {
	mu   sync.Mutex
	sent []Message
	Err  error
}

// Send records msg, or returns Err.
func (f *FakeSender) Send(ctx context.Context, msg Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Err != nil {
		return f.Err
	}
	f.sent = append(f.sent, msg)
	return nil
}

// Sent returns a copy of the messages recorded so far.
func (f *FakeSender) Sent() []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Message(nil), f.sent...)
}

var _ Sender = &FakeSender{}
