// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package v1alpha1_test

import (
	"os"
	"sort"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	. "github.com/storeops/member-operator/api/v1alpha1"
)

func TestPermissionsFor(t *testing.T) {
	all := make([]string, 0, len(AllPermissions))
	for _, p := range AllPermissions {
		all = append(all, string(p))
	}
	cases := []struct {
		name    string
		roles   []Role
		want    []string
		without []string
	}{
		{name: "owner has everything", roles: []Role{RoleOwner}, want: all},
		{name: "operations and finance is exactly the union", roles: []Role{RoleOperations, RoleFinance}, want: []string{
			"invoices:manage", "invoices:read", "kyc:read", "orders:manage", "orders:read", "payments:read",
			"products:manage", "products:read", "store:read",
		}},
		{name: "order of roles does not matter", roles: []Role{RoleFinance, RoleOperations}, want: []string{
			"invoices:manage", "invoices:read", "kyc:read", "orders:manage", "orders:read", "payments:read",
			"products:manage", "products:read", "store:read",
		}},
		{name: "admin: no subscription billing, no ownership", roles: []Role{RoleAdmin},
			without: []string{"billing:read", "billing:manage", "ownership:manage"}},
		{name: "staff: no billing, members or API tokens", roles: []Role{RoleStaff},
			without: []string{"billing:read", "billing:manage", "members:read", "members:manage", "api-tokens:read",
				"api-tokens:manage", "ownership:manage"}},
		{name: "operations: KYC read-only, no invoices", roles: []Role{RoleOperations},
			without: []string{"kyc:manage", "invoices:read", "invoices:manage"}},
		{name: "finance: read-only outside invoices", roles: []Role{RoleFinance},
			without: []string{"store:manage", "products:manage", "orders:manage", "payments:manage", "kyc:manage"}},
		{name: "no roles, no permissions", roles: nil, want: []string{}},
		{name: "unknown roles grant nothing", roles: []Role{"superuser"}, want: []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got := PermissionsFor(tc.roles)
			g.Expect(sort.StringsAreSorted(got)).To(BeTrue(), "sorted: %v", got)
			if tc.want != nil {
				g.Expect(got).To(ConsistOf(tc.want))
			}
			for _, p := range tc.without {
				g.Expect(got).NotTo(ContainElement(p))
			}
		})
	}
}

func TestEveryRoleIsInTheMatrixAndUsesKnownPermissions(t *testing.T) {
	g := NewWithT(t)
	known := map[Permission]bool{}
	for _, p := range AllPermissions {
		g.Expect(known).NotTo(HaveKey(p), "listed once")
		known[p] = true
	}
	g.Expect(RolePermissions).To(HaveLen(len(AllRoles)))
	for _, r := range AllRoles {
		g.Expect(RolePermissions).To(HaveKey(r))
		for _, p := range RolePermissions[r] {
			g.Expect(known).To(HaveKey(p), "%s grants an unknown permission", r)
		}
	}
}

// TestDocsPrintTheMatrix keeps the table of docs/using.md in step with RolePermissions.
func TestDocsPrintTheMatrix(t *testing.T) {
	g := NewWithT(t)
	var b strings.Builder
	b.WriteString("| permission |")
	for _, r := range AllRoles {
		b.WriteString(" " + string(r) + " |")
	}
	b.WriteString("\n| --- |" + strings.Repeat(" :-: |", len(AllRoles)) + "\n")
	for _, p := range AllPermissions {
		b.WriteString("| `" + string(p) + "` |")
		for _, r := range AllRoles {
			mark := "   "
			for _, q := range RolePermissions[r] {
				if q == p {
					mark = " ✓ "
				}
			}
			b.WriteString(mark + "|")
		}
		b.WriteString("\n")
	}
	readme, err := os.ReadFile("../../docs/using.md")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(readme)).To(ContainSubstring(b.String()), "docs/using.md must contain this table:\n%s", b.String())
}
