// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package accept_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	accounts "github.com/storeops/member-operator/internal/account"
	"github.com/storeops/member-operator/internal/config"
	"github.com/storeops/member-operator/internal/selfservice"
	"github.com/storeops/member-operator/test/testenv"
)

// loginNameOf reads the login name in a Member's credential Secret ("" when it has none).
func loginNameOf(ns, member string) func() string {
	return func() string {
		secret, err := credentialsOf(ns, member)()
		if err != nil {
			return "<none>"
		}
		return string(secret.Data[membershipv1alpha1.CredentialLoginName])
	}
}

// accountWorkers is how many Accounts the suite's operator reconciles at once, as
// controller-runtime reports it (controller_runtime_max_concurrent_reconciles).
func accountWorkers() float64 {
	GinkgoHelper()
	return operatorMetrics().Sum("controller_runtime_max_concurrent_reconciles", `controller="account"`)
}

// claimsOf lists the login-name claims in the operator's namespace, by name claimed, each with
// the Account that controls it.
func claimsOf(g Gomega) map[string]string {
	var list corev1.SecretList
	g.Expect(k8sClient.List(ctx, &list, client.InNamespace(testenv.AccountNamespace),
		client.HasLabels{membershipv1alpha1.LoginNameClaimLabel})).To(Succeed())
	out := map[string]string{}
	for _, s := range list.Items {
		if owner := metav1.GetControllerOf(&s); owner != nil {
			out[s.Labels[membershipv1alpha1.LoginNameClaimLabel]] = owner.Name
		}
	}
	return out
}

var _ = Describe("login names", func() {
	It("are chosen on the account page, sign in wherever the email does, reach the credential Secrets, and are held by one person", func() {
		ns := newNamespace()
		storeWithPreferences(ns, "shop", "Acme Shop")
		storeWithPreferences(ns, "outlet", "Acme Outlet")
		ann, annPassword := "ann.lima@example.com", "ann lima's password"
		bob, bobPassword := "bob.kent@example.com", "bob kent's password"
		cat, catPassword := "cat.rowe@example.com", "cat rowe's password"
		for _, p := range []struct{ source, password string }{{"ann", annPassword}, {"bob", bobPassword}, {"cat", catPassword}} {
			passwordSource(k8sClient, ns, p.source+"-password", p.password)
		}
		for _, m := range []struct{ member, store, email, source string }{
			{"ann-shop", "shop", ann, "ann"}, {"ann-outlet", "outlet", ann, "ann"}, {"bob-shop", "shop", bob, "bob"}, {"cat-shop", "shop", cat, "cat"},
		} {
			gitMember(k8sClient, ns, m.member, m.store, m.email, m.source+"-password") // one source per person: it governs their Account
		}
		for _, m := range []struct{ member, email, password string }{
			{"ann-shop", ann, annPassword}, {"ann-outlet", ann, annPassword}, {"bob-shop", bob, bobPassword}, {"cat-shop", cat, catPassword},
		} {
			expectMemberActive(ns, m.member, m.email, m.password)
		}
		Eventually(accountOf(ann)).Should(HaveField("Status.Members", HaveLen(2)))
		Expect(loginNameOf(ns, "ann-shop")()).To(BeEmpty(), "no key until the person chooses a name")

		By("the rule is the CRD's, and named in the answer")
		annCookie := signInForCookie(ann, annPassword)
		status, body := withSession(annCookie, http.MethodPost, "/api/v1/account/profile",
			`{"displayName":"Ann Lima","loginName":"ann@lima"}`, "Content-Type", "application/json")
		Expect(status).To(Equal(http.StatusBadRequest), body)
		Expect(body).To(ContainSubstring(`"field":"loginName"`))

		By("choosing one: it is stored lower-cased and reaches every store's credential Secret, beside the unchanged username")
		status, body = withSession(annCookie, http.MethodPost, "/api/v1/account/profile",
			`{"displayName":"Ann Lima","loginName":"Ann.Lima"}`, "Content-Type", "application/json")
		Expect(status).To(Equal(http.StatusNoContent), body)
		Expect(accountOf(ann)(Default).Spec.LoginName).To(BeEquivalentTo("ann.lima"), "the server answers once the Account shows it")
		for _, member := range []string{"ann-shop", "ann-outlet"} {
			Eventually(loginNameOf(ns, member)).Should(Equal("ann.lima"))
			secret, err := credentialsOf(ns, member)()
			Expect(err).NotTo(HaveOccurred())
			Expect(string(secret.Data[membershipv1alpha1.CredentialUsername])).To(Equal(ann), "readers of username keep the email")
		}
		status, body = withSession(annCookie, http.MethodGet, "/api/v1/account", "")
		Expect(status).To(Equal(http.StatusOK))
		Expect(body).To(ContainSubstring(`"loginName":"ann.lima"`))

		By("signing in with it, in any case: the account page and the self-service API")
		cookie := signInForCookie("ANN.LIMA", annPassword)
		status, body = withSession(cookie, http.MethodGet, "/api/v1/account", "")
		Expect(status).To(Equal(http.StatusOK), body)
		Expect(body).To(ContainSubstring(`"email":"` + ann + `"`))
		answer := changePassword(map[string]string{"store": ns + "/shop", "email": "ann.lima",
			"currentPassword": annPassword + " wrong", "newPassword": "a brand new password"})
		Expect(answer.Status).To(Equal(http.StatusUnauthorized), "%v", answer.Body)
		answer = changePassword(map[string]string{"store": ns + "/shop", "email": "ann.lima",
			"currentPassword": annPassword, "newPassword": "a brand new password"})
		Expect(answer.Status).To(Equal(http.StatusConflict), "signed in by login name; the password is Git's: %v", answer.Body)

		By("another person cannot take it")
		bobCookie := signInForCookie(bob, bobPassword)
		status, body = withSession(bobCookie, http.MethodPost, "/api/v1/account/profile",
			`{"displayName":"Bob","loginName":"ann.lima"}`, "Content-Type", "application/json")
		Expect(status).To(Equal(http.StatusConflict), body)
		Expect(body).To(ContainSubstring(`"field":"loginName"`))
		Expect(accountOf(bob)(Default).Spec.LoginName).To(BeEmpty())
		Expect(claimsOf(Default)).To(HaveKeyWithValue("ann.lima", accountOf(ann)(Default).Name))

		By("two people asking for one name at the same instant, past the server's check: exactly one gets it, " +
			"with the Account controller reconciling both Accounts at once (--account-concurrency)")
		Expect(accountWorkers()).To(BeNumerically("==", config.DefaultAccountConcurrency))
		var wg sync.WaitGroup
		for _, email := range []string{bob, cat} {
			wg.Go(func() {
				defer GinkgoRecover()
				_, err := accounts.Ask(ctx, k8sClient, testenv.AccountNamespace, accounts.Request{
					Kind: membershipv1alpha1.AccountRequestLoginName, Email: membershipv1alpha1.EmailAddress(email), LoginName: "shared.name"})
				Expect(err).NotTo(HaveOccurred())
			})
		}
		wg.Wait()
		holders := func(g Gomega) []string {
			var out []string
			for _, email := range []string{bob, cat} {
				if accountOf(email)(g).Spec.LoginName == "shared.name" {
					out = append(out, email)
				}
			}
			return out
		}
		Eventually(func(g Gomega) {
			var events eventsv1.EventList
			g.Expect(k8sClient.List(ctx, &events)).To(Succeed())
			refused := 0
			for _, e := range events.Items {
				if e.Reason == "LoginNameTaken" && e.Note != "" && (e.Regarding.Name == accountOf(bob)(g).Name || e.Regarding.Name == accountOf(cat)(g).Name) {
					refused++
				}
			}
			g.Expect(refused).To(Equal(1), "the other one is told")
			g.Expect(holders(g)).To(HaveLen(1))
		}).Should(Succeed())
		winner := holders(Default)[0]
		Consistently(holders).WithTimeout(2 * time.Second).Should(Equal([]string{winner}))
		Expect(claimsOf(Default)).To(HaveKeyWithValue("shared.name", accountOf(winner)(Default).Name))

		By("changing it releases the old name to anyone")
		status, body = withSession(annCookie, http.MethodPost, "/api/v1/account/profile",
			`{"displayName":"Ann Lima","loginName":"ann.l"}`, "Content-Type", "application/json")
		Expect(status).To(Equal(http.StatusNoContent), body)
		Eventually(loginNameOf(ns, "ann-outlet")).Should(Equal("ann.l"))
		Eventually(claimsOf).ShouldNot(HaveKey("ann.lima"))
		bobCookie = signInForCookie(bob, bobPassword)
		status, body = withSession(bobCookie, http.MethodPost, "/api/v1/account/profile",
			`{"displayName":"Bob","loginName":"ann.lima"}`, "Content-Type", "application/json")
		Expect(status).To(Equal(http.StatusNoContent), body)
		Eventually(loginNameOf(ns, "bob-shop")).Should(Equal("ann.lima"))
		status, _ = withSession(signInForCookie("ann.l", annPassword), http.MethodGet, "/api/v1/account", "")
		Expect(status).To(Equal(http.StatusOK))

		By("removing it: the key goes from every store, and the name signs nobody in")
		status, body = withSession(annCookie, http.MethodPost, "/api/v1/account/profile",
			`{"displayName":"Ann Lima","loginName":""}`, "Content-Type", "application/json")
		Expect(status).To(Equal(http.StatusNoContent), body)
		for _, member := range []string{"ann-shop", "ann-outlet"} {
			Eventually(loginNameOf(ns, member)).Should(BeEmpty())
		}
		Eventually(claimsOf).ShouldNot(HaveKey("ann.l"))
		answer = changePassword(map[string]string{"store": ns + "/shop", "email": "ann.l",
			"currentPassword": annPassword, "newPassword": "a brand new password"})
		Expect(answer.Status).To(Equal(http.StatusUnauthorized), "%v", answer.Body)
	})
})

// postAccountForm posts one of the account page's forms with the session cookie and returns the
// status, the page and the session cookie the answer set, if any.
func postAccountForm(cookie *http.Cookie, values url.Values) (int, string, *http.Cookie) {
	GinkgoHelper()
	req, err := http.NewRequest(http.MethodPost, baseURL+"/account", strings.NewReader(values.Encode()))
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(cookie)
	resp, err := httpClient(specClient).Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	for _, c := range resp.Cookies() {
		if c.Name == selfservice.SessionCookie && c.Value != "" {
			seen = append(seen, c.Value)
			return resp.StatusCode, string(raw), c
		}
	}
	return resp.StatusCode, string(raw), nil
}

var _ = Describe("the account page's password and login email", func() {
	It("change the password after asking for the current one, keep this session and end the others, and move the account (with its login name, name and phone) to a confirmed new email", func() {
		ns := newNamespace()
		createStore(ns, membershipv1alpha1.LocaleEnglish)
		email, newEmail := "pia.page@example.com", "pia.moved@example.com"
		member, _ := joined(ns, email, false)
		Eventually(accountOf(email)).Should(HaveField("Status.Members", HaveLen(1)))
		cookie := signInForCookie(email, firstPassword)
		other := signInForCookie(email, firstPassword) // the same person on another computer
		newPassword := "pia's whole new passphrase"
		seen = append(seen, newPassword)

		By("a wrong current password changes nothing")
		status, page, _ := postAccountForm(cookie, url.Values{"do": {"password"}, "currentPassword": {firstPassword + " wrong"},
			"newPassword": {newPassword}, "passwordConfirmation": {newPassword}})
		Expect(status).To(Equal(http.StatusUnauthorized))
		Expect(page).To(ContainSubstring(`id="currentPassword-error"`))
		Expect(passwordVerifies(ns, member, firstPassword)).To(BeTrue())

		By("the policy names the field")
		status, page, _ = postAccountForm(cookie, url.Values{"do": {"password"}, "currentPassword": {firstPassword},
			"newPassword": {newPassword}, "passwordConfirmation": {newPassword + "!"}})
		Expect(status).To(Equal(http.StatusBadRequest))
		Expect(page).To(ContainSubstring("The two passwords are not the same."))

		By("changed: every store takes it, this session goes on under a new cookie, the other one ends")
		status, page, renewed := postAccountForm(cookie, url.Values{"do": {"password"}, "currentPassword": {firstPassword},
			"newPassword": {newPassword}, "passwordConfirmation": {newPassword}})
		Expect(status).To(Equal(http.StatusOK), regexp.MustCompile(`<main[\s\S]*</main>`).FindString(page))
		Expect(page).To(ContainSubstring("Your password is changed."))
		Expect(passwordVerifies(ns, member, newPassword)).To(BeTrue(), "answered once it holds")
		Expect(renewed).NotTo(BeNil())
		status, _ = withSession(renewed, http.MethodGet, "/api/v1/account", "")
		Expect(status).To(Equal(http.StatusOK))
		status, _ = withSession(other, http.MethodGet, "/api/v1/account", "")
		Expect(status).To(Equal(http.StatusUnauthorized))

		By("a login name, then a new login email: the name moves with the account")
		status, body := withSession(renewed, http.MethodPost, "/api/v1/account/profile",
			`{"displayName":"Pia","phone":"+31201234567","loginName":"pia.page"}`, "Content-Type", "application/json")
		Expect(status).To(Equal(http.StatusNoContent), body)
		status, _, _ = postAccountForm(renewed, url.Values{"do": {"email"}, "newEmail": {newEmail}, "emailPassword": {firstPassword}})
		Expect(status).To(Equal(http.StatusUnauthorized), "the current password is asked again")
		status, page, _ = postAccountForm(renewed, url.Values{"do": {"email"}, "newEmail": {"not an address"}, "emailPassword": {newPassword}})
		Expect(status).To(Equal(http.StatusBadRequest))
		Expect(page).To(ContainSubstring(`id="newEmail-error"`))
		status, page, _ = postAccountForm(renewed, url.Values{"do": {"email"}, "newEmail": {newEmail}, "emailPassword": {newPassword}})
		Expect(status).To(Equal(http.StatusAccepted), page)
		Expect(page).To(ContainSubstring("We sent a link to " + newEmail))
		confirmEmailChange(newEmail)
		Eventually(func(g Gomega) membershipv1alpha1.LoginName { return accountOf(newEmail)(g).Spec.LoginName }).Should(BeEquivalentTo("pia.page"))
		Expect(accountOf(newEmail)(Default).Spec).To(And(HaveField("DisplayName", BeEquivalentTo("Pia")), HaveField("Phone", "+31201234567")),
			"name and phone move with the person too")
		Eventually(claimsOf).Should(HaveKeyWithValue("pia.page", membershipv1alpha1.AccountName(membershipv1alpha1.EmailAddress(newEmail))))
		Eventually(loginNameOf(ns, member)).Should(Equal("pia.page"))
		Eventually(func() error { // the old address's Account goes once its last Member moved
			return k8sClient.Get(ctx, client.ObjectKey{Name: membershipv1alpha1.AccountName(membershipv1alpha1.EmailAddress(email))},
				&membershipv1alpha1.Account{})
		}).Should(Satisfy(apierrors.IsNotFound))
		status, body = withSession(signInForCookie("pia.page", newPassword), http.MethodGet, "/api/v1/account", "")
		Expect(status).To(Equal(http.StatusOK))
		Expect(body).To(ContainSubstring(`"email":"` + newEmail + `"`))
	})
})
