// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Command kubectl-store is the kubectl plugin (`kubectl store ...`) for Stores, Members and
// Invitations. Install it on the PATH as kubectl-store (make plugin builds bin/kubectl-store).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/storeops/member-operator/internal/plugin"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	cmd := plugin.NewCommand(genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	err := cmd.ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
	}
	os.Exit(plugin.ExitCode(err))
}
