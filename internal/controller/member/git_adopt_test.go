// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package member

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	accounts "github.com/storeops/member-operator/internal/account"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/index"
)

// A joined Member that names a password Secret asks the person's Account to take the source's
// password (adopting it). When the Member comes back before the Account controller applied that
// request, the version of the source it recorded is of a request still waiting, and the
// Account's hash is still the person's own: the second request must carry the source's password
// again, not the Account's hash (which, applied after the first, would leave the Account governed
// by Git with the person's old password, and the Member never hashing the source again).
func TestAGitPasswordRequestAlwaysCarriesTheSourcesPassword(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	const ns, accountNamespace, gitPassword = "shops", "storeops-system", "karl's password from git"
	own, err := credentials.HashPassword("karl's own password", credentials.MinBcryptCost)
	g.Expect(err).NotTo(HaveOccurred())

	source := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "karl-password", UID: "src-uid", ResourceVersion: "7",
		Labels: map[string]string{membershipv1alpha1.PasswordSourceLabel: "true"}}, Data: map[string][]byte{"password": []byte(gitPassword)}}
	member := &membershipv1alpha1.Member{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "karl", UID: "karl-uid"}}
	member.Spec.Email, member.Spec.StoreRef.Name = "karl@example.com", "acme"
	member.Spec.PasswordSecretRef = &membershipv1alpha1.SecretKeyReference{Name: "karl-password", Key: "password"}
	acct := &membershipv1alpha1.Account{ObjectMeta: metav1.ObjectMeta{Name: membershipv1alpha1.AccountName(member.Spec.Email), UID: "acct-uid"}}
	acct.Spec.Email = member.Spec.Email
	person := &accounts.Person{Account: acct, Credentials: accounts.Credentials{PasswordHash: own}}

	scheme := runtime.NewScheme()
	g.Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	g.Expect(membershipv1alpha1.AddToScheme(scheme)).To(Succeed())
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(source, member.DeepCopy()).
		WithIndex(&corev1.Secret{}, index.SecretAccountRequest, index.AccountRequestKeys).Build()
	r := &Reconciler{Client: c, APIReader: c, Scheme: scheme, AccountNamespace: accountNamespace, BcryptCost: credentials.MinBcryptCost}

	requests := func() []corev1.Secret {
		var list corev1.SecretList
		g.Expect(c.List(ctx, &list, client.InNamespace(accountNamespace))).To(Succeed())
		return list.Items
	}
	// The first reconcile: nothing recorded yet.
	recorded := ""
	pending, err := r.followGitSource(ctx, member, person, &recorded, true)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pending).To(BeFalse())
	g.Expect(recorded).To(Equal("src-uid/7"), "the version of the source followed")
	g.Expect(requests()).To(HaveLen(1))

	// The Member comes back with that version recorded; the Account has not applied the request.
	pending, err = r.followGitSource(ctx, member, person, &recorded, true)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pending).To(BeFalse())
	for _, req := range requests() {
		g.Expect(credentials.VerifyPassword(req.Data[membershipv1alpha1.CredentialPasswordHash], gitPassword)).To(BeTrue(),
			"request %s carries the source's password, never the Account's own hash", req.Name)
	}
	g.Expect(requests()).To(HaveLen(1), "and the waiting request is not asked again")
}
