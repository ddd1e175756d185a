// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package accept_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
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
	"github.com/storeops/member-operator/test/testenv"
)

// seen collects every token and password the specs used, for the leak check.
var seen []string

// httpClient talks to the server from a given loopback address, so specs can be distinct clients
// for the per-client rate limit.
func httpClient(sourceIP string) *http.Client {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(sourceIP)}, Timeout: 5 * time.Second}
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true},
	}
}

func newNamespace() string {
	GinkgoHelper()
	return testenv.Must(testenv.NewNamespace(ctx, k8sClient, "accept-"))
}

// createStore creates the Store "shop" of the invitations in ns.
func createStore(ns string, locale membershipv1alpha1.Locale) {
	GinkgoHelper()
	Expect(k8sClient.Create(ctx, testenv.NewStore(ns, "shop", "owner-"+ns+"@example.com", func(s *membershipv1alpha1.Store) {
		s.Labels = map[string]string{"team": "web"}
		s.Spec.Locale = locale
	}))).To(Succeed())
}

// invite creates an Invitation and returns the token from the link in the email it sends.
func invite(ns, name, email string, mutate ...func(*membershipv1alpha1.Invitation)) (*membershipv1alpha1.Invitation, string) {
	GinkgoHelper()
	inv := &membershipv1alpha1.Invitation{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: membershipv1alpha1.InvitationSpec{
			StoreRef: membershipv1alpha1.StoreReference{Name: "shop"}, Email: membershipv1alpha1.EmailAddress(email),
			Roles: []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff}, InvitedBy: "Alice Admin",
		},
	}
	for _, m := range mutate {
		m(inv)
	}
	Expect(k8sClient.Create(ctx, inv)).To(Succeed())
	token := tokenFromEmail(email, 1)
	// The email lands before the status says Sent; until then the Invitation controller still
	// checks refusals, and an acceptance racing it (the Member it makes) would be one.
	Eventually(func() membershipv1alpha1.InvitationPhase { return getInvitation(inv).Status.Phase }).
		Should(Equal(membershipv1alpha1.InvitationSent))
	return inv, token
}

// tokenFromEmail waits for the n-th email to address and returns the token of its link.
func tokenFromEmail(email string, n int) string {
	GinkgoHelper()
	var msgs []mailcatcher.Message
	Eventually(func() []mailcatcher.Message {
		msgs = nil
		for _, m := range catcher.Messages() {
			if len(m.To) == 1 && m.To[0] == email {
				msgs = append(msgs, m)
			}
		}
		return msgs
	}).WithTimeout(20 * time.Second).Should(HaveLen(n))
	body, err := msgs[n-1].Body()
	Expect(err).NotTo(HaveOccurred())
	link := body.Link("/invitations/accept")
	Expect(link).To(HavePrefix(baseURL + "/invitations/accept?token="))
	u, err := url.Parse(link)
	Expect(err).NotTo(HaveOccurred())
	token := u.Query().Get("token")
	seen = append(seen, token)
	return token
}

type apiAnswer struct {
	Status int
	Body   map[string]any
}

// specClient is the loopback address the current spec's requests come from: one per spec, so
// specs do not share a rate-limit bucket whatever order they run in.
var specClient string

var _ = BeforeEach(func() {
	specClient = fmt.Sprintf("127.0.1.%d", nextClient())
})

var clients int

func nextClient() int {
	clients++
	return clients
}

// postAccept calls the JSON API as this spec's client.
func postAccept(token, password, displayName string) apiAnswer {
	GinkgoHelper()
	return postAcceptFrom(specClient, token, password, displayName)
}

func postAcceptFrom(sourceIP, token, password, displayName string) apiAnswer {
	GinkgoHelper()
	seen = append(seen, password)
	payload, err := json.Marshal(map[string]string{"token": token, "password": password, "displayName": displayName})
	Expect(err).NotTo(HaveOccurred())
	resp, err := httpClient(sourceIP).Post(baseURL+"/api/v1/invitations/accept", "application/json", bytes.NewReader(payload))
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	out := apiAnswer{Status: resp.StatusCode}
	Expect(json.Unmarshal(raw, &out.Body)).To(Succeed(), string(raw))
	return out
}

func getInvitation(inv *membershipv1alpha1.Invitation) *membershipv1alpha1.Invitation {
	GinkgoHelper()
	out := &membershipv1alpha1.Invitation{}
	Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(inv), out)).To(Succeed())
	return out
}

func membersOf(ns string) []membershipv1alpha1.Member {
	GinkgoHelper()
	var list membershipv1alpha1.MemberList
	Expect(k8sClient.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
	return list.Items
}

func credentialsOf(ns, memberName string) func() (*corev1.Secret, error) {
	return func() (*corev1.Secret, error) {
		secret := &corev1.Secret{}
		err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: membershipv1alpha1.CredentialsSecretName(memberName)}, secret)
		return secret, err
	}
}

// expectMemberActive waits for the Member to be Active and checks its credentials hold the hash
// of password and no password itself.
func expectMemberActive(ns, name, email, password string) *corev1.Secret {
	GinkgoHelper()
	Eventually(func(g Gomega) membershipv1alpha1.MemberPhase {
		m := &membershipv1alpha1.Member{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, m)).To(Succeed())
		return m.Status.Phase
	}).WithTimeout(20 * time.Second).Should(Equal(membershipv1alpha1.MemberActive))
	secret, err := credentialsOf(ns, name)()
	Expect(err).NotTo(HaveOccurred())
	Expect(credentials.VerifyPassword(secret.Data[membershipv1alpha1.CredentialPasswordHash], password)).To(BeTrue(),
		"the chosen password verifies against the stored hash")
	Expect(secret.Data).NotTo(HaveKey(membershipv1alpha1.CredentialPassword), "the plaintext is stored nowhere")
	Expect(string(secret.Data[membershipv1alpha1.CredentialUsername])).To(Equal(email))
	seen = append(seen, string(secret.Data[membershipv1alpha1.CredentialPasswordHash]))
	if s := string(secret.Data[membershipv1alpha1.CredentialTOTPSecret]); s != "" {
		seen = append(seen, s)
	}
	return secret
}

var _ = Describe("the JSON API", func() {
	It("answers 201 with the Member, which becomes Active with the chosen password; the invitation is Accepted and the store told", func() {
		ns := newNamespace()
		createStore(ns, "en")
		email := "erin@example.com"
		inv, token := invite(ns, "invite-erin", email)
		password := "a long and careful passphrase"

		answer := postAccept(token, password, "Erin Example")
		Expect(answer.Status).To(Equal(http.StatusCreated), "%v", answer.Body)
		name, _ := answer.Body["member"].(string)
		Expect(name).To(MatchRegexp(`^erin-[0-9a-f]{10}$`))
		Expect(answer.Body).NotTo(HaveKey("twoFactor"))

		expectMemberActive(ns, name, email, password)
		m := &membershipv1alpha1.Member{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, m)).To(Succeed())
		Expect(m.Spec.Roles).To(Equal([]membershipv1alpha1.Role{membershipv1alpha1.RoleStaff}))
		Expect(string(m.Spec.DisplayName)).To(Equal("Erin Example"))
		Expect(m.Labels).To(HaveKeyWithValue("team", "web"), "the Store's labels")
		Expect(m.Labels).To(HaveKeyWithValue(membershipv1alpha1.StoreLabel, "shop"))
		Eventually(func() string {
			Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, m)).To(Succeed())
			return m.Status.Invitation
		}).Should(Equal("invite-erin"))

		// The server tells the Invitation controller, the one writer of the Invitation's status,
		// which records the acceptance.
		Eventually(func(g Gomega) {
			got := getInvitation(inv)
			g.Expect(got.Status.Phase).To(Equal(membershipv1alpha1.InvitationAccepted))
			g.Expect(got.Status.Member).To(Equal(name))
			g.Expect(got.Status.AcceptedAt).NotTo(BeNil())
		}).Should(Succeed())
		Eventually(func() string { return getInvitation(inv).Status.TokenHash }).Should(BeEmpty(), "the link's hash is cleared")

		Eventually(func() []string {
			var subjects []string
			for _, msg := range catcher.Messages() {
				if len(msg.To) == 1 && msg.To[0] == "owner-"+ns+"@example.com" {
					subjects = append(subjects, msg.Subject())
				}
			}
			return subjects
		}).Should(ConsistOf("Erin Example joined Acme Shop"), "the member-joined email goes to the notification address")

		By("the same link again: 409, and still one Member")
		Expect(postAccept(token, password, "").Status).To(Equal(http.StatusConflict))
		Expect(membersOf(ns)).To(HaveLen(1))
	})

	It("answers 400 naming the field for a weak, too long or email-like password and a malformed token, creating nothing", func() {
		ns := newNamespace()
		createStore(ns, "en")
		_, token := invite(ns, "invite-frank", "frank.miller@example.com")
		for _, tc := range []struct{ token, password, field, code string }{
			{token, "short", "password", "too-short"},
			{token, strings.Repeat("x", 73), "password", "too-long"},
			{token, "Frank.Miller-is-my-password", "password", "contains-email"},
			{"not-a-token", "a long and careful passphrase", "token", "malformed"},
			{token[:len(token)-1], "a long and careful passphrase", "token", "malformed"},
		} {
			answer := postAccept(tc.token, tc.password, "")
			Expect(answer.Status).To(Equal(http.StatusBadRequest), "%v", answer.Body)
			Expect(answer.Body).To(HaveKeyWithValue("field", tc.field))
			Expect(answer.Body).To(HaveKeyWithValue("code", tc.code))
			Expect(answer.Body["message"]).NotTo(ContainSubstring(tc.password))
		}
		answer := postAccept(token, "a long and careful passphrase", "Frank\nBcc: x")
		Expect(answer.Status).To(Equal(http.StatusBadRequest))
		Expect(answer.Body).To(HaveKeyWithValue("field", "displayName"))
		Expect(membersOf(ns)).To(BeEmpty())
	})

	It("answers 404 for a made-up token, and 410 for an expired and for a resent invitation's old link, creating no Member", func() {
		ns := newNamespace()
		createStore(ns, "en")

		madeUp, err := credentials.NewToken(rand.Reader)
		Expect(err).NotTo(HaveOccurred())
		Expect(postAccept(madeUp.String(), "a long and careful passphrase", "").Status).To(Equal(http.StatusNotFound))

		By("a resent invitation: the old link is gone (410), the new one works")
		inv, oldToken := invite(ns, "invite-gina", "gina@example.com")
		Eventually(func() membershipv1alpha1.InvitationPhase { return getInvitation(inv).Status.Phase }).Should(Equal(membershipv1alpha1.InvitationSent))
		latest := getInvitation(inv)
		latest.Annotations = map[string]string{membershipv1alpha1.ResendAnnotation: "again"}
		Expect(k8sClient.Update(ctx, latest)).To(Succeed())
		newToken := tokenFromEmail("gina@example.com", 2)
		Expect(newToken).NotTo(Equal(oldToken))
		Expect(postAccept(oldToken, "a long and careful passphrase", "").Status).To(Equal(http.StatusGone))
		old, err := credentials.ParseToken(oldToken)
		Expect(err).NotTo(HaveOccurred())
		forged := old.ID + "." + strings.Repeat("A", 43)
		Expect(postAccept(forged, "a long and careful passphrase", "").Status).To(Equal(http.StatusNotFound),
			"a known ID with a wrong secret is unknown, not revealed as rotated")

		By("an expired invitation")
		expiring, expiredToken := invite(ns, "invite-hank", "hank@example.com")
		Eventually(func() membershipv1alpha1.InvitationPhase { return getInvitation(expiring).Status.Phase }).Should(Equal(membershipv1alpha1.InvitationSent))
		fakeClock.SetTime(getInvitation(expiring).Status.ExpiresAt.Time)
		Expect(postAccept(expiredToken, "a long and careful passphrase", "").Status).To(Equal(http.StatusGone),
			"past expiresAt, even before the controller marks it")
		Expect(membersOf(ns)).To(BeEmpty())

		By("the resent one's new link still works (its TTL restarted later)")
		_ = newToken
	})

	It("answers 410 and creates nothing when a sent invitation's roles were edited to owner", func() {
		ns := newNamespace()
		createStore(ns, "en")
		inv, token := invite(ns, "invite-mo", "mo@example.com")
		Eventually(func() membershipv1alpha1.InvitationPhase { return getInvitation(inv).Status.Phase }).Should(Equal(membershipv1alpha1.InvitationSent))
		latest := getInvitation(inv)
		latest.Spec.Roles = []membershipv1alpha1.Role{membershipv1alpha1.RoleOwner}
		Expect(k8sClient.Update(ctx, latest)).To(Succeed())
		Eventually(func() membershipv1alpha1.InvitationPhase { return getInvitation(inv).Status.Phase }).Should(
			Equal(membershipv1alpha1.InvitationFailed), "the controller withdraws it")
		Expect(postAccept(token, "a long and careful passphrase", "").Status).To(Equal(http.StatusGone))
		Expect(membersOf(ns)).To(BeEmpty())
	})

	It("lets exactly one of two concurrent submissions of one link win: one 201, one 409, one Member", func() {
		ns := newNamespace()
		createStore(ns, "en")
		_, token := invite(ns, "invite-ivy", "ivy@example.com")
		var wg sync.WaitGroup
		start := make(chan struct{})
		statuses := make([]int, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				<-start
				statuses[i] = postAccept(token, "a long and careful passphrase "+string(rune('a'+i)), "").Status
			}()
		}
		close(start)
		wg.Wait()
		Expect(statuses).To(ConsistOf(http.StatusCreated, http.StatusConflict))
		Expect(membersOf(ns)).To(HaveLen(1))
	})

	It("enrols 2FA: the secret it returns gives codes that validate against the Member's totp-secret", func() {
		ns := newNamespace()
		createStore(ns, "en")
		_, token := invite(ns, "invite-jo", "jo@example.com", func(i *membershipv1alpha1.Invitation) { i.Spec.TwoFactor.Required = true })
		answer := postAccept(token, "a long and careful passphrase", "")
		Expect(answer.Status).To(Equal(http.StatusCreated))
		enrolment, _ := answer.Body["twoFactor"].(map[string]any)
		secret, _ := enrolment["secret"].(string)
		Expect(secret).NotTo(BeEmpty())
		Expect(enrolment["uri"]).To(HavePrefix("otpauth://totp/Acme%20Shop:jo@example.com?"))
		seen = append(seen, secret)
		stored := expectMemberActive(ns, answer.Body["member"].(string), "jo@example.com", "a long and careful passphrase")
		code, err := totp.GenerateCode(secret, time.Now())
		Expect(err).NotTo(HaveOccurred())
		Expect(credentials.ValidateTOTP(string(stored.Data[membershipv1alpha1.CredentialTOTPSecret]), code, time.Now())).To(BeTrue())
	})

	It("answers 429 to a client over its rate while still answering another client", func() {
		var limited int
		for range 100 {
			resp, err := httpClient("127.0.0.3").Get(baseURL + "/invitations/accept?token=x")
			Expect(err).NotTo(HaveOccurred())
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusTooManyRequests {
				limited++
				Expect(resp.Header.Get("Retry-After")).NotTo(BeEmpty())
			}
		}
		Expect(limited).To(BeNumerically(">", 0))
		Expect(postAcceptFrom("127.0.0.3", "x", "a long and careful passphrase", "").Status).To(Equal(http.StatusTooManyRequests))
		Expect(postAcceptFrom("127.0.0.4", "x", "a long and careful passphrase", "").Status).To(Equal(http.StatusBadRequest),
			"another client is served meanwhile")
	})

	It("limits a brute force of 1,000 wrong tokens from one client while another client's correct token succeeds", func() {
		ns := newNamespace()
		createStore(ns, "en")
		inv, token := invite(ns, "invite-fay", "fay@example.com")

		By("one client trying 1,000 well-formed tokens that are not the invitation's")
		answers := map[int]int{}
		for range 1000 {
			guess, err := credentials.NewToken(rand.Reader)
			Expect(err).NotTo(HaveOccurred())
			seen = append(seen, guess.String())
			answers[postAcceptFrom("127.0.0.6", guess.String(), "a long and careful passphrase", "").Status]++
		}
		_, _ = fmt.Fprintf(GinkgoWriter, "brute force answers by status: %v\n", answers)
		AddReportEntry("brute force: answers by status to 1,000 wrong tokens from one client", fmt.Sprint(answers))
		Expect(answers[http.StatusCreated]).To(BeZero(), "no guess is accepted")
		Expect(answers[http.StatusTooManyRequests]).To(Equal(1000-clientBurst),
			"all but the client's burst are turned away (the limiter's clock is the suite's fake one: nothing refills)")
		Expect(answers[http.StatusNotFound]).To(Equal(clientBurst), "the burst is answered: unknown link")
		Expect(getInvitation(inv).Status.Phase).To(Equal(membershipv1alpha1.InvitationSent), "nothing was accepted")

		By("another client's correct token meanwhile")
		answer := postAcceptFrom("127.0.0.7", token, "a long and careful passphrase", "Fay")
		Expect(answer.Status).To(Equal(http.StatusCreated), "%v", answer.Body)
	})

	It("refuses a cross-origin form post and sets the security headers", func() {
		req, err := http.NewRequest(http.MethodPost, baseURL+"/invitations/accept", strings.NewReader("token=x"))
		Expect(err).NotTo(HaveOccurred())
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := httpClient("127.0.0.5").Do(req)
		Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusForbidden))

		resp, err = httpClient("127.0.0.5").Get(baseURL + "/invitations/accept?token=x")
		Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		Expect(resp.Header.Get("Content-Security-Policy")).To(ContainSubstring("default-src 'none'"))
		Expect(resp.Header.Get("Referrer-Policy")).To(Equal("no-referrer"))
		Expect(resp.Header.Get("X-Frame-Options")).To(Equal("DENY"))

		big := `{"token":"` + strings.Repeat("x", 64<<10) + `"}`
		resp, err = httpClient("127.0.0.5").Post(baseURL+"/api/v1/invitations/accept", "application/json", strings.NewReader(big))
		Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusBadRequest), "bodies are size-limited")
	})
})
