// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package store_test

import (
	"net/http"
	"net/url"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/controller/store"
	"github.com/storeops/member-operator/test/mailcatcher"
	"github.com/storeops/member-operator/test/testenv"
)

// storeEvents lists "TYPE REASON" of the events about a Store.
func storeEvents(s *membershipv1alpha1.Store) func() []string {
	return func() []string {
		var list eventsv1.EventList
		Expect(k8sClient.List(ctx, &list, client.InNamespace(s.Namespace))).To(Succeed())
		var out []string
		for _, e := range list.Items {
			if e.Regarding.Kind == "Store" && e.Regarding.Name == s.Name {
				out = append(out, e.Type+" "+e.Reason)
			}
		}
		return out
	}
}

// acceptToken is the token of the acceptance link in msg.
func acceptToken(msg mailcatcher.Message) string {
	GinkgoHelper()
	body, err := msg.Body()
	Expect(err).NotTo(HaveOccurred())
	u, err := url.Parse(body.Link("/invitations/accept"))
	Expect(err).NotTo(HaveOccurred())
	return u.Query().Get("token")
}

// The deadline runs on real time here (the Store controller requeues at each instant; nothing
// polls): the reminder a day ahead is made due a few seconds after the Store is created, and the
// deadline is then moved to a few seconds away. The instants themselves, to the second, are
// table-tested in policy_test.go.
var _ = Describe("Store owner activation deadline", func() {
	It("reminds the owner with a fresh link, suspends every Member and holds invitations once it passes, and activation restores them all", func() {
		ns := newNamespace()
		const owner, staff, invitee = "dora.deadline@example.com", "sam.deadline@example.com", "lee.deadline@example.com"
		deadline := metav1.NewTime(time.Now().Add(24*time.Hour + 8*time.Second).Truncate(time.Second))
		s := testenv.NewStore(ns, "shop", owner, func(s *membershipv1alpha1.Store) { s.Spec.Owner.ActivationDeadline = &deadline })
		Expect(k8sClient.Create(ctx, s)).To(Succeed())
		activations := func() []mailcatcher.Message { return mailTo(owner, activationSubject) }

		By("the activation email says the deadline")
		first := tokenFromEmail(owner, activationSubject)
		text, err := activations()[0].Body()
		Expect(err).NotTo(HaveOccurred())
		Expect(text.Text).To(ContainSubstring("Please activate by"))

		By("a Member of the Store has access before the deadline")
		createMember(ns, "sam", "shop", staff)
		Eventually(getMember(ns, "sam")).WithTimeout(20 * time.Second).Should(HaveField("Status.Phase", membershipv1alpha1.MemberActive))
		before := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "sam-credentials"}, before)).To(Succeed())

		By("a day before the deadline, the activation email goes again with a fresh link, once")
		Eventually(activations).WithTimeout(30 * time.Second).Should(HaveLen(2))
		second := acceptToken(activations()[1])
		Expect(second).NotTo(Equal(first))
		Eventually(storeEvents(s)).Should(ContainElement("Normal " + store.EventActivationReminder))
		code, _ := postAccept(first, "the first link is replaced")
		Expect(code).To(Equal(http.StatusGone))
		Consistently(activations).WithTimeout(2 * time.Second).Should(HaveLen(2))

		By("the deadline passes: every Member is suspended, the Store is not Ready, invitations wait")
		updateStore(s, func(latest *membershipv1alpha1.Store) {
			soon := metav1.NewTime(time.Now().Add(2 * time.Second).Truncate(time.Second))
			latest.Spec.Owner.ActivationDeadline = &soon
		})
		Eventually(getStore(s)).WithTimeout(20 * time.Second).Should(And(
			condition(membershipv1alpha1.ConditionMembersSuspended, metav1.ConditionTrue, membershipv1alpha1.ReasonOwnerActivationOverdue),
			condition(membershipv1alpha1.ConditionReady, metav1.ConditionFalse, membershipv1alpha1.ReasonOwnerActivationOverdue)))
		Eventually(getMember(ns, "sam")).Should(And(HaveField("Status.Phase", membershipv1alpha1.MemberSuspended),
			HaveField("Status.CredentialsSecret", BeEmpty())))
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "sam-credentials"}, &corev1.Secret{})).NotTo(Succeed(),
			"the grant is gone while suspended")
		Expect(storeEvents(s)()).To(ContainElement("Warning " + store.EventMembersSuspended))
		createInvitation(ns, "lee", "shop", invitee)
		waiting := func(g Gomega) *membershipv1alpha1.Invitation {
			inv := &membershipv1alpha1.Invitation{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "lee"}, inv)).To(Succeed())
			return inv
		}
		Eventually(waiting).Should(And(HaveField("Status.Phase", membershipv1alpha1.InvitationPending),
			WithTransform(func(inv *membershipv1alpha1.Invitation) string {
				if c := meta.FindStatusCondition(inv.Status.Conditions, membershipv1alpha1.ConditionReady); c != nil {
					return c.Reason
				}
				return ""
			}, Equal(membershipv1alpha1.ReasonOwnerActivationOverdue))))
		Consistently(func() int { return len(mailTo(invitee, "You have been invited to manage Acme Shop")) }).
			WithTimeout(2 * time.Second).Should(BeZero())
		Expect(activations()).To(HaveLen(2), "no reminder after the deadline")

		By("the owner activates with the reminder's link: everything comes back at once, as it was")
		code, body := postAccept(second, "correct horse battery")
		Expect(code).To(Equal(http.StatusCreated), "%v", body)
		Eventually(getStore(s)).WithTimeout(20 * time.Second).Should(And(ready(membershipv1alpha1.ReasonOwnerActive),
			HaveField("Conditions", Not(ContainElement(HaveField("Type", membershipv1alpha1.ConditionMembersSuspended))))))
		Eventually(getMember(ns, "sam")).Should(HaveField("Status.Phase", membershipv1alpha1.MemberActive))
		after := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "sam-credentials"}, after)).To(Succeed())
		Expect(after.Data[membershipv1alpha1.CredentialPasswordHash]).To(Equal(before.Data[membershipv1alpha1.CredentialPasswordHash]),
			"the same password as before the suspension")
		Eventually(func() int { return len(mailTo(invitee, "You have been invited to manage Acme Shop")) }).
			WithTimeout(20 * time.Second).Should(Equal(1))
		Expect(storeEvents(s)()).To(ContainElement("Normal " + store.EventMembersRestored))
	})
})
