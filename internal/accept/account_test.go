// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package accept_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/pquerna/otp/totp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/test/mailcatcher"
)

const (
	resetSubject   = "Reset your password for Acme Shop"
	changedSubject = "Your password for Acme Shop was changed"
)

// firstPassword is the password every self-service spec's Member joins with.
const firstPassword = "first secret phrase"

// joined makes an Active Member of Store "shop" in ns through an invitation, with firstPassword,
// and returns its name; with twoFactor, also its TOTP secret.
func joined(ns, email string, twoFactor bool) (string, string) {
	password := firstPassword
	GinkgoHelper()
	_, token := invite(ns, "invite-"+strings.Split(email, "@")[0], email, func(inv *membershipv1alpha1.Invitation) {
		inv.Spec.TwoFactor.Required = twoFactor
	})
	answer := postAccept(token, password, "")
	Expect(answer.Status).To(Equal(http.StatusCreated), "%v", answer.Body)
	name := answer.Body["member"].(string)
	expectMemberActive(ns, name, email, password)
	secret := ""
	if twoFactor {
		secret = answer.Body["twoFactor"].(map[string]any)["secret"].(string)
		seen = append(seen, secret)
	}
	return name, secret
}

// mailTo lists the emails to address with subject.
func mailTo(address, subject string) []mailcatcher.Message {
	var out []mailcatcher.Message
	for _, m := range catcher.Messages() {
		if len(m.To) == 1 && m.To[0] == address && m.Subject() == subject {
			out = append(out, m)
		}
	}
	return out
}

// resetToken waits for the n-th reset email to address and returns its link's token.
func resetToken(address string, n int) string {
	GinkgoHelper()
	u, err := url.Parse(resetLink(address, n))
	Expect(err).NotTo(HaveOccurred())
	return u.Query().Get("token")
}

// resetLink waits for the n-th reset email to address and returns its link.
func resetLink(address string, n int) string {
	GinkgoHelper()
	Eventually(func() []mailcatcher.Message { return mailTo(address, resetSubject) }).WithTimeout(20 * time.Second).Should(HaveLen(n))
	body, err := mailTo(address, resetSubject)[n-1].Body()
	Expect(err).NotTo(HaveOccurred())
	link := body.Link("/password/reset")
	Expect(link).To(HavePrefix(baseURL + "/password/reset?token="))
	u, err := url.Parse(link)
	Expect(err).NotTo(HaveOccurred())
	seen = append(seen, u.Query().Get("token"))
	return link
}

// postForm posts an HTML form as this spec's client and returns the status and the page.
func postForm(path string, values url.Values) (int, string) {
	GinkgoHelper()
	for _, key := range []string{"password", "passwordConfirmation", "token"} {
		if v := values.Get(key); v != "" {
			seen = append(seen, v)
		}
	}
	resp, err := httpClient(specClient).PostForm(baseURL+path, values)
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	page, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return resp.StatusCode, string(page)
}

func forgot(ns, email string) (int, string) {
	GinkgoHelper()
	return postForm("/password/forgot", url.Values{"store": {ns + "/shop"}, "email": {email}})
}

func resetWith(token, password string) (int, string) {
	GinkgoHelper()
	return postForm("/password/reset", url.Values{"token": {token}, "password": {password}, "passwordConfirmation": {password}})
}

// postJSON posts body to the JSON API path as this spec's client; its secret fields are
// searched for in the logs at the end of the suite.
func postJSON(path string, body map[string]string, secrets ...string) apiAnswer {
	GinkgoHelper()
	for _, k := range secrets {
		seen = append(seen, body[k])
	}
	payload, err := json.Marshal(body)
	Expect(err).NotTo(HaveOccurred())
	resp, err := httpClient(specClient).Post(baseURL+path, "application/json", bytes.NewReader(payload))
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	out := apiAnswer{Status: resp.StatusCode}
	Expect(json.Unmarshal(raw, &out.Body)).To(Succeed(), string(raw))
	return out
}

// changePassword calls POST /api/v1/password/change as this spec's client.
func changePassword(body map[string]string) apiAnswer {
	GinkgoHelper()
	return postJSON("/api/v1/password/change", body, "currentPassword", "newPassword")
}

func passwordVerifies(ns, member, password string) bool {
	GinkgoHelper()
	secret, err := credentialsOf(ns, member)()
	Expect(err).NotTo(HaveOccurred())
	return credentials.VerifyPassword(secret.Data[membershipv1alpha1.CredentialPasswordHash], password)
}

var _ = Describe("password change", func() {
	It("needs the current password: 401 when wrong, 429 after repeated failures, 200 and an email when right", func() {
		ns := newNamespace()
		createStore(ns, membershipv1alpha1.LocaleEnglish)
		member, _ := joined(ns, "petra@example.com", false)
		change := func(current string) apiAnswer {
			return changePassword(map[string]string{"store": ns + "/shop", "email": "Petra@example.com",
				"currentPassword": current, "newPassword": "second secret phrase"})
		}
		wrong := change("not the password at all")
		Expect(wrong.Status).To(Equal(http.StatusUnauthorized))
		Expect(wrong.Body).To(HaveKeyWithValue("error", "unauthorized"))
		unknown := changePassword(map[string]string{"store": ns + "/shop", "email": "nobody@example.com",
			"currentPassword": "first secret phrase", "newPassword": "second secret phrase"})
		Expect(unknown).To(Equal(wrong), "an unknown address gets the very same answer")

		By("the policy applies to the new password")
		weak := changePassword(map[string]string{"store": ns + "/shop", "email": "petra@example.com",
			"currentPassword": "first secret phrase", "newPassword": "short"})
		Expect(weak.Status).To(Equal(http.StatusBadRequest))
		Expect(weak.Body).To(And(HaveKeyWithValue("field", "newPassword"), HaveKeyWithValue("code", "too-short")))

		By("the right password changes it and emails the member")
		right := change("first secret phrase")
		Expect(right.Status).To(Equal(http.StatusOK), "%v", right.Body)
		Expect(right.Body).To(HaveKeyWithValue("member", member))
		Expect(passwordVerifies(ns, member, "second secret phrase")).To(BeTrue())
		Expect(passwordVerifies(ns, member, "first secret phrase")).To(BeFalse())
		Eventually(func() []mailcatcher.Message { return mailTo("petra@example.com", changedSubject) }).Should(HaveLen(1))

		By("repeated failures for the account are rate limited, whatever the password")
		statuses := make([]int, 0, 6)
		for range 6 {
			statuses = append(statuses, change("still not the password").Status)
		}
		Expect(statuses).To(ContainElement(http.StatusTooManyRequests))
		Expect(statuses[0]).To(Equal(http.StatusUnauthorized))
		Expect(change("second secret phrase").Status).To(Equal(http.StatusTooManyRequests), "even the right one waits")
		Expect(passwordVerifies(ns, member, "second secret phrase")).To(BeTrue())
	})

	It("with 2FA on, refuses a missing or wrong code and accepts the right one", func() {
		ns := newNamespace()
		createStore(ns, membershipv1alpha1.LocaleEnglish)
		member, secret := joined(ns, "quinn@example.com", true)
		body := func(code string) map[string]string {
			return map[string]string{"store": ns + "/shop", "email": "quinn@example.com", "currentPassword": "first secret phrase",
				"newPassword": "second secret phrase", "totpCode": code}
		}
		missing := changePassword(body(""))
		Expect(missing.Status).To(Equal(http.StatusUnauthorized))
		Expect(missing.Body).To(And(HaveKeyWithValue("field", "totpCode"), HaveKeyWithValue("code", "required")))
		code, err := totp.GenerateCode(secret, fakeClock.Now())
		Expect(err).NotTo(HaveOccurred())
		wrongCode := "000000"
		if code == wrongCode {
			wrongCode = "111111"
		}
		wrong := changePassword(body(wrongCode))
		Expect(wrong.Status).To(Equal(http.StatusUnauthorized))
		Expect(wrong.Body).To(HaveKeyWithValue("code", "wrong"))
		Expect(passwordVerifies(ns, member, "first secret phrase")).To(BeTrue())
		right := changePassword(body(code))
		Expect(right.Status).To(Equal(http.StatusOK), "%v", right.Body)
		Expect(passwordVerifies(ns, member, "second secret phrase")).To(BeTrue())
	})
})

var _ = Describe("forgotten password", func() {
	It("answers known and unknown addresses alike and emails only the known one", func() {
		ns := newNamespace()
		createStore(ns, membershipv1alpha1.LocaleEnglish)
		joined(ns, "rosa@example.com", false)
		knownStatus, knownPage := forgot(ns, "rosa@example.com")
		unknownStatus, unknownPage := forgot(ns, "nobody-"+ns+"@example.com")
		Expect(knownStatus).To(Equal(http.StatusOK))
		Expect(unknownStatus).To(Equal(knownStatus))
		Expect(unknownPage).To(Equal(knownPage), "the same body, byte for byte")
		Expect(knownPage).To(ContainSubstring("If the store and email belong to an account"))
		resetToken("rosa@example.com", 1)
		Consistently(func() []mailcatcher.Message { return mailTo("nobody-"+ns+"@example.com", resetSubject) }).
			WithTimeout(2 * time.Second).Should(BeEmpty())
	})

	It("gives a single-use link that dies with its TTL and when another reset succeeds", func() {
		ns := newNamespace()
		createStore(ns, membershipv1alpha1.LocaleEnglish)
		member, _ := joined(ns, "sami@example.com", false)

		By("a link works once")
		forgot(ns, "sami@example.com")
		first := resetToken("sami@example.com", 1)
		status, page := resetWith(first, "second secret phrase")
		Expect(status).To(Equal(http.StatusOK), page)
		Expect(passwordVerifies(ns, member, "second secret phrase")).To(BeTrue())
		Eventually(func() []mailcatcher.Message { return mailTo("sami@example.com", changedSubject) }).Should(HaveLen(1))
		status, _ = resetWith(first, "third secret phrase")
		Expect(status).To(BeNumerically(">=", 400), "used")
		Expect(passwordVerifies(ns, member, "second secret phrase")).To(BeTrue())

		By("an older link dies when a newer one is used")
		forgot(ns, "sami@example.com")
		older := resetToken("sami@example.com", 2)
		forgot(ns, "sami@example.com")
		newer := resetToken("sami@example.com", 3)
		status, _ = resetWith(newer, "fourth secret phrase")
		Expect(status).To(Equal(http.StatusOK))
		Eventually(func() int { s, _ := resetWith(older, "fifth secret phrase"); return s }).Should(Equal(http.StatusNotFound))
		Expect(passwordVerifies(ns, member, "fourth secret phrase")).To(BeTrue())
	})

	It("fails after its TTL, and the Member controller deletes the expired link's Secret", func() {
		ns := newNamespace()
		createStore(ns, membershipv1alpha1.LocaleEnglish)
		member, _ := joined(ns, "tara@example.com", false)
		status, _ := forgot(ns, "tara@example.com")
		Expect(status).To(Equal(http.StatusOK))
		token := resetToken("tara@example.com", 1)
		secrets := func() []corev1.Secret {
			var list corev1.SecretList
			Expect(k8sClient.List(ctx, &list, client.InNamespace(ns), client.HasLabels{membershipv1alpha1.TokenForLabel})).To(Succeed())
			return list.Items
		}
		Eventually(secrets).Should(HaveLen(1))
		fakeClock.Step(resetTTL + time.Second)
		// (The clock only moves forward: every spec reads it as "now", whatever it says.)
		status, page := resetWith(token, "second secret phrase")
		Expect(status).To(Equal(http.StatusGone), page)
		Expect(page).To(ContainSubstring("This reset link has expired"))
		Expect(passwordVerifies(ns, member, "first secret phrase")).To(BeTrue())
		By("touching the Member, as any event would, so its controller sees the clock moved")
		Eventually(func() error {
			m := &membershipv1alpha1.Member{}
			if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: member}, m); err != nil {
				return err
			}
			m.Labels = map[string]string{"touched": "yes"}
			return k8sClient.Update(ctx, m)
		}).Should(Succeed())
		Eventually(secrets).WithTimeout(20 * time.Second).Should(BeEmpty())
	})
})

// annotate sets an annotation on a Member.
func annotate(ns, name, key, value string) {
	GinkgoHelper()
	Eventually(func() error {
		m := &membershipv1alpha1.Member{}
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, m); err != nil {
			return err
		}
		if m.Annotations == nil {
			m.Annotations = map[string]string{}
		}
		m.Annotations[key] = value
		return k8sClient.Update(ctx, m)
	}).Should(Succeed())
}

func observed(ns, name string) func(Gomega) membershipv1alpha1.MemberStatus {
	return func(g Gomega) membershipv1alpha1.MemberStatus {
		m := &membershipv1alpha1.Member{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, m)).To(Succeed())
		return m.Status
	}
}

const twoFactorSubject = "Set up two-factor authentication again for Acme Shop"

var _ = Describe("administrator annotations", func() {
	It("reset-password emails one reset link per new value", func() {
		ns := newNamespace()
		createStore(ns, membershipv1alpha1.LocaleEnglish)
		member, _ := joined(ns, "vera@example.com", false)
		annotate(ns, member, membershipv1alpha1.ResetPasswordAnnotation, "2026-11-23")
		token := resetToken("vera@example.com", 1)
		body, err := mailTo("vera@example.com", resetSubject)[0].Body()
		Expect(err).NotTo(HaveOccurred())
		Expect(body.Text).To(ContainSubstring("An administrator of Acme Shop asked"))
		Eventually(observed(ns, member)).Should(HaveField("ObservedResetPassword", "2026-11-23"))

		By("the same value again, and other changes, send nothing more")
		annotate(ns, member, "unrelated", "x")
		annotate(ns, member, membershipv1alpha1.ResetPasswordAnnotation, "2026-11-23")
		Consistently(func() int { return len(mailTo("vera@example.com", resetSubject)) }).WithTimeout(2 * time.Second).Should(Equal(1))
		Expect(passwordVerifies(ns, member, firstPassword)).To(BeTrue(), "the current password works until the link is used")

		By("a new value sends a new link; the link sets the password")
		annotate(ns, member, membershipv1alpha1.ResetPasswordAnnotation, "2026-11-24")
		resetToken("vera@example.com", 2)
		status, page := resetWith(token, "second secret phrase")
		Expect(status).To(Equal(http.StatusOK), page)
		Expect(passwordVerifies(ns, member, "second secret phrase")).To(BeTrue())
	})

	It("reset-2fa makes a new TOTP secret, so old codes fail, and emails one single-use enrolment link per new value", func() {
		ns := newNamespace()
		createStore(ns, membershipv1alpha1.LocaleEnglish)
		member, oldSecret := joined(ns, "walt@example.com", true)
		annotate(ns, member, membershipv1alpha1.ResetTwoFactorAnnotation, "1")
		Eventually(func() []mailcatcher.Message { return mailTo("walt@example.com", twoFactorSubject) }).Should(HaveLen(1))
		Eventually(observed(ns, member)).Should(HaveField("ObservedResetTwoFactor", "1"))

		stored, err := credentialsOf(ns, member)()
		Expect(err).NotTo(HaveOccurred())
		newSecret := string(stored.Data[membershipv1alpha1.CredentialTOTPSecret])
		seen = append(seen, newSecret)
		Expect(newSecret).NotTo(BeEmpty())
		Expect(newSecret).NotTo(Equal(oldSecret))
		oldCode, err := totp.GenerateCode(oldSecret, fakeClock.Now())
		Expect(err).NotTo(HaveOccurred())
		newCode, err := totp.GenerateCode(newSecret, fakeClock.Now())
		Expect(err).NotTo(HaveOccurred())
		if oldCode != newCode { // one in a million they coincide
			Expect(credentials.ValidateTOTP(newSecret, oldCode, fakeClock.Now())).To(BeFalse(), "the old key's codes no longer validate")
		}
		Expect(credentials.VerifyPassword(stored.Data[membershipv1alpha1.CredentialPasswordHash], firstPassword)).To(BeTrue(),
			"the password is untouched")

		By("the enrolment link shows the new key once, on a POST")
		body, err := mailTo("walt@example.com", twoFactorSubject)[0].Body()
		Expect(err).NotTo(HaveOccurred())
		link := body.Link("/2fa/enrol")
		Expect(link).To(HavePrefix(baseURL + "/2fa/enrol?token="))
		u, err := url.Parse(link)
		Expect(err).NotTo(HaveOccurred())
		token := u.Query().Get("token")
		seen = append(seen, token)
		resp, err := httpClient(specClient).Get(link)
		Expect(err).NotTo(HaveOccurred())
		page, err := io.ReadAll(resp.Body)
		Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		Expect(string(page)).To(And(ContainSubstring("Show my new key"), Not(ContainSubstring(newSecret))))
		status, shown := postForm("/2fa/enrol", url.Values{"token": {token}})
		Expect(status).To(Equal(http.StatusOK), shown)
		Expect(shown).To(And(ContainSubstring(newSecret), ContainSubstring("<svg")))
		status, _ = postForm("/2fa/enrol", url.Values{"token": {token}})
		Expect(status).NotTo(Equal(http.StatusOK), "single use")

		By("once per value")
		annotate(ns, member, membershipv1alpha1.ResetTwoFactorAnnotation, "1")
		Consistently(func() int { return len(mailTo("walt@example.com", twoFactorSubject)) }).WithTimeout(2 * time.Second).Should(Equal(1))
		annotate(ns, member, membershipv1alpha1.ResetTwoFactorAnnotation, "2")
		Eventually(func() []mailcatcher.Message { return mailTo("walt@example.com", twoFactorSubject) }).Should(HaveLen(2))
	})
})

// changeEmail calls POST /api/v1/email/change as this spec's client.
func changeEmail(body map[string]string) apiAnswer {
	GinkgoHelper()
	return postJSON("/api/v1/email/change", body, "password")
}

const (
	confirmSubject      = "Confirm your new login email for Acme Shop"
	emailChangedSubject = "Your login email for Acme Shop was changed"
)

var _ = Describe("login email change", func() {
	It("changes an invitation-created Member's email through the link sent to the new address, and tells the old one", func() {
		ns := newNamespace()
		createStore(ns, membershipv1alpha1.LocaleEnglish)
		member, _ := joined(ns, "xena@example.com", false)
		joined(ns, "yuri@example.com", false)
		request := func(password, newEmail string) apiAnswer {
			return changeEmail(map[string]string{"store": ns + "/shop", "email": "xena@example.com", "password": password, "newEmail": newEmail})
		}
		Expect(request("not the password at all", "xena@example.org").Status).To(Equal(http.StatusUnauthorized))
		taken := request(firstPassword, "Yuri@example.com")
		Expect(taken.Status).To(Equal(http.StatusConflict))
		Expect(taken.Body).To(HaveKeyWithValue("message", ContainSubstring("one account per email per store")))
		bad := request(firstPassword, "Xena <xena@example.org>")
		Expect(bad.Status).To(Equal(http.StatusBadRequest))
		Expect(bad.Body).To(HaveKeyWithValue("field", "newEmail"))

		accepted := request(firstPassword, "xena@example.org")
		Expect(accepted.Status).To(Equal(http.StatusAccepted), "%v", accepted.Body)
		Eventually(func() []mailcatcher.Message { return mailTo("xena@example.org", confirmSubject) }).Should(HaveLen(1))
		body, err := mailTo("xena@example.org", confirmSubject)[0].Body()
		Expect(err).NotTo(HaveOccurred())
		link := body.Link("/email/confirm")
		Expect(link).To(HavePrefix(baseURL + "/email/confirm?token="))
		u, err := url.Parse(link)
		Expect(err).NotTo(HaveOccurred())
		token := u.Query().Get("token")
		seen = append(seen, token)

		By("opening the link changes nothing; confirming does")
		resp, err := httpClient(specClient).Get(link)
		Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		Expect(observedMember(ns, member).Spec.Email).To(Equal(membershipv1alpha1.EmailAddress("xena@example.com")))
		status, page := postForm("/email/confirm", url.Values{"token": {token}})
		Expect(status).To(Equal(http.StatusOK), page)
		Expect(observedMember(ns, member).Spec.Email).To(Equal(membershipv1alpha1.EmailAddress("xena@example.org")))
		Eventually(func() string {
			secret, err := credentialsOf(ns, member)()
			Expect(err).NotTo(HaveOccurred())
			return string(secret.Data[membershipv1alpha1.CredentialUsername])
		}).Should(Equal("xena@example.org"), "the Member controller follows with the credential Secret")
		Eventually(func() []mailcatcher.Message { return mailTo("xena@example.com", emailChangedSubject) }).Should(HaveLen(1))
		status, _ = postForm("/email/confirm", url.Values{"token": {token}})
		Expect(status).NotTo(Equal(http.StatusOK), "single use")
	})

	It("answers 409 for a Member applied with kubectl, and changes nothing", func() {
		ns := newNamespace()
		createStore(ns, membershipv1alpha1.LocaleEnglish)
		Expect(k8sClient.Create(ctx, &membershipv1alpha1.Member{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "zoe"},
			Spec: membershipv1alpha1.MemberSpec{StoreRef: membershipv1alpha1.StoreReference{Name: "shop"},
				Email: "zoe@example.com", Roles: []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff}},
		})).To(Succeed())
		Eventually(func() membershipv1alpha1.MemberPhase { return observedMember(ns, "zoe").Status.Phase }).
			WithTimeout(20 * time.Second).Should(Equal(membershipv1alpha1.MemberActive))
		secret, err := credentialsOf(ns, "zoe")()
		Expect(err).NotTo(HaveOccurred())
		password := string(secret.Data[membershipv1alpha1.CredentialPassword])
		Expect(password).NotTo(BeEmpty(), "a generated password")

		answer := changeEmail(map[string]string{"store": ns + "/shop", "email": "zoe@example.com", "password": password, "newEmail": "zoe@example.org"})
		Expect(answer.Status).To(Equal(http.StatusConflict))
		Expect(answer.Body).To(HaveKeyWithValue("message", And(ContainSubstring(`Member "zoe"'s spec.email is managed by`),
			ContainSubstring("change it there instead"))))
		Consistently(func() []mailcatcher.Message { return mailTo("zoe@example.org", confirmSubject) }).WithTimeout(time.Second).Should(BeEmpty())
		Expect(observedMember(ns, "zoe").Spec.Email).To(Equal(membershipv1alpha1.EmailAddress("zoe@example.com")))
	})
})

func observedMember(ns, name string) *membershipv1alpha1.Member {
	GinkgoHelper()
	m := &membershipv1alpha1.Member{}
	Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, m)).To(Succeed())
	return m
}
