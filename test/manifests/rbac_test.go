// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package manifests_test checks the RBAC in config/rbac: the manager's ClusterRole (generated
// from the +kubebuilder:rbac markers) is least privilege, and the per-kind roles for platform
// teams aggregate into Kubernetes' built-in view, edit and admin roles with the verbs their
// names promise.
package manifests_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

func readRole(t *testing.T, name string) rbacv1.ClusterRole {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "config", "rbac", name)) //nolint:gosec // a fixed repository path
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.Unmarshal(raw, &role); err != nil {
		t.Fatal(err)
	}
	return role
}

// verbsOn returns the verbs role grants on resource of the operator's API group (or core "").
func verbsOn(role rbacv1.ClusterRole, group, resource string) []string {
	var verbs []string
	for _, rule := range role.Rules {
		if slices.Contains(rule.APIGroups, group) && slices.Contains(rule.Resources, resource) {
			verbs = append(verbs, rule.Verbs...)
		}
	}
	slices.Sort(verbs)
	return slices.Compact(verbs)
}

const group = "membership.storeops.io"

func TestManagerRoleIsLeastPrivilege(t *testing.T) {
	g := NewWithT(t)
	role := readRole(t, "role.yaml")
	for _, rule := range role.Rules {
		g.Expect(rule.Verbs).NotTo(ContainElement("*"), "no wildcard verbs")
		g.Expect(rule.Resources).NotTo(ContainElement("*"), "no wildcard resources")
		g.Expect(rule.APIGroups).NotTo(ContainElement("*"), "no wildcard groups")
		g.Expect(rule.Verbs).NotTo(ContainElement(BeElementOf("escalate", "bind", "impersonate")))
	}
	g.Expect(verbsOn(role, group, "stores")).NotTo(ContainElements("create", "delete"), "the operator never creates or deletes Stores")
	g.Expect(verbsOn(role, "", "secrets")).To(Equal([]string{"create", "delete", "get", "list", "patch", "update", "watch"}))
	g.Expect(verbsOn(role, "", "namespaces")).To(BeEmpty())
	g.Expect(verbsOn(role, "rbac.authorization.k8s.io", "clusterroles")).To(BeEmpty())
}

func TestPlatformTeamRolesAggregate(t *testing.T) {
	for _, kind := range []string{"store", "member", "invitation"} {
		resource := kind + "s"
		t.Run(kind, func(t *testing.T) {
			g := NewWithT(t)
			viewer := readRole(t, kind+"_viewer_role.yaml")
			g.Expect(viewer.Labels).To(HaveKeyWithValue("rbac.authorization.k8s.io/aggregate-to-view", "true"))
			g.Expect(viewer.Labels).NotTo(HaveKey("rbac.authorization.k8s.io/aggregate-to-edit"))
			g.Expect(verbsOn(viewer, group, resource)).To(Equal([]string{"get", "list", "watch"}))
			g.Expect(verbsOn(viewer, group, resource+"/status")).To(Equal([]string{"get"}))

			editor := readRole(t, kind+"_editor_role.yaml")
			g.Expect(editor.Labels).To(HaveKeyWithValue("rbac.authorization.k8s.io/aggregate-to-admin", "true"))
			if kind == "store" {
				// Editing a Store can hand it over (spec.owner.email): a namespace admin's call.
				g.Expect(editor.Labels).NotTo(HaveKey("rbac.authorization.k8s.io/aggregate-to-edit"))
			} else {
				g.Expect(editor.Labels).To(HaveKeyWithValue("rbac.authorization.k8s.io/aggregate-to-edit", "true"))
			}
			g.Expect(verbsOn(editor, group, resource)).To(Equal([]string{"create", "delete", "get", "list", "patch", "update", "watch"}))
			g.Expect(verbsOn(editor, group, resource+"/status")).To(Equal([]string{"get"}), "status is the operator's to write")

			for _, rule := range append(viewer.Rules, editor.Rules...) {
				for _, r := range rule.Resources {
					g.Expect(strings.HasPrefix(r, resource)).To(BeTrue(), "a %s role grants only %s, not %s", kind, resource, r)
				}
			}
		})
	}
}

// The public server's own role holds only what the acceptance server needs: test/e2e runs the
// acceptance-only process with it and nothing more.
func TestAcceptRoleIsNarrowerThanTheManagers(t *testing.T) {
	g := NewWithT(t)
	accept, manager := readRole(t, "accept_role.yaml"), readRole(t, "role.yaml")
	for _, rule := range accept.Rules {
		g.Expect(rule.Verbs).NotTo(ContainElement("*"))
		g.Expect(rule.Resources).NotTo(ContainElement("*"))
		for _, resource := range rule.Resources {
			for _, group := range rule.APIGroups {
				g.Expect(verbsOn(manager, group, resource)).To(ContainElements(rule.Verbs),
					"the public server needs nothing the manager does not have: %s %s", group, resource)
			}
		}
	}
	g.Expect(verbsOn(accept, "coordination.k8s.io", "leases")).To(BeEmpty(), "it never leads")
	g.Expect(verbsOn(accept, group, "stores")).To(Equal([]string{"get", "list", "watch"}))
	g.Expect(verbsOn(accept, group, "stores/status")).To(BeEmpty())
	g.Expect(verbsOn(accept, group, "members/status")).To(BeEmpty())
	g.Expect(verbsOn(accept, group, "invitations")).To(Equal([]string{"get", "list", "patch", "watch"}),
		"patch: the owner's link that stops a transfer marks its Invitation")
}
