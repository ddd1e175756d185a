// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package v1alpha1

import (
	"slices"
	"sort"
)

// Permission is one thing a person may do in a store's admin panel. The set is closed: the admin
// application checks these names, and docs/using.md lists them with the role matrix.
type Permission string

// The permissions, grouped by area. "read" sees, "manage" changes.
const (
	PermStoreRead       Permission = "store:read"        // store settings, shipping, company details
	PermStoreManage     Permission = "store:manage"      // change settings, shipping, company details
	PermProductsRead    Permission = "products:read"     // products and stock
	PermProductsManage  Permission = "products:manage"   // create and edit products, adjust stock
	PermOrdersRead      Permission = "orders:read"       // orders and shipments
	PermOrdersManage    Permission = "orders:manage"     // fulfil, refund and cancel orders
	PermInvoicesRead    Permission = "invoices:read"     // invoices and credit notes
	PermInvoicesManage  Permission = "invoices:manage"   // issue and correct invoices
	PermPaymentsRead    Permission = "payments:read"     // payouts and payment methods
	PermPaymentsManage  Permission = "payments:manage"   // payment provider settings
	PermKYCRead         Permission = "kyc:read"          // identity verification (KYC) status
	PermKYCManage       Permission = "kyc:manage"        // submit and update KYC documents
	PermMembersRead     Permission = "members:read"      // who has access, with which roles
	PermMembersManage   Permission = "members:manage"    // invite, disable and remove members
	PermAPITokensRead   Permission = "api-tokens:read"   // read API tokens
	PermAPITokensManage Permission = "api-tokens:manage" //nolint:gosec // a permission name, not a credential
	PermBillingRead     Permission = "billing:read"      // the store's subscription and its invoices
	PermBillingManage   Permission = "billing:manage"    // change plan and subscription payment
	PermOwnershipManage Permission = "ownership:manage"  // hand the store over to a new owner
)

// AllPermissions lists every permission in the order docs/using.md shows them.
var AllPermissions = []Permission{
	PermStoreRead, PermStoreManage, PermProductsRead, PermProductsManage, PermOrdersRead, PermOrdersManage,
	PermInvoicesRead, PermInvoicesManage, PermPaymentsRead, PermPaymentsManage, PermKYCRead, PermKYCManage,
	PermMembersRead, PermMembersManage, PermAPITokensRead, PermAPITokensManage, PermBillingRead,
	PermBillingManage, PermOwnershipManage,
}

// AllRoles lists every role, most powerful first.
var AllRoles = []Role{RoleOwner, RoleAdmin, RoleStaff, RoleOperations, RoleFinance}

// RolePermissions is the role matrix: the one place that says what each role may do.
//   - owner: everything.
//   - admin: everything except the store's subscription billing and ownership.
//   - staff: manage the store (products, stock, orders, shipping, settings); no billing, members,
//     API tokens, invoices, payments or KYC.
//   - operations: orders and products; KYC read-only; no invoices.
//   - finance: invoices; everything else that is not restricted read-only.
var RolePermissions = map[Role][]Permission{
	RoleOwner: AllPermissions,
	RoleAdmin: {
		PermStoreRead, PermStoreManage, PermProductsRead, PermProductsManage, PermOrdersRead, PermOrdersManage,
		PermInvoicesRead, PermInvoicesManage, PermPaymentsRead, PermPaymentsManage, PermKYCRead, PermKYCManage,
		PermMembersRead, PermMembersManage, PermAPITokensRead, PermAPITokensManage,
	},
	RoleStaff: {
		PermStoreRead, PermStoreManage, PermProductsRead, PermProductsManage, PermOrdersRead, PermOrdersManage,
	},
	RoleOperations: {
		PermStoreRead, PermProductsRead, PermProductsManage, PermOrdersRead, PermOrdersManage, PermKYCRead,
	},
	RoleFinance: {
		PermStoreRead, PermProductsRead, PermOrdersRead, PermInvoicesRead, PermInvoicesManage, PermPaymentsRead,
		PermKYCRead,
	},
}

// PermissionsFor is the sorted union of the permissions of roles. Unknown roles grant nothing.
func PermissionsFor(roles []Role) []string {
	seen := map[Permission]bool{}
	for _, r := range roles {
		for _, p := range RolePermissions[r] {
			seen[p] = true
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, string(p))
	}
	sort.Strings(out)
	return out
}

// HasOwnerRole reports whether roles include owner, the role only the operator gives.
func HasOwnerRole(roles []Role) bool { return slices.Contains(roles, RoleOwner) }
