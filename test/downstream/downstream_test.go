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
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/pquerna/otp/totp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/pkg/login"
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

// An admin application signs people and integrations in with pkg/login, against the credential
// Secrets the running operator keeps (docs/admin-integration.md shows it).
func TestAnAdminApplicationSignsAPersonAndAnIntegrationInThroughTheLoginLibrary(t *testing.T) {
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
	g.Expect(env.Client.Create(ctx, &membershipv1alpha1.Member{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "erp"},
		Spec: membershipv1alpha1.MemberSpec{StoreRef: membershipv1alpha1.StoreReference{Name: "acme"},
			Type: membershipv1alpha1.MemberIntegration, ClientID: "erp-connector",
			Roles: []membershipv1alpha1.Role{membershipv1alpha1.RoleOperations}},
	})).To(Succeed())

	// The application's view: an informer over the operator's credential Secrets and Members.
	directory, err := login.NewDirectory(env.Config, login.DirectoryOptions{Namespaces: []string{"default"}})
	g.Expect(err).NotTo(HaveOccurred())
	go func() { _ = directory.Start(ctx) }()
	g.Expect(directory.WaitForSync(ctx)).To(BeTrue())

	// The people's secrets come from the Secrets, as an operator of the application would hand them out.
	read := func(name string) *corev1.Secret {
		secret := &corev1.Secret{}
		g.Eventually(func() error {
			return env.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: name}, secret)
		}).WithTimeout(30 * time.Second).Should(Succeed())
		return secret
	}
	erin, erp := read("erin-credentials"), read("erp-credentials")
	signIn := func(who, password, code string) (*login.Identity, error) {
		return directory.SignIn(ctx, "default", "acme", who, password, code)
	}

	// A person: email, password and a 2FA code, each code once.
	code, err := totp.GenerateCode(string(erin.Data["totp-secret"]), time.Now())
	g.Expect(err).NotTo(HaveOccurred())
	var id *login.Identity
	g.Eventually(func() error {
		id, err = signIn("Erin@example.com", string(erin.Data["password"]), code)
		return err
	}).WithTimeout(30*time.Second).Should(Succeed(), "once the Member is Active in the application's view")
	g.Expect(id.Member).To(Equal("erin"))
	g.Expect(id.Roles).To(Equal([]string{"finance"}))
	g.Expect(id.Integration).To(BeFalse())
	_, err = signIn("erin@example.com", string(erin.Data["password"]), code)
	g.Expect(err).To(MatchError(login.ErrCodeUsed), "a code signs in once")
	_, err = signIn("erin@example.com", string(erin.Data["password"])+"x", "")
	g.Expect(err).To(MatchError(login.ErrDenied))
	_, err = signIn("erin@example.com", string(erin.Data["password"]), "")
	g.Expect(err).To(MatchError(login.ErrCodeRequired))

	// An integration: client ID and secret, no code.
	id, err = signIn("erp-connector", string(erp.Data["password"]), "")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(id.Integration).To(BeTrue())
	g.Expect(id.Roles).To(Equal([]string{"operations"}))

	// A disabled membership is refused.
	g.Eventually(func() error {
		m := &membershipv1alpha1.Member{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "erp"}, m); err != nil {
			return err
		}
		m.Spec.Disabled = true
		return env.Client.Update(ctx, m)
	}).Should(Succeed())
	g.Eventually(func() error {
		_, err := signIn("erp-connector", string(erp.Data["password"]), "")
		return err
	}).WithTimeout(30 * time.Second).Should(MatchError(login.ErrDenied))
}
