// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package devenv

import (
	"os/exec"
	"syscall"
)

// stopWithParent makes the kernel send SIGTERM to cmd when this process dies without cleaning up.
func stopWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
