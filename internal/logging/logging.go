// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package logging keeps secrets out of the operator's logs at every verbosity.
package logging

import (
	"go.uber.org/zap/zapcore"
)

// bodyMessages are the messages under which client-go dumps whole HTTP request and response
// bodies at high verbosity (-v=8 and up). Those bodies include Secret data (passwords, hashes,
// TOTP secrets), so they are dropped whatever level an operator turns logging up to at 3 a.m.
var bodyMessages = map[string]bool{"Request Body": true, "Response Body": true}

// WithoutBodies wraps a zap core so that client-go's body dumps never reach the output.
func WithoutBodies(core zapcore.Core) zapcore.Core { return &bodyFilter{Core: core} }

type bodyFilter struct{ zapcore.Core }

func (f *bodyFilter) With(fields []zapcore.Field) zapcore.Core {
	return &bodyFilter{Core: f.Core.With(fields)}
}

func (f *bodyFilter) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if bodyMessages[e.Message] {
		return ce
	}
	return f.Core.Check(e, ce)
}
