// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package v1alpha1

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// EmailPattern is the one rule for email addresses everywhere in this API: a bare local@domain,
// ASCII only, with no display name, whitespace or control characters. The same expression is
// compiled into the CRDs (see the EmailAddress markers) and used by the controllers and webhooks;
// a unit test keeps the two in step. Addresses compare case-insensitively; plus-aliases
// (name+store2@example.com) are distinct addresses.
const EmailPattern = `^[A-Za-z0-9!#$%&'*+/=?^_{|}~-]+([.][A-Za-z0-9!#$%&'*+/=?^_{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?([.][A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$`

// EmailAddress is a bare email address such as name@example.com.
// +kubebuilder:validation:MinLength=3
// +kubebuilder:validation:MaxLength=254
// +kubebuilder:validation:XValidation:rule="self.matches('^[A-Za-z0-9!#$%&\\'*+/=?^_{|}~-]+([.][A-Za-z0-9!#$%&\\'*+/=?^_{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?([.][A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$')",message="must be a bare email address such as name@example.com: no display name, spaces, control or non-ASCII characters, and a domain with a dot"
type EmailAddress string

// DisplayName is a human-readable name shown in emails and pages: 1 to 100 characters, no control
// characters (a newline in a name would otherwise reach email headers).
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=100
// +kubebuilder:validation:XValidation:rule="!self.matches('[[:cntrl:]]')",message="must not contain control characters such as newlines or tabs"
type DisplayName string

// Role is a named set of permissions in a store. The permissions of each role are listed in the
// role matrix (RolePermissions) and in docs/using.md.
// +kubebuilder:validation:Enum=owner;admin;operations;finance;staff
type Role string

const (
	// RoleOwner is held only by the Store's owner Member, which the operator manages itself.
	RoleOwner Role = "owner"
	// RoleAdmin can do everything except subscription billing and ownership.
	RoleAdmin Role = "admin"
	// RoleOperations manages orders and products and can read KYC.
	RoleOperations Role = "operations"
	// RoleFinance manages invoices and reads everything else.
	RoleFinance Role = "finance"
	// RoleStaff manages the store (products, stock, orders, shipping, settings) but not billing,
	// members or API tokens.
	RoleStaff Role = "staff"
)

// StoreReference names a Store in the same namespace as the referring object.
type StoreReference struct {
	// name of the Store, in the same namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`
}

// EmailPreferences maps a preference name (for example "order-notifications") to whether the
// person receives that kind of email.
// +kubebuilder:validation:MaxProperties=64
// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$'))",message="preference names must be lower-case letters, digits, '.' and '-', at most 63 characters"
type EmailPreferences map[string]bool

// LoginName is a person's login name: 3 to 63 characters of lower-case letters, digits, '.', '_'
// and '-', starting and ending with a letter or digit. It holds no '@', so it never reads as an email; it is
// compared case-insensitively (the operator stores it lower-cased).
// +kubebuilder:validation:MinLength=3
// +kubebuilder:validation:MaxLength=63
// +kubebuilder:validation:Pattern=`^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$`
type LoginName string

// LoginNamePattern is LoginName's rule, for writers outside the API server's validation; a unit
// test keeps it and the CRD's marker in step.
const LoginNamePattern = `^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$`

var loginNamePattern = regexp.MustCompile(LoginNamePattern)

// ValidLoginName reports whether name, lower-cased, is a LoginName the API server accepts (empty
// is not one: callers decide whether "none" is allowed).
func ValidLoginName(name string) bool { return loginNamePattern.MatchString(strings.ToLower(name)) }

// LoginNameClaimName is the name of the Secret that claims a login name (LoginNameClaimLabel):
// derived from the lower-cased name, so every claim of one name is one object.
func LoginNameClaimName(name string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(name)))
	return "login-name-" + hex.EncodeToString(sum[:16])
}

// phonePattern is spec.phone's rule (E.164) on Members and Accounts.
var phonePattern = regexp.MustCompile(`^[+][1-9][0-9]{6,14}$`)

// ValidPhone reports whether phone is empty or in the E.164 form spec.phone requires: the rule
// for writers outside the API server's validation (the account page, the Account controller).
func ValidPhone(phone string) bool {
	return phone == "" || phonePattern.MatchString(phone)
}

// ValidDisplayName reports whether name is empty or a DisplayName the API server accepts.
func ValidDisplayName(name string) bool {
	if utf8.RuneCountInString(name) > 100 {
		return false
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
