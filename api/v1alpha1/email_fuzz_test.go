// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package v1alpha1_test

import (
	"net/mail"
	"regexp"
	"strings"
	"testing"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/index"
)

// FuzzEmailAddress feeds arbitrary strings to the address rule (the CRDs' and the acceptance
// server's) and to NormalizeEmail. Whatever the rule accepts must be one bare address that an
// RFC 5322 parser reads back unchanged (so it cannot smuggle a header, a second recipient or a
// display name into an email), with one "@", a dotted domain and no byte outside printable
// ASCII; normalizing it must keep it valid, be idempotent and change nothing but case.
func FuzzEmailAddress(f *testing.F) {
	for _, c := range emailCases {
		f.Add(c.address)
	}
	for _, seed := range []string{"a@b.c\r\nBcc: x@y.z", "a@b.c,d@e.f", "A@B.CO", "=?utf-8?q?x?=@b.co", "a@b.c>", "\x00@b.co",
		"a\u200b@b.co", "a@xn--bcher-kva.example", "a%b@c.de", "a@b.c;d@e.f", "ß@example.com", "K@example.com"} {
		f.Add(seed)
	}
	rule := regexp.MustCompile(membershipv1alpha1.EmailPattern)
	f.Fuzz(func(t *testing.T, address string) {
		if !rule.MatchString(address) {
			return
		}
		for i := range len(address) {
			if b := address[i]; b <= ' ' || b >= 0x7f {
				t.Fatalf("%q: byte %#x accepted", address, b)
			}
		}
		if strings.Count(address, "@") != 1 || strings.ContainsAny(address, "<>,;:\"\\()[] ") {
			t.Fatalf("%q: accepted with a character that separates or quotes addresses", address)
		}
		if _, domain, _ := strings.Cut(address, "@"); !strings.Contains(domain, ".") {
			t.Fatalf("%q: a domain without a dot", address)
		}
		parsed, err := mail.ParseAddress(address)
		if err != nil {
			t.Fatalf("%q: accepted by the rule but not by net/mail: %v", address, err)
		}
		if parsed.Address != address || parsed.Name != "" {
			t.Fatalf("%q: net/mail reads it as %q (name %q)", address, parsed.Address, parsed.Name)
		}
		normalized := index.NormalizeEmail(membershipv1alpha1.EmailAddress(address))
		if !rule.MatchString(normalized) {
			t.Fatalf("%q: normalized to %q, which the rule refuses", address, normalized)
		}
		if again := index.NormalizeEmail(membershipv1alpha1.EmailAddress(normalized)); again != normalized {
			t.Fatalf("%q: normalizing is not idempotent: %q then %q", address, normalized, again)
		}
		if !strings.EqualFold(normalized, address) || len(normalized) != len(address) {
			t.Fatalf("%q: normalizing changed more than case: %q", address, normalized)
		}
	})
}
