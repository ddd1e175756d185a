// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// stopWithParent asks the kernel for SIGTERM when whatever started us (make) is killed rather
// than interrupted, so the control plane and the manager are stopped instead of left running.
func stopWithParent() error {
	return unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0, 0, 0)
}
