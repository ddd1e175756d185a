// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package member_test

import (
	"encoding/json"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/credentials"
)

// newIntegration is a machine's Member of Store "shop": a client ID instead of an email.
func newIntegration(ns, name, clientID string, roles ...membershipv1alpha1.Role) *membershipv1alpha1.Member {
	return &membershipv1alpha1.Member{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: membershipv1alpha1.MemberSpec{
			StoreRef: membershipv1alpha1.StoreReference{Name: "shop"},
			Type:     membershipv1alpha1.MemberIntegration, ClientID: clientID, Roles: roles,
		},
	}
}

// memberTable is what `kubectl get members` prints in ns: the API server's Table, column name
// to cell, one map per row.
func memberTable(ns string) []map[string]any {
	GinkgoHelper()
	cs, err := kubernetes.NewForConfig(controlPlane.Config)
	Expect(err).NotTo(HaveOccurred())
	raw, err := cs.RESTClient().Get().AbsPath("/apis/membership.storeops.io/v1alpha1/namespaces", ns, "members").
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(ctx)
	Expect(err).NotTo(HaveOccurred())
	var table metav1.Table
	Expect(json.Unmarshal(raw, &table)).To(Succeed())
	rows := make([]map[string]any, 0, len(table.Rows))
	for _, row := range table.Rows {
		cells := map[string]any{}
		for i, column := range table.ColumnDefinitions {
			cells[column.Name] = row.Cells[i]
		}
		rows = append(rows, cells)
	}
	return rows
}

var _ = Describe("integration logins", func() {
	It("issues a machine a client ID and a generated secret, without email, 2FA or Account, listed apart", func() {
		ns := newNamespace()
		createStore(ns, "shop", membershipv1alpha1.LocaleEnglish)
		erp := newIntegration(ns, "erp", "erp-connector", membershipv1alpha1.RoleOperations)
		Expect(k8sClient.Create(ctx, erp)).To(Succeed())
		Eventually(getMember(erp)).Should(phase(membershipv1alpha1.MemberActive))

		secret := credentialsOf(erp)
		Expect(string(secret.Data[membershipv1alpha1.CredentialUsername])).To(Equal("erp-connector"), "the client ID")
		Expect(string(secret.Data[membershipv1alpha1.CredentialLoginType])).To(Equal(membershipv1alpha1.LoginTypeIntegration))
		Expect(secret.Data).To(HaveKey(membershipv1alpha1.CredentialPassword), "the generated client secret")
		Expect(credentials.VerifyPassword(secret.Data[membershipv1alpha1.CredentialPasswordHash],
			string(secret.Data[membershipv1alpha1.CredentialPassword]))).To(BeTrue())
		Expect(secret.Data).NotTo(HaveKey(membershipv1alpha1.CredentialTOTPSecret))
		Expect(string(secret.Data[membershipv1alpha1.CredentialRoles])).To(Equal("operations"))
		Expect(getMember(erp)(Default).Status.Account).To(BeEmpty(), "a machine is no person's account")

		By("kubectl get members shows which Members are machines")
		rows := memberTable(ns)
		Expect(rows).To(ContainElement(And(HaveKeyWithValue("Name", "erp"), HaveKeyWithValue("Type", "Integration"))))

		By("a person's login that is an integration's client ID is refused: every login of a store is unique")
		clash := newMember(ns, "clash", "erp-connector@example.com", membershipv1alpha1.RoleStaff)
		Expect(k8sClient.Create(ctx, clash)).To(Succeed())
		Eventually(getMember(clash)).Should(phase(membershipv1alpha1.MemberActive), "a different login")
		twin := newIntegration(ns, "erp-twin", "ERP-Connector", membershipv1alpha1.RoleFinance)
		Expect(k8sClient.Create(ctx, twin)).To(Succeed())
		Eventually(getMember(twin)).Should(And(phase(membershipv1alpha1.MemberConflict), WithTransform(func(m *membershipv1alpha1.Member) string {
			return meta.FindStatusCondition(m.Status.Conditions, membershipv1alpha1.ConditionReady).Reason
		}, Equal(membershipv1alpha1.ReasonLoginConflict))))
		Expect(credentialsGone(twin)()).To(BeTrue())

		By("the Store's overdue owner suspends its people, never its machines")
		store := &membershipv1alpha1.Store{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop"}, store)).To(Succeed())
		meta.SetStatusCondition(&store.Status.Conditions, metav1.Condition{Type: membershipv1alpha1.ConditionMembersSuspended,
			Status: metav1.ConditionTrue, Reason: membershipv1alpha1.ReasonOwnerActivationOverdue, Message: "overdue"})
		Expect(k8sClient.Status().Update(ctx, store)).To(Succeed())
		Eventually(getMember(clash)).Should(phase(membershipv1alpha1.MemberSuspended))
		Expect(credentialsGone(clash)()).To(BeTrue())
		Consistently(getMember(erp)).WithTimeout(2 * time.Second).Should(phase(membershipv1alpha1.MemberActive))
		Expect(credentialsOf(erp).Data).To(Equal(secret.Data), "the machine's login is untouched")

		By("deleting the integration emails nobody")
		before := len(catcher.Messages())
		Expect(k8sClient.Delete(ctx, erp)).To(Succeed())
		Eventually(credentialsGone(erp)).Should(BeTrue())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(erp), &membershipv1alpha1.Member{}))
		}).Should(BeTrue())
		Expect(catcher.Messages()).To(HaveLen(before))
	})

	It("imports an existing store login as it is: the old client ID and the bcrypt hash keep working", func() {
		ns := newNamespace()
		createStore(ns, "shop", membershipv1alpha1.LocaleEnglish)
		hash, err := credentials.HashPassword("the ERP's old password", 10)
		Expect(err).NotTo(HaveOccurred())
		Expect(k8sClient.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "old-store-login",
				Labels: map[string]string{membershipv1alpha1.PasswordSourceLabel: "true"}},
			Data: map[string][]byte{membershipv1alpha1.CredentialPasswordHash: hash},
		})).To(Succeed())
		erp := newIntegration(ns, "legacy-erp", "shop@joom.example.com", membershipv1alpha1.RoleAdmin)
		erp.Spec.PasswordSecretRef = &membershipv1alpha1.SecretKeyReference{Name: "old-store-login", Key: membershipv1alpha1.CredentialPasswordHash}
		Expect(k8sClient.Create(ctx, erp)).To(Succeed())
		Eventually(getMember(erp)).Should(phase(membershipv1alpha1.MemberActive))

		secret := credentialsOf(erp)
		Expect(string(secret.Data[membershipv1alpha1.CredentialUsername])).To(Equal("shop@joom.example.com"), "the old login, as it was")
		Expect(secret.Data[membershipv1alpha1.CredentialPasswordHash]).To(Equal(hash), "the hash as it was: not re-hashed")
		Expect(credentials.VerifyPassword(secret.Data[membershipv1alpha1.CredentialPasswordHash], "the ERP's old password")).To(BeTrue())
		Expect(secret.Data).NotTo(HaveKey(membershipv1alpha1.CredentialPassword), "the operator did not generate it")
		Expect(string(secret.Data[membershipv1alpha1.CredentialLoginType])).To(Equal(membershipv1alpha1.LoginTypeIntegration))

		By("no Account is made for an address-shaped client ID, and nobody is emailed")
		var accountList membershipv1alpha1.AccountList
		Expect(k8sClient.List(ctx, &accountList)).To(Succeed())
		for _, a := range accountList.Items {
			Expect(string(a.Spec.Email)).NotTo(Equal("shop@joom.example.com"))
		}
		for _, msg := range catcher.Messages() {
			Expect(msg.To).NotTo(ContainElement("shop@joom.example.com"))
		}
	})
})
