// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package store_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/test/testenv"
)

func newNamespace() string {
	GinkgoHelper()
	return testenv.Must(testenv.NewNamespace(ctx, k8sClient, "store-"))
}

func createStore(ns, name, owner string) *membershipv1alpha1.Store {
	GinkgoHelper()
	s := testenv.NewStore(ns, name, owner)
	Expect(k8sClient.Create(ctx, s)).To(Succeed())
	return s
}

func createMember(ns, name, store, email string, roles ...membershipv1alpha1.Role) {
	GinkgoHelper()
	if len(roles) == 0 {
		roles = []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff}
	}
	Expect(k8sClient.Create(ctx, &membershipv1alpha1.Member{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: membershipv1alpha1.MemberSpec{StoreRef: membershipv1alpha1.StoreReference{Name: store},
			Email: membershipv1alpha1.EmailAddress(email), Roles: roles},
	})).To(Succeed())
}

func createInvitation(ns, name, store, email string) {
	GinkgoHelper()
	Expect(k8sClient.Create(ctx, &membershipv1alpha1.Invitation{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: membershipv1alpha1.InvitationSpec{StoreRef: membershipv1alpha1.StoreReference{Name: store},
			Email: membershipv1alpha1.EmailAddress(email), Roles: []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff}},
	})).To(Succeed())
}

func getStore(s *membershipv1alpha1.Store) func(Gomega) membershipv1alpha1.StoreStatus {
	return func(g Gomega) membershipv1alpha1.StoreStatus {
		out := &membershipv1alpha1.Store{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(s), out)).To(Succeed())
		return out.Status
	}
}

func updateStore(s *membershipv1alpha1.Store, mutate func(*membershipv1alpha1.Store)) {
	GinkgoHelper()
	Eventually(func() error {
		latest := &membershipv1alpha1.Store{}
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(s), latest); err != nil {
			return err
		}
		mutate(latest)
		return k8sClient.Update(ctx, latest)
	}).Should(Succeed())
}

// names lists the names of the objects of list in ns.
func names(list client.ObjectList, ns string) func() []string {
	return func() []string {
		Expect(k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
		var out []string
		switch l := list.(type) {
		case *membershipv1alpha1.MemberList:
			for _, i := range l.Items {
				out = append(out, i.Name)
			}
		case *membershipv1alpha1.InvitationList:
			for _, i := range l.Items {
				out = append(out, i.Name)
			}
		case *corev1.SecretList:
			for _, i := range l.Items {
				out = append(out, i.Name)
			}
		case *membershipv1alpha1.StoreList:
			for _, i := range l.Items {
				out = append(out, i.Name)
			}
		}
		return out
	}
}

var _ = Describe("Store controller", func() {
	It("fixes the notification address at the first reconcile; only spec.notificationEmail moves it", func() {
		ns := newNamespace()
		s := createStore(ns, "shop", "alice@example.com")
		Eventually(getStore(s)).Should(HaveField("NotificationEmail", membershipv1alpha1.EmailAddress("alice@example.com")))
		updateStore(s, func(st *membershipv1alpha1.Store) { st.Spec.Owner.Email = "bob@example.com" })
		Eventually(getStore(s)).Should(HaveField("ObservedGeneration", int64(2)))
		Expect(getStore(s)(Default).NotificationEmail).To(Equal(membershipv1alpha1.EmailAddress("alice@example.com")))
		updateStore(s, func(st *membershipv1alpha1.Store) { st.Spec.NotificationEmail = "ops@example.com" })
		Eventually(getStore(s)).Should(HaveField("NotificationEmail", membershipv1alpha1.EmailAddress("ops@example.com")))
	})

	It("counts members (not the owner) and pending invitations", func() {
		ns := newNamespace()
		s := createStore(ns, "shop", "owner@example.com")
		createMember(ns, "bob", "shop", "bob@example.com")
		createMember(ns, "carol", "shop", "carol@example.com", membershipv1alpha1.RoleAdmin)
		createInvitation(ns, "invite-dave", "shop", "dave@example.com")
		By("the owner Member and its activation invitation, which the Store made, are not counted")
		Eventually(names(&membershipv1alpha1.MemberList{}, ns)).Should(ContainElement("shop-owner"))
		Eventually(names(&membershipv1alpha1.InvitationList{}, ns)).Should(ContainElement(HavePrefix("shop-owner-activation-")))
		Eventually(getStore(s)).WithTimeout(20 * time.Second).Should(And(
			HaveField("Members", int32(2)), HaveField("PendingInvitations", int32(1))))
	})

	It("on deletion removes its Members, Invitations and their Secrets, and leaves another Store alone", func() {
		ns := newNamespace()
		doomed := createStore(ns, "doomed", "doomed-owner@example.com")
		createStore(ns, "kept", "kept-owner@example.com")
		createMember(ns, "erin", "doomed", "erin@example.com")
		createMember(ns, "frank", "kept", "frank@example.com")
		createInvitation(ns, "invite-gina", "doomed", "gina@example.com")
		createInvitation(ns, "invite-hank", "kept", "hank@example.com")
		// Invitation links are hashes in the Invitations' status: no Secret of theirs.
		Eventually(names(&corev1.SecretList{}, ns)).WithTimeout(20 * time.Second).Should(ConsistOf("erin-credentials", "frank-credentials"))
		Eventually(getStore(doomed)).Should(HaveField("Members", int32(1)))
		By("activating the doomed Store's owner, so it has credentials too")
		activateOwner(ns, "doomed", "doomed-owner@example.com", "owner-password-1")
		Eventually(names(&corev1.SecretList{}, ns)).Should(ContainElement("doomed-owner-credentials"))

		Expect(k8sClient.Delete(ctx, doomed)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(doomed), &membershipv1alpha1.Store{}))
		}).WithTimeout(30 * time.Second).Should(BeTrue())
		Expect(names(&membershipv1alpha1.MemberList{}, ns)()).To(ConsistOf("frank", "kept-owner"))
		Expect(names(&membershipv1alpha1.InvitationList{}, ns)()).To(ConsistOf("invite-hank", HavePrefix("kept-owner-activation-")))
		Expect(names(&corev1.SecretList{}, ns)()).To(ConsistOf("frank-credentials"))
		Expect(names(&membershipv1alpha1.StoreList{}, ns)()).To(ConsistOf("kept"))
		Eventually(func() []string {
			var subjects []string
			for _, m := range catcher.Messages() {
				if len(m.To) == 1 && m.To[0] == "erin@example.com" {
					subjects = append(subjects, m.Subject())
				}
			}
			return subjects
		}).Should(ContainElement("Your access to Acme Shop was removed"), "the removed member is told")
		By("the kept Store's owner is untouched: still waiting to activate, its link still live")
		Expect(getStore(&membershipv1alpha1.Store{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "kept"}})(Default).Conditions).To(
			ContainElement(And(HaveField("Type", "Ready"), HaveField("Reason", membershipv1alpha1.ReasonAwaitingOwnerActivation))))
	})
})
