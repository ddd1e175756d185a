// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package store_test

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
	"github.com/onsi/gomega/types"
	"github.com/pquerna/otp/totp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/test/health"
	"github.com/storeops/member-operator/test/mailcatcher"
)

const (
	activationSubject = "Activate your owner account for Acme Shop"
	transferSubject   = "You are invited to take over Acme Shop as its owner"
	noticeSubject     = "You are no longer the owner of Acme Shop"
)

// mailTo lists the emails to address with subject, in arrival order.
func mailTo(address, subject string) []mailcatcher.Message {
	var out []mailcatcher.Message
	for _, m := range catcher.Messages() {
		if len(m.To) == 1 && m.To[0] == address && m.Subject() == subject {
			out = append(out, m)
		}
	}
	return out
}

// tokenFromEmail waits for exactly one email to address with subject and returns its link's token.
func tokenFromEmail(address, subject string) string {
	GinkgoHelper()
	Eventually(func() []mailcatcher.Message { return mailTo(address, subject) }).WithTimeout(20 * time.Second).Should(HaveLen(1))
	body, err := mailTo(address, subject)[0].Body()
	Expect(err).NotTo(HaveOccurred())
	link := body.Link("/invitations/accept")
	Expect(link).To(HavePrefix(baseURL + "/invitations/accept?token="))
	u, err := url.Parse(link)
	Expect(err).NotTo(HaveOccurred())
	return u.Query().Get("token")
}

// postAccept calls the acceptance API and returns the status code and the JSON answer.
func postAccept(token, password string) (int, map[string]any) {
	GinkgoHelper()
	payload, err := json.Marshal(map[string]string{"token": token, "password": password})
	Expect(err).NotTo(HaveOccurred())
	resp, err := http.Post(baseURL+"/api/v1/invitations/accept", "application/json", bytes.NewReader(payload))
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	var body map[string]any
	Expect(json.Unmarshal(raw, &body)).To(Succeed(), string(raw))
	return resp.StatusCode, body
}

func getMember(ns, name string) func(Gomega) *membershipv1alpha1.Member {
	return func(g Gomega) *membershipv1alpha1.Member {
		m := &membershipv1alpha1.Member{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, m)).To(Succeed())
		return m
	}
}

// ownerCredentials reads the credential Secret of Store "shop"'s owner.
func ownerCredentials(ns string) func(Gomega) *corev1.Secret {
	return func(g Gomega) *corev1.Secret {
		s := &corev1.Secret{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop-owner-credentials"}, s)).To(Succeed())
		return s
	}
}

// ready matches a Store that is Ready with reason (Ready is False only while Reconciling or
// Stalled, which these specs do not reach).
func ready(reason string) types.GomegaMatcher {
	return condition(membershipv1alpha1.ConditionReady, metav1.ConditionTrue, reason)
}

func condition(conditionType string, status metav1.ConditionStatus, reason string) types.GomegaMatcher {
	return HaveField("Conditions", ContainElement(And(HaveField("Type", conditionType),
		HaveField("Status", status), HaveField("Reason", reason))))
}

// verifies matches a credential Secret whose hash is that of password.
func verifies(password string) types.GomegaMatcher {
	return WithTransform(func(s *corev1.Secret) bool {
		return credentials.VerifyPassword(s.Data[membershipv1alpha1.CredentialPasswordHash], password)
	}, BeTrue())
}

// pendingTransfer waits for the Store's status to show the transfer under way (the transfer email
// can arrive before the Store's status write) and returns it.
func pendingTransfer(s *membershipv1alpha1.Store) *membershipv1alpha1.OwnerTransferStatus {
	GinkgoHelper()
	Eventually(getStore(s)).Should(HaveField("OwnerTransfer", Not(BeNil())))
	return getStore(s)(Default).OwnerTransfer
}

// activateOwner follows the Store's activation email through the acceptance API and waits for
// the owner to be Active.
func activateOwner(ns, store, email, password string) {
	GinkgoHelper()
	status, body := postAccept(tokenFromEmail(email, activationSubject), password)
	Expect(status).To(Equal(http.StatusCreated), "%v", body)
	Expect(body).To(HaveKeyWithValue("member", store+"-owner"))
	Eventually(getMember(ns, store+"-owner")).WithTimeout(20 * time.Second).Should(HaveField("Status.Phase", membershipv1alpha1.MemberActive))
}

var _ = Describe("Store owner", func() {
	It("sends one activation email; accepting it makes the owner Active with 2FA and the Store Ready", func() {
		ns := newNamespace()
		s := createStore(ns, "shop", "olivia@example.com")

		By("the owner Member exists without credentials and the Store waits for it")
		Eventually(getMember(ns, "shop-owner")).Should(And(
			HaveField("Spec.Email", membershipv1alpha1.EmailAddress("olivia@example.com")),
			HaveField("Spec.Roles", ConsistOf(membershipv1alpha1.RoleOwner)),
			HaveField("Spec.TwoFactor.Required", true),
			HaveField("Status.Phase", membershipv1alpha1.MemberPending)))
		// The owner's activation is a person's step: the Store is Ready (a GitOps sync does not
		// wait for it) and OwnerActive says the owner has not activated.
		Eventually(getStore(s)).Should(And(HaveField("OwnerMember", "shop-owner"),
			ready(membershipv1alpha1.ReasonAwaitingOwnerActivation),
			condition(membershipv1alpha1.ConditionOwnerActive, metav1.ConditionFalse, membershipv1alpha1.ReasonAwaitingOwnerActivation)))
		waiting := &membershipv1alpha1.Store{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(s), waiting)).To(Succeed())
		Expect(health.Kstatus(waiting)).To(Equal("Current"), "Flux's wait: true does not hang on a person")
		Expect(health.ArgoCD(waiting)).To(Equal("Healthy"))
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop-owner-credentials"}, &corev1.Secret{})).NotTo(Succeed())

		By("accepting the activation link")
		token := tokenFromEmail("olivia@example.com", activationSubject)
		status, body := postAccept(token, "correct horse battery")
		Expect(status).To(Equal(http.StatusCreated), "%v", body)
		Expect(body).To(HaveKeyWithValue("member", "shop-owner"))
		Expect(body).To(HaveKeyWithValue("twoFactor", HaveKeyWithValue("uri", HavePrefix("otpauth://totp/"))))

		Eventually(getMember(ns, "shop-owner")).WithTimeout(20 * time.Second).Should(HaveField("Status.Phase", membershipv1alpha1.MemberActive))
		secret := ownerCredentials(ns)(Default)
		Expect(secret).To(verifies("correct horse battery"))
		Expect(secret.Data).To(HaveKey(membershipv1alpha1.CredentialTOTPSecret))
		Expect(string(secret.Data[membershipv1alpha1.CredentialRoles])).To(Equal("owner"))
		Eventually(getStore(s)).Should(And(ready(membershipv1alpha1.ReasonOwnerActive),
			condition(membershipv1alpha1.ConditionOwnerActive, metav1.ConditionTrue, membershipv1alpha1.ReasonOwnerActive)))

		By("exactly one activation email was sent, and nobody was told a member joined")
		Consistently(func() int { return len(mailTo("olivia@example.com", activationSubject)) }).
			WithTimeout(2 * time.Second).Should(Equal(1))
		for _, m := range catcher.Messages() {
			Expect(m.Subject()).NotTo(ContainSubstring("joined"), "the owner activating is not a member joining")
		}
		status, _ = postAccept(token, "another password here")
		Expect(status).To(Equal(http.StatusConflict), "the activation link is single use")

		By("the owner's login email changes only through the Store, not through self-service")
		code, err := totp.GenerateCode(string(ownerCredentials(ns)(Default).Data[membershipv1alpha1.CredentialTOTPSecret]), time.Now())
		Expect(err).NotTo(HaveOccurred())
		payload, err := json.Marshal(map[string]string{"store": ns + "/shop", "email": "olivia@example.com",
			"password": "correct horse battery", "totpCode": code, "newEmail": "olivia@example.org"})
		Expect(err).NotTo(HaveOccurred())
		resp, err := http.Post(baseURL+"/api/v1/email/change", "application/json", bytes.NewReader(payload))
		Expect(err).NotTo(HaveOccurred())
		answer, err := io.ReadAll(resp.Body)
		Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusConflict), string(answer))
		Expect(string(answer)).To(ContainSubstring("spec.owner.email"))
	})

	It("transfers ownership in two phases; the notification address stays the sign-up address", func() {
		ns := newNamespace()
		s := createStore(ns, "shop", "olga@example.com")
		activateOwner(ns, "shop", "olga@example.com", "first secret phrase 1")
		Eventually(getStore(s)).Should(ready(membershipv1alpha1.ReasonOwnerActive))
		By("the new owner is already a Member; the transfer will remove that Member")
		createMember(ns, "nadia", "shop", "nadia@example.com", membershipv1alpha1.RoleAdmin)
		Eventually(getMember(ns, "nadia")).WithTimeout(20 * time.Second).Should(HaveField("Status.Phase", membershipv1alpha1.MemberActive))

		updateStore(s, func(st *membershipv1alpha1.Store) { st.Spec.Owner.Email = "nadia@example.com" })
		By("the transfer is pending: visible in status, the current owner keeps full access")
		Eventually(getStore(s)).Should(HaveField("OwnerTransfer", And(Not(BeNil()),
			HaveField("Email", membershipv1alpha1.EmailAddress("nadia@example.com")),
			HaveField("Invitation", HavePrefix("shop-owner-transfer-")),
			HaveField("Since", Not(BeZero())))))
		Expect(getStore(s)(Default).NotificationEmail).To(Equal(membershipv1alpha1.EmailAddress("olga@example.com")))
		token := tokenFromEmail("nadia@example.com", transferSubject)
		Consistently(ownerCredentials(ns)).WithTimeout(time.Second).Should(verifies("first secret phrase 1"))
		Expect(getMember(ns, "shop-owner")(Default).Spec.Email).To(Equal(membershipv1alpha1.EmailAddress("olga@example.com")))

		By("a member joining while the transfer is pending is announced to the sign-up address")
		createInvitation(ns, "invite-paul", "shop", "paul@example.com")
		status, body := postAccept(tokenFromEmail("paul@example.com", "You have been invited to manage Acme Shop"), "staff secret phrase 1")
		Expect(status).To(Equal(http.StatusCreated), "%v", body)
		Eventually(func() []mailcatcher.Message { return mailTo("olga@example.com", "paul@example.com joined Acme Shop") }).
			Should(HaveLen(1))

		By("accepting the transfer")
		status, body = postAccept(token, "brand new phrase 9")
		Expect(status).To(Equal(http.StatusCreated), "%v", body)
		Expect(body).To(HaveKeyWithValue("member", "shop-owner"))
		Eventually(getStore(s)).WithTimeout(20 * time.Second).Should(HaveField("OwnerTransfer", BeNil()))
		owner := getMember(ns, "shop-owner")(Default)
		Expect(owner.Spec.Email).To(Equal(membershipv1alpha1.EmailAddress("nadia@example.com")))
		Eventually(ownerCredentials(ns)).Should(And(verifies("brand new phrase 9"), Not(verifies("first secret phrase 1")),
			WithTransform(func(s *corev1.Secret) string { return string(s.Data[membershipv1alpha1.CredentialUsername]) }, Equal("nadia@example.com"))))
		Expect(ownerCredentials(ns)(Default).Data).NotTo(HaveKey(membershipv1alpha1.CredentialPassword))

		By("the previous owner was told; the superseded Member is gone without an access-removed email")
		Eventually(func() []mailcatcher.Message { return mailTo("olga@example.com", noticeSubject) }).Should(HaveLen(1))
		notice, err := mailTo("olga@example.com", noticeSubject)[0].Body()
		Expect(err).NotTo(HaveOccurred())
		Expect(notice.Text).To(ContainSubstring("nadia@example.com"))
		Eventually(names(&membershipv1alpha1.MemberList{}, ns)).WithTimeout(20 * time.Second).Should(ConsistOf("shop-owner", HavePrefix("paul-")))
		Expect(mailTo("nadia@example.com", "Your access to Acme Shop was removed")).To(BeEmpty())
		Eventually(names(&corev1.SecretList{}, ns)).Should(Not(ContainElement(HaveSuffix("-new-owner-credentials"))))
		Eventually(getStore(s)).Should(ready(membershipv1alpha1.ReasonOwnerActive))

		By("after the owner change, the notification address is unchanged and still gets member-joined emails")
		Expect(getStore(s)(Default).NotificationEmail).To(Equal(membershipv1alpha1.EmailAddress("olga@example.com")))
		createInvitation(ns, "invite-rita", "shop", "rita@example.com")
		status, body = postAccept(tokenFromEmail("rita@example.com", "You have been invited to manage Acme Shop"), "staff secret phrase 2")
		Expect(status).To(Equal(http.StatusCreated), "%v", body)
		Eventually(func() []mailcatcher.Message { return mailTo("olga@example.com", "rita@example.com joined Acme Shop") }).
			Should(HaveLen(1))
		Expect(mailTo("nadia@example.com", "rita@example.com joined Acme Shop")).To(BeEmpty())
		Consistently(func() int { return len(mailTo("olga@example.com", noticeSubject)) }).WithTimeout(time.Second).Should(Equal(1))
	})

	It("cancels a pending transfer when the spec is reverted: its link answers 410", func() {
		ns := newNamespace()
		s := createStore(ns, "shop", "oscar@example.com")
		activateOwner(ns, "shop", "oscar@example.com", "first secret phrase 2")
		updateStore(s, func(st *membershipv1alpha1.Store) { st.Spec.Owner.Email = "tina@example.com" })
		token := tokenFromEmail("tina@example.com", transferSubject)
		transfer := pendingTransfer(s)

		updateStore(s, func(st *membershipv1alpha1.Store) { st.Spec.Owner.Email = "oscar@example.com" })
		Eventually(getStore(s)).Should(HaveField("OwnerTransfer", BeNil()))
		Eventually(func(g Gomega) membershipv1alpha1.InvitationPhase {
			inv := &membershipv1alpha1.Invitation{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: transfer.Invitation}, inv)).To(Succeed())
			return inv.Status.Phase
		}).Should(Equal(membershipv1alpha1.InvitationRevoked))
		status, body := postAccept(token, "second secret phrase 2")
		Expect(status).To(Equal(http.StatusGone), "%v", body)

		Expect(ownerCredentials(ns)(Default)).To(verifies("first secret phrase 2"))
		Expect(getMember(ns, "shop-owner")(Default).Spec.Email).To(Equal(membershipv1alpha1.EmailAddress("oscar@example.com")))
		Expect(mailTo("oscar@example.com", noticeSubject)).To(BeEmpty())
		Eventually(getStore(s)).Should(ready(membershipv1alpha1.ReasonOwnerActive))
	})

	It("puts back an owner Member edited directly, and refuses the owner role to anyone else", func() {
		ns := newNamespace()
		createStore(ns, "shop", "uma@example.com")
		Eventually(getMember(ns, "shop-owner")).Should(HaveField("Spec.Roles", ConsistOf(membershipv1alpha1.RoleOwner)))
		Eventually(func() error {
			m := getMember(ns, "shop-owner")(Default)
			m.Spec.Roles = []membershipv1alpha1.Role{membershipv1alpha1.RoleAdmin}
			m.Spec.TwoFactor.Required = false
			return k8sClient.Update(ctx, m)
		}).Should(Succeed())
		Eventually(getMember(ns, "shop-owner")).Should(And(HaveField("Spec.Roles", ConsistOf(membershipv1alpha1.RoleOwner)),
			HaveField("Spec.TwoFactor.Required", true)))

		By("a Member given the owner role by hand (the webhook is not installed here) gets no credentials")
		createMember(ns, "mallory", "shop", "mallory@example.com", membershipv1alpha1.RoleOwner)
		Eventually(getMember(ns, "mallory")).WithTimeout(20 * time.Second).Should(And(
			HaveField("Status.Phase", membershipv1alpha1.MemberConflict),
			WithTransform(func(m *membershipv1alpha1.Member) string {
				c := meta.FindStatusCondition(m.Status.Conditions, membershipv1alpha1.ConditionReady)
				if c == nil {
					return ""
				}
				return c.Reason + ": " + c.Message
			}, And(HavePrefix(membershipv1alpha1.ReasonOwnerRoleNotAllowed), ContainSubstring("spec.roles")))))
		Consistently(func() bool {
			return k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "mallory-credentials"}, &corev1.Secret{}) == nil
		}).WithTimeout(time.Second).Should(BeFalse())
		Expect(strings.Join(names(&corev1.SecretList{}, ns)(), ",")).NotTo(ContainSubstring("mallory"))
	})
})

// With the webhooks down, someone who may edit Members strips the active owner Member's owner
// reference and labels, sets its email to their own and asks for a password reset by annotation:
// the Store decides who its owner is by the UID it recorded, puts everything back, and the
// owner's credentials are never withdrawn nor re-addressed.
var _ = Describe("Store owner stripped through metadata", func() {
	It("is still the owner: references, labels and email put back, credentials kept, no reset emailed", func() {
		ns := newNamespace()
		createStore(ns, "shop", "vic@example.com")
		activateOwner(ns, "shop", "vic@example.com", "the owner's own passphrase")
		before := ownerCredentials(ns)(Default)
		Eventually(func(g Gomega) string {
			store := &membershipv1alpha1.Store{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop"}, store)).To(Succeed())
			return string(store.Status.OwnerMemberUID) + "/" + string(store.Status.OwnerEmail)
		}).Should(Equal(string(getMember(ns, "shop-owner")(Default).UID)+"/vic@example.com"), "the Store records its owner")

		tenant, err := env.NewUserClient("tenant")
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() error {
			m := getMember(ns, "shop-owner")(Default)
			m.OwnerReferences = nil
			delete(m.Labels, membershipv1alpha1.StoreLabel)
			m.Spec.Email = "mallory@example.com"
			m.Annotations[membershipv1alpha1.ResetPasswordAnnotation] = "now"
			return tenant.Update(ctx, m)
		}).Should(Succeed())

		Eventually(getMember(ns, "shop-owner")).Should(And(
			WithTransform(func(m *membershipv1alpha1.Member) bool {
				store := &membershipv1alpha1.Store{}
				Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop"}, store)).To(Succeed())
				return metav1.IsControlledBy(m, store)
			}, BeTrue()),
			HaveField("Labels", HaveKeyWithValue(membershipv1alpha1.StoreLabel, "shop")),
			HaveField("Spec.Email", membershipv1alpha1.EmailAddress("vic@example.com"))))
		Eventually(getMember(ns, "shop-owner")).Should(HaveField("Status.Phase", membershipv1alpha1.MemberActive))
		Consistently(func(g Gomega) string {
			s := ownerCredentials(ns)(g)
			return string(s.UID) + "/" + string(s.Data[membershipv1alpha1.CredentialPasswordHash]) + "/" + string(s.Data[membershipv1alpha1.CredentialUsername])
		}).WithTimeout(2*time.Second).Should(Equal(string(before.UID)+"/"+string(before.Data[membershipv1alpha1.CredentialPasswordHash])+"/vic@example.com"),
			"the owner's credentials were never withdrawn nor re-addressed")
		Expect(mailTo("mallory@example.com", "Reset your password for Acme Shop")).To(BeEmpty())
		Expect(mailTo("vic@example.com", "Reset your password for Acme Shop")).To(BeEmpty(), "no reset by annotation for the owner")
	})
})

// Handing a store over is never silent: the current owner is told at once, with a link that
// stops it, and the hand-over stops when they use it.
var _ = Describe("Store owner told of a hand-over", func() {
	It("is emailed at once with a cancel link (a button; POST) that revokes the transfer invitation", func() {
		ns := newNamespace()
		s := createStore(ns, "shop", "wes@example.com")
		activateOwner(ns, "shop", "wes@example.com", "the owner's first phrase")
		updateStore(s, func(st *membershipv1alpha1.Store) { st.Spec.Owner.Email = "xia@example.com" })
		token := tokenFromEmail("xia@example.com", transferSubject)
		transfer := pendingTransfer(s)

		By("the current owner's notice names the new address and carries a link to stop it")
		const startedSubject = "Acme Shop is being handed over to xia@example.com"
		Eventually(func() []mailcatcher.Message { return mailTo("wes@example.com", startedSubject) }).Should(HaveLen(1))
		notice, err := mailTo("wes@example.com", startedSubject)[0].Body()
		Expect(err).NotTo(HaveOccurred())
		link := notice.Link("/transfer/cancel")
		Expect(link).To(HavePrefix(baseURL + "/transfer/cancel?token="))
		u, err := url.Parse(link)
		Expect(err).NotTo(HaveOccurred())
		cancelToken := u.Query().Get("token")

		By("opening the link changes nothing: a button")
		resp, err := http.Get(link) //nolint:gosec // the link from the email under test, to the local server
		Expect(err).NotTo(HaveOccurred())
		page, err := io.ReadAll(resp.Body)
		Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		Expect(string(page)).To(And(ContainSubstring(`<form method="post" action="cancel">`), ContainSubstring("xia@example.com")))
		Expect(getStore(s)(Default).OwnerTransfer).NotTo(BeNil())

		By("its POST stops the hand-over: the transfer invitation is revoked and its link answers 410")
		resp, err = http.PostForm(baseURL+"/transfer/cancel", url.Values{"token": {cancelToken}})
		Expect(err).NotTo(HaveOccurred())
		page, err = io.ReadAll(resp.Body)
		Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusOK), string(page))
		Expect(string(page)).To(ContainSubstring("The hand-over was stopped"))
		Eventually(func(g Gomega) membershipv1alpha1.InvitationPhase {
			inv := &membershipv1alpha1.Invitation{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: transfer.Invitation}, inv)).To(Succeed())
			return inv.Status.Phase
		}).Should(Equal(membershipv1alpha1.InvitationRevoked))
		status, body := postAccept(token, "the new owner's phrase")
		Expect(status).To(Equal(http.StatusGone), "%v", body)
		Eventually(getStore(s)).Should(HaveField("OwnerTransfer", BeNil()))
		Eventually(getStore(s)).Should(HaveField("Conditions", ContainElement(HaveField("Message", ContainSubstring("the owner stopped the hand-over to xia@example.com")))))

		By("no new transfer starts for that address while the stopped one exists; the owner is unchanged")
		Consistently(func() []string {
			var list membershipv1alpha1.InvitationList
			Expect(k8sClient.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
			var transfers []string
			for _, inv := range list.Items {
				if strings.HasPrefix(inv.Name, "shop-owner-transfer-") {
					transfers = append(transfers, inv.Name)
				}
			}
			return transfers
		}).WithTimeout(2 * time.Second).Should(Equal([]string{transfer.Invitation}))
		Expect(mailTo("xia@example.com", transferSubject)).To(HaveLen(1))
		Expect(ownerCredentials(ns)(Default)).To(verifies("the owner's first phrase"))
		Expect(getMember(ns, "shop-owner")(Default).Spec.Email).To(Equal(membershipv1alpha1.EmailAddress("wes@example.com")))

		By("the link is single use")
		resp, err = http.PostForm(baseURL+"/transfer/cancel", url.Values{"token": {cancelToken}})
		Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		Expect(resp.StatusCode).NotTo(Equal(http.StatusOK))
	})
})

var _ = Describe("Store owner transfer whose staged Secret name is taken", func() {
	It("leaves the foreign Secret as it was and does not count the transfer as accepted", func() {
		ns := newNamespace()
		s := createStore(ns, "shop", "yan@example.com")
		activateOwner(ns, "shop", "yan@example.com", "the owner's first phrase")
		updateStore(s, func(st *membershipv1alpha1.Store) { st.Spec.Owner.Email = "zed@example.com" })
		token := tokenFromEmail("zed@example.com", transferSubject)
		transfer := pendingTransfer(s)
		foreign := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: membershipv1alpha1.NewOwnerCredentialsSecretName(transfer.Invitation)},
			Data:       map[string][]byte{"someone": []byte("else's")},
		}
		Expect(k8sClient.Create(ctx, foreign)).To(Succeed())

		status, _ := postAccept(token, "the new owner's phrase")
		Expect(status).NotTo(Equal(http.StatusCreated))
		after := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(foreign), after)).To(Succeed())
		Expect(after.ResourceVersion).To(Equal(foreign.ResourceVersion))
		Expect(after.OwnerReferences).To(BeEmpty())
		inv := &membershipv1alpha1.Invitation{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: transfer.Invitation}, inv)).To(Succeed())
		Expect(inv.Status.Phase).NotTo(Equal(membershipv1alpha1.InvitationAccepted))
		Consistently(func() membershipv1alpha1.EmailAddress { return getMember(ns, "shop-owner")(Default).Spec.Email }).
			WithTimeout(time.Second).Should(Equal(membershipv1alpha1.EmailAddress("yan@example.com")))
		Expect(ownerCredentials(ns)(Default)).To(verifies("the owner's first phrase"))
	})
})
