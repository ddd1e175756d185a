// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package member_test

import (
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/test/mailcatcher"
)

// poke makes the controller look at m now (the fake clock does not wake it).
func poke(m *membershipv1alpha1.Member) {
	GinkgoHelper()
	updateMember(m, func(latest *membershipv1alpha1.Member) {
		if latest.Annotations == nil {
			latest.Annotations = map[string]string{}
		}
		latest.Annotations["test.storeops.io/poke"] = strconv.FormatInt(time.Now().UnixNano(), 10)
	})
}

var _ = Describe("access that ends by itself", func() {
	It("withdraws the credentials at spec.accessExpiresAt to the second, tells the person once, and a later date restores the same ones", func() {
		// The clock goes back to the real time afterwards: other specs compare it with times the
		// API server wrote (a deletion timestamp).
		DeferCleanup(func() { fakeClock.SetTime(time.Now()) })
		ns := newNamespace()
		createStore(ns, "shop", membershipv1alpha1.LocaleEnglish)
		end := metav1.NewTime(fakeClock.Now().Add(time.Hour).Truncate(time.Second))
		m := newMember(ns, "partner", "partner.expiry@example.com", membershipv1alpha1.RoleOperations)
		m.Spec.AccessExpiresAt = &end
		Expect(k8sClient.Create(ctx, m)).To(Succeed())
		Eventually(getMember(m)).Should(phase(membershipv1alpha1.MemberActive))
		before := credentialsOf(m)
		told := func() []mailcatcher.Message {
			var out []mailcatcher.Message
			for _, msg := range catcher.Messages() {
				if len(msg.To) == 1 && msg.To[0] == "partner.expiry@example.com" && msg.Subject() == "Your access to Acme Shop has ended" {
					out = append(out, msg)
				}
			}
			return out
		}

		By("a second before the end, nothing changes")
		fakeClock.SetTime(end.Add(-time.Second))
		poke(m)
		Consistently(getMember(m)).WithTimeout(time.Second).Should(phase(membershipv1alpha1.MemberActive))

		By("at the end, the credentials go")
		fakeClock.SetTime(end.Time)
		poke(m)
		Eventually(getMember(m)).Should(And(phase(membershipv1alpha1.MemberExpired),
			HaveField("Status.CredentialsSecret", BeEmpty())))
		Expect(credentialsGone(m)()).To(BeTrue())
		Eventually(eventsFor(m)).Should(ContainElement(HavePrefix("Normal AccessExpired")))
		Eventually(told).Should(HaveLen(1))
		poke(m)
		Consistently(told).WithTimeout(2*time.Second).Should(HaveLen(1), "told once per expiry")

		By("a later date gives the same credentials back")
		later := metav1.NewTime(end.Add(24 * time.Hour))
		updateMember(m, func(latest *membershipv1alpha1.Member) { latest.Spec.AccessExpiresAt = &later })
		Eventually(getMember(m)).Should(phase(membershipv1alpha1.MemberActive))
		after := credentialsOf(m)
		Expect(after.Data[membershipv1alpha1.CredentialPasswordHash]).To(Equal(before.Data[membershipv1alpha1.CredentialPasswordHash]))
		Expect(after.Data[membershipv1alpha1.CredentialPassword]).To(Equal(before.Data[membershipv1alpha1.CredentialPassword]))
	})
})
