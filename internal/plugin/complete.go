// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package plugin

import (
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// A completer lists the names of one kind in the namespace of kubectl's flags.
type completer func(o *options, cmd *cobra.Command) ([]string, error)

// complete completes a command's first argument with completeNames; later arguments (an email)
// are not completed. Shells reach it through cobra's __complete, which kubectl calls for
// "kubectl store <TAB>" through the kubectl_complete-store script.
func (o *options) complete(completeNames completer) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		names, err := completeNames(o, cmd)
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var out []cobra.Completion
		for _, n := range names {
			if strings.HasPrefix(n, toComplete) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func listNames(o *options, cmd *cobra.Command, list client.ObjectList) ([]string, error) {
	c, ns, err := o.client()
	if err != nil {
		return nil, err
	}
	if err := c.List(cmd.Context(), list, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	var names []string
	switch l := list.(type) {
	case *membershipv1alpha1.StoreList:
		for _, s := range l.Items {
			names = append(names, s.Name)
		}
	case *membershipv1alpha1.MemberList:
		for _, m := range l.Items {
			names = append(names, m.Name)
		}
	case *membershipv1alpha1.InvitationList:
		for _, i := range l.Items {
			names = append(names, i.Name)
		}
	}
	return names, nil
}

func completeStores(o *options, cmd *cobra.Command) ([]string, error) {
	return listNames(o, cmd, &membershipv1alpha1.StoreList{})
}

func completeMembers(o *options, cmd *cobra.Command) ([]string, error) {
	return listNames(o, cmd, &membershipv1alpha1.MemberList{})
}

func completeInvitations(o *options, cmd *cobra.Command) ([]string, error) {
	return listNames(o, cmd, &membershipv1alpha1.InvitationList{})
}
