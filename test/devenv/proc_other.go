//go:build !linux

// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package devenv

import "os/exec"

// stopWithParent is Linux's parent-death signal; elsewhere (macOS) a killed devenv may leave the
// manager running, and Ctrl-C, which devenv handles, is the way to stop it.
func stopWithParent(*exec.Cmd) {}
