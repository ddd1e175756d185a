//go:build !linux

// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package main

// stopWithParent has no equivalent of Linux's PR_SET_PDEATHSIG on macOS: stop make dev with Ctrl-C.
func stopWithParent() error { return nil }
