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

// Package plugin is the kubectl plugin `kubectl store`: the everyday operations on Stores,
// Members and Invitations, on kubectl's own flags (kubeconfig, context, namespace). Exit codes
// are for scripts: 0 done, 1 failed, 2 bad usage, 3 not found.
package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
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
	output  string
	now     func() time.Time
}

// NewCommand is `kubectl store` with its subcommands.
func NewCommand(streams genericiooptions.IOStreams) *cobra.Command {
	o := &options{flags: genericclioptions.NewConfigFlags(true), streams: streams, now: time.Now}
	root := &cobra.Command{
		Use:           "kubectl-store",
		Short:         "Manage the members of online stores (membership.storeops.io)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
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
		c.Flags().StringVarP(&o.output, "output", "o", "", "Output format: json or yaml (default: a table).")
		return c
	}
	var roles []string
	var message, name string
	var twoFactor bool
	invite := &cobra.Command{
		Use: "invite STORE EMAIL", Short: "Invite EMAIL to STORE", Args: args(2, "STORE EMAIL"),
		RunE: func(c *cobra.Command, a []string) error {
			return o.invite(c.Context(), a[0], a[1], roles, message, name, twoFactor)
		},
	}
	invite.Flags().StringSliceVar(&roles, "role", []string{"staff"}, "Roles: admin, operations, finance, staff (repeat or comma-separate).")
	invite.Flags().StringVar(&message, "message", "", "A note for the invitee.")
	invite.Flags().StringVar(&name, "name", "", "The Invitation's name (default: generated).")
	invite.Flags().BoolVar(&twoFactor, "two-factor", false, "Require two-factor authentication.")

	root.AddCommand(invite,
		&cobra.Command{Use: "resend INVITATION", Short: "Send an invitation again with a new link", Args: args(1, "INVITATION"),
			RunE: func(c *cobra.Command, a []string) error {
				return o.annotate(c.Context(), &membershipv1alpha1.Invitation{}, a[0], membershipv1alpha1.ResendAnnotation, "resent")
			}},
		listFlags(&cobra.Command{Use: "members STORE", Short: "List a store's members", Args: args(1, "STORE"),
			RunE: func(c *cobra.Command, a []string) error { return o.members(c.Context(), a[0]) }}),
		listFlags(&cobra.Command{Use: "invitations STORE", Short: "List a store's invitations", Args: args(1, "STORE"),
			RunE: func(c *cobra.Command, a []string) error { return o.invitations(c.Context(), a[0]) }}),
		&cobra.Command{Use: "disable MEMBER", Short: "Revoke a member's access; the member stays listed", Args: args(1, "MEMBER"),
			RunE: func(c *cobra.Command, a []string) error { return o.setDisabled(c.Context(), a[0], true) }},
		&cobra.Command{Use: "enable MEMBER", Short: "Give a disabled member their access back", Args: args(1, "MEMBER"),
			RunE: func(c *cobra.Command, a []string) error { return o.setDisabled(c.Context(), a[0], false) }},
		&cobra.Command{Use: "remove MEMBER", Short: "Remove a member; they are emailed that their access was removed", Args: args(1, "MEMBER"),
			RunE: func(c *cobra.Command, a []string) error { return o.remove(c.Context(), a[0]) }},
		&cobra.Command{Use: "reset-password MEMBER", Short: "Email a member a password reset link", Args: args(1, "MEMBER"),
			RunE: func(c *cobra.Command, a []string) error {
				return o.annotate(c.Context(), &membershipv1alpha1.Member{}, a[0], membershipv1alpha1.ResetPasswordAnnotation, "asked for a password reset")
			}},
		&cobra.Command{Use: "reset-2fa MEMBER", Short: "Give a member a new 2FA key and email them an enrolment link", Args: args(1, "MEMBER"),
			RunE: func(c *cobra.Command, a []string) error {
				return o.annotate(c.Context(), &membershipv1alpha1.Member{}, a[0], membershipv1alpha1.ResetTwoFactorAnnotation, "asked for a 2FA reset")
			}},
		&cobra.Command{Use: "transfer-owner STORE EMAIL", Short: "Hand a store over to EMAIL (two-phase: they must accept)", Args: args(2, "STORE EMAIL"),
			RunE: func(c *cobra.Command, a []string) error { return o.transferOwner(c.Context(), a[0], a[1]) }},
		&cobra.Command{Use: "status STORE", Short: "Show a store's owner, readiness and counts", Args: args(1, "STORE"),
			RunE: func(c *cobra.Command, a []string) error { return o.status(c.Context(), a[0]) }},
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

func (o *options) invite(ctx context.Context, storeName, email string, roles []string, message, name string, twoFactor bool) error {
	c, ns, err := o.client()
	if err != nil {
		return err
	}
	if _, err := o.store(ctx, c, ns, storeName); err != nil {
		return err
	}
	inv := &membershipv1alpha1.Invitation{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: membershipv1alpha1.InvitationSpec{
			StoreRef: membershipv1alpha1.StoreReference{Name: storeName}, Email: membershipv1alpha1.EmailAddress(email),
			Message: message, TwoFactor: membershipv1alpha1.TwoFactorSpec{Required: twoFactor},
		},
	}
	if name == "" {
		inv.GenerateName = "invite-"
	}
	for _, r := range roles {
		inv.Spec.Roles = append(inv.Spec.Roles, membershipv1alpha1.Role(strings.TrimSpace(r)))
	}
	if err := c.Create(ctx, inv); err != nil {
		return err
	}
	_, err = fmt.Fprintf(o.streams.Out, "invitation.membership.storeops.io/%s created: %s is invited to %s\n", inv.Name, email, storeName)
	return err
}

// annotate sets key to a new value (the time) on obj named name: the operator acts once per value.
func (o *options) annotate(ctx context.Context, obj client.Object, name, key, done string) error {
	c, ns, err := o.client()
	if err != nil {
		return err
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
		return err
	}
	base := obj.DeepCopyObject().(client.Object)
	annotations := obj.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[key] = strconv.FormatInt(o.now().UnixNano(), 10)
	obj.SetAnnotations(annotations)
	if err := c.Patch(ctx, obj, client.MergeFrom(base)); err != nil {
		return err
	}
	_, err = fmt.Fprintf(o.streams.Out, "%s %s\n", name, done)
	return err
}

// listOf lists the objects of list in the namespace after checking that the Store exists (an
// unknown store is exit 3, not an empty table).
func (o *options) listOf(ctx context.Context, storeName string, list client.ObjectList) error {
	c, ns, err := o.client()
	if err != nil {
		return err
	}
	if _, err := o.store(ctx, c, ns, storeName); err != nil {
		return err
	}
	return c.List(ctx, list, client.InNamespace(ns))
}

func (o *options) members(ctx context.Context, storeName string) error {
	var list membershipv1alpha1.MemberList
	if err := o.listOf(ctx, storeName, &list); err != nil {
		return err
	}
	list.Items = slices.DeleteFunc(list.Items, func(m membershipv1alpha1.Member) bool { return m.Spec.StoreRef.Name != storeName })
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	if o.output != "" {
		list.SetGroupVersionKind(membershipv1alpha1.GroupVersion.WithKind("MemberList"))
		return o.print(&list)
	}
	w := tabwriter.NewWriter(o.streams.Out, 0, 4, 3, ' ', 0)
	_, _ = fmt.Fprintln(w, "NAME\tEMAIL\tROLES\tPHASE\t2FA\tJOINED")
	for _, m := range list.Items {
		twoFactor := "off"
		if m.Spec.TwoFactor.Required || membershipv1alpha1.HasOwnerRole(m.Spec.Roles) {
			twoFactor = "on"
		}
		_, _ = fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Name, m.Spec.Email, roleNames(m.Spec.Roles),
			orDash(string(m.Status.Phase)), twoFactor, timeOrDash(m.Status.JoinedAt))
	}
	return w.Flush()
}

func (o *options) invitations(ctx context.Context, storeName string) error {
	var list membershipv1alpha1.InvitationList
	if err := o.listOf(ctx, storeName, &list); err != nil {
		return err
	}
	list.Items = slices.DeleteFunc(list.Items, func(inv membershipv1alpha1.Invitation) bool { return inv.Spec.StoreRef.Name != storeName })
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	if o.output != "" {
		list.SetGroupVersionKind(membershipv1alpha1.GroupVersion.WithKind("InvitationList"))
		return o.print(&list)
	}
	w := tabwriter.NewWriter(o.streams.Out, 0, 4, 3, ' ', 0)
	_, _ = fmt.Fprintln(w, "NAME\tEMAIL\tROLES\tPHASE\tEXPIRES")
	for _, inv := range list.Items {
		_, _ = fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", inv.Name, inv.Spec.Email, roleNames(inv.Spec.Roles),
			orDash(string(inv.Status.Phase)), timeOrDash(inv.Status.ExpiresAt))
	}
	return w.Flush()
}

func roleNames(roles []membershipv1alpha1.Role) string {
	names := make([]string, 0, len(roles))
	for _, r := range roles {
		names = append(names, string(r))
	}
	return strings.Join(names, ",")
}

func timeOrDash(t *metav1.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func (o *options) setDisabled(ctx context.Context, name string, disabled bool) error {
	c, ns, err := o.client()
	if err != nil {
		return err
	}
	m := &membershipv1alpha1.Member{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, m); err != nil {
		return err
	}
	base := m.DeepCopy()
	m.Spec.Disabled = disabled
	if err := c.Patch(ctx, m, client.MergeFrom(base)); err != nil {
		return err
	}
	state := "enabled"
	if disabled {
		state = "disabled: access revoked, the member stays listed"
	}
	_, err = fmt.Fprintf(o.streams.Out, "member %s %s\n", name, state)
	return err
}

func (o *options) remove(ctx context.Context, name string) error {
	c, ns, err := o.client()
	if err != nil {
		return err
	}
	m := &membershipv1alpha1.Member{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := c.Delete(ctx, m); err != nil {
		return err
	}
	_, err = fmt.Fprintf(o.streams.Out, "member %s removed: access revoked, they are emailed\n", name)
	return err
}

func (o *options) transferOwner(ctx context.Context, storeName, email string) error {
	c, ns, err := o.client()
	if err != nil {
		return err
	}
	store, err := o.store(ctx, c, ns, storeName)
	if err != nil {
		return err
	}
	base := store.DeepCopy()
	store.Spec.Owner.Email = membershipv1alpha1.EmailAddress(email)
	if err := c.Patch(ctx, store, client.MergeFrom(base)); err != nil {
		return err
	}
	_, err = fmt.Fprintf(o.streams.Out, "store %s: ownership transfer to %s started; the current owner keeps access until %s accepts\n",
		storeName, email, email)
	return err
}

func (o *options) status(ctx context.Context, storeName string) error {
	c, ns, err := o.client()
	if err != nil {
		return err
	}
	store, err := o.store(ctx, c, ns, storeName)
	if err != nil {
		return err
	}
	ready, reason := "Unknown", ""
	if cond := meta.FindStatusCondition(store.Status.Conditions, membershipv1alpha1.ConditionReady); cond != nil {
		ready, reason = string(cond.Status), cond.Reason+": "+cond.Message
	}
	w := tabwriter.NewWriter(o.streams.Out, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintf(w, "Store:\t%s (%s)\n", store.Name, store.Spec.DisplayName)
	_, _ = fmt.Fprintf(w, "Owner:\t%s (Member %s)\n", store.Spec.Owner.Email, orDash(store.Status.OwnerMember))
	_, _ = fmt.Fprintf(w, "Ready:\t%s\t%s\n", ready, reason)
	_, _ = fmt.Fprintf(w, "Members:\t%d\n", store.Status.Members)
	_, _ = fmt.Fprintf(w, "Pending invitations:\t%d\n", store.Status.PendingInvitations)
	limit := "unlimited"
	if store.Spec.MemberLimit > 0 {
		limit = strconv.Itoa(int(store.Spec.MemberLimit))
	}
	_, _ = fmt.Fprintf(w, "Member limit:\t%s\n", limit)
	_, _ = fmt.Fprintf(w, "Notifications to:\t%s\n", orDash(string(store.Status.NotificationEmail)))
	if t := store.Status.OwnerTransfer; t != nil {
		_, _ = fmt.Fprintf(w, "Ownership transfer:\tto %s since %s (Invitation %s)\n", t.Email, t.Since.UTC().Format(time.RFC3339), t.Invitation)
	}
	return w.Flush()
}

// print writes a list as JSON or YAML.
func (o *options) print(list runtime.Object) error {
	switch o.output {
	case "json":
		data, err := json.MarshalIndent(list, "", "    ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(o.streams.Out, string(data))
		return err
	case "yaml":
		data, err := yaml.Marshal(list)
		if err != nil {
			return err
		}
		_, err = o.streams.Out.Write(data)
		return err
	}
	return usageError{fmt.Errorf("--output %q: use json or yaml", o.output)}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
