// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package accept_test

import (
	"fmt"
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
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/test/mailcatcher"
	"github.com/storeops/member-operator/test/testenv"
)

// One person, one login, many stores (accounts): joining a store with an existing account, and
// self-service acting on the account in every store at once.

// createNamedStore creates the Store "shop" of ns with a display name of its own.
func createNamedStore(ns, displayName string) {
	GinkgoHelper()
	Expect(k8sClient.Create(ctx, testenv.NewStore(ns, "shop", "owner-"+ns+"@example.com", func(s *membershipv1alpha1.Store) {
		s.Spec.DisplayName = membershipv1alpha1.DisplayName(displayName)
	}))).To(Succeed())
}

// accountOf reads the Account of email.
func accountOf(email string) func(Gomega) *membershipv1alpha1.Account {
	return func(g Gomega) *membershipv1alpha1.Account {
		acct := &membershipv1alpha1.Account{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: membershipv1alpha1.AccountName(membershipv1alpha1.EmailAddress(email))}, acct)).To(Succeed())
		return acct
	}
}

// accountSecretOf reads the Secret of the Account of email, in the operator's namespace.
func accountSecretOf(email string) (*corev1.Secret, error) {
	secret := &corev1.Secret{}
	err := k8sClient.Get(ctx, client.ObjectKey{Namespace: testenv.AccountNamespace,
		Name: membershipv1alpha1.AccountSecretName(membershipv1alpha1.AccountName(membershipv1alpha1.EmailAddress(email)))}, secret)
	return secret, err
}

// joinWithAccount accepts an invitation to ns's store by signing in to the account of email, whose
// password is firstPassword.
func joinWithAccount(ns, email, totpSecret string) string {
	password := firstPassword
	GinkgoHelper()
	token := inviteAgain(ns, "invite-again", email)
	body := map[string]string{"token": token, "password": password}
	if totpSecret != "" {
		code, err := totp.GenerateCode(totpSecret, fakeClock.Now())
		Expect(err).NotTo(HaveOccurred())
		body["totpCode"] = code
	}
	answer := postJSON("/api/v1/invitations/accept", body, "password")
	Expect(answer.Status).To(Equal(http.StatusCreated), "%v", answer.Body)
	name := answer.Body["member"].(string)
	expectMemberActive(ns, name, email, password)
	return name
}

var _ = Describe("joining a store with an existing account", func() {
	It("asks the invitee to sign in: 401 naming the field when wrong, and no Member; then both stores verify one password and one 2FA key", func() {
		nsA, nsB := newNamespace(), newNamespace()
		createNamedStore(nsA, "Birch Books")
		createStore(nsB, membershipv1alpha1.LocaleEnglish)
		email := "nora.accounts@example.com"
		memberA, totpSecret := joined(nsA, email, true)
		Eventually(accountOf(email)).Should(HaveField("Status.Members", HaveLen(1)))

		token := inviteAgain(nsB, "invite-nora", email)
		By("the page asks for the account's password and 2FA code, not a new password, and names no other store")
		page := getPage("/invitations/accept?token=" + token)
		Expect(page).To(ContainSubstring(`id="signin-intro"`))
		Expect(page).To(ContainSubstring(`id="totpCode"`))
		Expect(page).To(ContainSubstring(`href="../password/forgot?invitation=`))
		Expect(page).NotTo(ContainSubstring("passwordConfirmation"))
		Expect(page).NotTo(ContainSubstring("Birch Books"))
		Expect(page).NotTo(ContainSubstring(nsA))

		By("a wrong password")
		answer := postJSON("/api/v1/invitations/accept", map[string]string{"token": token, "password": "not the password at all"}, "password")
		Expect(answer.Status).To(Equal(http.StatusUnauthorized), "%v", answer.Body)
		Expect(answer.Body).To(HaveKeyWithValue("field", "password"))
		Expect(membersOf(nsB)).To(BeEmpty(), "no Member for a wrong password")

		By("the right password without the 2FA code")
		answer = postJSON("/api/v1/invitations/accept", map[string]string{"token": token, "password": firstPassword}, "password")
		Expect(answer.Status).To(Equal(http.StatusUnauthorized), "%v", answer.Body)
		Expect(answer.Body).To(HaveKeyWithValue("field", "totpCode"))
		Expect(membersOf(nsB)).To(BeEmpty())

		By("the right password and code")
		code, err := totp.GenerateCode(totpSecret, fakeClock.Now())
		Expect(err).NotTo(HaveOccurred())
		answer = postJSON("/api/v1/invitations/accept", map[string]string{"token": token, "password": firstPassword, "totpCode": code}, "password")
		Expect(answer.Status).To(Equal(http.StatusCreated), "%v", answer.Body)
		Expect(answer.Body).NotTo(HaveKey("twoFactor"), "the account is enrolled already: no new key")
		memberB := answer.Body["member"].(string)
		secretB := expectMemberActive(nsB, memberB, email, firstPassword)
		secretA := expectMemberActive(nsA, memberA, email, firstPassword)
		Expect(string(secretB.Data[membershipv1alpha1.CredentialTOTPSecret])).To(Equal(totpSecret), "one 2FA key per person")
		Expect(string(secretA.Data[membershipv1alpha1.CredentialTOTPSecret])).To(Equal(totpSecret))
		Expect(secretB.Labels).To(HaveKeyWithValue(membershipv1alpha1.AccountLabel, membershipv1alpha1.AccountName(membershipv1alpha1.EmailAddress(email))))
		Eventually(accountOf(email)).Should(And(HaveField("Status.Members", HaveLen(2)), HaveField("Status.TwoFactor", BeTrue()),
			HaveField("Spec.Email", membershipv1alpha1.EmailAddress(email))))
		Eventually(observed(nsB, memberB)).Should(HaveField("Account", membershipv1alpha1.AccountName(membershipv1alpha1.EmailAddress(email))))
	})

	It("shows the sign-in form in a real browser, and joins with the account's password", func() {
		browser := newBrowser()
		nsA, nsB := newNamespace(), newNamespace()
		createStore(nsA, membershipv1alpha1.LocaleEnglish)
		createStore(nsB, membershipv1alpha1.LocaleEnglish)
		email := "otto.accounts@example.com"
		memberA, _ := joined(nsA, email, false)
		token := inviteAgain(nsB, "invite-otto", email)

		do(browser, chromedp.Navigate(linkFor(token)), chromedp.WaitVisible(chromedp.ID("signin-intro")), screenshot("join-1-signin"))
		Expect(text(browser, "#signin-intro")).To(ContainSubstring("You already have an account for " + email))
		Expect(evaluate[bool](browser, `document.getElementById('passwordConfirmation') === null`)).To(BeTrue(),
			"the set-password form is not shown")
		Expect(attribute(browser, "#password", "autocomplete")).To(Equal("current-password"))
		do(browser,
			chromedp.SendKeys(chromedp.ID("password"), "a wrong guess, surely"),
			chromedp.Click(chromedp.ID("submit")),
			chromedp.WaitVisible(chromedp.ID("password-error")),
			screenshot("join-2-wrong"))
		Expect(text(browser, "#password-error")).To(Equal("The password or code is not right."))
		Expect(membersOf(nsB)).To(BeEmpty())
		do(browser,
			chromedp.SendKeys(chromedp.ID("password"), firstPassword),
			chromedp.Click(chromedp.ID("submit")),
			chromedp.WaitVisible(chromedp.ID("success")),
			screenshot("join-3-welcome"))
		expectMemberActive(nsB, onlyMember(nsB), email, firstPassword)
		expectMemberActive(nsA, memberA, email, firstPassword)
	})
})

var _ = Describe("forgetting the account's password while joining", func() {
	It("leads from the invitation through the reset and back to it, in a real browser", func() {
		browser := newBrowser()
		nsA, nsB := newNamespace(), newNamespace()
		createStore(nsA, membershipv1alpha1.LocaleEnglish)
		createStore(nsB, membershipv1alpha1.LocaleEnglish)
		email := "petra.accounts@example.com"
		memberA, _ := joined(nsA, email, false)
		token := inviteAgain(nsB, "invite-petra", email)
		newPassword := "petra remembers this one"
		seen = append(seen, newPassword)

		do(browser, chromedp.Navigate(linkFor(token)), chromedp.WaitVisible(chromedp.ID("forgot-link")),
			chromedp.Click(chromedp.ID("forgot-link")), chromedp.WaitVisible(chromedp.ID("submit")), screenshot("join-forgot-1-form"))
		Expect(attribute(browser, "#email", "value")).To(Equal(email), "the invited address is filled in")
		do(browser, chromedp.Click(chromedp.ID("submit")), chromedp.WaitVisible(chromedp.ID("done")))

		By("the emailed link carries the invitation")
		link := resetLink(email, 1)
		Expect(link).To(ContainSubstring("&invitation="))
		do(browser, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("passwordConfirmation")),
			chromedp.SendKeys(chromedp.ID("password"), newPassword),
			chromedp.SendKeys(chromedp.ID("passwordConfirmation"), newPassword),
			chromedp.Click(chromedp.ID("submit")),
			chromedp.WaitVisible(chromedp.ID("continue-link")), screenshot("join-forgot-2-done"))
		Expect(text(browser, "#done-body")).To(ContainSubstring("Go back to your invitation"))
		Expect(passwordVerifies(nsA, memberA, newPassword)).To(BeTrue(), "the reset acted on the account")

		By("back on the invitation, signing in with the new password joins")
		do(browser, chromedp.Click(chromedp.ID("continue-link")), chromedp.WaitVisible(chromedp.ID("signin-intro")),
			chromedp.SendKeys(chromedp.ID("password"), newPassword),
			chromedp.Click(chromedp.ID("submit")),
			chromedp.WaitVisible(chromedp.ID("success")), screenshot("join-forgot-3-welcome"))
		expectMemberActive(nsB, onlyMember(nsB), email, newPassword)
		expectMemberActive(nsA, memberA, email, newPassword)
	})

	It("never points a reset email to an invitation for another address", func() {
		nsA, nsB := newNamespace(), newNamespace()
		createStore(nsA, membershipv1alpha1.LocaleEnglish)
		createStore(nsB, membershipv1alpha1.LocaleEnglish)
		victim, other := "sora.accounts@example.com", "ulla.accounts@example.com"
		joined(nsA, victim, false)
		othersInvitation := inviteAgain(nsB, "invite-ulla", other)

		By("a forgot form for the victim's address posted with somebody else's invitation")
		status, _ := postForm("/password/forgot", url.Values{"email": {victim}, "invitation": {othersInvitation}})
		Expect(status).To(Equal(http.StatusOK))
		link := resetLink(victim, 1)
		Expect(link).NotTo(ContainSubstring("invitation="), "the reset leads to no invitation but the address's own")

		By("nor does the reset page carry one it is handed")
		page := getPage(strings.TrimPrefix(link, baseURL) + "&invitation=" + url.QueryEscape(othersInvitation))
		Expect(page).To(ContainSubstring(`id="passwordConfirmation"`))
		Expect(page).NotTo(ContainSubstring(`name="invitation"`))
	})
})

var _ = Describe("self-service on an account", func() {
	It("changes the password in every store with one request; the old one verifies nowhere", func() {
		const stores = 10
		email := "pia.accounts@example.com"
		namespaces := make([]string, stores)
		members := make([]string, stores)
		for i := range namespaces {
			namespaces[i] = newNamespace()
			createStore(namespaces[i], membershipv1alpha1.LocaleEnglish)
		}
		members[0], _ = joined(namespaces[0], email, false)
		for i := 1; i < stores; i++ {
			members[i] = joinWithAccount(namespaces[i], email, "")
		}
		Eventually(accountOf(email)).Should(HaveField("Status.Members", HaveLen(stores)))

		started := time.Now()
		answer := changePassword(map[string]string{"email": email, "currentPassword": firstPassword, "newPassword": "second secret phrase"})
		took := time.Since(started)
		Expect(answer.Status).To(Equal(http.StatusOK), "%v", answer.Body)
		// The answer waits until every store carries the new hash: checked without Eventually.
		for i := range namespaces {
			Expect(passwordVerifies(namespaces[i], members[i], "second secret phrase")).To(BeTrue(), "store %d", i)
			Expect(passwordVerifies(namespaces[i], members[i], firstPassword)).To(BeFalse(), "store %d", i)
		}
		AddReportEntry("password change reached every credential Secret", fmt.Sprintf("%d stores in %s", stores, took.Round(time.Millisecond)))
		_, _ = fmt.Fprintf(GinkgoWriter, "password change: %d credential Secrets carried the new hash %s after the request was sent\n", stores, took.Round(time.Millisecond))
		Eventually(func() []mailcatcher.Message { return mailTo(email, changedSubject) }).Should(HaveLen(1), "the person is told once, not once per store")
		Consistently(func() []mailcatcher.Message { return mailTo(email, changedSubject) }, "500ms").Should(HaveLen(1))
	})

	It("accepts a 2FA code once for the whole account: not again through another store, nor to join one", func() {
		nsA, nsB, nsC := newNamespace(), newNamespace(), newNamespace()
		for _, ns := range []string{nsA, nsB, nsC} {
			createStore(ns, membershipv1alpha1.LocaleEnglish)
		}
		email := "yara.accounts@example.com"
		_, totpSecret := joined(nsA, email, true)
		joinWithAccount(nsB, email, totpSecret)
		Eventually(accountOf(email)).Should(HaveField("Status.Members", HaveLen(2)))

		fakeClock.Step(time.Minute) // a fresh TOTP step: the one used to join is spent
		code, err := totp.GenerateCode(totpSecret, fakeClock.Now())
		Expect(err).NotTo(HaveOccurred())
		second := "yara's second secret"
		answer := changePassword(map[string]string{"store": nsA + "/shop", "email": email, "currentPassword": firstPassword,
			"newPassword": second, "totpCode": code})
		Expect(answer.Status).To(Equal(http.StatusOK), "%v", answer.Body)

		By("the same code, through the other store")
		answer = changePassword(map[string]string{"store": nsB + "/shop", "email": email, "currentPassword": second,
			"newPassword": "yara's third secret", "totpCode": code})
		Expect(answer.Status).To(Equal(http.StatusUnauthorized), "%v", answer.Body)
		Expect(answer.Body).To(HaveKeyWithValue("field", "totpCode"))

		By("the same code, to join a third store")
		token := inviteAgain(nsC, "invite-yara", email)
		answer = postJSON("/api/v1/invitations/accept", map[string]string{"token": token, "password": second, "totpCode": code}, "password")
		Expect(answer.Status).To(Equal(http.StatusUnauthorized), "%v", answer.Body)
		Expect(answer.Body).To(HaveKeyWithValue("field", "totpCode"))
		Expect(membersOf(nsC)).To(BeEmpty())
	})

	It("works by email for members of two Stores with the same name in different namespaces", func() {
		nsA, nsB := newNamespace(), newNamespace()
		createStore(nsA, membershipv1alpha1.LocaleEnglish)
		createStore(nsB, membershipv1alpha1.LocaleEnglish)
		memberA, _ := joined(nsA, "quinn.accounts@example.com", false)
		memberB, _ := joined(nsB, "rosa.accounts@example.com", false)
		for _, who := range []struct{ ns, member, email string }{{nsA, memberA, "quinn.accounts@example.com"}, {nsB, memberB, "rosa.accounts@example.com"}} {
			// "shop" names a Store in both namespaces: the email decides.
			answer := changePassword(map[string]string{"store": "shop", "email": who.email, "currentPassword": firstPassword, "newPassword": "second secret phrase"})
			Expect(answer.Status).To(Equal(http.StatusOK), "%s: %v", who.email, answer.Body)
			Expect(passwordVerifies(who.ns, who.member, "second secret phrase")).To(BeTrue())
		}
	})

	It("keeps the other store when the person leaves one, and deletes the Account and its Secret with the last Member", func() {
		nsA, nsB := newNamespace(), newNamespace()
		createStore(nsA, membershipv1alpha1.LocaleEnglish)
		createStore(nsB, membershipv1alpha1.LocaleEnglish)
		email := "sami.accounts@example.com"
		memberA, _ := joined(nsA, email, false)
		memberB := joinWithAccount(nsB, email, "")
		Eventually(accountOf(email)).Should(HaveField("Status.Members", HaveLen(2)))
		accountSecret, err := accountSecretOf(email)
		Expect(err).NotTo(HaveOccurred())
		acct := accountOf(email)(Default)
		Expect(metav1.IsControlledBy(accountSecret, acct)).To(BeTrue(), "the Account controls its Secret")

		Expect(k8sClient.Delete(ctx, &membershipv1alpha1.Member{ObjectMeta: metav1.ObjectMeta{Namespace: nsB, Name: memberB}})).To(Succeed())
		Eventually(accountOf(email)).Should(HaveField("Status.Members", ConsistOf(HaveField("Namespace", nsA))))
		Expect(passwordVerifies(nsA, memberA, firstPassword)).To(BeTrue(), "the other store's access is untouched")

		Expect(k8sClient.Delete(ctx, &membershipv1alpha1.Member{ObjectMeta: metav1.ObjectMeta{Namespace: nsA, Name: memberA}})).To(Succeed())
		Eventually(func() bool {
			err := k8sClient.Get(ctx, client.ObjectKey{Name: acct.Name}, &membershipv1alpha1.Account{})
			return apierrors.IsNotFound(err)
		}).Should(BeTrue(), "the Account goes with its last Member")
		Eventually(func() bool {
			_, err := accountSecretOf(email)
			return apierrors.IsNotFound(err)
		}).Should(BeTrue(), "and its Secret with it")
	})
})

var _ = Describe("the upgrade to accounts", func() {
	It("keeps both passwords of two Members with one email that an earlier version made with different passwords", func() {
		nsA, nsB := newNamespace(), newNamespace()
		createStore(nsA, membershipv1alpha1.LocaleEnglish)
		createStore(nsB, membershipv1alpha1.LocaleEnglish)
		email := "tove.accounts@example.com"
		// What the earlier version left: Members created by an acceptance (InvitationAnnotation)
		// whose credential Secrets it wrote with the chosen password's hash and no AccountLabel.
		memberA := legacyMember(nsA, email, "the first store's phrase")
		Eventually(accountOf(email)).Should(HaveField("Status.Members", HaveLen(1)))
		memberB := legacyMember(nsB, email, "the second store's phrase")
		Eventually(accountOf(email)).Should(HaveField("Status.Members", HaveLen(1)), "the earliest Member seeds the Account")
		Consistently(func() bool {
			return passwordVerifies(nsA, memberA, "the first store's phrase") && passwordVerifies(nsB, memberB, "the second store's phrase")
		}, "2s").Should(BeTrue(), "no working password stops working")
		secret, err := accountSecretOf(email)
		Expect(err).NotTo(HaveOccurred())
		Expect(credentials.VerifyPassword(secret.Data[membershipv1alpha1.CredentialPasswordHash], "the first store's phrase")).To(BeTrue())
	})
})

// getPage GETs path as this spec's client and returns the page.
func getPage(path string) string {
	GinkgoHelper()
	resp, err := httpClient(specClient).Get(baseURL + path)
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	page, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	Expect(resp.StatusCode).To(Equal(http.StatusOK), string(page))
	return string(page)
}

// legacyMember makes what an operator without accounts left of an accepted invitation: a Member
// annotated with its Invitation and a credential Secret it controls, holding the hash of the
// password chosen then and no AccountLabel. It returns the Member's name once it is Active.
func legacyMember(ns, email, password string) string {
	GinkgoHelper()
	member := &membershipv1alpha1.Member{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "legacy-member",
			Annotations: map[string]string{membershipv1alpha1.InvitationAnnotation: "invite-before-accounts"}},
		Spec: membershipv1alpha1.MemberSpec{
			StoreRef: membershipv1alpha1.StoreReference{Name: "shop"}, Email: membershipv1alpha1.EmailAddress(email),
			Roles: []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff},
		},
	}
	Expect(k8sClient.Create(ctx, member)).To(Succeed())
	hash, err := credentials.HashPassword(password, credentials.MinBcryptCost)
	Expect(err).NotTo(HaveOccurred())
	seen = append(seen, password, string(hash))
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: membershipv1alpha1.CredentialsSecretName(member.Name),
			Labels: map[string]string{
				membershipv1alpha1.ManagedByLabel: membershipv1alpha1.ManagedByValue,
				membershipv1alpha1.StoreLabel:     "shop",
				membershipv1alpha1.MemberLabel:    member.Name,
			},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: membershipv1alpha1.GroupVersion.String(), Kind: "Member",
				Name: member.Name, UID: member.UID, Controller: ptrTo(true), BlockOwnerDeletion: ptrTo(true)}},
		},
		Data: map[string][]byte{
			membershipv1alpha1.CredentialUsername:     []byte(email),
			membershipv1alpha1.CredentialPasswordHash: hash,
		},
	}
	Expect(k8sClient.Create(ctx, secret)).To(Succeed())
	Eventually(observed(ns, member.Name)).Should(HaveField("Phase", membershipv1alpha1.MemberActive))
	return member.Name
}

func ptrTo[T any](v T) *T { return &v }

// inviteAgain invites email, who has had emails from the operator before, to ns's store and
// returns the token of the new invitation's link.
func inviteAgain(ns, name, email string) string {
	GinkgoHelper()
	before := len(catcher.Messages())
	Expect(k8sClient.Create(ctx, &membershipv1alpha1.Invitation{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: membershipv1alpha1.InvitationSpec{
			StoreRef: membershipv1alpha1.StoreReference{Name: "shop"}, Email: membershipv1alpha1.EmailAddress(email),
			Roles: []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff}, InvitedBy: "Alice Admin",
		},
	})).To(Succeed())
	var link string
	Eventually(func(g Gomega) {
		for _, m := range catcher.Messages()[before:] {
			if len(m.To) == 1 && m.To[0] == email && strings.HasPrefix(m.Subject(), "You have been invited") {
				body, err := m.Body()
				g.Expect(err).NotTo(HaveOccurred())
				link = body.Link("/invitations/accept")
			}
		}
		g.Expect(link).NotTo(BeEmpty())
	}).Should(Succeed())
	u, err := url.Parse(link)
	Expect(err).NotTo(HaveOccurred())
	token := u.Query().Get("token")
	seen = append(seen, token)
	return token
}

var _ = Describe("a Member that leaves its account", func() {
	It("keeps the password and the 2FA key the person enrolled there when an administrator gives it another address", func() {
		nsA, nsB := newNamespace(), newNamespace()
		createStore(nsA, membershipv1alpha1.LocaleEnglish)
		createStore(nsB, membershipv1alpha1.LocaleEnglish)
		email := "vera.accounts@example.com"
		_, totpSecret := joined(nsA, email, true)
		memberB := joinWithAccount(nsB, email, totpSecret) // store B does not require 2FA
		Expect(string(expectMemberActive(nsB, memberB, email, firstPassword).Data[membershipv1alpha1.CredentialTOTPSecret])).To(Equal(totpSecret))

		By("store B's administrator edits the Member's address")
		m := observedMember(nsB, memberB)
		base := m.DeepCopy()
		m.Spec.Email = "vera.elsewhere@example.com"
		Expect(k8sClient.Patch(ctx, m, client.MergeFrom(base))).To(Succeed())

		Eventually(observed(nsB, memberB)).Should(HaveField("Account", BeEmpty()), "it left the account of the old address")
		Eventually(accountOf(email)).Should(HaveField("Status.Members", HaveLen(1)))
		Consistently(func(g Gomega) {
			secret, err := credentialsOf(nsB, memberB)()
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(string(secret.Data[membershipv1alpha1.CredentialUsername])).To(Equal("vera.elsewhere@example.com"))
			g.Expect(credentials.VerifyPassword(secret.Data[membershipv1alpha1.CredentialPasswordHash], firstPassword)).To(BeTrue())
			g.Expect(string(secret.Data[membershipv1alpha1.CredentialTOTPSecret])).To(Equal(totpSecret), "2FA is not lost by moving")
		}, "2s").Should(Succeed())
	})
})

// confirmEmailChange follows the confirmation link sent to newEmail and returns the page's status.
func confirmEmailChange(newEmail string) int {
	GinkgoHelper()
	link := linkFrom(newEmail, confirmSubject, "/email/confirm", 1)
	status, page := postForm("/email/confirm", url.Values{"token": {tokenOf(link)}})
	Expect(status).To(Equal(http.StatusOK), page)
	return status
}

var _ = Describe("changing the login email of an account", func() {
	It("moves the account with every store at once; the old address's Account goes; the old address is told once", func() {
		nsA, nsB := newNamespace(), newNamespace()
		createStore(nsA, membershipv1alpha1.LocaleEnglish)
		createStore(nsB, membershipv1alpha1.LocaleEnglish)
		email, newEmail := "ines.accounts@example.com", "ines.moved@example.com"
		memberA, totpSecret := joined(nsA, email, true)
		memberB := joinWithAccount(nsB, email, totpSecret)
		Eventually(accountOf(email)).Should(HaveField("Status.Members", HaveLen(2)))
		oldAccount := membershipv1alpha1.AccountName(membershipv1alpha1.EmailAddress(email))

		fakeClock.Step(time.Minute) // a fresh TOTP step: the one used to join is spent
		code, err := totp.GenerateCode(totpSecret, fakeClock.Now())
		Expect(err).NotTo(HaveOccurred())
		answer := changeEmail(map[string]string{"email": email, "password": firstPassword, "totpCode": code, "newEmail": newEmail})
		Expect(answer.Status).To(Equal(http.StatusAccepted), "%v", answer.Body)
		confirmEmailChange(newEmail)

		By("when the page answers, every store's Member and credential Secret carry the new login, from the new Account")
		moved := membershipv1alpha1.AccountName(membershipv1alpha1.EmailAddress(newEmail))
		for ns, name := range map[string]string{nsA: memberA, nsB: memberB} {
			Expect(observedMember(ns, name).Spec.Email).To(Equal(membershipv1alpha1.EmailAddress(newEmail)))
			secret, err := credentialsOf(ns, name)()
			Expect(err).NotTo(HaveOccurred())
			Expect(string(secret.Data[membershipv1alpha1.CredentialUsername])).To(Equal(newEmail), "%s/%s", ns, name)
			Expect(secret.Labels).To(HaveKeyWithValue(membershipv1alpha1.AccountLabel, moved), "%s/%s", ns, name)
			Expect(credentials.VerifyPassword(secret.Data[membershipv1alpha1.CredentialPasswordHash], firstPassword)).To(BeTrue())
			Expect(string(secret.Data[membershipv1alpha1.CredentialTOTPSecret])).To(Equal(totpSecret), "the same 2FA key")
		}
		Eventually(accountOf(newEmail)).Should(And(HaveField("Status.Members", HaveLen(2)), HaveField("Status.TwoFactor", BeTrue())))

		By("the old address's Account and its Secret are gone")
		Eventually(func() error {
			return k8sClient.Get(ctx, client.ObjectKey{Name: oldAccount}, &membershipv1alpha1.Account{})
		}).Should(Satisfy(apierrors.IsNotFound))
		Eventually(func() error {
			return k8sClient.Get(ctx, client.ObjectKey{Namespace: testenv.AccountNamespace, Name: membershipv1alpha1.AccountSecretName(oldAccount)}, &corev1.Secret{})
		}).Should(Satisfy(apierrors.IsNotFound))

		By("the old address is told once, not once per store")
		Eventually(func() []mailcatcher.Message { return mailTo(email, emailChangedSubject) }).Should(HaveLen(1))
		Consistently(func() []mailcatcher.Message { return mailTo(email, emailChangedSubject) }, "1s").Should(HaveLen(1))
	})

	It("answers 409 naming a Member of the account whose spec.email is declared in Git, and moves nothing", func() {
		nsA, nsB := newNamespace(), newNamespace()
		createStore(nsA, membershipv1alpha1.LocaleEnglish)
		createStore(nsB, membershipv1alpha1.LocaleEnglish)
		email := "jana.accounts@example.com"
		memberA, _ := joined(nsA, email, false)
		memberB := joinWithAccount(nsB, email, "")

		By("a pipeline in store A's namespace declares Member A's address")
		declared := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": membershipv1alpha1.GroupVersion.String(), "kind": "Member",
			"metadata": map[string]any{"namespace": nsA, "name": memberA},
			"spec":     map[string]any{"email": email},
		}}
		Expect(k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(declared), client.FieldOwner("argocd"), client.ForceOwnership)).To(Succeed())

		answer := changeEmail(map[string]string{"store": nsB + "/shop", "email": email, "password": firstPassword, "newEmail": "jana.moved@example.com"})
		Expect(answer.Status).To(Equal(http.StatusConflict), "%v", answer.Body)
		Expect(answer.Body).To(HaveKeyWithValue("message", And(ContainSubstring(nsA+"/"+memberA), ContainSubstring(`managed by "argocd"`))))
		Consistently(func() []mailcatcher.Message { return mailTo("jana.moved@example.com", confirmSubject) }, "1s").Should(BeEmpty())
		Expect(observedMember(nsA, memberA).Spec.Email).To(Equal(membershipv1alpha1.EmailAddress(email)))
		Expect(observedMember(nsB, memberB).Spec.Email).To(Equal(membershipv1alpha1.EmailAddress(email)))
	})
})

var _ = Describe("a tenant and a person's account", func() {
	It("cannot set the person's password through a passwordSecretRef on the Member in its namespace", func() {
		nsA, nsB := newNamespace(), newNamespace()
		createStore(nsA, membershipv1alpha1.LocaleEnglish)
		createStore(nsB, membershipv1alpha1.LocaleEnglish)
		email := "wim.accounts@example.com"
		memberA, _ := joined(nsA, email, false)
		memberB := joinWithAccount(nsB, email, "")

		By("the tenant of store B points the person's Member at a password it chose")
		tenant, err := controlPlane.NewUserClient("tenant-of-b")
		Expect(err).NotTo(HaveOccurred())
		seen = append(seen, "the tenant's chosen password")
		Expect(tenant.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: nsB, Name: "takeover",
				Labels: map[string]string{membershipv1alpha1.PasswordSourceLabel: "true"}},
			StringData: map[string]string{"pw": "the tenant's chosen password"},
		})).To(Succeed())
		Eventually(func() error {
			m := &membershipv1alpha1.Member{}
			if err := tenant.Get(ctx, client.ObjectKey{Namespace: nsB, Name: memberB}, m); err != nil {
				return err
			}
			m.Spec.PasswordSecretRef = &membershipv1alpha1.SecretKeyReference{Name: "takeover", Key: "pw"}
			return tenant.Update(ctx, m)
		}).Should(Succeed())

		Eventually(func(g Gomega) []string {
			var events eventsv1.EventList
			g.Expect(k8sClient.List(ctx, &events, client.InNamespace(nsB))).To(Succeed())
			reasons := make([]string, 0, len(events.Items))
			for _, e := range events.Items {
				reasons = append(reasons, e.Reason)
			}
			return reasons
		}).Should(ContainElement("PasswordSourceConflict"))
		Consistently(func() bool {
			return passwordVerifies(nsA, memberA, firstPassword) && passwordVerifies(nsB, memberB, firstPassword) &&
				!passwordVerifies(nsA, memberA, "the tenant's chosen password") && !passwordVerifies(nsB, memberB, "the tenant's chosen password")
		}, "2s").Should(BeTrue(), "the person's password stays theirs in every store")
	})
})

var _ = Describe("signing in to join", func() {
	It("shares the per-account failure limit with self-service: five wrong passwords, then 429 everywhere until it refills", func() {
		nsA, nsB := newNamespace(), newNamespace()
		createStore(nsA, membershipv1alpha1.LocaleEnglish)
		createStore(nsB, membershipv1alpha1.LocaleEnglish)
		email := "xavi.accounts@example.com"
		joined(nsA, email, false)
		token := inviteAgain(nsB, "invite-xavi", email)
		join := func(password string) apiAnswer {
			return postJSON("/api/v1/invitations/accept", map[string]string{"token": token, "password": password}, "password")
		}
		for i := range 5 {
			Expect(join(fmt.Sprintf("wrong guess number %d", i)).Status).To(Equal(http.StatusUnauthorized))
		}
		Expect(join(firstPassword).Status).To(Equal(http.StatusTooManyRequests), "the budget is spent: even the right password waits")
		Expect(changePassword(map[string]string{"email": email, "currentPassword": firstPassword, "newPassword": "second secret phrase"}).Status).
			To(Equal(http.StatusTooManyRequests), "self-service signs in to the same account: one budget")
		Expect(membersOf(nsB)).To(BeEmpty())

		fakeClock.Step(time.Minute) // one more try a minute
		Expect(join(firstPassword).Status).To(Equal(http.StatusCreated))
	})
})
