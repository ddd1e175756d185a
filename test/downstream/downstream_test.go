/*
Copyright 2026 The StoreOps Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package downstream_test is written the way a team that depends on the operator writes its
// integration test: it uses only test/testenv's exported API and the API types. docs/developing.md shows
// it.
package downstream_test

import (
	"context"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/crypto/bcrypt"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/test/leakcheck"
	"github.com/storeops/member-operator/test/testenv"
)

func TestAnInviteeBecomesAnActiveMember(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a control plane")
	}
	g := NewWithT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	env, err := testenv.Start(ctx, testenv.Options{})
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { g.Expect(env.Stop()).To(Succeed()) })
	leakcheck.Cleanup(t, env.Config, env.Client, env.Mailbox.Messages, nil)

	g.Expect(env.Client.Create(ctx, &membershipv1alpha1.Store{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "acme"},
		Spec: membershipv1alpha1.StoreSpec{DisplayName: "Acme",
			Owner: membershipv1alpha1.StoreOwner{Email: "owner@example.com"}},
	})).To(Succeed())
	g.Expect(env.Client.Create(ctx, &membershipv1alpha1.Invitation{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "invite-dana"},
		Spec: membershipv1alpha1.InvitationSpec{StoreRef: membershipv1alpha1.StoreReference{Name: "acme"},
			Email: "dana@example.com", Roles: []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff}},
	})).To(Succeed())

	link, err := env.Mailbox.InvitationLink(ctx, "dana@example.com")
	g.Expect(err).NotTo(HaveOccurred())
	member, err := env.AcceptInvitation(ctx, link, "a long and careful passphrase")
	g.Expect(err).NotTo(HaveOccurred())

	g.Eventually(func(g Gomega) membershipv1alpha1.MemberPhase {
		m := &membershipv1alpha1.Member{}
		g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: member}, m)).To(Succeed())
		return m.Status.Phase
	}).WithTimeout(30 * time.Second).Should(Equal(membershipv1alpha1.MemberActive))
}

// verifyLogin is what a store's admin application does to log someone in with the credential
// Secret the operator keeps (docs/admin-integration.md shows it): the Secret existing is the grant; the password
// is checked against its bcrypt hash, and the TOTP code when 2FA is on.
func verifyLogin(secret *corev1.Secret, email, password, totpCode string, now time.Time) bool {
	if !strings.EqualFold(string(secret.Data["username"]), email) {
		return false
	}
	if bcrypt.CompareHashAndPassword(secret.Data["password-hash"], []byte(password)) != nil {
		return false
	}
	if key := string(secret.Data["totp-secret"]); key != "" {
		ok, err := totp.ValidateCustom(totpCode, key, now, totp.ValidateOpts{
			Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		return err == nil && ok
	}
	return true
}

func TestAnAdminApplicationLogsAMemberInWithTheCredentialSecret(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a control plane")
	}
	g := NewWithT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env, err := testenv.Start(ctx, testenv.Options{})
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { g.Expect(env.Stop()).To(Succeed()) })
	leakcheck.Cleanup(t, env.Config, env.Client, env.Mailbox.Messages, nil)

	g.Expect(env.Client.Create(ctx, &membershipv1alpha1.Store{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "acme"},
		Spec:       membershipv1alpha1.StoreSpec{DisplayName: "Acme", Owner: membershipv1alpha1.StoreOwner{Email: "owner@example.com"}},
	})).To(Succeed())
	g.Expect(env.Client.Create(ctx, &membershipv1alpha1.Member{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "erin"},
		Spec: membershipv1alpha1.MemberSpec{StoreRef: membershipv1alpha1.StoreReference{Name: "acme"}, Email: "erin@example.com",
			Roles: []membershipv1alpha1.Role{membershipv1alpha1.RoleFinance}, TwoFactor: membershipv1alpha1.TwoFactorSpec{Required: true}},
	})).To(Succeed())

	secret := &corev1.Secret{}
	g.Eventually(func() error {
		return env.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "erin-credentials"}, secret)
	}).WithTimeout(30 * time.Second).Should(Succeed())
	password := string(secret.Data["password"]) // generated: no passwordSecretRef, no invitation
	now := time.Now()
	code, err := totp.GenerateCode(string(secret.Data["totp-secret"]), now)
	g.Expect(err).NotTo(HaveOccurred())

	g.Expect(verifyLogin(secret, "Erin@example.com", password, code, now)).To(BeTrue())
	g.Expect(verifyLogin(secret, "erin@example.com", password+"x", code, now)).To(BeFalse(), "wrong password")
	g.Expect(verifyLogin(secret, "erin@example.com", password, "", now)).To(BeFalse(), "2FA is on")
	g.Expect(verifyLogin(secret, "eve@example.com", password, code, now)).To(BeFalse(), "another login")
	g.Expect(string(secret.Data["roles"])).To(Equal("finance"))
	g.Expect(string(secret.Data["permissions"])).To(ContainSubstring("invoices:"))
}
