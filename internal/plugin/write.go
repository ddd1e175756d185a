// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package plugin

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// The --dry-run values, as kubectl's.
const (
	dryRunNone   = "none"
	dryRunClient = "client"
	dryRunServer = "server"
)

// dryRunMode checks --dry-run and says how a write goes: sent (with the server's dry run or not) or
// only printed.
func (o *options) dryRunMode() (send, serverDryRun bool, suffix string, err error) {
	switch o.dryRun {
	case "", dryRunNone:
		return true, false, "", nil
	case dryRunServer:
		return true, true, " (server dry run)", nil
	case dryRunClient:
		return false, false, " (dry run)", nil
	}
	return false, false, "", usageError{fmt.Errorf("--dry-run %q: use none, client or server", o.dryRun)}
}

func (o *options) invite(ctx context.Context, storeName, email string, roles []string, message, name string, twoFactor bool) error {
	send, dryRun, suffix, err := o.dryRunMode()
	if err != nil {
		return err
	}
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
	if send {
		var createOpts []client.CreateOption
		if dryRun {
			createOpts = append(createOpts, client.DryRunAll)
		}
		if err := c.Create(ctx, inv, createOpts...); err != nil {
			return err
		}
	}
	shown := inv.Name
	if shown == "" {
		shown = inv.GenerateName + "<generated>"
	}
	_, err = fmt.Fprintf(o.streams.Out, "invitation.membership.storeops.io/%s created%s: %s is invited to %s\n", shown, suffix, email, storeName)
	return err
}

// patch reads obj named name, applies change and sends the difference as a merge patch (or, with
// --dry-run=client, only reads). The read makes an unknown name exit 3 in every mode.
func (o *options) patch(ctx context.Context, obj client.Object, name string, change func()) (suffix string, err error) {
	send, dryRun, suffix, err := o.dryRunMode()
	if err != nil {
		return "", err
	}
	c, ns, err := o.client()
	if err != nil {
		return "", err
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
		return "", err
	}
	base := obj.DeepCopyObject().(client.Object)
	change()
	if !send {
		return suffix, nil
	}
	var patchOpts []client.PatchOption
	if dryRun {
		patchOpts = append(patchOpts, client.DryRunAll)
	}
	return suffix, c.Patch(ctx, obj, client.MergeFrom(base), patchOpts...)
}

// annotate sets key to a new value (the time) on obj named name: the operator acts once per value.
func (o *options) annotate(ctx context.Context, obj client.Object, name, key, done string) error {
	suffix, err := o.patch(ctx, obj, name, func() {
		annotations := obj.GetAnnotations()
		if annotations == nil {
			annotations = map[string]string{}
		}
		annotations[key] = strconv.FormatInt(o.now().UnixNano(), 10)
		obj.SetAnnotations(annotations)
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(o.streams.Out, "%s %s%s\n", name, done, suffix)
	return err
}

func (o *options) setDisabled(ctx context.Context, name string, disabled bool) error {
	m := &membershipv1alpha1.Member{}
	suffix, err := o.patch(ctx, m, name, func() { m.Spec.Disabled = disabled })
	if err != nil {
		return err
	}
	state := "enabled"
	if disabled {
		state = "disabled: access revoked, the member stays listed"
	}
	_, err = fmt.Fprintf(o.streams.Out, "member %s %s%s\n", name, state, suffix)
	return err
}

func (o *options) remove(ctx context.Context, name string) error {
	send, dryRun, suffix, err := o.dryRunMode()
	if err != nil {
		return err
	}
	c, ns, err := o.client()
	if err != nil {
		return err
	}
	m := &membershipv1alpha1.Member{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if !send {
		err = c.Get(ctx, client.ObjectKeyFromObject(m), m)
	} else {
		var deleteOpts []client.DeleteOption
		if dryRun {
			deleteOpts = append(deleteOpts, client.DryRunAll)
		}
		err = c.Delete(ctx, m, deleteOpts...)
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(o.streams.Out, "member %s removed%s: access revoked, they are emailed\n", name, suffix)
	return err
}

func (o *options) transferOwner(ctx context.Context, storeName, email string) error {
	store := &membershipv1alpha1.Store{}
	suffix, err := o.patch(ctx, store, storeName, func() { store.Spec.Owner.Email = membershipv1alpha1.EmailAddress(email) })
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(o.streams.Out, "store %s: ownership transfer to %s started%s; the current owner keeps access until %s accepts\n",
		storeName, email, suffix, email)
	return err
}
