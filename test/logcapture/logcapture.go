// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package logcapture gives envtest suites the manager's logger at every verbosity, filtered as the
// operator filters it (no client-go body dumps), writing both to the spec output and to a buffer
// that leak checks search for secrets.
package logcapture

import (
	"bytes"
	"io"
	"sync"

	"github.com/go-logr/logr"
	uberzap "go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/storeops/member-operator/internal/logging"
)

// Buffer collects log lines; safe for concurrent writers.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Logger logs at every verbosity to out (e.g. GinkgoWriter) and buf, through the same filter as
// the manager binary.
func Logger(out io.Writer, buf *Buffer) logr.Logger {
	return zap.New(zap.WriteTo(io.MultiWriter(out, buf)), zap.UseDevMode(true),
		zap.Level(zapcore.Level(-10)), zap.RawZapOpts(uberzap.WrapCore(logging.WithoutBodies)))
}
