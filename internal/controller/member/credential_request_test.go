// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package member_test

import (
	"bytes"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/credrequest"
	"github.com/storeops/member-operator/test/testenv"
)

// The Member controller is the one writer of a credential Secret's data; the others ask it
// through credential requests in the operator's namespace (internal/credrequest). A tenant can
// create Secrets in their own namespace (a spec.passwordSecretRef is one): a request forged there,
// with every name, label, annotation and owner reference the operator's carry, must change nothing.
var _ = Describe("credential requests", func() {
	var ns string
	BeforeEach(func() {
		ns = newNamespace()
		createStore(ns, "shop", membershipv1alpha1.LocaleEnglish)
	})

	hashOf := func(m *membershipv1alpha1.Member) func() []byte {
		return func() []byte { return credentialsOf(m).Data[membershipv1alpha1.CredentialPasswordHash] }
	}
	requestGone := func(namespace, name string) func() bool {
		return func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &corev1.Secret{}))
		}
	}

	It("applies a transfer asked in the operator's namespace, and never one a tenant forges in the Member's", func() {
		tenant, err := controlPlane.NewUserClient("tenant")
		Expect(err).NotTo(HaveOccurred())
		m := newMember(ns, "dana", "dana@example.com", membershipv1alpha1.RoleStaff)
		Expect(tenant.Create(ctx, m)).To(Succeed())
		before := credentialsOf(m)
		m = getMember(m)(Default)
		attackers, err := credentials.HashPassword("the tenant's own password", credentials.MinBcryptCost)
		Expect(err).NotTo(HaveOccurred())

		By("forging a transfer request in the Member's namespace, as the tenant")
		forged := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{
				Namespace: ns, Name: membershipv1alpha1.CredentialRequestName(membershipv1alpha1.CredentialRequestTransfer, m.UID),
				Labels: map[string]string{
					membershipv1alpha1.ManagedByLabel:         membershipv1alpha1.ManagedByValue,
					membershipv1alpha1.CredentialRequestLabel: membershipv1alpha1.CredentialRequestTransfer,
				},
				Annotations: map[string]string{
					membershipv1alpha1.MemberRefAnnotation: ns + "/" + m.Name,
					membershipv1alpha1.MemberUIDAnnotation: string(m.UID),
				},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: membershipv1alpha1.GroupVersion.String(), Kind: "Member",
					Name: m.Name, UID: m.UID, Controller: ptr.To(true)}},
			},
			Data: map[string][]byte{membershipv1alpha1.CredentialPasswordHash: attackers},
		}
		Expect(tenant.Create(ctx, forged)).To(Succeed())

		By("changing the Member's roles, as the tenant: the controller writes them into the Secret")
		updateMember(m, func(latest *membershipv1alpha1.Member) {
			latest.Spec.Roles = []membershipv1alpha1.Role{membershipv1alpha1.RoleFinance}
		})
		Eventually(func() bool {
			return bytes.Equal(credentialsOf(m).Data[membershipv1alpha1.CredentialRoles], before.Data[membershipv1alpha1.CredentialRoles])
		}).Should(BeFalse(), "the Member was reconciled after the forged request existed")
		Expect(hashOf(m)()).To(Equal(before.Data[membershipv1alpha1.CredentialPasswordHash]), "the tenant's password is not the Member's")
		Expect(credentials.VerifyPassword(hashOf(m)(), "the tenant's own password")).To(BeFalse())
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(forged), &corev1.Secret{})).To(Succeed(),
			"nor is the tenant's Secret the operator's to delete")

		By("asking in the operator's namespace, as the Store controller does")
		chosen, err := credentials.HashPassword("the new owner's password", credentials.MinBcryptCost)
		Expect(err).NotTo(HaveOccurred())
		asked, err := credrequest.Ask(ctx, k8sClient, k8sClient, testenv.AccountNamespace, credrequest.Request{
			Kind: membershipv1alpha1.CredentialRequestTransfer, Member: m, PasswordHash: chosen})
		Expect(err).NotTo(HaveOccurred())
		Eventually(hashOf(m)).Should(Equal(chosen))
		Expect(credentialsOf(m).Data).NotTo(HaveKey(membershipv1alpha1.CredentialPassword), "the generated password went with the old hash")
		Eventually(requestGone(asked.Namespace, asked.Name)).Should(BeTrue(), "applied, then deleted")
		Eventually(eventsFor(m)).Should(ContainElement(And(HavePrefix("Normal PasswordChosen"), ContainSubstring("the ownership transfer"))))
	})

	It("refuses a password change made over a password that changed since, and says so", func() {
		m := newMember(ns, "eli", "eli@example.com", membershipv1alpha1.RoleStaff)
		Expect(k8sClient.Create(ctx, m)).To(Succeed())
		before := credentialsOf(m)
		m = getMember(m)(Default)
		changed, err := credentials.HashPassword("a change made against an older password", credentials.MinBcryptCost)
		Expect(err).NotTo(HaveOccurred())

		asked, err := credrequest.Ask(ctx, k8sClient, k8sClient, testenv.AccountNamespace, credrequest.Request{
			Kind: membershipv1alpha1.CredentialRequestPassword, Member: m, PasswordHash: changed, Replaces: []byte("an older hash")})
		Expect(err).NotTo(HaveOccurred())
		Eventually(requestGone(asked.Namespace, asked.Name)).Should(BeTrue(), "dropped")
		Eventually(eventsFor(m)).Should(ContainElement(And(HavePrefix("Warning CredentialRequestRefused"),
			ContainSubstring("changed after the person signed in"))))
		Expect(hashOf(m)()).To(Equal(before.Data[membershipv1alpha1.CredentialPasswordHash]))

		By("the same change over the hash it replaces")
		asked, err = credrequest.Ask(ctx, k8sClient, k8sClient, testenv.AccountNamespace, credrequest.Request{
			Kind: membershipv1alpha1.CredentialRequestPassword, Member: m, PasswordHash: changed,
			Replaces: before.Data[membershipv1alpha1.CredentialPasswordHash]})
		Expect(err).NotTo(HaveOccurred())
		Eventually(hashOf(m)).Should(Equal(changed))
		Eventually(requestGone(asked.Namespace, asked.Name)).Should(BeTrue())
	})
})
