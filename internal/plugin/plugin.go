// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package plugin is the kubectl plugin `kubectl store`: the everyday operations on Stores,
// Members and Invitations, on kubectl's own flags (kubeconfig, context, namespace). Exit codes
// are for scripts: 0 done, 1 failed, 2 bad usage, 3 not found.
package plugin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/version"
)

// Exit codes.
const (
	ExitOK       = 0
	ExitFailed   = 1
	ExitUsage    = 2
	ExitNotFound = 3
)

// usageError is a mistake in the command line.
type usageError struct{ error }

// ExitCode maps the error Execute returned to the process's exit code.
func ExitCode(err error) int {
	var usage usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &usage), strings.HasPrefix(err.Error(), "unknown command"):
		return ExitUsage
	case apierrors.IsNotFound(err):
		return ExitNotFound
	}
	return ExitFailed
}

type options struct {
	flags   *genericclioptions.ConfigFlags
	streams genericiooptions.IOStreams
	// print is kubectl's -o (json, yaml, name, jsonpath, go-template, ...) for the listings; ""
	// and "wide" are the plugin's own tables.
	print  *genericclioptions.PrintFlags
	dryRun string
	now    func() time.Time
}

// NewCommand is `kubectl store` with its subcommands.
func NewCommand(streams genericiooptions.IOStreams) *cobra.Command {
	o := &options{flags: genericclioptions.NewConfigFlags(true), streams: streams, now: time.Now,
		print: genericclioptions.NewPrintFlags("")}
	root := &cobra.Command{
		Use:           "kubectl-store",
		Short:         "Manage the members of online stores (membership.storeops.io)",
		Version:       version.Get().String(),
		SilenceUsage:  true,
		SilenceErrors: true,
		// kubectl runs us as `kubectl store`: usage and completion say so.
		Annotations: map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl store"},
	}
	root.SetVersionTemplate("kubectl-store {{.Version}}\n")
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	o.flags.AddFlags(root.PersistentFlags())

	args := func(n int, names string) cobra.PositionalArgs {
		return func(_ *cobra.Command, a []string) error {
			if len(a) != n {
				return usageError{fmt.Errorf("expects %s", names)}
			}
			return nil
		}
	}
	listFlags := func(c *cobra.Command) *cobra.Command {
		o.print.AddFlags(c)
		c.Flag("output").Usage = "Output format: wide, json, yaml, name, jsonpath=..., go-template=... (default: a table)."
		return c
	}
	write := func(c *cobra.Command) *cobra.Command {
		c.Flags().StringVar(&o.dryRun, "dry-run", dryRunNone,
			`"client" prints what would change without sending it; "server" sends it for validation without storing it.`)
		c.Flags().Lookup("dry-run").NoOptDefVal = dryRunClient
		return c
	}
	var roles []string
	var message, name string
	var twoFactor bool
	invite := write(&cobra.Command{
		Use: "invite STORE EMAIL", Short: "Invite EMAIL to STORE", Args: args(2, "STORE EMAIL"),
		ValidArgsFunction: o.complete(completeStores),
		RunE: func(c *cobra.Command, a []string) error {
			return o.invite(c.Context(), a[0], a[1], roles, message, name, twoFactor)
		},
	})
	invite.Flags().StringSliceVar(&roles, "role", []string{"staff"}, "Roles: admin, operations, finance, staff (repeat or comma-separate).")
	invite.Flags().StringVar(&message, "message", "", "A note for the invitee.")
	invite.Flags().StringVar(&name, "name", "", "The Invitation's name (default: generated).")
	invite.Flags().BoolVar(&twoFactor, "two-factor", false, "Require two-factor authentication.")

	root.AddCommand(invite,
		write(&cobra.Command{Use: "resend INVITATION", Short: "Send an invitation again with a new link", Args: args(1, "INVITATION"),
			ValidArgsFunction: o.complete(completeInvitations),
			RunE: func(c *cobra.Command, a []string) error {
				return o.annotate(c.Context(), &membershipv1alpha1.Invitation{}, a[0], membershipv1alpha1.ResendAnnotation, "resent")
			}}),
		listFlags(&cobra.Command{Use: "members STORE", Short: "List a store's members", Args: args(1, "STORE"),
			ValidArgsFunction: o.complete(completeStores),
			RunE:              func(c *cobra.Command, a []string) error { return o.members(c.Context(), a[0]) }}),
		listFlags(&cobra.Command{Use: "invitations STORE", Short: "List a store's invitations", Args: args(1, "STORE"),
			ValidArgsFunction: o.complete(completeStores),
			RunE:              func(c *cobra.Command, a []string) error { return o.invitations(c.Context(), a[0]) }}),
		write(&cobra.Command{Use: "disable MEMBER", Short: "Revoke a member's access; the member stays listed", Args: args(1, "MEMBER"),
			ValidArgsFunction: o.complete(completeMembers),
			RunE:              func(c *cobra.Command, a []string) error { return o.setDisabled(c.Context(), a[0], true) }}),
		write(&cobra.Command{Use: "enable MEMBER", Short: "Give a disabled member their access back", Args: args(1, "MEMBER"),
			ValidArgsFunction: o.complete(completeMembers),
			RunE:              func(c *cobra.Command, a []string) error { return o.setDisabled(c.Context(), a[0], false) }}),
		write(&cobra.Command{Use: "remove MEMBER", Short: "Remove a member; they are emailed that their access was removed", Args: args(1, "MEMBER"),
			ValidArgsFunction: o.complete(completeMembers),
			RunE:              func(c *cobra.Command, a []string) error { return o.remove(c.Context(), a[0]) }}),
		write(&cobra.Command{Use: "reset-password MEMBER", Short: "Email a member a password reset link", Args: args(1, "MEMBER"),
			ValidArgsFunction: o.complete(completeMembers),
			RunE: func(c *cobra.Command, a []string) error {
				return o.annotate(c.Context(), &membershipv1alpha1.Member{}, a[0], membershipv1alpha1.ResetPasswordAnnotation, "asked for a password reset")
			}}),
		write(&cobra.Command{Use: "reset-2fa MEMBER", Short: "Give a member a new 2FA key and email them an enrolment link", Args: args(1, "MEMBER"),
			ValidArgsFunction: o.complete(completeMembers),
			RunE: func(c *cobra.Command, a []string) error {
				return o.annotate(c.Context(), &membershipv1alpha1.Member{}, a[0], membershipv1alpha1.ResetTwoFactorAnnotation, "asked for a 2FA reset")
			}}),
		write(&cobra.Command{Use: "transfer-owner STORE EMAIL", Short: "Hand a store over to EMAIL (two-phase: they must accept)", Args: args(2, "STORE EMAIL"),
			ValidArgsFunction: o.complete(completeStores),
			RunE:              func(c *cobra.Command, a []string) error { return o.transferOwner(c.Context(), a[0], a[1]) }}),
		listFlags(&cobra.Command{Use: "status STORE", Short: "Show a store's owner, readiness and counts", Args: args(1, "STORE"),
			ValidArgsFunction: o.complete(completeStores),
			RunE:              func(c *cobra.Command, a []string) error { return o.status(c.Context(), a[0]) }}),
		&cobra.Command{Use: "version", Short: "Print the plugin's version", Args: args(0, "no arguments"),
			RunE: func(c *cobra.Command, _ []string) error {
				_, err := fmt.Fprintln(o.streams.Out, "kubectl-store", version.Get())
				return err
			}},
	)
	return root
}

func (o *options) client() (client.Client, string, error) {
	cfg, err := o.flags.ToRESTConfig()
	if err != nil {
		return nil, "", err
	}
	namespace, _, err := o.flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, "", err
	}
	scheme := runtime.NewScheme()
	utilruntime.Must(membershipv1alpha1.AddToScheme(scheme))
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	return c, namespace, err
}

// store reads a Store; a missing one is a not-found error that names it.
func (o *options) store(ctx context.Context, c client.Client, namespace, name string) (*membershipv1alpha1.Store, error) {
	store := &membershipv1alpha1.Store{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, store); err != nil {
		return nil, err
	}
	return store, nil
}
