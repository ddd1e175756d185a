// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package accept

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/web"
)

// FuzzRenderPages renders the acceptance form, its field errors and the success page with
// hostile values in everything a person or a link supplies (store name, inviter, address, the
// token from the URL, the display name typed into the form) in every locale: rendering never
// fails, and no value reaches the HTML unescaped. It also derives the Member's name from the
// address, which must always be a valid object name and label value.
func FuzzRenderPages(f *testing.F) {
	f.Add("Acme Shop", "Alice", "dave@example.com", "0123456789abcdef01234567.secret", "Dave")
	f.Add("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "a@b.c", "\"><svg onload=x>", "</textarea>")
	f.Add("Shop\r\nSet-Cookie: x=1", "{{.Token}}", "x\u202e@example.com", "javascript:alert(1)", "%s%v%n")
	f.Add("\x00\x1b[31m", strings.Repeat("A", 5000), "---@example.com", "", "ü例え")
	f.Fuzz(func(t *testing.T, storeName, inviter, email, token, displayName string) {
		// Each value opens a tag of its own, <zq...>, which no template contains: finding "<zq" in
		// the page means a value went in unescaped.
		wrap := func(s string) string { return "<zq" + s + ">" }
		for locale := range web.Texts {
			store := &membershipv1alpha1.Store{}
			store.Name = "shop"
			store.Spec.DisplayName = membershipv1alpha1.DisplayName(wrap(storeName))
			store.Spec.Locale = membershipv1alpha1.Locale(locale)
			inv := &membershipv1alpha1.Invitation{}
			inv.Spec.InvitedBy = membershipv1alpha1.DisplayName(wrap(inviter))
			inv.Spec.Email = membershipv1alpha1.EmailAddress(wrap(email))
			inv.Spec.Roles = []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff}
			l := &link{invitation: inv, store: store}
			s := &Server{}
			pages := map[string]*web.PageData{
				"form":   s.formPage(t.Context(), l, wrap(token), wrap(displayName), map[string]string{"displayName": wrap(displayName)}),
				"errors": s.formPage(t.Context(), l, wrap(token), "", map[string]string{"password": wrap(token)}),
			}
			success, err := s.successPage(l, &accepted{Member: "m", Namespace: "ns"}, locale)
			if err != nil {
				t.Fatalf("%s: success page: %v", locale, err)
			}
			pages["success"] = success
			for name, page := range pages {
				rec := httptest.NewRecorder()
				web.Render(rec, http.StatusOK, page)
				if rec.Code != http.StatusOK {
					t.Fatalf("%s %s: rendering failed with %d", locale, name, rec.Code)
				}
				if strings.Contains(rec.Body.String(), "<zq") {
					t.Fatalf("%s %s: a value reached the page unescaped", locale, name)
				}
			}
		}
		name := memberName("shop", membershipv1alpha1.EmailAddress(email))
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			t.Fatalf("memberName(%q) = %q: %v", email, name, errs)
		}
		if errs := validation.IsValidLabelValue(name); len(errs) > 0 {
			t.Fatalf("memberName(%q) = %q is no label value: %v", email, name, errs)
		}
	})
}
