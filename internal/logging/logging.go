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
