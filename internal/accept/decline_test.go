// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package accept_test

import (
	"net/http"
	"net/url"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/test/mailcatcher"
)

// invitationOf reads an Invitation.
func invitationOf(inv *membershipv1alpha1.Invitation) func(Gomega) *membershipv1alpha1.Invitation {
	return func(g Gomega) *membershipv1alpha1.Invitation {
		out := &membershipv1alpha1.Invitation{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(inv), out)).To(Succeed())
		return out
	}
}

var _ = Describe("declining an invitation", func() {
	It("from the page's button: Declined, the link dead at once, and the notification address told once", func() {
		ns := newNamespace()
		createStore(ns, membershipv1alpha1.LocaleEnglish)
		email := "zeno.decline@example.com"
		inv, token := invite(ns, "invite-zeno", email)
		notified := func() []mailcatcher.Message {
			return mailTo("owner-"+ns+"@example.com", email+" declined the invitation to Acme Shop")
		}

		By("the email carries the decline link; following it declines nothing (a mail scanner may)")
		Eventually(func(g Gomega) {
			body, err := mailTo(email, "You have been invited to manage Acme Shop")[0].Body()
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(body.Link("/invitations/decline")).To(Equal(baseURL + "/invitations/decline?token=" + url.QueryEscape(token)))
		}).Should(Succeed())
		Expect(getPage("/invitations/decline?token=" + token)).To(ContainSubstring("Tell Acme Shop that the invitation for " + email + " is not for you?"))
		Eventually(invitationOf(inv)).Should(HaveField("Status.Phase", membershipv1alpha1.InvitationSent))
		Expect(invitationOf(inv)(Default).Annotations).NotTo(HaveKey(membershipv1alpha1.DeclinedAtAnnotation))

		By("the acceptance page offers it too")
		Expect(getPage("/invitations/accept?token=" + token)).To(ContainSubstring(`id="decline"`))
		status, page := postForm("/invitations/decline", url.Values{"token": {token}})
		Expect(status).To(Equal(http.StatusOK), page)
		Expect(page).To(ContainSubstring("Invitation declined"))

		By("the link is dead at once, for accepting and for declining again")
		answer := postJSON("/api/v1/invitations/accept", map[string]string{"token": token, "password": "too late for this one"}, "password")
		Expect(answer.Status).To(Equal(http.StatusGone), "%v", answer.Body)
		Expect(postJSON("/api/v1/invitations/decline", map[string]string{"token": token}).Status).To(Equal(http.StatusGone))
		Expect(membersOf(ns)).To(BeEmpty())

		Eventually(invitationOf(inv)).Should(And(HaveField("Status.Phase", membershipv1alpha1.InvitationDeclined),
			HaveField("Status.DeclinedAt", Not(BeNil())), HaveField("Status.DeclineNotified", BeTrue())))
		Eventually(notified).Should(HaveLen(1))
		Consistently(notified).WithTimeout(2*time.Second).Should(HaveLen(1), "told once")
	})

	It("in the JSON API: 200, and an accepted invitation cannot be declined", func() {
		ns := newNamespace()
		createStore(ns, membershipv1alpha1.LocaleEnglish)
		declined, declinedToken := invite(ns, "invite-yves", "yves.decline@example.com")
		answer := postJSON("/api/v1/invitations/decline", map[string]string{"token": declinedToken})
		Expect(answer.Status).To(Equal(http.StatusOK), "%v", answer.Body)
		Expect(answer.Body).To(HaveKeyWithValue("invitation", declined.Name))
		Eventually(invitationOf(declined)).Should(HaveField("Status.Phase", membershipv1alpha1.InvitationDeclined))

		_, acceptedToken := invite(ns, "invite-xia", "xia.decline@example.com")
		accepted := postJSON("/api/v1/invitations/accept", map[string]string{"token": acceptedToken, "password": firstPassword}, "password")
		Expect(accepted.Status).To(Equal(http.StatusCreated), "%v", accepted.Body)
		Expect(postJSON("/api/v1/invitations/decline", map[string]string{"token": acceptedToken}).Status).To(Equal(http.StatusConflict))
	})
})
