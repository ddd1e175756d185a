// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package member_test

import (
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/pquerna/otp/totp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/crypto/bcrypt"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/metrics"
	"github.com/storeops/member-operator/test/leakcheck"
	"github.com/storeops/member-operator/test/mailcatcher"
	"github.com/storeops/member-operator/test/testenv"
)

// secretsSeen collects every password, hash and TOTP secret the specs saw, for the leak check.
var secretsSeen []string

func newNamespace() string {
	GinkgoHelper()
	return testenv.Must(testenv.NewNamespace(ctx, k8sClient, "member-"))
}

func createStore(ns, name string, locale membershipv1alpha1.Locale) {
	GinkgoHelper()
	Expect(k8sClient.Create(ctx, testenv.NewStore(ns, name, "owner@example.com", func(s *membershipv1alpha1.Store) {
		s.Spec.Locale = locale
		s.Spec.EmailPreferences = membershipv1alpha1.EmailPreferences{"orders": true, "marketing": true}
	}))).To(Succeed())
}

func newMember(ns, name, email string, roles ...membershipv1alpha1.Role) *membershipv1alpha1.Member {
	return &membershipv1alpha1.Member{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: membershipv1alpha1.MemberSpec{
			StoreRef: membershipv1alpha1.StoreReference{Name: "shop"},
			Email:    membershipv1alpha1.EmailAddress(email), DisplayName: "Bob", Roles: roles,
		},
	}
}

// updateMember applies mutate to the latest Member, retrying on conflicts with the controller's
// status writes.
func updateMember(m *membershipv1alpha1.Member, mutate func(*membershipv1alpha1.Member)) {
	GinkgoHelper()
	Eventually(func() error {
		latest := &membershipv1alpha1.Member{}
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(m), latest); err != nil {
			return err
		}
		mutate(latest)
		return k8sClient.Update(ctx, latest)
	}).Should(Succeed())
}

func getMember(m *membershipv1alpha1.Member) func(Gomega) *membershipv1alpha1.Member {
	return func(g Gomega) *membershipv1alpha1.Member {
		out := &membershipv1alpha1.Member{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(m), out)).To(Succeed())
		return out
	}
}

func phase(p membershipv1alpha1.MemberPhase) OmegaMatcher {
	return WithTransform(func(m *membershipv1alpha1.Member) membershipv1alpha1.MemberPhase { return m.Status.Phase }, Equal(p))
}

// credentialsOf waits for the Member's credential Secret and records its secret values.
func credentialsOf(m *membershipv1alpha1.Member) *corev1.Secret {
	GinkgoHelper()
	secret := &corev1.Secret{}
	Eventually(func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: m.Namespace, Name: m.Name + "-credentials"}, secret)
	}).Should(Succeed())
	for _, k := range []string{"password", "password-hash", "totp-secret"} {
		if v := string(secret.Data[k]); v != "" {
			secretsSeen = append(secretsSeen, v)
		}
	}
	return secret
}

func credentialsGone(m *membershipv1alpha1.Member) func() bool {
	return func() bool {
		err := k8sClient.Get(ctx, client.ObjectKey{Namespace: m.Namespace, Name: m.Name + "-credentials"}, &corev1.Secret{})
		return apierrors.IsNotFound(err)
	}
}

// eventsFor lists "TYPE REASON: note" of the events about an object.
func eventsFor(obj client.Object) func() []string {
	return func() []string {
		var list eventsv1.EventList
		Expect(k8sClient.List(ctx, &list, client.InNamespace(obj.GetNamespace()))).To(Succeed())
		var out []string
		for _, e := range list.Items {
			if e.Regarding.Name == obj.GetName() && e.Regarding.Kind == "Member" {
				out = append(out, e.Type+" "+e.Reason+": "+e.Note)
			}
		}
		return out
	}
}

func reconcileCount() float64 {
	return memberControllerMetric("controller_runtime_reconcile_total", "controller")
}

// memberControllerIdle tells whether the Member controller has nothing queued and nothing running:
// what "the events of creation have settled" means, observed instead of slept for.
func memberControllerIdle() bool {
	return memberControllerMetric("workqueue_depth", "name") == 0 &&
		memberControllerMetric("controller_runtime_active_workers", "controller") == 0
}

// memberControllerMetric sums a counter or gauge of controller-runtime's registry over the series
// whose label (controller or name) is the Member controller's.
func memberControllerMetric(family, label string) float64 {
	samples, err := testenv.OperatorMetrics()
	Expect(err).NotTo(HaveOccurred())
	return samples.Sum(family, label+`="member"`)
}

var hexDumpLine = regexp.MustCompile(`[0-9a-f]{8}  ((?:[0-9a-f]{2} {1,2}){1,16})`)

// decodeHexDumps returns the bytes of every hexdump.Dump line in text, concatenated.
func decodeHexDumps(text string) string {
	var out []byte
	for _, m := range hexDumpLine.FindAllStringSubmatch(text, -1) {
		b, err := hex.DecodeString(strings.ReplaceAll(m[1], " ", ""))
		if err == nil {
			out = append(out, b...)
		}
	}
	return string(out)
}

var _ = Describe("Member controller", Ordered, func() {
	var ns string
	BeforeEach(func() {
		ns = newNamespace()
		createStore(ns, "shop", membershipv1alpha1.LocaleEnglish)
	})

	It("issues a generated password whose hash verifies, with labels and a controller reference", func() {
		m := newMember(ns, "bob", "bob@example.com", membershipv1alpha1.RoleStaff)
		m.Spec.EmailPreferences = membershipv1alpha1.EmailPreferences{"marketing": false}
		Expect(k8sClient.Create(ctx, m)).To(Succeed())

		secret := credentialsOf(m)
		Expect(len(secret.Data["password"])).To(BeNumerically(">=", 20))
		Expect(credentials.VerifyPassword(secret.Data["password-hash"], string(secret.Data["password"]))).To(BeTrue())
		Expect(string(secret.Data["password-hash"])).To(HavePrefix("$2a$10$"))
		Expect(string(secret.Data["username"])).To(Equal("bob@example.com"))
		Expect(secret.Labels).To(Equal(map[string]string{
			"app.kubernetes.io/managed-by": "member-operator", "membership.storeops.io/store": "shop",
			"membership.storeops.io/member": "bob",
			// A generated login belongs to no Account: only the person joins one.
			"membership.storeops.io/account": "none",
		}))
		owner := metav1.GetControllerOf(secret)
		Expect(owner).NotTo(BeNil())
		Expect(owner.Kind).To(Equal("Member"))
		Expect(owner.Name).To(Equal("bob"))
		Expect(secret.Data).NotTo(HaveKey("totp-secret"))

		Eventually(getMember(m)).Should(phase(membershipv1alpha1.MemberActive))
		got := getMember(m)(Default)
		Expect(got.Status.CredentialsSecret).To(Equal("bob-credentials"))
		Expect(got.Status.JoinedAt).NotTo(BeNil())
		Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
		Expect(got.Status.EmailPreferences).To(Equal(map[string]bool{"orders": true, "marketing": false}))
		Expect(string(secret.Data["email-preferences"])).To(Equal(`{"marketing":false,"orders":true}`),
			"the effective preferences, for the admin application's mailer")

		By("a changed override reaches the credential Secret")
		updateMember(m, func(latest *membershipv1alpha1.Member) {
			latest.Spec.EmailPreferences = membershipv1alpha1.EmailPreferences{"orders": false}
		})
		Eventually(func() string { return string(credentialsOf(m).Data["email-preferences"]) }).
			Should(Equal(`{"marketing":true,"orders":false}`))
		Expect(meta.IsStatusConditionTrue(got.Status.Conditions, "Ready")).To(BeTrue())
		Expect(meta.IsStatusConditionTrue(got.Status.Conditions, "CredentialsReady")).To(BeTrue())
		Expect(got.Finalizers).To(ContainElement(membershipv1alpha1.MemberFinalizer))
		Eventually(eventsFor(m)).Should(ContainElement(HavePrefix("Normal CredentialsIssued")))
	})

	It("hashes a password supplied in an opted-in Secret, stores no plaintext, and follows changes to it", func() {
		source := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bob-initial-password",
				Labels: map[string]string{membershipv1alpha1.PasswordSourceLabel: "true"}},
			StringData: map[string]string{"pw": "first-password-from-git"},
		}
		Expect(k8sClient.Create(ctx, source)).To(Succeed())
		m := newMember(ns, "bob", "bob@example.com", membershipv1alpha1.RoleStaff)
		m.Spec.PasswordSecretRef = &membershipv1alpha1.SecretKeyReference{Name: source.Name, Key: "pw"}
		Expect(k8sClient.Create(ctx, m)).To(Succeed())
		secretsSeen = append(secretsSeen, "first-password-from-git", "second-password-from-git")

		secret := credentialsOf(m)
		Expect(secret.Data).NotTo(HaveKey("password"))
		Expect(credentials.VerifyPassword(secret.Data["password-hash"], "first-password-from-git")).To(BeTrue())

		source.StringData = map[string]string{"pw": "second-password-from-git"}
		Expect(k8sClient.Update(ctx, source)).To(Succeed())
		Eventually(func() bool {
			return credentials.VerifyPassword(credentialsOf(m).Data["password-hash"], "second-password-from-git")
		}).WithTimeout(20 * time.Second).Should(BeTrue())
		Expect(credentialsOf(m).Data).NotTo(HaveKey("password"))
		Eventually(eventsFor(m)).Should(ContainElement(HavePrefix("Normal PasswordRotated")))
	})

	It("imports a bcrypt hash from a password-hash key as it is: the original password logs in, and no bcrypt work is spent", func() {
		imported, err := credentials.HashPassword("password-of-the-old-platform", credentials.MinBcryptCost)
		Expect(err).NotTo(HaveOccurred())
		secretsSeen = append(secretsSeen, "password-of-the-old-platform", string(imported))
		source := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bob-imported",
				Labels: map[string]string{membershipv1alpha1.PasswordSourceLabel: "true"}},
			Data: map[string][]byte{"password-hash": imported},
		}
		Expect(k8sClient.Create(ctx, source)).To(Succeed())
		hashesBefore := testutil.ToFloat64(metrics.PasswordHashes)
		m := newMember(ns, "bob", "bob@example.com", membershipv1alpha1.RoleStaff)
		m.Spec.PasswordSecretRef = &membershipv1alpha1.SecretKeyReference{Name: source.Name, Key: "password-hash"}
		Expect(k8sClient.Create(ctx, m)).To(Succeed())

		secret := credentialsOf(m)
		Expect(secret.Data["password-hash"]).To(Equal(imported), "the hash is used as it is")
		Expect(credentials.VerifyPassword(secret.Data["password-hash"], "password-of-the-old-platform")).To(BeTrue())
		Expect(secret.Data).NotTo(HaveKey("password"))
		Expect(testutil.ToFloat64(metrics.PasswordHashes)).To(Equal(hashesBefore), "no bcrypt hash was made for it")

		By("a hash below the minimum cost, or not bcrypt at all, is refused with the rule")
		weak, err := bcrypt.GenerateFromPassword([]byte("weak"), bcrypt.MinCost)
		Expect(err).NotTo(HaveOccurred())
		for value, rule := range map[string]string{string(weak): "its bcrypt cost is 4; at least 10 is required", "plain text": "it is not a bcrypt hash"} {
			other := newMember(ns, "weak-"+fmt.Sprint(len(value)), "weak"+fmt.Sprint(len(value))+"@example.com", membershipv1alpha1.RoleStaff)
			src := &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: other.Name + "-src",
					Labels: map[string]string{membershipv1alpha1.PasswordSourceLabel: "true"}},
				Data: map[string][]byte{"password-hash": []byte(value)},
			}
			Expect(k8sClient.Create(ctx, src)).To(Succeed())
			other.Spec.PasswordSecretRef = &membershipv1alpha1.SecretKeyReference{Name: src.Name, Key: "password-hash"}
			Expect(k8sClient.Create(ctx, other)).To(Succeed())
			Eventually(func(g Gomega) {
				got := &membershipv1alpha1.Member{}
				g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(other), got)).To(Succeed())
				ready := meta.FindStatusCondition(got.Status.Conditions, membershipv1alpha1.ConditionReady)
				g.Expect(ready).NotTo(BeNil())
				g.Expect(ready.Reason).To(Equal(membershipv1alpha1.ReasonPasswordInvalid))
				g.Expect(ready.Message).To(ContainSubstring(rule))
			}).Should(Succeed())
		}
	})

	It("waits with a reason while the referenced password Secret is missing", func() {
		m := newMember(ns, "bob", "bob@example.com", membershipv1alpha1.RoleStaff)
		m.Spec.PasswordSecretRef = &membershipv1alpha1.SecretKeyReference{Name: "not-yet", Key: "pw"}
		Expect(k8sClient.Create(ctx, m)).To(Succeed())
		Eventually(getMember(m)).Should(phase(membershipv1alpha1.MemberPending))
		cond := meta.FindStatusCondition(getMember(m)(Default).Status.Conditions, "CredentialsReady")
		Expect(cond.Reason).To(Equal("PasswordSecretNotFound"))
		Expect(cond.Message).To(ContainSubstring(`Secret "not-yet"`))
		Expect(credentialsGone(m)()).To(BeTrue())
	})

	It("reads no Secret that did not opt in, and says the same whether it exists, lacks the key or lacks the label", func() {
		tenant, err := controlPlane.NewUserClient("tenant")
		Expect(err).NotTo(HaveOccurred())
		app := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app-db"},
			Data:       map[string][]byte{"password": []byte("the app's database password")},
		}
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
		optedIn := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "opted-in",
				Labels: map[string]string{membershipv1alpha1.PasswordSourceLabel: "true"}},
			Data: map[string][]byte{"pw": []byte("a password from git")},
		}
		Expect(k8sClient.Create(ctx, optedIn)).To(Succeed())
		messages := map[string]string{}
		for name, ref := range map[string]membershipv1alpha1.SecretKeyReference{
			"probe-existing":     {Name: "app-db", Key: "password"}, // exists, has the key, not opted in
			"probe-missing-key":  {Name: "app-db", Key: "other"},
			"probe-absent":       {Name: "absent", Key: "password"},
			"probe-opted-in-key": {Name: "opted-in", Key: "password"}, // opted in, no such key
		} {
			m := newMember(ns, name, name+"@example.com", membershipv1alpha1.RoleStaff)
			m.Spec.PasswordSecretRef = &ref
			Expect(tenant.Create(ctx, m)).To(Succeed())
			Eventually(getMember(m)).Should(phase(membershipv1alpha1.MemberPending))
			cond := meta.FindStatusCondition(getMember(m)(Default).Status.Conditions, "CredentialsReady")
			Expect(cond.Reason).To(Equal("PasswordSecretNotFound"))
			messages[name] = strings.NewReplacer(`"`+ref.Name+`"`, `"NAME"`, `"`+ref.Key+`"`, `"KEY"`).Replace(cond.Message)
			Expect(credentialsGone(m)()).To(BeTrue(), "no credentials from a Secret that did not opt in")
		}
		Expect(messages).To(HaveLen(4))
		for _, msg := range messages {
			Expect(msg).To(Equal(messages["probe-absent"]), "the same message, names aside: %v", messages)
		}
		Expect(messages["probe-absent"]).To(ContainSubstring(membershipv1alpha1.PasswordSourceLabel + "=true"))
	})

	It("grants the union of the roles' permissions and follows role changes without touching the password", func() {
		m := newMember(ns, "bob", "bob@example.com", membershipv1alpha1.RoleOperations, membershipv1alpha1.RoleFinance)
		Expect(k8sClient.Create(ctx, m)).To(Succeed())
		union := []string{"invoices:manage", "invoices:read", "kyc:read", "orders:manage", "orders:read",
			"payments:read", "products:manage", "products:read", "store:read"}
		secret := credentialsOf(m)
		Expect(string(secret.Data["permissions"])).To(Equal(strings.Join(union, ",")))
		Expect(string(secret.Data["roles"])).To(Equal("finance,operations"))
		Eventually(func(g Gomega) []string { return getMember(m)(g).Status.Permissions }).Should(Equal(union))
		hash := string(secret.Data["password-hash"])

		updateMember(m, func(latest *membershipv1alpha1.Member) {
			latest.Spec.Roles = []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff}
		})
		staff := []string{"orders:manage", "orders:read", "products:manage", "products:read", "store:manage", "store:read"}
		Eventually(func(g Gomega) []string { return getMember(m)(g).Status.Permissions }).Should(Equal(staff))
		Eventually(func() string { return string(credentialsOf(m).Data["permissions"]) }).Should(Equal(strings.Join(staff, ",")))
		Expect(string(credentialsOf(m).Data["password-hash"])).To(Equal(hash))
		Expect(string(credentialsOf(m).Data["roles"])).To(Equal("staff"))
	})

	It("enrols 2FA with a TOTP secret whose codes validate", func() {
		m := newMember(ns, "bob", "bob@example.com", membershipv1alpha1.RoleAdmin)
		m.Spec.TwoFactor.Required = true
		Expect(k8sClient.Create(ctx, m)).To(Succeed())
		secret := credentialsOf(m)
		totpSecret := string(secret.Data["totp-secret"])
		Expect(totpSecret).NotTo(BeEmpty())
		u, err := url.Parse(string(secret.Data["totp-uri"]))
		Expect(err).NotTo(HaveOccurred())
		Expect(u.Scheme).To(Equal("otpauth"))
		Expect(u.Host).To(Equal("totp"))
		Expect(u.Path).To(Equal("/Acme Shop:bob@example.com"))
		Expect(u.Query().Get("secret")).To(Equal(totpSecret))
		now := time.Now()
		code, err := totp.GenerateCode(totpSecret, now)
		Expect(err).NotTo(HaveOccurred())
		Expect(credentials.ValidateTOTP(totpSecret, code, now)).To(BeTrue())
	})

	It("follows a login email change and a 2FA switch without regenerating the password or TOTP secret", func() {
		m := newMember(ns, "bob", "bob@example.com", membershipv1alpha1.RoleStaff)
		m.Spec.TwoFactor.Required = true
		Expect(k8sClient.Create(ctx, m)).To(Succeed())
		before := credentialsOf(m)

		updateMember(m, func(latest *membershipv1alpha1.Member) { latest.Spec.Email = "bob+new@example.com" })
		Eventually(func() string { return string(credentialsOf(m).Data["username"]) }).Should(Equal("bob+new@example.com"))
		after := credentialsOf(m)
		Expect(after.Data["password-hash"]).To(Equal(before.Data["password-hash"]))
		Expect(after.Data["password"]).To(Equal(before.Data["password"]))
		Expect(after.Data["totp-secret"]).To(Equal(before.Data["totp-secret"]))
		Expect(string(after.Data["totp-uri"])).To(ContainSubstring("Acme%20Shop:bob+new@example.com"))

		updateMember(m, func(latest *membershipv1alpha1.Member) { latest.Spec.TwoFactor.Required = false })
		Eventually(func() map[string][]byte { return credentialsOf(m).Data }).ShouldNot(HaveKey("totp-secret"))
		Expect(credentialsOf(m).Data).NotTo(HaveKey("totp-uri"))
		Expect(credentialsOf(m).Data["password-hash"]).To(Equal(before.Data["password-hash"]))
	})

	It("revokes access when disabled and restores the same password and 2FA when enabled", func() {
		m := newMember(ns, "bob", "bob@example.com", membershipv1alpha1.RoleStaff)
		m.Spec.TwoFactor.Required = true
		Expect(k8sClient.Create(ctx, m)).To(Succeed())
		before := credentialsOf(m)

		updateMember(m, func(latest *membershipv1alpha1.Member) { latest.Spec.Disabled = true })
		Eventually(credentialsGone(m)).Should(BeTrue())
		Eventually(getMember(m)).Should(phase(membershipv1alpha1.MemberDisabled))
		Expect(getMember(m)(Default).Status.CredentialsSecret).To(BeEmpty())
		Eventually(eventsFor(m)).Should(ContainElement(HavePrefix("Normal AccessRevoked")))

		updateMember(m, func(latest *membershipv1alpha1.Member) { latest.Spec.Disabled = false })
		after := credentialsOf(m)
		Expect(after.Data["password-hash"]).To(Equal(before.Data["password-hash"]))
		Expect(after.Data["totp-secret"]).To(Equal(before.Data["totp-secret"]))
		Eventually(getMember(m)).Should(phase(membershipv1alpha1.MemberActive))
		Eventually(eventsFor(m)).Should(ContainElement(HavePrefix("Normal AccessRestored")))
		Eventually(func() bool {
			err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "bob-credentials-retained"}, &corev1.Secret{})
			return apierrors.IsNotFound(err)
		}).Should(BeTrue(), "the retained copy goes once access is back")
	})

	It("gives the later of two Members with the same email (any case) no credentials", func() {
		first := newMember(ns, "bob", "bob@example.com", membershipv1alpha1.RoleStaff)
		Expect(k8sClient.Create(ctx, first)).To(Succeed())
		credentialsOf(first)
		second := newMember(ns, "bob-again", "Bob@Example.com", membershipv1alpha1.RoleAdmin)
		Expect(k8sClient.Create(ctx, second)).To(Succeed())
		alias := newMember(ns, "bob-alias", "bob+shop2@example.com", membershipv1alpha1.RoleAdmin)
		Expect(k8sClient.Create(ctx, alias)).To(Succeed())

		Eventually(getMember(second)).Should(phase(membershipv1alpha1.MemberConflict))
		Expect(meta.FindStatusCondition(getMember(second)(Default).Status.Conditions, "Ready").Reason).To(Equal("EmailConflict"))
		Consistently(credentialsGone(second)).WithTimeout(2 * time.Second).Should(BeTrue())
		Eventually(eventsFor(second)).Should(ContainElement(HavePrefix("Warning EmailConflict")))
		Eventually(getMember(alias)).Should(phase(membershipv1alpha1.MemberActive), "a plus-alias is another address")

		By("removing the holder, the address passes to the Member that waited for it")
		Expect(k8sClient.Delete(ctx, first)).To(Succeed())
		Eventually(getMember(second)).WithTimeout(30 * time.Second).Should(phase(membershipv1alpha1.MemberActive))
		Expect(string(credentialsOf(second).Data["username"])).To(Equal("Bob@Example.com"))
	})

	It("is Pending with StoreNotFound while its Store is missing", func() {
		m := newMember(ns, "bob", "bob@example.com", membershipv1alpha1.RoleStaff)
		m.Spec.StoreRef.Name = "no-such-shop"
		Expect(k8sClient.Create(ctx, m)).To(Succeed())
		Eventually(getMember(m)).Should(phase(membershipv1alpha1.MemberPending))
		Expect(meta.FindStatusCondition(getMember(m)(Default).Status.Conditions, "Ready").Reason).To(Equal("StoreNotFound"))
		Expect(credentialsGone(m)()).To(BeTrue())
	})

	It("writes nothing when a reconcile finds nothing to change", func() {
		m := newMember(ns, "bob", "bob@example.com", membershipv1alpha1.RoleStaff)
		m.Spec.TwoFactor.Required = true
		Expect(k8sClient.Create(ctx, m)).To(Succeed())
		credentialsOf(m)
		Eventually(getMember(m)).Should(phase(membershipv1alpha1.MemberActive))
		Eventually(memberControllerIdle).Should(BeTrue(), "the reconciles of creation settle")
		memberRV := getMember(m)(Default).ResourceVersion
		secretRV := credentialsOf(m).ResourceVersion

		// Touching the Store enqueues its Members; nothing about them changes.
		reconciles := reconcileCount()
		store := &membershipv1alpha1.Store{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop"}, store)).To(Succeed())
		store.Annotations = map[string]string{"touched": "yes"}
		Expect(k8sClient.Update(ctx, store)).To(Succeed())
		Eventually(reconcileCount).Should(BeNumerically(">", reconciles))

		Consistently(func(g Gomega) []string {
			return []string{getMember(m)(g).ResourceVersion, credentialsOf(m).ResourceVersion}
		}).WithTimeout(3 * time.Second).Should(Equal([]string{memberRV, secretRV}))
	})

	It("revokes access on deletion, emails the removed person in the Store's language, and lets go", func() {
		nlNamespace := newNamespace()
		createStore(nlNamespace, "shop", membershipv1alpha1.LocaleDutch)
		m := newMember(nlNamespace, "bob", "bob@example.com", membershipv1alpha1.RoleStaff)
		Expect(k8sClient.Create(ctx, m)).To(Succeed())
		credentialsOf(m)
		Eventually(getMember(m)).Should(phase(membershipv1alpha1.MemberActive))
		uid := getMember(m)(Default).UID

		Expect(k8sClient.Delete(ctx, m)).To(Succeed())
		Eventually(credentialsGone(m)).Should(BeTrue())
		msg, err := catcher.WaitFor(ctx, func(msg mailcatcher.Message) bool {
			return strings.Contains(string(msg.Data), string(uid))
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(msg.To).To(Equal([]string{"bob@example.com"}))
		Expect(msg.Subject()).To(Equal("Je toegang tot Acme Shop is ingetrokken"))
		h, err := msg.Header()
		Expect(err).NotTo(HaveOccurred())
		Expect(h.Get("Message-Id")).To(Equal("<" + string(uid) + ".access-removed@storeops.example>"))
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(m), &membershipv1alpha1.Member{}))
		}).Should(BeTrue())
	})

	It("sends one access-removed email per deletion, even when a reconcile reads the Member from a cache that lags", func() {
		ns := newNamespace()
		createStore(ns, "shop", membershipv1alpha1.LocaleEnglish)
		const count = 10
		members := make([]*membershipv1alpha1.Member, count)
		for i := range members {
			members[i] = newMember(ns, fmt.Sprintf("gone-%d", i), fmt.Sprintf("gone-%d@example.com", i), membershipv1alpha1.RoleStaff)
			Expect(k8sClient.Create(ctx, members[i])).To(Succeed())
		}
		uids := make([]string, count)
		for i, m := range members {
			Eventually(getMember(m)).Should(phase(membershipv1alpha1.MemberActive))
			uids[i] = string(getMember(m)(Default).UID)
		}
		// Deleting the credential Secret wakes the Member again before its finalizer is gone: the
		// second reconcile must not send the email a second time.
		for _, m := range members {
			Expect(k8sClient.Delete(ctx, m)).To(Succeed())
		}
		for _, m := range members {
			Eventually(func() bool {
				return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(m), &membershipv1alpha1.Member{}))
			}).Should(BeTrue())
		}
		copies := func() map[string]int {
			out := map[string]int{}
			for _, msg := range catcher.Messages() {
				for _, uid := range uids {
					if strings.Contains(string(msg.Data), "<"+uid+".access-removed@") {
						out[uid]++
					}
				}
			}
			return out
		}
		want := map[string]int{}
		for _, uid := range uids {
			want[uid] = 1
		}
		Eventually(copies).Should(Equal(want))
		Consistently(copies).WithTimeout(2 * time.Second).Should(Equal(want))
	})

	It("still removes the Member within the bounded time when SMTP is down, with a Warning saying why", func() {
		m := newMember(ns, "bob", "bob@example.com", membershipv1alpha1.RoleStaff)
		Expect(k8sClient.Create(ctx, m)).To(Succeed())
		credentialsOf(m)
		Eventually(getMember(m)).Should(phase(membershipv1alpha1.MemberActive))

		Expect(catcher.Close()).To(Succeed())
		DeferCleanup(func() {
			var err error
			catcher, err = mailcatcher.Start(mailcatcher.Options{Addr: smtpAddr, Log: GinkgoWriter})
			Expect(err).NotTo(HaveOccurred())
		})
		Expect(k8sClient.Delete(ctx, m)).To(Succeed())
		Eventually(credentialsGone(m)).Should(BeTrue(), "access is revoked first, mail or no mail")
		Eventually(eventsFor(m)).Should(ContainElement(And(
			HavePrefix("Warning AccessRemovedEmailFailed"), ContainSubstring("connection refused"))))
		Consistently(func() error {
			return k8sClient.Get(ctx, client.ObjectKeyFromObject(m), &membershipv1alpha1.Member{})
		}).WithTimeout(2*time.Second).Should(Succeed(), "held while the email may still go out")

		fakeClock.Step(11 * time.Minute)
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(m), &membershipv1alpha1.Member{}))
		}).WithTimeout(time.Minute).Should(BeTrue())
		Eventually(eventsFor(m)).Should(ContainElement(HavePrefix("Warning AccessRemovedEmailAbandoned")))
	})

	It("never puts a password, hash or TOTP secret in logs, events or status", func() {
		Expect(secretsSeen).NotTo(BeEmpty())
		var all eventsv1.EventList
		Expect(k8sClient.List(ctx, &all)).To(Succeed())
		Expect(all.Items).NotTo(BeEmpty())
		notes := make([]string, 0, len(all.Items))
		for _, e := range all.Items {
			notes = append(notes, e.Note)
		}
		eventText := strings.Join(notes, "\n")
		logText := logs.String()
		Expect(logText).To(ContainSubstring("Reconcile"), "the logs were captured")
		// client-go dumps protobuf bodies as hex at high verbosity, which would split a secret
		// across lines: search the decoded bytes too.
		logText += decodeHexDumps(logText)
		_, objects, err := leakcheck.ClusterText(ctx, k8sClient)
		Expect(err).NotTo(HaveOccurred())
		for _, s := range secretsSeen {
			Expect(logText).NotTo(ContainSubstring(s))
			Expect(eventText).NotTo(ContainSubstring(s))
			Expect(objects).NotTo(ContainSubstring(s))
		}
	})
})
