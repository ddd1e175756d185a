// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package accept_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/pquerna/otp/totp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/accept"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/test/devenv"
	"github.com/storeops/member-operator/test/mailcatcher"
	"github.com/storeops/member-operator/test/testenv"
)

// The attacks of the security review, made as the attacker would make them: over HTTP against
// the real server, from many client addresses, concurrently, and against a second replica with a
// cache of its own.

// call sends a JSON body to base+path from sourceIP, with X-Forwarded-For when forwardedFor is set.
func call(base, path, sourceIP, forwardedFor string, body map[string]string) (int, http.Header, map[string]any) {
	GinkgoHelper()
	payload, err := json.Marshal(body)
	Expect(err).NotTo(HaveOccurred())
	req, err := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(payload))
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Content-Type", "application/json")
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	resp, err := httpClient(sourceIP).Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, resp.Header, out
}

// getFrom GETs base+path from sourceIP as the client forwardedFor names (through a trusted proxy).
func getFrom(base, path, sourceIP, forwardedFor string) int {
	GinkgoHelper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	Expect(err).NotTo(HaveOccurred())
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	resp, err := httpClient(sourceIP).Do(req)
	Expect(err).NotTo(HaveOccurred())
	_ = resp.Body.Close()
	return resp.StatusCode
}

// counter reads a counter of the controller-runtime registry (the operator's metrics), summed
// over its series.
func counter(name string) float64 {
	GinkgoHelper()
	return operatorMetrics().Sum(name)
}

// operatorMetrics reads the suite's operator's metrics (testenv.OperatorMetrics).
func operatorMetrics() devenv.Metrics {
	GinkgoHelper()
	m, err := testenv.OperatorMetrics()
	Expect(err).NotTo(HaveOccurred())
	return m
}

// soloMember makes an Active Member with a generated password in a Store whose name is unique in
// the cluster (so "name" and "namespace/name" both resolve to it) and returns the store name and
// the password.
func soloMember(ns, email string) (string, string) {
	GinkgoHelper()
	store := "solo-" + ns
	Expect(k8sClient.Create(ctx, &membershipv1alpha1.Store{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: store},
		Spec: membershipv1alpha1.StoreSpec{DisplayName: "Acme Shop",
			Owner: membershipv1alpha1.StoreOwner{Email: membershipv1alpha1.EmailAddress("owner-" + ns + "@example.com")}},
	})).To(Succeed())
	Expect(k8sClient.Create(ctx, &membershipv1alpha1.Member{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "solo"},
		Spec: membershipv1alpha1.MemberSpec{StoreRef: membershipv1alpha1.StoreReference{Name: store},
			Email: membershipv1alpha1.EmailAddress(email), Roles: []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff}},
	})).To(Succeed())
	var password string
	Eventually(func(g Gomega) {
		secret := &corev1.Secret{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "solo-credentials"}, secret)).To(Succeed())
		password = string(secret.Data[membershipv1alpha1.CredentialPassword])
		g.Expect(password).NotTo(BeEmpty())
	}).Should(Succeed())
	Eventually(func() membershipv1alpha1.MemberPhase { return observedMember(ns, "solo").Status.Phase }).
		Should(Equal(membershipv1alpha1.MemberActive))
	// The server answers from the operator's cache: until it holds the Active Member and its
	// Secret, a request meets an unknown login (a budget of its own, a decoy comparison), which a
	// loaded machine made visible as more comparisons than the account's budget.
	Eventually(func(g Gomega) {
		cached := &membershipv1alpha1.Member{}
		g.Expect(operatorCache.Get(ctx, client.ObjectKey{Namespace: ns, Name: "solo"}, cached)).To(Succeed())
		g.Expect(cached.Status.Phase).To(Equal(membershipv1alpha1.MemberActive))
		g.Expect(operatorCache.Get(ctx, client.ObjectKey{Namespace: ns, Name: "solo-credentials"}, &corev1.Secret{})).To(Succeed())
	}).Should(Succeed())
	seen = append(seen, password)
	return store, password
}

// linkFrom waits for the n-th email to address with subject and returns its link to path.
func linkFrom(address, subject, path string, n int) string {
	GinkgoHelper()
	Eventually(func() []mailcatcher.Message { return mailTo(address, subject) }).Should(HaveLen(n))
	body, err := mailTo(address, subject)[n-1].Body()
	Expect(err).NotTo(HaveOccurred())
	link := body.Link(path)
	Expect(link).To(HavePrefix(baseURL + path + "?token="))
	u, err := url.Parse(link)
	Expect(err).NotTo(HaveOccurred())
	seen = append(seen, u.Query().Get("token"))
	return link
}

func tokenOf(link string) string {
	GinkgoHelper()
	u, err := url.Parse(link)
	Expect(err).NotTo(HaveOccurred())
	return u.Query().Get("token")
}

const requestedSubject = "Someone asked to change your login email for Acme Shop"

var _ = Describe("the per-account failure limit", func() {
	It("lets 200 concurrent wrong guesses from 200 addresses run at most the allowed bcrypt comparisons, whichever way the store is named", func() {
		ns := newNamespace()
		store, password := soloMember(ns, "gus@example.com")
		before := counter("member_operator_password_checks_total")
		var mu sync.Mutex
		statuses := map[int]int{}
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				storeRef := store
				if i%2 == 1 {
					storeRef = ns + "/" + store // the same account, spelled the other way
				}
				status, _, _ := call(baseURL, "/api/v1/password/change", fmt.Sprintf("127.0.3.%d", i+1), "", map[string]string{
					"store": storeRef, "email": "gus@example.com", "currentPassword": fmt.Sprintf("guess number %d!", i),
					"newPassword": "a brand new passphrase"})
				mu.Lock()
				statuses[status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		checks := counter("member_operator_password_checks_total") - before
		AddReportEntry("200 concurrent wrong guesses: answers by status, bcrypt comparisons", fmt.Sprintf("%v, %v comparisons", statuses, checks))
		_, _ = fmt.Fprintf(GinkgoWriter, "200 concurrent guesses: %v; bcrypt comparisons: %v\n", statuses, checks)
		Expect(checks).To(BeNumerically("<=", 5), "the burst of five failures, no more, however concurrent")
		Expect(statuses[http.StatusUnauthorized]).To(BeNumerically("<=", 5))
		Expect(statuses[http.StatusUnauthorized] + statuses[http.StatusTooManyRequests]).To(Equal(200))

		By("the account's budget is spent for every spelling, so even the right password waits")
		status, header, _ := call(baseURL, "/api/v1/password/change", "127.0.3.250", "", map[string]string{
			"store": ns + "/" + store, "email": "gus@example.com", "currentPassword": password, "newPassword": "a brand new passphrase"})
		Expect(status).To(Equal(http.StatusTooManyRequests))
		Expect(header.Get("Retry-After")).NotTo(BeEmpty())
	})
})

var _ = Describe("rate limiters under a flood", func() {
	It("evict instead of refusing everyone when the table is full: a new client's real link is still served", func() {
		ns := newNamespace()
		createStore(ns, membershipv1alpha1.LocaleEnglish)
		_, token := invite(ns, "invite-hal", "hal@example.com")
		server := startReplicaServer(func(s *accept.Server) {
			s.LimiterSize = 50
			s.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		})
		By("500 distinct clients (through the trusted proxy) fill the client table ten times over")
		for i := range 500 {
			Expect(getFrom(server, "/invitations/accept?token=x", "127.0.4.1", fmt.Sprintf("198.18.%d.%d", i/250, i%250+1))).
				To(Equal(http.StatusBadRequest))
		}
		By("a client never seen before opens and accepts its link")
		Expect(getFrom(server, "/invitations/accept?token="+url.QueryEscape(token), "127.0.4.1", "203.0.113.50")).To(Equal(http.StatusOK))
		status, _, body := call(server, "/api/v1/invitations/accept", "127.0.4.1", "203.0.113.50",
			map[string]string{"token": token, "password": "a long and careful passphrase", "displayName": "Hal"})
		Expect(status).To(Equal(http.StatusCreated), "%v", body)
	})

	It("count a link's limit only for IDs of real links, so made-up IDs cannot reset a real link's limit", func() {
		ns := newNamespace()
		createStore(ns, membershipv1alpha1.LocaleEnglish)
		_, token := invite(ns, "invite-ida", "ida@example.com")
		server := startReplicaServer(func(s *accept.Server) {
			s.LimiterSize = 50
			s.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		})
		page := "/invitations/accept?token=" + url.QueryEscape(token)
		By("spending the real link's own limit (burst 10) from many clients")
		statuses := map[int]int{}
		for i := range 12 {
			statuses[getFrom(server, page, "127.0.5.1", fmt.Sprintf("198.19.0.%d", i+1))]++
		}
		Expect(statuses).To(Equal(map[int]int{http.StatusOK: 10, http.StatusTooManyRequests: 2}))
		By("300 well-formed made-up link IDs from 300 clients")
		for i := range 300 {
			guess, err := credentials.NewToken(rand.Reader)
			Expect(err).NotTo(HaveOccurred())
			Expect(getFrom(server, "/invitations/accept?token="+url.QueryEscape(guess.String()), "127.0.5.1",
				fmt.Sprintf("198.19.%d.%d", 1+i/250, i%250+1))).To(Equal(http.StatusNotFound))
		}
		Expect(getFrom(server, page, "127.0.5.1", "198.19.9.9")).To(Equal(http.StatusTooManyRequests),
			"the real link's spent bucket is still there")
	})

	It("bucket an IPv6 client by its /64", func() {
		server := startReplicaServer(func(s *accept.Server) {
			s.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		})
		statuses := map[int]int{}
		for i := range clientBurst + 5 {
			statuses[getFrom(server, "/invitations/accept?token=x", "127.0.6.1", fmt.Sprintf("2001:db8:1:2::%x", i+1))]++
		}
		Expect(statuses).To(Equal(map[int]int{http.StatusBadRequest: clientBurst, http.StatusTooManyRequests: 5}),
			"one /64, one client, whichever of its addresses it uses")
		Expect(getFrom(server, "/invitations/accept?token=x", "127.0.6.1", "2001:db8:1:3::1")).To(Equal(http.StatusBadRequest),
			"the next /64 is another client")
	})
})

var _ = Describe("bcrypt work", func() {
	It("is bounded: beyond the slots the server answers 503 with Retry-After, never 500", func() {
		server := startReplicaServer(func(s *accept.Server) {
			s.BcryptConcurrency = 1
			s.BcryptWait = time.Millisecond
		})
		ns := newNamespace()
		busyBefore := counter("member_operator_acceptance_busy_total")
		var mu sync.Mutex
		statuses := map[int]int{}
		retryAfter := true
		var wg sync.WaitGroup
		for i := range 30 {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				status, header, _ := call(server, "/api/v1/password/change", fmt.Sprintf("127.0.7.%d", i+1), "", map[string]string{
					"store": ns + "/shop", "email": fmt.Sprintf("nobody-%d@example.com", i), "currentPassword": "whatever it is",
					"newPassword": "a brand new passphrase"})
				mu.Lock()
				defer mu.Unlock()
				statuses[status]++
				if status == http.StatusServiceUnavailable && header.Get("Retry-After") == "" {
					retryAfter = false
				}
			}()
		}
		wg.Wait()
		_, _ = fmt.Fprintf(GinkgoWriter, "30 concurrent sign-ins, one bcrypt slot: %v\n", statuses)
		Expect(statuses[http.StatusServiceUnavailable]).To(BeNumerically(">", 0), "%v", statuses)
		Expect(statuses[http.StatusServiceUnavailable]+statuses[http.StatusUnauthorized]).To(Equal(30), "%v", statuses)
		Expect(retryAfter).To(BeTrue())
		Expect(counter("member_operator_acceptance_busy_total") - busyBefore).To(BeNumerically("==", statuses[http.StatusServiceUnavailable]))
	})
})

var _ = Describe("a TOTP code", func() {
	It("is accepted once: the same code is refused afterwards, here and on another replica", func() {
		ns := newNamespace()
		createStore(ns, membershipv1alpha1.LocaleEnglish)
		_, secret := joined(ns, "jon@example.com", true)
		other := startReplicaServer(nil)
		code, err := totp.GenerateCode(secret, fakeClock.Now())
		Expect(err).NotTo(HaveOccurred())
		change := func(server, current, next string) (int, map[string]any) {
			seen = append(seen, current, next)
			status, _, body := call(server, "/api/v1/password/change", specClient, "", map[string]string{
				"store": ns + "/shop", "email": "jon@example.com", "currentPassword": current, "newPassword": next, "totpCode": code})
			return status, body
		}
		status, body := change(baseURL, firstPassword, "second secret phrase")
		Expect(status).To(Equal(http.StatusOK), "%v", body)
		status, body = change(other, "second secret phrase", "third secret phrase")
		Expect(status).To(Equal(http.StatusUnauthorized), "the other replica refuses the used code")
		Expect(body).To(And(HaveKeyWithValue("field", "totpCode"), HaveKeyWithValue("code", "wrong")))
		status, _ = change(baseURL, "second secret phrase", "third secret phrase")
		Expect(status).To(Equal(http.StatusUnauthorized), "and so does this one")
		status, _, _ = call(baseURL, "/api/v1/email/change", specClient, "", map[string]string{
			"store": ns + "/shop", "email": "jon@example.com", "password": "second secret phrase", "totpCode": code,
			"newEmail": "jon@example.org"})
		Expect(status).To(Equal(http.StatusUnauthorized), "whatever it is presented for")

		By("the next time step's code works")
		fakeClock.Step(30 * time.Second)
		code, err = totp.GenerateCode(secret, fakeClock.Now())
		Expect(err).NotTo(HaveOccurred())
		status, body = change(other, "second secret phrase", "third secret phrase")
		Expect(status).To(Equal(http.StatusOK), "%v", body)
	})
})

var _ = Describe("changing the login email", func() {
	It("needs the 2FA code as a password change does", func() {
		ns := newNamespace()
		createStore(ns, membershipv1alpha1.LocaleEnglish)
		member, secret := joined(ns, "kira@example.com", true)
		request := func(code string) apiAnswer {
			return changeEmail(map[string]string{"store": ns + "/shop", "email": "kira@example.com", "password": firstPassword,
				"totpCode": code, "newEmail": "kira@example.org"})
		}
		missing := request("")
		Expect(missing.Status).To(Equal(http.StatusUnauthorized))
		Expect(missing.Body).To(And(HaveKeyWithValue("field", "totpCode"), HaveKeyWithValue("code", "required")))
		code, err := totp.GenerateCode(secret, fakeClock.Now())
		Expect(err).NotTo(HaveOccurred())
		wrongCode := "000000"
		if code == wrongCode {
			wrongCode = "111111"
		}
		wrong := request(wrongCode)
		Expect(wrong.Status).To(Equal(http.StatusUnauthorized))
		Expect(wrong.Body).To(HaveKeyWithValue("code", "wrong"))
		Consistently(func() []mailcatcher.Message { return mailTo("kira@example.org", confirmSubject) }).
			WithTimeout(time.Second).Should(BeEmpty(), "nothing is sent without the code")
		right := request(code)
		Expect(right.Status).To(Equal(http.StatusAccepted), "%v", right.Body)
		linkFrom("kira@example.org", confirmSubject, "/email/confirm", 1)
		Expect(observedMember(ns, member).Spec.Email).To(Equal(membershipv1alpha1.EmailAddress("kira@example.com")))
	})

	It("tells the old address at once, with a cancel link that stops it; a new request replaces the last; three a while", func() {
		ns := newNamespace()
		createStore(ns, membershipv1alpha1.LocaleDutch)
		member, _ := joined(ns, "luz@example.com", false)
		request := func(newEmail string) apiAnswer {
			return changeEmail(map[string]string{"store": ns + "/shop", "email": "luz@example.com", "password": firstPassword,
				"newEmail": newEmail})
		}
		const (
			confirmNL   = "Bevestig je nieuwe inlogadres voor Acme Shop"
			requestedNL = "Iemand wil je inlogadres voor Acme Shop wijzigen"
		)
		Expect(request("luz@example.org").Status).To(Equal(http.StatusAccepted))
		firstConfirm := linkFrom("luz@example.org", confirmNL, "/email/confirm", 1)
		firstCancel := linkFrom("luz@example.com", requestedNL, "/email/cancel", 1)
		notice, err := mailTo("luz@example.com", requestedNL)[0].Body()
		Expect(err).NotTo(HaveOccurred())
		Expect(notice.Text).To(ContainSubstring("luz@example.org"), "the notice says to which address, in the Store's language")

		By("a second request replaces the first: its links stop working")
		Expect(request("luz@example.net").Status).To(Equal(http.StatusAccepted))
		secondCancel := linkFrom("luz@example.com", requestedNL, "/email/cancel", 2)
		secondConfirm := linkFrom("luz@example.net", confirmNL, "/email/confirm", 1)
		status, _ := postForm("/email/confirm", url.Values{"token": {tokenOf(firstConfirm)}})
		Expect(status).NotTo(Equal(http.StatusOK), "the replaced confirmation link")
		status, _ = postForm("/email/cancel", url.Values{"token": {tokenOf(firstCancel)}})
		Expect(status).NotTo(Equal(http.StatusOK), "the replaced cancel link")

		By("the cancel link shows a button (a scanner spends nothing), and its POST stops the change")
		Expect(getFrom(baseURL, "/email/cancel?token="+url.QueryEscape(tokenOf(secondCancel)), specClient, "")).To(Equal(http.StatusOK))
		status, page := postForm("/email/cancel", url.Values{"token": {tokenOf(secondCancel)}})
		Expect(status).To(Equal(http.StatusOK), page)
		Expect(page).To(ContainSubstring("De wijziging is gestopt"))
		status, _ = postForm("/email/confirm", url.Values{"token": {tokenOf(secondConfirm)}})
		Expect(status).NotTo(Equal(http.StatusOK), "the stopped change cannot be confirmed")
		Expect(observedMember(ns, member).Spec.Email).To(Equal(membershipv1alpha1.EmailAddress("luz@example.com")))

		By("a confirmed change ends its cancel link")
		Expect(request("luz@example.io").Status).To(Equal(http.StatusAccepted))
		thirdConfirm := linkFrom("luz@example.io", confirmNL, "/email/confirm", 1)
		thirdCancel := linkFrom("luz@example.com", requestedNL, "/email/cancel", 3)
		status, page = postForm("/email/confirm", url.Values{"token": {tokenOf(thirdConfirm)}})
		Expect(status).To(Equal(http.StatusOK), page)
		status, _ = postForm("/email/cancel", url.Values{"token": {tokenOf(thirdCancel)}})
		Expect(status).NotTo(Equal(http.StatusOK))
		Expect(observedMember(ns, member).Spec.Email).To(Equal(membershipv1alpha1.EmailAddress("luz@example.io")))

		By("a fourth request within the window is refused and sends nothing")
		fourth := changeEmail(map[string]string{"store": ns + "/shop", "email": "luz@example.io", "password": firstPassword,
			"newEmail": "luz@example.co"})
		Expect(fourth.Status).To(Equal(http.StatusTooManyRequests), "%v", fourth.Body)
		Consistently(func() []mailcatcher.Message { return mailTo("luz@example.co", confirmNL) }).
			WithTimeout(time.Second).Should(BeEmpty())
	})
})

var _ = Describe("a new password", func() {
	It("ends the outstanding email-change and 2FA-enrolment links", func() {
		ns := newNamespace()
		createStore(ns, membershipv1alpha1.LocaleEnglish)
		member, secret := joined(ns, "max@example.com", true)
		code, err := totp.GenerateCode(secret, fakeClock.Now())
		Expect(err).NotTo(HaveOccurred())
		Expect(changeEmail(map[string]string{"store": ns + "/shop", "email": "max@example.com", "password": firstPassword,
			"totpCode": code, "newEmail": "max@example.org"}).Status).To(Equal(http.StatusAccepted))
		confirm := linkFrom("max@example.org", confirmSubject, "/email/confirm", 1)
		cancel := linkFrom("max@example.com", requestedSubject, "/email/cancel", 1)
		annotate(ns, member, membershipv1alpha1.ResetTwoFactorAnnotation, "1")
		enrol := linkFrom("max@example.com", "Set up two-factor authentication again for Acme Shop", "/2fa/enrol", 1)
		Eventually(func(g Gomega) { g.Expect(observed(ns, member)(g).ObservedResetTwoFactor).To(Equal("1")) }).Should(Succeed())
		newKey, err := credentialsOf(ns, member)()
		Expect(err).NotTo(HaveOccurred())

		By("the password is changed (with the new key's code)")
		fakeClock.Step(30 * time.Second)
		code, err = totp.GenerateCode(string(newKey.Data[membershipv1alpha1.CredentialTOTPSecret]), fakeClock.Now())
		Expect(err).NotTo(HaveOccurred())
		changed := changePassword(map[string]string{"store": ns + "/shop", "email": "max@example.com",
			"currentPassword": firstPassword, "newPassword": "second secret phrase", "totpCode": code})
		Expect(changed.Status).To(Equal(http.StatusOK), "%v", changed.Body)

		By("using each link (its POST, which spends it against the API server) does nothing now")
		for _, link := range []string{confirm, cancel, enrol} {
			u, err := url.Parse(link)
			Expect(err).NotTo(HaveOccurred())
			status, _ := postForm(u.Path, url.Values{"token": {tokenOf(link)}})
			Expect(status).NotTo(Equal(http.StatusOK), u.Path)
		}
		Expect(observedMember(ns, member).Spec.Email).To(Equal(membershipv1alpha1.EmailAddress("max@example.com")))
	})
})

var _ = Describe("an administrator's change", func() {
	// openLinks requests a password reset and an email change for the Member with email in
	// store ns/shop, and returns the reset link and the email change's two links.
	openLinks := func(ns, email, password, newEmail string, n int) []string {
		GinkgoHelper()
		status, _ := forgot(ns, email)
		Expect(status).To(Equal(http.StatusOK))
		reset := linkFrom(email, resetSubject, "/password/reset", n)
		answer := changeEmail(map[string]string{"store": ns + "/shop", "email": email, "password": password, "newEmail": newEmail})
		Expect(answer.Status).To(Equal(http.StatusAccepted), "%v", answer.Body)
		return []string{reset, linkFrom(newEmail, confirmSubject, "/email/confirm", 1),
			linkFrom(email, requestedSubject, "/email/cancel", n)}
	}
	// dead waits until the links' Secrets are gone (observed, not slept for), then finds that no
	// link opens any more.
	dead := func(ns string, links []string) {
		GinkgoHelper()
		ids := map[string]bool{}
		for _, link := range links {
			tok, err := credentials.ParseToken(tokenOf(link))
			Expect(err).NotTo(HaveOccurred())
			ids[tok.ID] = true
		}
		Eventually(func(g Gomega) []string {
			var secrets corev1.SecretList
			g.Expect(k8sClient.List(ctx, &secrets, client.InNamespace(ns))).To(Succeed())
			var alive []string
			for _, s := range secrets.Items {
				if ids[s.Labels[membershipv1alpha1.TokenIDLabel]] {
					alive = append(alive, s.Name)
				}
			}
			return alive
		}).Should(BeEmpty(), "the links' Secrets are revoked")
		// The server reads links from its cache, which sees the deletions a moment after the API
		// server does.
		for _, link := range links {
			Eventually(func() int { return getFrom(baseURL, link[len(baseURL):], specClient, "") }).WithPolling(200*time.Millisecond).
				Should(BeElementOf(http.StatusGone, http.StatusNotFound), link[:len(baseURL)+16])
		}
	}

	It("of spec.email revokes every outstanding link of the Member", func() {
		ns := newNamespace()
		createStore(ns, membershipv1alpha1.LocaleEnglish)
		member, _ := joined(ns, "ned@example.com", false)
		links := openLinks(ns, "ned@example.com", firstPassword, "ned@example.org", 1)
		Eventually(func() error {
			m := observedMember(ns, member)
			m.Spec.Email = "ned@example.net"
			return k8sClient.Update(ctx, m)
		}).Should(Succeed())
		dead(ns, links)
	})

	It("reset-password revokes the outstanding email-change links", func() {
		ns := newNamespace()
		createStore(ns, membershipv1alpha1.LocaleEnglish)
		member, _ := joined(ns, "ola@example.com", false)
		links := openLinks(ns, "ola@example.com", firstPassword, "ola@example.org", 1)
		annotate(ns, member, membershipv1alpha1.ResetPasswordAnnotation, "1")
		linkFrom("ola@example.com", resetSubject, "/password/reset", 2)
		dead(ns, links[1:])
	})

	It("of the password in Git (spec.passwordSecretRef) revokes every outstanding link", func() {
		ns := newNamespace()
		createStore(ns, membershipv1alpha1.LocaleEnglish)
		source := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pia-password",
				Labels: map[string]string{membershipv1alpha1.PasswordSourceLabel: "true"}},
			Data: map[string][]byte{"password": []byte("the password from git")},
		}
		Expect(k8sClient.Create(ctx, source)).To(Succeed())
		seen = append(seen, "the password from git", "the next password from git")
		Expect(k8sClient.Create(ctx, &membershipv1alpha1.Member{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pia"},
			Spec: membershipv1alpha1.MemberSpec{StoreRef: membershipv1alpha1.StoreReference{Name: "shop"},
				Email: "pia@example.com", Roles: []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff},
				PasswordSecretRef: &membershipv1alpha1.SecretKeyReference{Name: "pia-password", Key: "password"}},
		})).To(Succeed())
		Eventually(func() membershipv1alpha1.MemberPhase { return observedMember(ns, "pia").Status.Phase }).
			Should(Equal(membershipv1alpha1.MemberActive))
		status, _ := forgot(ns, "pia@example.com")
		Expect(status).To(Equal(http.StatusOK))
		reset := linkFrom("pia@example.com", resetSubject, "/password/reset", 1)

		source.Data["password"] = []byte("the next password from git")
		Expect(k8sClient.Update(ctx, source)).To(Succeed())
		annotate(ns, "pia", "touched", "now") // instead of waiting for --password-secret-resync
		dead(ns, []string{reset})
	})
})

var _ = Describe("the last seat", func() {
	It("goes to exactly one of two invitees accepting at once: the one invited first", func() {
		ns := newNamespace()
		createStore(ns, membershipv1alpha1.LocaleEnglish)
		_, first := invite(ns, "invite-quin", "quin@example.com")
		_, second := invite(ns, "invite-rae", "rae@example.com")
		By("the Store's limit is lowered to one seat after both invitations went out")
		Eventually(func() error {
			store := &membershipv1alpha1.Store{}
			if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop"}, store); err != nil {
				return err
			}
			store.Spec.MemberLimit = 1
			return k8sClient.Update(ctx, store)
		}).Should(Succeed())

		statuses := make([]int, 2)
		var wg sync.WaitGroup
		for i, token := range []string{first, second} {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				statuses[i] = postAcceptFrom(fmt.Sprintf("127.0.8.%d", i+1), token, "a long and careful passphrase", "").Status
			}()
		}
		wg.Wait()
		Expect(statuses).To(Equal([]int{http.StatusCreated, http.StatusConflict}), "the first invited gets the seat")
		Eventually(func() []string {
			members := membersOf(ns)
			names := make([]string, 0, len(members))
			for _, m := range members {
				names = append(names, string(m.Spec.Email))
			}
			return names
		}).Should(Equal([]string{"quin@example.com"}), "the refused claim is gone, not only going")
		status, _, body := call(baseURL, "/api/v1/invitations/accept", "127.0.8.9", "",
			map[string]string{"token": second, "password": "a long and careful passphrase", "displayName": ""})
		Expect(status).To(Equal(http.StatusConflict), "and stays refused: %v", body)
		Expect(body).To(HaveKeyWithValue("error", "no-seat"))
	})
})
