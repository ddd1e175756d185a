// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package v1alpha1

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/validation"
)

func TestDerivedSecretNamesAreValidAndDistinctForEveryObjectName(t *testing.T) {
	long := strings.Repeat("a", 250)
	for _, tc := range []struct{ name, want string }{
		{"bob", "bob-credentials"},
		{long, ""},
		{long[:240] + ".b", ""},
	} {
		t.Run(tc.name[:min(len(tc.name), 12)], func(t *testing.T) {
			g := NewWithT(t)
			for _, derived := range []string{CredentialsSecretName(tc.name), RetainedSecretName(tc.name), InvitationTokenSecretName(tc.name)} {
				g.Expect(validation.IsDNS1123Subdomain(derived)).To(BeEmpty(), derived)
			}
			if tc.want != "" {
				g.Expect(CredentialsSecretName(tc.name)).To(Equal(tc.want))
			}
		})
	}
	g := NewWithT(t)
	g.Expect(InvitationTokenSecretName(long+"x")).NotTo(Equal(InvitationTokenSecretName(long+"y")), "cut names stay distinct")
	g.Expect(InvitationTokenSecretName("invite-dave")).To(Equal("invite-dave-token"))
}

func TestAccountNameIsOnePerNormalizedAddressAndAValidName(t *testing.T) {
	long := strings.Repeat("x", 64) + "@" + strings.Repeat("y", 63) + ".example.com"
	for _, tc := range []struct {
		email      EmailAddress
		sameAs     EmailAddress
		differsTo  EmailAddress
		wantPrefix string
	}{
		{"Ann@Example.com", "ann@example.com", "ann+shop@example.com", "ann-example-com-"},
		{"ann+shop@example.com", "ANN+SHOP@example.com", "ann.shop@example.com", "ann-shop-example-com-"},
		{"_@x.io", "_@X.IO", "-@x.io", "x-io-"},
		{EmailAddress(long), EmailAddress(strings.ToUpper(long)), EmailAddress(long[1:]), "xxxxxxxxxx"},
	} {
		t.Run(string(tc.email), func(t *testing.T) {
			g := NewWithT(t)
			name := AccountName(tc.email)
			g.Expect(validation.IsDNS1123Subdomain(name)).To(BeEmpty(), name)
			g.Expect(validation.IsDNS1123Subdomain(AccountSecretName(name))).To(BeEmpty())
			g.Expect(name).To(HavePrefix(tc.wantPrefix))
			g.Expect(AccountName(tc.sameAs)).To(Equal(name), "compared case-insensitively")
			g.Expect(AccountName(tc.differsTo)).NotTo(Equal(name), "plus-aliases and other addresses are distinct")
		})
	}
}
