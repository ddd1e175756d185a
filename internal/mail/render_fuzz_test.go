// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package mail

import (
	"strings"
	"testing"
	"time"
)

// FuzzRenderInvitation renders the invitation email with hostile values in every field a person
// writes (store name, inviter, message, address) in every locale: rendering never panics, the
// HTML part never carries a tag from the input, the subject never a line break, and the link is in
// both parts unchanged.
func FuzzRenderInvitation(f *testing.F) {
	f.Add("Acme Shop", "Alice", "Welcome!", "dave@example.com")
	f.Add("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "</p><a href='javascript:x'>", "a@b.c")
	f.Add("Shop\r\nBcc: victim@example.com", "Eve\nX-Header: 1", "line\r\n.\r\nQUIT", "x\r\n@example.com")
	f.Add("{{.AcceptURL}}", "%s%v", "${jndi:ldap://x}", "\"quoted\"@example.com")
	f.Add("\u202eevil", "\x00\x1b[31m", strings.Repeat("A", 5000), "ü@例え.jp")
	const link = "https://members.example.com/invitations/accept?token=0123456789abcdef01234567.secret"
	f.Fuzz(func(t *testing.T, store, inviter, message, email string) {
		// Each value opens a tag of its own, <zq...>, which no template contains: finding "<zq" in
		// the HTML means a value went in unescaped.
		store, inviter, message, email = "<zq"+store+">", "<zq"+inviter+">", "<zq"+message+">", "<zq"+email+">"
		for _, locale := range Locales {
			content, err := Render(KindInvitation, locale, InvitationData{StoreName: store, InvitedBy: inviter, Email: email,
				Roles: []string{"staff"}, Message: message, AcceptURL: link, ExpiresAt: time.Unix(1_800_000_000, 0)})
			if err != nil {
				t.Fatalf("%s: %v", locale, err)
			}
			if strings.ContainsAny(content.Subject, "\r\n") {
				t.Fatalf("%s: the subject carries a line break (a header could follow)", locale)
			}
			if strings.Contains(content.HTML, "<zq") {
				t.Fatalf("%s: the HTML part carries a value unescaped", locale)
			}
			if !strings.Contains(content.Text, link) || !strings.Contains(content.HTML, strings.ReplaceAll(link, "&", "&amp;")) {
				t.Fatalf("%s: the link is missing or altered", locale)
			}
		}
	})
}
