// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package v1alpha1_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// emailCases is shared by the Go table below and the envtest spec that sends each address to the
// API server, so the CRD's rule and the Go rule are shown to agree on every one of them.
var emailCases = []struct {
	address string
	valid   bool
}{
	{"alice@example.com", true},
	{"Alice.Jansen@Example.COM", true},
	{"name+store2@example.com", true},
	{"o'brien@example.co.uk", true},
	{"first.last@sub.domain-with-dash.example", true},
	{"a@b.io", true},
	{"Bob <bob@example.com>", false},
	{"bob@example.com ", false},
	{" bob@example.com", false},
	{"bob @example.com", false},
	{"bob@example.com\nBcc: eve@example.com", false},
	{"bób@example.com", false},
	{"bob@exämple.com", false},
	{"bob@localhost", false},
	{"bob", false},
	{"@example.com", false},
	{"bob@", false},
	{"bob@@example.com", false},
	{".bob@example.com", false},
	{"bob.@example.com", false},
	{"bo..b@example.com", false},
	{"bob@-example.com", false},
	{"bob@example-.com", false},
	{"bob@example..com", false},
	{`"bob"@example.com`, false},
	{"bob@[127.0.0.1]", false},
}

func TestEmailPattern(t *testing.T) {
	re := regexp.MustCompile(membershipv1alpha1.EmailPattern)
	for _, tc := range emailCases {
		t.Run(tc.address, func(t *testing.T) {
			NewWithT(t).Expect(re.MatchString(tc.address)).To(Equal(tc.valid))
		})
	}
}

// TestCRDEmailRuleMatchesGo keeps the CEL rule (written in a marker, where Go constants cannot be
// used) textually identical to EmailPattern in every CRD that has an email field.
func TestCRDEmailRuleMatchesGo(t *testing.T) {
	g := NewWithT(t)
	for _, crd := range []string{"stores", "members", "invitations"} {
		data, err := os.ReadFile("../../config/crd/bases/membership.storeops.io_" + crd + ".yaml") //nolint:gosec // fixed names
		g.Expect(err).NotTo(HaveOccurred())
		rules := regexp.MustCompile(`rule: self\.matches\('(\^\[A-Za-z0-9!.*)'\)`).FindAllStringSubmatch(string(data), -1)
		g.Expect(rules).NotTo(BeEmpty(), crd)
		for _, r := range rules {
			g.Expect(strings.ReplaceAll(r[1], `\'`, `'`)).To(Equal(membershipv1alpha1.EmailPattern), crd)
		}
	}
}

func TestPhoneAndDisplayNameRulesOutsideTheAPIServer(t *testing.T) {
	g := NewWithT(t)
	for phone, valid := range map[string]bool{"": true, "+31201234567": true, "+1234567": true, "0201234567": false,
		"+0201234567": false, "+3120123456789012": false, "call me": false} {
		g.Expect(membershipv1alpha1.ValidPhone(phone)).To(Equal(valid), phone)
	}
	g.Expect(membershipv1alpha1.ValidDisplayName("")).To(BeTrue())
	g.Expect(membershipv1alpha1.ValidDisplayName("Ana Lima")).To(BeTrue())
	g.Expect(membershipv1alpha1.ValidDisplayName("Ana\nBcc: eve@example.com")).To(BeFalse())
	g.Expect(membershipv1alpha1.ValidDisplayName(strings.Repeat("é", 100))).To(BeTrue(), "characters, not bytes")
	g.Expect(membershipv1alpha1.ValidDisplayName(strings.Repeat("é", 101))).To(BeFalse())
}

func TestLoginNameRuleOutsideTheAPIServerIsTheCRDs(t *testing.T) {
	g := NewWithT(t)
	for name, valid := range map[string]bool{"ann": true, "Ann.Lima": true, "ann_lima-2": true, "an": false, "": false,
		"ann@example.com": false, ".ann": false, "ann-": false, "ann lima": false, "änn": false,
		strings.Repeat("a", 63): true, strings.Repeat("a", 64): false} {
		g.Expect(membershipv1alpha1.ValidLoginName(name)).To(Equal(valid), name)
	}
	g.Expect(membershipv1alpha1.LoginNameClaimName("Ann.Lima")).To(Equal(membershipv1alpha1.LoginNameClaimName("ann.lima")),
		"one claim per name, whatever its case")
	data, err := os.ReadFile("../../config/crd/bases/membership.storeops.io_accounts.yaml")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(data)).To(ContainSubstring("pattern: "+membershipv1alpha1.LoginNamePattern), "the CRD's loginName rule")
}
