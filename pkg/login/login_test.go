// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package login

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/crypto/bcrypt"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

const (
	totpKey  = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	password = "a long and careful passphrase"
)

// kinds are the credential Secrets the operator writes (docs/using.md#members-and-their-credentials),
// by the keys each carries.
func kinds(t *testing.T) map[string]*corev1.Secret {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	secret := func(member, username, roles string, extra map[string]string) *corev1.Secret {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shops", Name: member + "-credentials", Labels: map[string]string{
				membershipv1alpha1.ManagedByLabel: membershipv1alpha1.ManagedByValue,
				membershipv1alpha1.StoreLabel:     "acme", membershipv1alpha1.MemberLabel: member,
			}},
			Data: map[string][]byte{
				membershipv1alpha1.CredentialUsername:         []byte(username),
				membershipv1alpha1.CredentialPasswordHash:     hash,
				membershipv1alpha1.CredentialRoles:            []byte(roles),
				membershipv1alpha1.CredentialPermissions:      []byte("orders:manage,products:manage"),
				membershipv1alpha1.CredentialEmailPreferences: []byte(`{"marketing":false,"orders":true}`),
			},
		}
		for k, v := range extra {
			s.Data[k] = []byte(v)
		}
		return s
	}
	twoFactor := map[string]string{membershipv1alpha1.CredentialTOTPSecret: totpKey,
		membershipv1alpha1.CredentialTOTPURI: "otpauth://totp/Acme:x?secret=" + totpKey}
	account := secret("ann", "ann@example.com", "staff", twoFactor)
	account.Labels[membershipv1alpha1.AccountLabel] = "a-0123456789"
	named := secret("lea", "lea@example.com", "staff", map[string]string{membershipv1alpha1.CredentialLoginName: "lea.jansen"})
	named.Labels[membershipv1alpha1.AccountLabel] = "a-9876543210"
	return map[string]*corev1.Secret{
		"a person with a login name": named,
		"a person with a generated password": secret("gus", "gus@example.com", "staff",
			map[string]string{membershipv1alpha1.CredentialPassword: password}),
		"an invitee who chose a password":  secret("ivy", "ivy@example.com", "finance", nil),
		"a person with 2FA":                secret("tom", "tom@example.com", "admin", twoFactor),
		"a person's Account in this store": account,
		"the owner":                        secret("acme-owner", "olivia@example.com", "owner", twoFactor),
		"an integration with a generated secret": secret("erp", "erp-connector", "operations", map[string]string{
			membershipv1alpha1.CredentialPassword: password, membershipv1alpha1.CredentialLoginType: membershipv1alpha1.LoginTypeIntegration}),
		"an imported store login as an integration": secret("joom", "shop@joom.example.com", "operations", map[string]string{
			membershipv1alpha1.CredentialLoginType: membershipv1alpha1.LoginTypeIntegration}),
	}
}

func code(t *testing.T, at time.Time) string {
	c, err := totp.GenerateCodeCustom(totpKey, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheckEveryKindOfCredentialSecretAsTheOperatorMeansIt(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 15, 0, time.UTC)
	for name, secret := range kinds(t) {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			login := string(secret.Data[membershipv1alpha1.CredentialUsername])
			integration := secret.Data[membershipv1alpha1.CredentialLoginType] != nil
			twoFactor := secret.Data[membershipv1alpha1.CredentialTOTPSecret] != nil
			steps := NewSteps()
			right := ""
			if twoFactor {
				right = code(t, now)
			}

			id, err := Check(secret, upper(login), password, right, now, steps)
			g.Expect(err).NotTo(HaveOccurred(), "the login is compared case-insensitively")
			g.Expect(id).To(Equal(&Identity{Namespace: "shops", Store: "acme", Member: secret.Labels[membershipv1alpha1.MemberLabel],
				Login: login, LoginName: string(secret.Data[membershipv1alpha1.CredentialLoginName]), Integration: integration,
				Roles:            list(secret.Data[membershipv1alpha1.CredentialRoles]),
				Permissions:      []string{"orders:manage", "products:manage"},
				EmailPreferences: map[string]bool{"marketing": false, "orders": true}}))

			_, err = Check(secret, login, password+"!", right, now, NewSteps())
			g.Expect(err).To(MatchError(ErrDenied), "a wrong password")
			_, err = Check(secret, "someone@example.com", password, right, now, NewSteps())
			g.Expect(err).To(MatchError(ErrDenied), "another login")
			_, err = Check(secret, "", password, right, now, NewSteps())
			g.Expect(err).To(MatchError(ErrDenied), "no login")

			if !twoFactor {
				_, err = Check(secret, login, password, "123456", now, NewSteps())
				g.Expect(err).NotTo(HaveOccurred(), "without 2FA a code is not asked for")
				return
			}
			_, err = Check(secret, login, password, "", now, NewSteps())
			g.Expect(err).To(MatchError(ErrCodeRequired))
			_, err = Check(secret, login, password, code(t, now.Add(-2*time.Minute)), now, NewSteps())
			g.Expect(err).To(MatchError(ErrDenied), "a code from two minutes ago")
			_, err = Check(secret, login, password, right, now, steps)
			g.Expect(err).To(MatchError(ErrCodeUsed), "each time step is accepted once")
			_, err = Check(secret, login, password, code(t, now.Add(-30*time.Second)), now, steps)
			g.Expect(err).To(MatchError(ErrCodeUsed), "nor an earlier one after it")
			_, err = Check(secret, login, password, code(t, now.Add(30*time.Second)), now, steps)
			g.Expect(err).NotTo(HaveOccurred(), "the next step is fresh")
		})
	}
}

func TestALoginNameSignsInAsTheEmailDoes(t *testing.T) {
	g := NewWithT(t)
	all := kinds(t)
	named := all["a person with a login name"]
	id, err := Check(named, "Lea.Jansen", password, "", time.Now(), NewSteps())
	g.Expect(err).NotTo(HaveOccurred(), "the login name, in any case")
	g.Expect(id.Login).To(Equal("lea@example.com"), "the identity is the person's, whichever name signed in")
	_, err = Check(named, "lea.jansen", password+"!", "", time.Now(), NewSteps())
	g.Expect(err).To(MatchError(ErrDenied))
	_, err = Check(all["an invitee who chose a password"], "lea.jansen", password, "", time.Now(), NewSteps())
	g.Expect(err).To(MatchError(ErrDenied), "a login name is not another Secret's")
	_, err = Check(all["an invitee who chose a password"], "", password, "", time.Now(), NewSteps())
	g.Expect(err).To(MatchError(ErrDenied), "a Secret without a login name does not match an empty one")
}

func TestAnIntegrationNeverNeedsACode(t *testing.T) {
	g := NewWithT(t)
	secret := kinds(t)["an integration with a generated secret"]
	// Even if a key were there (it never is), a machine signs in with its client ID and secret.
	secret.Data[membershipv1alpha1.CredentialTOTPSecret] = []byte(totpKey)
	id, err := Check(secret, "erp-connector", password, "", time.Now(), NewSteps())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(id.Integration).To(BeTrue())
}

func TestSpentStepsAreForgottenOnlyWhenNoCodeCanMatchThem(t *testing.T) {
	g := NewWithT(t)
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	steps := &memorySteps{last: map[string]int64{}, now: func() time.Time { return now }}
	current := now.Unix() / 30
	g.Expect(steps.Spend("recent", current)).To(BeTrue())
	for i := range forgetAfter {
		g.Expect(steps.Spend(string(rune(i))+"-old", current-10)).To(BeTrue())
	}
	g.Expect(steps.last).To(HaveLen(1), "the stale ones went when it filled up")
	g.Expect(steps.Spend("recent", current)).To(BeFalse(), "a live one is kept: its code stays spent")
}

func upper(s string) string {
	out := []rune(s)
	for i, r := range out {
		if r >= 'a' && r <= 'z' {
			out[i] = r - 'a' + 'A'
		}
	}
	return string(out)
}
