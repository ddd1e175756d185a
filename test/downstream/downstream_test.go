// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package downstream_test is written the way a team that depends on the operator writes its
// integration test: it uses only test/testenv's exported API and the API types. docs/developing.md shows
// it.
package downstream_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
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

	g.Eventually(phaseOf(ctx, env, member)).WithTimeout(30 * time.Second).Should(Equal(membershipv1alpha1.MemberActive))
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

	// A person who chose a login name on the account page signs in with it too; in a store where
	// it is also an integration's client ID, the client ID wins.
	g.Expect(env.Client.Create(ctx, &membershipv1alpha1.Invitation{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "invite-lena"},
		Spec: membershipv1alpha1.InvitationSpec{StoreRef: membershipv1alpha1.StoreReference{Name: "acme"},
			Email: "lena@example.com", Roles: []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff}},
	})).To(Succeed())
	link, err := env.Mailbox.InvitationLink(ctx, "lena@example.com")
	g.Expect(err).NotTo(HaveOccurred())
	const lenaPassword = "a careful passphrase of her own"
	lena, err := env.AcceptInvitation(ctx, link, lenaPassword)
	g.Expect(err).NotTo(HaveOccurred())
	g.Eventually(phaseOf(ctx, env, lena)).WithTimeout(30 * time.Second).Should(Equal(membershipv1alpha1.MemberActive))
	// Active as the API server has it; the account page signs in from the acceptance server's
	// cache, which may see the status a moment later (as for a person who signs in that fast).
	g.Eventually(func() error {
		return chooseLoginName(ctx, env.AcceptURL, "lena@example.com", lenaPassword, "lena.k")
	}).WithTimeout(30 * time.Second).WithPolling(250 * time.Millisecond).Should(Succeed())
	g.Eventually(func() error {
		id, err = signIn("LENA.K", lenaPassword, "")
		return err
	}).WithTimeout(30*time.Second).Should(Succeed(), "once the login name reached the application's view")
	g.Expect(id.Login).To(Equal("lena@example.com"))
	g.Expect(id.LoginName).To(Equal("lena.k"))
	g.Expect(env.Client.Create(ctx, &membershipv1alpha1.Member{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "shop-sync"},
		Spec: membershipv1alpha1.MemberSpec{StoreRef: membershipv1alpha1.StoreReference{Name: "acme"},
			Type: membershipv1alpha1.MemberIntegration, ClientID: "lena.k", Roles: []membershipv1alpha1.Role{membershipv1alpha1.RoleOperations}},
	})).To(Succeed())
	sync := read("shop-sync-credentials")
	g.Eventually(func() error {
		_, err := signIn("lena.k", string(sync.Data["password"]), "")
		return err
	}).WithTimeout(30 * time.Second).Should(Succeed())
	_, err = signIn("lena.k", lenaPassword, "")
	g.Expect(err).To(MatchError(login.ErrDenied), "the client ID wins over a person's login name")
	_, err = signIn("lena@example.com", lenaPassword, "")
	g.Expect(err).NotTo(HaveOccurred(), "the person still signs in by email")

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

// chooseLoginName signs in on the account page at acceptURL as a browser would and chooses name
// as the person's login name (POST /api/v1/account/profile on the session cookie).
func chooseLoginName(ctx context.Context, acceptURL, email, password, name string) error {
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"do": {"signin"}, "email": {email}, "password": {password}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, acceptURL+"/account", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := noRedirect.Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-storeops-session" {
			session = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || session == nil {
		return fmt.Errorf("signing in answered %d without a session", resp.StatusCode)
	}
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, acceptURL+"/api/v1/account/profile",
		strings.NewReader(`{"loginName":"`+name+`"}`))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(session)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusNoContent {
		body, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("choosing the login name answered %d: %s", resp.StatusCode, body)
	}
	return nil
}

// phaseOf reads the phase of the Member name in "default".
func phaseOf(ctx context.Context, env *testenv.Env, name string) func(Gomega) membershipv1alpha1.MemberPhase {
	return func(g Gomega) membershipv1alpha1.MemberPhase {
		m := &membershipv1alpha1.Member{}
		g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: name}, m)).To(Succeed())
		return m.Status.Phase
	}
}
