// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Command devenv is what `make dev` runs: a local control plane with the CRDs, an SMTP catcher and
// the manager, with the kubectl commands to try printed once everything is up. Ctrl-C stops it all.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/storeops/member-operator/test/devenv"
)

func main() {
	var (
		opts    devenv.Options
		kubectl string
	)
	flag.StringVar(&opts.Dir, "dir", "bin/dev", "Directory for the kubeconfigs, control-plane data and received mail.")
	flag.StringVar(&opts.ManagerBinary, "manager", "bin/manager", "The manager binary to run.")
	flag.StringVar(&opts.CRDDir, "crd-dir", "config/crd/bases", "The generated CRDs to install.")
	flag.StringVar(&opts.RBACRole, "rbac-role", "config/rbac/role.yaml", "The manager's generated ClusterRole.")
	flag.StringVar(&opts.WebhookConfig, "webhook-config", "config/webhook/manifests.yaml",
		"The generated validating webhooks to install (empty: run the manager without them).")
	flag.StringVar(&opts.AdmissionPolicy, "admission-policy", "config/policy/member_finalizer.yaml",
		"The admission policy that gives new Members their finalizer (empty: the manager adds it).")
	flag.StringVar(&opts.SMTPAddr, "smtp-address", "127.0.0.1:1025", "Where the mail catcher listens.")
	flag.StringVar(&opts.AcceptAddr, "accept-address", "127.0.0.1:8082", "The manager's acceptance server address.")
	flag.StringVar(&opts.ProbeAddr, "probe-address", "127.0.0.1:8081", "The manager's health probe address.")
	flag.StringVar(&kubectl, "kubectl", "kubectl", "The kubectl to suggest in the printed commands.")
	flag.Usage = func() {
		_, _ = fmt.Fprintf(flag.CommandLine.Output(), "Usage: %s [flags] [-- manager flags...]\n\n"+
			"Everything after -- is passed to the manager, e.g. -- --exclusive-membership (make dev DEV_ARGS=...).\n\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	opts.ManagerArgs = flag.Args()
	opts.Log = os.Stdout
	opts.ShowMailLinks = true

	if err := stopWithParent(); err != nil {
		fmt.Fprintln(os.Stderr, "devenv: cannot watch the parent process:", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, opts, kubectl); err != nil {
		fmt.Fprintln(os.Stderr, "devenv:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, opts devenv.Options, kubectl string) error {
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return err
	}
	fmt.Println("Starting kube-apiserver and etcd, installing the CRDs, starting the mail catcher and the manager...")
	env, err := devenv.Start(ctx, opts)
	if err != nil {
		return err
	}
	mailDir, _ := filepath.Abs(filepath.Join(opts.Dir, "mail"))
	fmt.Printf(`
Local environment ready.
  kubeconfig:  %[1]s
  API server:  %[2]s
  mail:        SMTP on %[3]s; each email prints a line (with its links) here and is saved under %[4]s/
  acceptance:  %[5]s (the links in invitation emails)
  manager log: below, interleaved

Try, in another terminal:
  export KUBECONFIG=%[1]s
  %[6]s apply -f config/samples/
  %[6]s get storeops
  %[6]s get invitations -w          (dave's invitation email prints here)
  %[6]s annotate invitation invite-dave membership.storeops.io/resend=$(date +%%s) --overwrite
  %[6]s explain store.spec

Press Ctrl-C to stop everything.
`, env.Kubeconfig, env.Config.Host, env.Mail.Addr(), mailDir, env.AcceptURL, kubectl)

	select {
	case <-ctx.Done():
		fmt.Println("\nStopping the manager, the mail catcher and the control plane...")
	case <-env.ManagerExited():
		_ = env.Stop()
		return fmt.Errorf("the manager exited (%v); everything else is stopped", env.ManagerErr())
	}
	if err := env.Stop(); err != nil {
		return err
	}
	fmt.Println("Stopped.")
	return nil
}
