// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package plugin

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

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

// table says whether -o asks for the plugin's own table, and whether the wide one.
func (o *options) table() (table, wide bool) {
	format := ""
	if o.print.OutputFormat != nil {
		format = *o.print.OutputFormat
	}
	return format == "" || format == "wide", format == "wide"
}

// printObject writes obj (an object or a list of them) with kubectl's printer for -o. Every
// object gets its apiVersion and kind, as the API server's answers have them.
func (o *options) printObject(obj runtime.Object, kind string) error {
	printer, err := o.print.ToPrinter()
	if err != nil {
		return usageError{err}
	}
	gv := membershipv1alpha1.GroupVersion
	if meta.IsListType(obj) {
		obj.GetObjectKind().SetGroupVersionKind(gv.WithKind(kind + "List"))
		if err := meta.EachListItem(obj, func(item runtime.Object) error {
			item.GetObjectKind().SetGroupVersionKind(gv.WithKind(kind))
			return nil
		}); err != nil {
			return err
		}
		if *o.print.OutputFormat == "name" {
			// kubectl's name printer takes objects one at a time (or an unstructured list).
			return meta.EachListItem(obj, func(item runtime.Object) error { return printer.PrintObj(item, o.streams.Out) })
		}
	} else {
		obj.GetObjectKind().SetGroupVersionKind(gv.WithKind(kind))
	}
	return printer.PrintObj(obj, o.streams.Out)
}

func (o *options) members(ctx context.Context, storeName string) error {
	var list membershipv1alpha1.MemberList
	if err := o.listOf(ctx, storeName, &list); err != nil {
		return err
	}
	list.Items = slices.DeleteFunc(list.Items, func(m membershipv1alpha1.Member) bool { return m.Spec.StoreRef.Name != storeName })
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	return o.listing(&list, "Member", "NAME\tEMAIL\tROLES\tPHASE\t2FA\tJOINED", "\tDISABLED\tCREDENTIALS\tINVITATION\tAGE",
		len(list.Items), func(i int, wide bool) string {
			m := list.Items[i]
			twoFactor := "off"
			if m.Spec.TwoFactor.Required || membershipv1alpha1.HasOwnerRole(m.Spec.Roles) {
				twoFactor = "on"
			}
			row := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s", m.Name, m.Spec.Email, roleNames(m.Spec.Roles),
				orDash(string(m.Status.Phase)), twoFactor, timeOrDash(m.Status.JoinedAt))
			if wide {
				row += fmt.Sprintf("\t%t\t%s\t%s\t%s", m.Spec.Disabled, orDash(m.Status.CredentialsSecret),
					orDash(m.Status.Invitation), o.age(m.CreationTimestamp))
			}
			return row
		})
}

func (o *options) invitations(ctx context.Context, storeName string) error {
	var list membershipv1alpha1.InvitationList
	if err := o.listOf(ctx, storeName, &list); err != nil {
		return err
	}
	list.Items = slices.DeleteFunc(list.Items, func(inv membershipv1alpha1.Invitation) bool { return inv.Spec.StoreRef.Name != storeName })
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	return o.listing(&list, "Invitation", "NAME\tEMAIL\tROLES\tPHASE\tEXPIRES", "\tSENT\tATTEMPTS\tRESENDS\tMEMBER\tAGE",
		len(list.Items), func(i int, wide bool) string {
			inv := list.Items[i]
			row := fmt.Sprintf("%s\t%s\t%s\t%s\t%s", inv.Name, inv.Spec.Email, roleNames(inv.Spec.Roles),
				orDash(string(inv.Status.Phase)), timeOrDash(inv.Status.ExpiresAt))
			if wide {
				row += fmt.Sprintf("\t%s\t%d\t%d\t%s\t%s", timeOrDash(inv.Status.SentAt), inv.Status.DeliveryAttempts,
					inv.Status.Resends, orDash(inv.Status.Member), o.age(inv.CreationTimestamp))
			}
			return row
		})
}

// listing writes list with kubectl's printer for -o, or as the plugin's table: header (plus
// wideHeader with -o wide) and row(i, wide) for each of the n items.
func (o *options) listing(list runtime.Object, kind, header, wideHeader string, n int, row func(i int, wide bool) string) error {
	table, wide := o.table()
	if !table {
		return o.printObject(list, kind)
	}
	if wide {
		header += wideHeader
	}
	w := tabwriter.NewWriter(o.streams.Out, 0, 4, 3, ' ', 0)
	_, _ = fmt.Fprintln(w, header)
	for i := range n {
		_, _ = fmt.Fprintln(w, row(i, wide))
	}
	return w.Flush()
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
	if table, _ := o.table(); !table {
		return o.printObject(store, "Store")
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

// age is kubectl's AGE column.
func (o *options) age(created metav1.Time) string {
	if created.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(o.now().Sub(created.Time))
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

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
