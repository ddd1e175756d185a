// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package accept_test

import (
	"time"

	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/test/testenv"
)

// passwordSource creates, as c, a Secret in ns that opted in as a password source, holding
// password under key "password".
func passwordSource(c client.Client, ns, name, password string) {
	GinkgoHelper()
	seen = append(seen, password)
	Expect(c.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{membershipv1alpha1.PasswordSourceLabel: "true"}},
		StringData: map[string]string{"password": password},
	})).To(Succeed())
}

// gitMember creates, as c, a Member of store in ns whose password comes from the Secret source.
func gitMember(c client.Client, ns, name, store, email, source string) {
	GinkgoHelper()
	Expect(c.Create(ctx, &membershipv1alpha1.Member{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: membershipv1alpha1.MemberSpec{StoreRef: membershipv1alpha1.StoreReference{Name: store}, Email: membershipv1alpha1.EmailAddress(email),
			Roles: []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff}, PasswordSecretRef: &membershipv1alpha1.SecretKeyReference{Name: source, Key: "password"}},
	})).To(Succeed())
}

// extraStore creates another Store, name, in ns.
func extraStore(ns, name string) {
	GinkgoHelper()
	Expect(k8sClient.Create(ctx, testenv.NewStore(ns, name, "owner-"+name+"-"+ns+"@example.com"))).To(Succeed())
}

var _ = Describe("a password declared in Git", func() {
	It("governs the Account it makes: every store of the namespace, Git wins over self-service, a second source is a Conflict", func() {
		ns := newNamespace()
		createStore(ns, membershipv1alpha1.LocaleEnglish)
		extraStore(ns, "outlet")
		extraStore(ns, "kiosk")
		email := "gita.accounts@example.com"
		first, rotated := "gita's password from git", "gita's rotated password"
		passwordSource(k8sClient, ns, "gita-password", first)

		By("the first Member makes the Account, governed by its source")
		gitMember(k8sClient, ns, "gita", "shop", email, "gita-password")
		Eventually(accountOf(email)).Should(And(
			HaveField("Status.PasswordSource", Equal(&membershipv1alpha1.AccountPasswordSource{Namespace: ns, Secret: "gita-password", Key: "password"})),
			HaveField("Status.Members", HaveLen(1))))
		Eventually(observed(ns, "gita")).Should(HaveField("Account", membershipv1alpha1.AccountName(membershipv1alpha1.EmailAddress(email))))
		expectMemberActive(ns, "gita", email, first)

		By("a second store's Member naming the same source joins it, and changes nothing of the password")
		before, err := accountSecretOf(email)
		Expect(err).NotTo(HaveOccurred())
		gitMember(k8sClient, ns, "gita-outlet", "outlet", email, "gita-password")
		Eventually(accountOf(email)).Should(HaveField("Status.Members", HaveLen(2)))
		after, err := accountSecretOf(email)
		Expect(err).NotTo(HaveOccurred())
		Expect(after.Data[membershipv1alpha1.CredentialPasswordHash]).To(Equal(before.Data[membershipv1alpha1.CredentialPasswordHash]),
			"the same password is not a new one: the joining Member's own bcrypt salt does not replace the Account's hash")
		Eventually(observed(ns, "gita-outlet")).Should(HaveField("Account", Not(BeEmpty())))
		expectMemberActive(ns, "gita-outlet", email, first)

		By("a third naming another source is in Conflict and gets no credentials")
		passwordSource(k8sClient, ns, "gita-other", "another password for gita")
		gitMember(k8sClient, ns, "gita-kiosk", "kiosk", email, "gita-other")
		Eventually(observed(ns, "gita-kiosk")).Should(And(HaveField("Phase", membershipv1alpha1.MemberConflict),
			HaveField("Conditions", ContainElement(HaveField("Reason", membershipv1alpha1.ReasonPasswordSourceConflict)))))
		_, err = credentialsOf(ns, "gita-kiosk")()
		Expect(err).To(HaveOccurred(), "no credential Secret while in Conflict")

		By("the person's own password change is refused: Git wins")
		answer := changePassword(map[string]string{"email": email, "currentPassword": first, "newPassword": "gita's own idea of a password"})
		Expect(answer.Status).To(Equal(http.StatusConflict), "%v", answer.Body)
		Expect(answer.Body).To(HaveKeyWithValue("message", ContainSubstring("declared in Git")))
		Expect(passwordVerifies(ns, "gita", first)).To(BeTrue())

		By("a new password in the Secret reaches every store of the Account")
		source := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "gita-password"}, source)).To(Succeed())
		source.Data = map[string][]byte{"password": []byte(rotated)}
		seen = append(seen, rotated)
		Expect(k8sClient.Update(ctx, source)).To(Succeed())
		Eventually(func() bool {
			return passwordVerifies(ns, "gita", rotated) && passwordVerifies(ns, "gita-outlet", rotated)
		}).
			WithTimeout(testenv.EventuallyTimeout * 2).Should(BeTrue())
		Expect(passwordVerifies(ns, "gita-outlet", first)).To(BeFalse(), "the old password verifies nowhere")

		By("the Conflict ends once the third Member names the same source")
		m := observedMember(ns, "gita-kiosk")
		m.Spec.PasswordSecretRef.Name = "gita-password"
		Expect(k8sClient.Update(ctx, m)).To(Succeed())
		expectMemberActive(ns, "gita-kiosk", email, rotated)
		Eventually(accountOf(email)).Should(HaveField("Status.Members", HaveLen(3)))
	})

	It("governs a person's Account from a reference on their Member when every store of it is in that namespace", func() {
		ns := newNamespace()
		createStore(ns, membershipv1alpha1.LocaleEnglish)
		email := "karl.accounts@example.com"
		member, _ := joined(ns, email, false)
		Eventually(accountOf(email)).Should(HaveField("Status.Members", HaveLen(1)))

		By("the store's pipeline declares the person's password")
		fromGit := "karl's password from git"
		passwordSource(k8sClient, ns, "karl-password", fromGit)
		m := observedMember(ns, member)
		m.Spec.PasswordSecretRef = &membershipv1alpha1.SecretKeyReference{Name: "karl-password", Key: "password"}
		Expect(k8sClient.Update(ctx, m)).To(Succeed())
		Eventually(accountOf(email)).Should(HaveField("Status.PasswordSource",
			Equal(&membershipv1alpha1.AccountPasswordSource{Namespace: ns, Secret: "karl-password", Key: "password"})))
		// Until the Account takes the source, the Member's Secret may show the Git password and
		// then the Account's once more (a moment); what holds is where it ends.
		Eventually(func() bool {
			return passwordVerifies(ns, member, fromGit) && !passwordVerifies(ns, member, firstPassword)
		}).
			Should(BeTrue(), "Git wins")
		Consistently(func() bool { return passwordVerifies(ns, member, fromGit) }).WithTimeout(2*time.Second).Should(BeTrue(), "and stays")

		answer := changePassword(map[string]string{"email": email, "currentPassword": fromGit, "newPassword": "karl's own idea again"})
		Expect(answer.Status).To(Equal(http.StatusConflict), "%v", answer.Body)
	})

	It("never spans tenants: an invitation from another namespace gives the person a login of their own", func() {
		nsGit, nsOther := newNamespace(), newNamespace()
		createStore(nsGit, membershipv1alpha1.LocaleEnglish)
		createStore(nsOther, membershipv1alpha1.LocaleEnglish)
		email := "hedy.accounts@example.com"
		tenant, err := controlPlane.NewUserClient("tenant-of-git")
		Expect(err).NotTo(HaveOccurred())
		passwordSource(tenant, nsGit, "hedy-password", "the tenant knows this one")
		gitMember(tenant, nsGit, "hedy", "shop", email, "hedy-password")
		Eventually(accountOf(email)).Should(HaveField("Status.PasswordSource", Not(BeNil())))

		By("the invitation page offers a new password, not the tenant's account")
		token := inviteAgain(nsOther, "invite-hedy", email)
		page := getPage("/invitations/accept?token=" + token)
		Expect(page).To(ContainSubstring(`id="passwordConfirmation"`))
		Expect(page).NotTo(ContainSubstring(`id="signin-intro"`))
		own := "hedy chose this herself"
		answer := postJSON("/api/v1/invitations/accept", map[string]string{"token": token, "password": own}, "password")
		Expect(answer.Status).To(Equal(http.StatusCreated), "%v", answer.Body)
		member := answer.Body["member"].(string)
		expectMemberActive(nsOther, member, email, own)
		Expect(passwordVerifies(nsOther, member, "the tenant knows this one")).To(BeFalse(), "the tenant's password opens nothing here")
		Consistently(accountOf(email), "2s").Should(HaveField("Status.Members", HaveLen(1)), "the other store never joins it")
	})

	It("never sets the password of an Account a person made, whoever declares the Member", func() {
		nsPerson, nsTenant := newNamespace(), newNamespace()
		createStore(nsPerson, membershipv1alpha1.LocaleEnglish)
		createStore(nsTenant, membershipv1alpha1.LocaleEnglish)
		email := "ilse.accounts@example.com"
		memberA, _ := joined(nsPerson, email, false)
		Eventually(accountOf(email)).Should(HaveField("Status.Members", HaveLen(1)))

		By("a tenant declares a Member with the person's address and a password it chose")
		tenant, err := controlPlane.NewUserClient("tenant-of-ilse")
		Expect(err).NotTo(HaveOccurred())
		passwordSource(tenant, nsTenant, "ilse-takeover", "the tenant's password for ilse")
		gitMember(tenant, nsTenant, "ilse", "shop", email, "ilse-takeover")
		expectMemberActive(nsTenant, "ilse", email, "the tenant's password for ilse")

		Consistently(func(g Gomega) {
			acct := accountOf(email)(g)
			g.Expect(acct.Status.PasswordSource).To(BeNil())
			g.Expect(acct.Status.Members).To(HaveLen(1))
			g.Expect(passwordVerifies(nsPerson, memberA, firstPassword)).To(BeTrue())
			g.Expect(passwordVerifies(nsPerson, memberA, "the tenant's password for ilse")).To(BeFalse())
		}, "2s").Should(Succeed(), "the person's Account and password stay theirs")
		secret, err := credentialsOf(nsTenant, "ilse")()
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.Join([]string{secret.Labels[membershipv1alpha1.AccountLabel]}, "")).To(Equal(membershipv1alpha1.AccountSeparate),
			"the tenant's Member is a login of its own")
	})
})
