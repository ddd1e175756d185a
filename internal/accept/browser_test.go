// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package accept_test

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/chromedp/chromedp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/pquerna/otp/totp"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/test/mailcatcher"
)

// chromiumPath is $CHROMIUM, or Debian's chromium (make chromium installs it).
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	return ""
}

// newBrowser starts a headless Chromium with a phone-sized window. In CI a missing browser fails
// the suite; on a workstation it skips these specs with the command that installs it.
func newBrowser() context.Context {
	GinkgoHelper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("CI") != "" {
			Fail("Chromium is required in CI and was not found: `make chromium` installs it")
		}
		Skip("no Chromium: run `make chromium` (Debian's chromium package)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(GinkgoT().TempDir()), chromedp.WindowSize(390, 844))
	// The browser connects from 127.0.0.1, as every browser spec does, and the per-client limiter
	// runs on the suite's fake clock: without time passing, a few page-heavy specs in a row spend
	// the address's burst and the next one's CSS and form posts are answered 429. The time a
	// person takes between two visits refills it.
	refillClients()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	runCtx, cancelRun := context.WithTimeout(browserCtx, 2*time.Minute)
	DeferCleanup(func() { cancelRun(); cancelBrowser(); cancelAlloc() })
	return runCtx
}

// screenshot writes the whole page as a PNG test artifact.
func screenshot(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(c context.Context, t *chromedp.Target) error {
		png, err := chromedp.FullScreenshot(100)(c, t)
		if err != nil {
			return err
		}
		path := filepath.Join(artifacts, name+".png")
		GinkgoWriter.Printf("screenshot: %s\n", path)
		return os.WriteFile(path, png, 0o600)
	})
}

// do runs steps in the browser.
func do(browser context.Context, steps ...chromedp.Action[chromedp.Void]) {
	GinkgoHelper()
	Expect(chromedp.Do(browser, steps...)).To(Succeed())
}

// text is the visible text of the element with the CSS selector.
func text(browser context.Context, selector string) string {
	GinkgoHelper()
	out, err := chromedp.Run(browser, chromedp.Text(chromedp.CSS(selector)))
	Expect(err).NotTo(HaveOccurred())
	return out
}

// attribute is an attribute of the element with the CSS selector ("" when absent).
func attribute(browser context.Context, selector, name string) string {
	GinkgoHelper()
	out, err := chromedp.Run(browser, chromedp.AttributeValue(chromedp.CSS(selector), name))
	Expect(err).NotTo(HaveOccurred())
	return out.Value
}

func evaluate[T any](browser context.Context, expression string) T {
	GinkgoHelper()
	out, err := chromedp.Run(browser, chromedp.Evaluate[T](expression))
	Expect(err).NotTo(HaveOccurred())
	return out
}

func linkFor(token string) string { return baseURL + "/invitations/accept?token=" + token }

// onlyMember returns the one Member of a namespace.
func onlyMember(ns string) string {
	GinkgoHelper()
	Eventually(func() []membershipv1alpha1.Member { return membersOf(ns) }).Should(HaveLen(1))
	return membersOf(ns)[0].Name
}

var _ = Describe("the acceptance page in a real browser", func() {
	It("takes an invitee from the emailed link to an Active Member, showing field errors on the way", func() {
		browser := newBrowser()
		ns := newNamespace()
		createStore(ns, "en")
		email := "kim@example.com"
		_, token := invite(ns, "invite-kim", email, func(i *membershipv1alpha1.Invitation) {
			i.Spec.Roles = []membershipv1alpha1.Role{membershipv1alpha1.RoleOperations, membershipv1alpha1.RoleFinance}
		})
		password := "a long passphrase for 2026"
		seen = append(seen, password)

		do(browser, chromedp.Navigate(linkFor(token)), chromedp.WaitVisible(chromedp.ID("submit")), screenshot("en-1-form"))
		Expect(text(browser, "h1")).To(Equal("Join Acme Shop"))
		Expect(text(browser, "#intro")).To(Equal("Alice Admin invited you (kim@example.com) to manage Acme Shop as:"))
		Expect(text(browser, "#roles")).To(And(ContainSubstring("Operations (orders and products)"),
			ContainSubstring("Finance (invoices; the rest read-only)")))
		Expect(text(browser, "#expires")).To(HavePrefix("This invitation is valid until "))
		Expect(text(browser, `label[for="password"]`)).To(Equal("Password"), "every input has a label")
		Expect(evaluate[string](browser, `getComputedStyle(document.getElementById('submit')).backgroundColor`)).To(
			Equal("rgb(31, 111, 235)"), "the stylesheet loads under the Content-Security-Policy")
		Expect(evaluate[bool](browser, `document.documentElement.scrollWidth <= window.innerWidth`)).To(BeTrue(),
			"nothing overflows a phone-sized window")

		By("submitting two different passwords")
		do(browser,
			chromedp.SendKeys(chromedp.ID("displayName"), "Kim Lee"),
			chromedp.SendKeys(chromedp.ID("password"), password),
			chromedp.SendKeys(chromedp.ID("passwordConfirmation"), password+"!"),
			chromedp.Click(chromedp.ID("submit")),
			chromedp.WaitVisible(chromedp.ID("error-summary")),
			screenshot("en-2-mismatch"))
		Expect(attribute(browser, "#passwordConfirmation", "aria-invalid")).To(Equal("true"))
		Expect(attribute(browser, "#passwordConfirmation", "aria-describedby")).To(Equal("passwordConfirmation-error"),
			"the error is tied to its field")
		Expect(text(browser, "#passwordConfirmation-error")).To(Equal("The two passwords are not the same."))
		Expect(evaluate[string](browser, `document.getElementById('displayName').value`)).To(Equal("Kim Lee"))
		Expect(membersOf(ns)).To(BeEmpty())

		By("submitting the same password twice")
		do(browser,
			chromedp.SendKeys(chromedp.ID("password"), password),
			chromedp.SendKeys(chromedp.ID("passwordConfirmation"), password),
			chromedp.Click(chromedp.ID("submit")),
			chromedp.WaitVisible(chromedp.ID("success")),
			screenshot("en-3-welcome"))
		Expect(text(browser, "#success")).To(Equal("Welcome to Acme Shop"))
		expectMemberActive(ns, onlyMember(ns), email, password)

		By("opening the link again")
		do(browser, chromedp.Navigate(linkFor(token)), chromedp.WaitVisible(chromedp.ID("problem")), screenshot("en-4-used"))
		Expect(text(browser, "#problem-detail")).To(ContainSubstring("already been accepted"))
	})

	It("speaks Dutch for a Dutch store", func() {
		browser := newBrowser()
		ns := newNamespace()
		createStore(ns, "nl")
		_, token := invite(ns, "invite-sanne", "sanne@example.com")
		password := "een lang en sterk wachtwoord"
		seen = append(seen, password)
		do(browser, chromedp.Navigate(linkFor(token)), chromedp.WaitVisible(chromedp.ID("submit")), screenshot("nl-1-form"))
		Expect(attribute(browser, "html", "lang")).To(Equal("nl"))
		Expect(text(browser, "h1")).To(Equal("Word lid van Acme Shop"))
		Expect(text(browser, "#intro")).To(Equal("Alice Admin heeft je (sanne@example.com) uitgenodigd om Acme Shop te beheren als:"))
		Expect(text(browser, `label[for="password"]`)).To(Equal("Wachtwoord"))
		Expect(text(browser, "#submit")).To(Equal("Word lid"))
		do(browser,
			chromedp.SendKeys(chromedp.ID("password"), password),
			chromedp.SendKeys(chromedp.ID("passwordConfirmation"), password),
			chromedp.Click(chromedp.ID("submit")),
			chromedp.WaitVisible(chromedp.ID("success")),
			screenshot("nl-2-welcome"))
		Expect(text(browser, "#success")).To(Equal("Welkom bij Acme Shop"))
		expectMemberActive(ns, onlyMember(ns), "sanne@example.com", password)
	})

	It("shows the 2FA secret and QR code once; the secret's codes validate against the Member's totp-secret", func() {
		browser := newBrowser()
		ns := newNamespace()
		createStore(ns, "en")
		_, token := invite(ns, "invite-lou", "lou@example.com", func(i *membershipv1alpha1.Invitation) { i.Spec.TwoFactor.Required = true })
		password := "another long passphrase"
		seen = append(seen, password)
		do(browser, chromedp.Navigate(linkFor(token)), screenshot("2fa-1-form"), chromedp.WaitVisible(chromedp.ID("two-factor-notice")))
		Expect(text(browser, "#two-factor-notice")).To(ContainSubstring("two-factor authentication"))
		do(browser,
			chromedp.SendKeys(chromedp.ID("password"), password),
			chromedp.SendKeys(chromedp.ID("passwordConfirmation"), password),
			chromedp.Click(chromedp.ID("submit")),
			chromedp.WaitVisible(chromedp.ID("success")),
			screenshot("2fa-2-enrol"))
		Expect(evaluate[int](browser, `document.querySelectorAll('.qr svg path').length`)).To(Equal(1), "a QR code drawn server-side")
		secret := text(browser, "#totp-secret")
		Expect(secret).To(MatchRegexp(`^[A-Z2-7]{32}$`))
		seen = append(seen, secret)
		stored := expectMemberActive(ns, onlyMember(ns), "lou@example.com", password)
		code, err := totp.GenerateCode(secret, time.Now())
		Expect(err).NotTo(HaveOccurred())
		Expect(credentials.ValidateTOTP(string(stored.Data[membershipv1alpha1.CredentialTOTPSecret]), code, time.Now())).To(BeTrue())
	})
})

var _ = Describe("the forgotten-password pages in a real browser", func() {
	It("take a member from the forgot form through the emailed link to a new password", func() {
		browser := newBrowser()
		ns := newNamespace()
		createStore(ns, "en")
		email := "uma@example.com"
		member, _ := joined(ns, email, false)
		password := "a brand new passphrase"
		seen = append(seen, password)

		do(browser, chromedp.Navigate(baseURL+"/password/forgot"), chromedp.WaitVisible(chromedp.ID("submit")), screenshot("forgot-1-form"))
		Expect(text(browser, "h1")).To(Equal("Forgot your password?"))
		Expect(text(browser, `label[for="store"]`)).To(Equal("Store"), "every input has a label")
		Expect(text(browser, `label[for="email"]`)).To(Equal("Email"))
		do(browser,
			chromedp.SendKeys(chromedp.ID("store"), ns+"/shop"),
			chromedp.SendKeys(chromedp.ID("email"), email),
			chromedp.Click(chromedp.ID("submit")),
			chromedp.WaitVisible(chromedp.ID("done")),
			screenshot("forgot-2-sent"))
		Expect(text(browser, "#done-body")).To(HavePrefix("If the store and email belong to an account"))

		By("following the emailed link")
		token := resetToken(email, 1)
		do(browser, chromedp.Navigate(baseURL+"/password/reset?token="+token), chromedp.WaitVisible(chromedp.ID("submit")),
			screenshot("reset-1-form"))
		Expect(text(browser, "h1")).To(Equal("Choose a new password for Acme Shop"))
		Expect(attribute(browser, `input[name="username"]`, "value")).To(Equal(email), "password managers learn the login")
		do(browser,
			chromedp.SendKeys(chromedp.ID("password"), password),
			chromedp.SendKeys(chromedp.ID("passwordConfirmation"), password),
			chromedp.Click(chromedp.ID("submit")),
			chromedp.WaitVisible(chromedp.ID("done")),
			screenshot("reset-2-done"))
		Expect(text(browser, "#done")).To(Equal("Your password was changed"))

		Expect(passwordVerifies(ns, member, password)).To(BeTrue(), "the new password verifies")
		Expect(passwordVerifies(ns, member, firstPassword)).To(BeFalse(), "the old one no longer does")
		Eventually(func() []mailcatcher.Message { return mailTo(email, changedSubject) }).Should(HaveLen(1))

		By("the link was single use")
		do(browser, chromedp.Navigate(baseURL+"/password/reset?token="+token), chromedp.WaitVisible(chromedp.ID("problem")))
		Expect(text(browser, "#problem-detail")).To(ContainSubstring("reset link"))
	})
})
