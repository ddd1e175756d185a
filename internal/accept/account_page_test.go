// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package accept_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/pquerna/otp/totp"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/selfservice"
	"github.com/storeops/member-operator/test/testenv"
)

// preferencesOf is the email-preferences key of a Member's credential Secret.
func preferencesOf(ns, member string) func() string {
	return func() string {
		secret, err := credentialsOf(ns, member)()
		if err != nil {
			return ""
		}
		return string(secret.Data[membershipv1alpha1.CredentialEmailPreferences])
	}
}

// storeWithPreferences creates Store name, displayed as display, whose members get marketing and
// order emails by default.
func storeWithPreferences(ns, name, display string) {
	GinkgoHelper()
	Expect(k8sClient.Create(ctx, testenv.NewStore(ns, name, "owner-"+name+"-"+ns+"@example.com", func(s *membershipv1alpha1.Store) {
		s.Spec.DisplayName = membershipv1alpha1.DisplayName(display)
		s.Spec.EmailPreferences = membershipv1alpha1.EmailPreferences{"marketing": true, "orders": true}
	}))).To(Succeed())
}

// editMember applies mutate to the latest Member, retrying over the controllers' writes, and
// returns the version written.
func editMember(ns, name string, mutate func(*membershipv1alpha1.Member), opts ...client.UpdateOption) *membershipv1alpha1.Member {
	GinkgoHelper()
	var m *membershipv1alpha1.Member
	Eventually(func() error {
		m = observedMember(ns, name)
		mutate(m)
		return k8sClient.Update(ctx, m, opts...)
	}).Should(Succeed())
	return m
}

// signInForCookie signs in on the account page as an HTTP client and returns the session cookie.
func signInForCookie(email, password string) *http.Cookie {
	GinkgoHelper()
	c := httpClient(specClient)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.PostForm(baseURL+"/account", url.Values{"do": {"signin"}, "email": {email}, "password": {password}})
	Expect(err).NotTo(HaveOccurred())
	_ = resp.Body.Close()
	Expect(resp.StatusCode).To(Equal(http.StatusSeeOther))
	for _, cookie := range resp.Cookies() {
		if cookie.Name == selfservice.SessionCookie {
			seen = append(seen, cookie.Value)
			return cookie
		}
	}
	Fail("no session cookie")
	return nil
}

// withSession sends a request with the session cookie and returns the status and body.
func withSession(cookie *http.Cookie, method, path, body string, headers ...string) (int, string) {
	GinkgoHelper()
	req, err := http.NewRequest(method, baseURL+path, strings.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	req.AddCookie(cookie)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := httpClient(specClient).Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return resp.StatusCode, string(raw)
}

var _ = Describe("the account page", func() {
	It("in a real browser: signs in, changes the display name, turns 2FA on, overrides one store's email preference, signs out; a changed password ends the session", func() {
		browser := newBrowser()
		ns := newNamespace()
		storeWithPreferences(ns, "shop", "Acme Shop")
		storeWithPreferences(ns, "outlet", "Acme Outlet")
		storeWithPreferences(ns, "kiosk", "Secret Kiosk")
		email, password := "page.person@example.com", "page person's password"
		passwordSource(k8sClient, ns, "page-password", password)
		gitMember(k8sClient, ns, "page-a", "shop", email, "page-password")
		gitMember(k8sClient, ns, "page-b", "outlet", email, "page-password")
		Eventually(accountOf(email)).Should(HaveField("Status.Members", HaveLen(2)))
		expectMemberActive(ns, "page-a", email, password)
		expectMemberActive(ns, "page-b", email, password)
		Expect(preferencesOf(ns, "page-a")()).To(Equal(`{"marketing":true,"orders":true}`))

		// The browser's pages (and their stylesheet) all come from 127.0.0.1, whose per-client
		// budget refills only as the suite's fake clock moves: start with a full one.
		refillClients()

		By("signing in")
		do(browser, chromedp.Navigate(baseURL+"/account"), chromedp.WaitVisible(chromedp.ID("submit")), screenshot("account-1-signin"))
		Expect(text(browser, "h1")).To(Equal("Sign in to your account"))
		do(browser,
			chromedp.SendKeys(chromedp.ID("email"), email),
			chromedp.SendKeys(chromedp.ID("password"), password+" wrong"),
			chromedp.Click(chromedp.ID("submit")),
			chromedp.WaitVisible(chromedp.ID("error-summary")))
		Expect(text(browser, "#password-error")).To(Equal("The password or code is not right."))
		do(browser,
			chromedp.SetValue(chromedp.ID("password"), password),
			chromedp.Click(chromedp.ID("submit")),
			chromedp.WaitVisible(chromedp.ID("signout")),
			screenshot("account-2-page"))
		Expect(text(browser, "h1")).To(Equal("Your account"))
		Expect(text(browser, "#store-0-name")).To(Equal("Acme Shop"))
		Expect(text(browser, "#store-1-name")).To(Equal("Acme Outlet"))
		Expect(text(browser, "#store-0-roles")).To(Equal("staff"))
		Expect(evaluate[string](browser, `document.body.innerText`)).NotTo(ContainSubstring("Secret Kiosk"),
			"no store the person is not in")

		By("changing the display name, which is the account's")
		do(browser,
			chromedp.SetValue(chromedp.ID("displayName"), "Page Person"),
			chromedp.Click(chromedp.ID("save-profile")),
			chromedp.WaitVisible(chromedp.ID("notice")))
		Expect(text(browser, "#notice")).To(Equal("Your name and phone are saved."))
		Eventually(accountOf(email)).Should(HaveField("Spec.DisplayName", membershipv1alpha1.DisplayName("Page Person")))
		Expect(evaluate[string](browser, `document.getElementById('displayName').value`)).To(Equal("Page Person"))

		By("turning 2FA on by scanning the key: every store of the account takes it")
		do(browser, chromedp.Click(chromedp.ID("start-2fa")), chromedp.WaitVisible(chromedp.ID("enrol-key")), screenshot("account-2b-enrol"))
		Expect(evaluate[int](browser, `document.querySelectorAll('.qr svg').length`)).To(Equal(1), "the QR code is drawn inline")
		key := text(browser, "#enrol-key")
		seen = append(seen, key)
		code, err := totp.GenerateCode(key, fakeClock.Now())
		Expect(err).NotTo(HaveOccurred())
		do(browser,
			chromedp.SendKeys(chromedp.ID("totpCode"), code),
			chromedp.Click(chromedp.ID("confirm-2fa")),
			chromedp.WaitVisible(chromedp.ID("notice")))
		Expect(text(browser, "#notice")).To(Equal("Two-factor authentication is on."))
		for _, member := range []string{"page-a", "page-b"} {
			Eventually(func() string {
				secret, err := credentialsOf(ns, member)()
				if err != nil {
					return ""
				}
				return string(secret.Data[membershipv1alpha1.CredentialTOTPSecret])
			}).Should(Equal(key))
		}
		Expect(text(browser, "#two-factor-state")).To(Equal("Two-factor authentication is on for every store of your account."))

		By("turning marketing emails off in one store")
		do(browser, chromedp.Navigate(baseURL+"/account"), chromedp.WaitVisible(chromedp.ID("signout")))
		do(browser,
			chromedp.SetValue(chromedp.ID("pref-0-marketing"), "off"),
			chromedp.Click(chromedp.ID("save-0")),
			chromedp.WaitVisible(chromedp.ID("notice")),
			screenshot("account-3-saved"))
		Expect(text(browser, "#notice")).To(Equal("Your email preferences for Acme Shop are saved."))
		Eventually(preferencesOf(ns, "page-a")).Should(Equal(`{"marketing":false,"orders":true}`))
		Consistently(preferencesOf(ns, "page-b")).WithTimeout(2*time.Second).Should(Equal(`{"marketing":true,"orders":true}`),
			"the other store's Secret is untouched")
		Expect(observedMember(ns, "page-a").ManagedFields).To(ContainElement(And(
			HaveField("Manager", membershipv1alpha1.OperatorFieldManager), HaveField("Operation", BeEquivalentTo("Apply")))),
			"written by server-side apply as the operator's field manager")

		refillClients() // the rest of the spec's pages

		By("signing out")
		do(browser, chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("submit")))
		do(browser, chromedp.Navigate(baseURL+"/account"), chromedp.WaitVisible(chromedp.ID("submit")))
		Expect(text(browser, "h1")).To(Equal("Sign in to your account"))

		By("a changed password ends the session at its next request")
		code, err = totp.GenerateCode(key, fakeClock.Now())
		Expect(err).NotTo(HaveOccurred())
		do(browser,
			chromedp.SendKeys(chromedp.ID("email"), email),
			chromedp.SendKeys(chromedp.ID("password"), password),
			chromedp.SendKeys(chromedp.ID("totpCode"), code),
			chromedp.Click(chromedp.ID("submit")),
			chromedp.WaitVisible(chromedp.ID("signout")))
		rotated := "page person's rotated password"
		source := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "page-password"}, source)).To(Succeed())
		source.Data = map[string][]byte{"password": []byte(rotated)}
		seen = append(seen, rotated)
		Expect(k8sClient.Update(ctx, source)).To(Succeed())
		Eventually(func() bool { return passwordVerifies(ns, "page-a", rotated) }).WithTimeout(testenv.EventuallyTimeout * 2).Should(BeTrue())
		do(browser, chromedp.Navigate(baseURL+"/account"), chromedp.WaitVisible(chromedp.ID("submit")), screenshot("account-4-ended"))
		Expect(text(browser, "h1")).To(Equal("Sign in to your account"))
	})

	It("over HTTP: cookie flags and idle expiry, cross-origin refusal, only the person's own stores, and 409 for a preference Git declares", func() {
		ns := newNamespace()
		storeWithPreferences(ns, "shop", "Acme Shop")
		storeWithPreferences(ns, "outlet", "Other Tenant Outlet")
		email, password := "cookie.person@example.com", "cookie person's password"
		passwordSource(k8sClient, ns, "cookie-password", password)
		gitMember(k8sClient, ns, "cookie-a", "shop", email, "cookie-password")
		expectMemberActive(ns, "cookie-a", email, password)
		otherEmail, otherPassword := "someone.else@example.com", "someone else's password"
		passwordSource(k8sClient, ns, "else-password", otherPassword)
		gitMember(k8sClient, ns, "else-b", "outlet", otherEmail, "else-password")
		expectMemberActive(ns, "else-b", otherEmail, otherPassword)

		By("the session cookie")
		cookie := signInForCookie(email, password)
		Expect(cookie.HttpOnly).To(BeTrue())
		Expect(cookie.Secure).To(BeTrue())
		Expect(cookie.SameSite).To(Equal(http.SameSiteStrictMode))
		Expect(cookie.Path).To(Equal("/"))
		Expect(cookie.Domain).To(BeEmpty(), "host-only")
		Expect(cookie.MaxAge).To(Equal(int(selfservice.DefaultSessionIdle.Seconds())))
		status, body := withSession(cookie, http.MethodGet, "/api/v1/account", "")
		Expect(status).To(Equal(http.StatusOK), body)
		var answer map[string]any
		Expect(json.Unmarshal([]byte(body), &answer)).To(Succeed())
		Expect(answer).To(HaveKeyWithValue("email", email))
		Expect(body).NotTo(ContainSubstring("Other Tenant Outlet"))
		status, page := withSession(cookie, http.MethodGet, "/account", "")
		Expect(status).To(Equal(http.StatusOK))
		Expect(page).To(ContainSubstring("Acme Shop"))
		Expect(page).NotTo(ContainSubstring("Other Tenant Outlet"), "no other store's name")

		By("a forged or altered cookie is no session")
		forged := *cookie
		forged.Value = strings.Replace(cookie.Value, ".", "x.", 1)
		status, _ = withSession(&forged, http.MethodGet, "/api/v1/account", "")
		Expect(status).To(Equal(http.StatusUnauthorized))

		By("another person's membership cannot be changed with this session")
		status, body = withSession(cookie, http.MethodPost, "/api/v1/account/preferences",
			`{"member":"`+ns+`/else-b","preferences":{"marketing":false}}`, "Content-Type", "application/json")
		Expect(status).To(Equal(http.StatusNotFound), body)
		Expect(observedMember(ns, "else-b").Spec.EmailPreferences).To(BeEmpty())

		By("a cross-origin POST is refused")
		status, _ = withSession(cookie, http.MethodPost, "/account", url.Values{"do": {"preferences"}, "member": {ns + "/cookie-a"},
			"pref.marketing": {"off"}}.Encode(), "Content-Type", "application/x-www-form-urlencoded",
			"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
		Expect(status).To(Equal(http.StatusForbidden))
		Expect(observedMember(ns, "cookie-a").Spec.EmailPreferences).To(BeEmpty())

		By("a preference Git declares answers 409 and stays as declared")
		editMember(ns, "cookie-a", func(m *membershipv1alpha1.Member) {
			m.Spec.EmailPreferences = membershipv1alpha1.EmailPreferences{"orders": true}
		}, client.FieldOwner("flux"))
		status, body = withSession(cookie, http.MethodPost, "/api/v1/account/preferences",
			`{"member":"`+ns+`/cookie-a","preferences":{"orders":false}}`, "Content-Type", "application/json")
		Expect(status).To(Equal(http.StatusConflict), body)
		Expect(observedMember(ns, "cookie-a").Spec.EmailPreferences).To(Equal(membershipv1alpha1.EmailPreferences{"orders": true}))
		status, body = withSession(cookie, http.MethodPost, "/api/v1/account/preferences",
			`{"member":"`+ns+`/cookie-a","preferences":{"marketing":false}}`, "Content-Type", "application/json")
		Expect(status).To(Equal(http.StatusNoContent), body)
		Eventually(preferencesOf(ns, "cookie-a")).Should(Equal(`{"marketing":false,"orders":true}`))

		By("the person's name and phone, as JSON")
		status, body = withSession(cookie, http.MethodPost, "/api/v1/account/profile",
			`{"displayName":"Cookie Person","phone":"call me"}`, "Content-Type", "application/json")
		Expect(status).To(Equal(http.StatusBadRequest), body)
		Expect(body).To(ContainSubstring(`"field":"phone"`))
		status, body = withSession(cookie, http.MethodPost, "/api/v1/account/profile",
			`{"displayName":"Cookie Person","phone":"+31201234567"}`, "Content-Type", "application/json")
		Expect(status).To(Equal(http.StatusNoContent), body)
		Expect(accountOf(email)(Default)).To(And(HaveField("Spec.DisplayName", membershipv1alpha1.DisplayName("Cookie Person")),
			HaveField("Spec.Phone", "+31201234567")), "the server answers once the Account shows it")

		By("2FA stays on while a membership requires it, and turns off once none does")
		totpOf := func() string {
			secret, err := credentialsOf(ns, "cookie-a")()
			if err != nil {
				return ""
			}
			return string(secret.Data[membershipv1alpha1.CredentialTOTPSecret])
		}
		editMember(ns, "cookie-a", func(m *membershipv1alpha1.Member) { m.Spec.TwoFactor.Required = true })
		Eventually(totpOf).ShouldNot(BeEmpty(), "the Account gets a key for the membership that requires it")
		seen = append(seen, totpOf())
		form := url.Values{"do": {"2fa-off"}}.Encode()
		status, _ = withSession(cookie, http.MethodPost, "/account", form, "Content-Type", "application/x-www-form-urlencoded")
		Expect(status).To(Equal(http.StatusConflict))
		Expect(totpOf()).NotTo(BeEmpty())
		m := editMember(ns, "cookie-a", func(m *membershipv1alpha1.Member) { m.Spec.TwoFactor.Required = false })
		Eventually(func() bool { return observedMember(ns, "cookie-a").Status.ObservedGeneration == m.Generation }).Should(BeTrue())
		status, page = withSession(cookie, http.MethodPost, "/account", form, "Content-Type", "application/x-www-form-urlencoded")
		Expect(status).To(Equal(http.StatusOK), page)
		Expect(page).To(ContainSubstring("Two-factor authentication is off."))
		Expect(totpOf()).To(BeEmpty(), "every store of the account lost the key")

		By("the session ends after its idle time")
		// The suite's clock only moves forward: its per-client rate limiter would stop refilling
		// for as long as it was moved back.
		fakeClock.Step(selfservice.DefaultSessionIdle - time.Minute)
		status, _ = withSession(cookie, http.MethodGet, "/api/v1/account", "")
		Expect(status).To(Equal(http.StatusOK), "within the idle time")
		fakeClock.Step(selfservice.DefaultSessionIdle + time.Second)
		status, _ = withSession(cookie, http.MethodGet, "/api/v1/account", "")
		Expect(status).To(Equal(http.StatusUnauthorized), "idle too long")
	})
})
