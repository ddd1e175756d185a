// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package member_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// The confused deputy: a tenant who may create Members but not touch Secrets names a Member so
// that the operator's Secret for it would be an application's Secret. The operator must leave that
// Secret exactly as it was, and give the Member no credentials.
var _ = Describe("a Secret the Member does not control", func() {
	var ns string
	var tenant client.Client
	BeforeEach(func() {
		ns = newNamespace()
		createStore(ns, "shop", membershipv1alpha1.LocaleEnglish)
		var err error
		tenant, err = controlPlane.NewUserClient("tenant")
		Expect(err).NotTo(HaveOccurred())
	})

	// applicationSecret is another application's Secret, written by someone who is not the operator.
	applicationSecret := func(name string, labels map[string]string) *corev1.Secret {
		GinkgoHelper()
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
			Data:       map[string][]byte{"database-password": []byte("the app's own secret value")},
		}
		Expect(k8sClient.Create(ctx, secret)).To(Succeed())
		return secret
	}
	unchanged := func(original *corev1.Secret) {
		GinkgoHelper()
		now := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(original), now)).To(Succeed())
		Expect(now.UID).To(Equal(original.UID))
		Expect(now.ResourceVersion).To(Equal(original.ResourceVersion), "not rewritten, not even its labels")
		Expect(now.Data).To(Equal(original.Data))
		Expect(now.OwnerReferences).To(BeEmpty(), "not adopted")
	}

	DescribeTable("named <member>-credentials: Conflict, a Warning naming it, no credentials, and untouched also when the Member is deleted",
		func(labels map[string]string) {
			foreign := applicationSecret("app-credentials", labels)
			m := newMember(ns, "app", "app@example.com", membershipv1alpha1.RoleStaff)
			Expect(tenant.Create(ctx, m)).To(Succeed())

			Eventually(getMember(m)).Should(phase(membershipv1alpha1.MemberConflict))
			ready := meta.FindStatusCondition(getMember(m)(Default).Status.Conditions, membershipv1alpha1.ConditionReady)
			Expect(ready.Reason).To(Equal(membershipv1alpha1.ReasonSecretConflict))
			Expect(ready.Message).To(ContainSubstring(ns + "/app-credentials"))
			Eventually(eventsFor(m)).Should(ContainElement(And(HavePrefix("Warning SecretConflict"), ContainSubstring("app-credentials"))))
			Expect(getMember(m)(Default).Status.CredentialsSecret).To(BeEmpty())
			unchanged(foreign)

			By("deleting the Member, as the tenant")
			Expect(tenant.Delete(ctx, m)).To(Succeed())
			Eventually(func() error { return k8sClient.Get(ctx, client.ObjectKeyFromObject(m), &membershipv1alpha1.Member{}) }).
				Should(MatchError(ContainSubstring("not found")), "the Member goes")
			unchanged(foreign)
		},
		Entry("without the operator's labels (not in its cache)", nil),
		Entry("with the operator's labels copied onto it (in its cache)", map[string]string{
			membershipv1alpha1.ManagedByLabel: membershipv1alpha1.ManagedByValue, membershipv1alpha1.MemberLabel: "app",
			membershipv1alpha1.StoreLabel: "shop"}),
	)

	It("named <member>-credentials-retained: disabling revokes the Member's own credentials and leaves that Secret alone", func() {
		m := newMember(ns, "cal", "cal@example.com", membershipv1alpha1.RoleStaff)
		Expect(tenant.Create(ctx, m)).To(Succeed())
		credentialsOf(m)
		foreign := applicationSecret("cal-credentials-retained", map[string]string{
			membershipv1alpha1.ManagedByLabel: membershipv1alpha1.ManagedByValue, membershipv1alpha1.RetainedForLabel: "cal"})

		updateMember(m, func(latest *membershipv1alpha1.Member) { latest.Spec.Disabled = true })
		Eventually(credentialsGone(m)).Should(BeTrue(), "disabled means no access, whatever else")
		Eventually(getMember(m)).Should(phase(membershipv1alpha1.MemberConflict))
		Expect(meta.FindStatusCondition(getMember(m)(Default).Status.Conditions, membershipv1alpha1.ConditionReady).Reason).
			To(Equal(membershipv1alpha1.ReasonSecretConflict))
		unchanged(foreign)
		Expect(tenant.Delete(ctx, m)).To(Succeed())
		Eventually(func() error { return k8sClient.Get(ctx, client.ObjectKeyFromObject(m), &membershipv1alpha1.Member{}) }).
			Should(MatchError(ContainSubstring("not found")))
		unchanged(foreign)
	})
})

// With the webhook down, Members applied directly past the Store's memberLimit: the later ones
// get no credentials, first come, first served, and take a seat when one frees.
var _ = Describe("memberLimit for Members applied directly", func() {
	It("gives the Members past the limit Conflict, MemberLimitReached and no credentials, until a seat frees", func() {
		ns := newNamespace()
		createStore(ns, "limited", membershipv1alpha1.LocaleEnglish)
		Eventually(func() error {
			store := &membershipv1alpha1.Store{}
			if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "limited"}, store); err != nil {
				return err
			}
			store.Spec.MemberLimit = 2
			return k8sClient.Update(ctx, store)
		}).Should(Succeed())
		tenant, err := controlPlane.NewUserClient("tenant")
		Expect(err).NotTo(HaveOccurred())
		members := make([]*membershipv1alpha1.Member, 0, 3)
		for _, name := range []string{"a-ann", "b-ben", "c-cas"} {
			m := newMember(ns, name, name+"@example.com", membershipv1alpha1.RoleStaff)
			m.Spec.StoreRef.Name = "limited"
			Expect(tenant.Create(ctx, m)).To(Succeed())
			members = append(members, m)
		}
		credentialsOf(members[0])
		credentialsOf(members[1])
		Eventually(getMember(members[2])).Should(phase(membershipv1alpha1.MemberConflict))
		ready := meta.FindStatusCondition(getMember(members[2])(Default).Status.Conditions, membershipv1alpha1.ConditionReady)
		Expect(ready.Reason).To(Equal(membershipv1alpha1.ReasonMemberLimitReached))
		Expect(ready.Message).To(ContainSubstring(`Store "limited" has memberLimit 2 and 2 seats were taken`))
		Expect(credentialsGone(members[2])()).To(BeTrue())
		Eventually(eventsFor(members[2])).Should(ContainElement(HavePrefix("Warning MemberLimitReached")))

		By("a seat frees: the first Member goes, the waiting one gets credentials")
		Expect(tenant.Delete(ctx, members[0])).To(Succeed())
		credentialsOf(members[2])
		Eventually(getMember(members[2])).Should(phase(membershipv1alpha1.MemberActive))
		Expect(getMember(members[1])(Default).Status.Phase).To(Equal(membershipv1alpha1.MemberActive), "an earlier Member keeps its seat")
	})
})
