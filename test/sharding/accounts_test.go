// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package sharding

import (
	"context"
	"crypto/rand"
	"io"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	accounts "github.com/storeops/member-operator/internal/account"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/shard"
	"github.com/storeops/member-operator/test/devenv"
	"github.com/storeops/member-operator/test/testenv"
)

// A person with a store in each of two namespace shards: the shards do not cache the Account's
// Secret (nor any account Secret), yet its password and every new 2FA key reach both stores'
// credential Secrets, each written by its own shard alone. The second 2FA key changes nothing
// else of the Account (it had a key already): only status.secretVersion tells the shards. A Member
// declared in Git asks for its Account while the cluster shard is down, and its request waits
// in no namespace shard's cache; the Account is made once the cluster shard is back.
func TestShardsProjectAccountsTheyDoNotCache(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane and three managers")
	}
	log.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	g := NewWithT(t)
	ctx := context.Background()
	cp, sender, auditLog := startAudited(t, g, true, shard0Leader, shard1, clusterShard)

	ranges := map[string]shard.Range{shard0Leader: shard.Of(0, 2), shard1: shard.Of(1, 2), clusterShard: shard.Cluster}
	shards := map[string]*running{}
	for user, rng := range ranges {
		shards[user] = startShard(ctx, g, cp, sender, user, rng)
	}
	defer func() {
		for _, r := range shards {
			r.stop()
			g.Expect(<-r.done).To(Succeed())
		}
	}()

	// One namespace in each shard's range.
	var stores []string
	for _, ns := range populate(ctx, g, cp.Client, 6) {
		if len(stores) == 0 && shard.Of(0, 2).Contains(ns) || len(stores) == 1 && shard.Of(1, 2).Contains(ns) {
			stores = append(stores, ns)
		}
	}
	g.Expect(stores).To(HaveLen(2), "six names spread over both halves")
	pat := map[string]*membershipv1alpha1.Member{}
	for _, ns := range stores {
		m := member(ns, "pat")
		g.Expect(cp.Client.Create(ctx, m)).To(Succeed())
		pat[ns] = m
		g.Eventually(func(g Gomega) bool { return active(ctx, g, cp.Client, ns, "pat") }).WithTimeout(60 * time.Second).Should(BeTrue())
	}
	email := pat[stores[0]].Spec.Email
	account := membershipv1alpha1.AccountName(email)
	// projected waits until both stores' credential Secrets carry value under key, from the Account.
	projected := func(what, key string, value []byte) {
		t.Helper()
		for _, ns := range stores {
			g.Eventually(func(g Gomega) {
				secret := &corev1.Secret{}
				credentialSecret := client.ObjectKey{Namespace: ns, Name: membershipv1alpha1.CredentialsSecretName("pat")}
				g.Expect(cp.Client.Get(ctx, credentialSecret, secret)).To(Succeed())
				g.Expect(secret.Labels).To(HaveKeyWithValue(membershipv1alpha1.AccountLabel, account))
				g.Expect(secret.Data).To(HaveKeyWithValue(key, value))
			}).WithTimeout(60*time.Second).Should(Succeed(), "%s in namespace %s", what, ns)
		}
	}
	ask := func(req accounts.Request) {
		t.Helper()
		req.Email = email
		_, err := accounts.Ask(ctx, cp.Client, testenv.AccountNamespace, req)
		g.Expect(err).NotTo(HaveOccurred())
	}

	t.Log("pat sets a password in the first store and joins the second: both project the Account")
	first, err := credentials.HashPassword("the first long passphrase", 10)
	g.Expect(err).NotTo(HaveOccurred())
	ask(accounts.Request{Kind: membershipv1alpha1.AccountRequestPassword, Member: pat[stores[0]], PasswordHash: first})
	g.Eventually(func(g Gomega) {
		acct := &membershipv1alpha1.Account{}
		g.Expect(cp.Client.Get(ctx, client.ObjectKey{Name: account}, acct)).To(Succeed())
		g.Expect(acct.Joined(string(pat[stores[0]].UID))).To(BeTrue())
	}).WithTimeout(30 * time.Second).Should(Succeed())
	ask(accounts.Request{Kind: membershipv1alpha1.AccountRequestJoin, Member: pat[stores[1]]})
	projected("the first password", membershipv1alpha1.CredentialPasswordHash, first)

	t.Log("the Account's Secret is labelled, its version is in the Account's status, and no namespace shard caches it")
	secret := &corev1.Secret{}
	accountSecret := client.ObjectKey{Namespace: testenv.AccountNamespace, Name: membershipv1alpha1.AccountSecretName(account)}
	g.Expect(cp.Client.Get(ctx, accountSecret, secret)).To(Succeed())
	g.Expect(secret.Labels).To(HaveKeyWithValue(membershipv1alpha1.AccountSecretLabel, "true"))
	for _, user := range []string{shard0Leader, shard1} {
		var cached corev1.SecretList
		g.Expect(shards[user].mgr.GetCache().List(ctx, &cached, client.InNamespace(testenv.AccountNamespace))).To(Succeed())
		for _, s := range cached.Items {
			g.Expect(s.Labels).NotTo(HaveKey(membershipv1alpha1.AccountSecretLabel), "%s caches %s", user, s.Name)
		}
		acct := &membershipv1alpha1.Account{}
		g.Expect(shards[user].mgr.GetCache().Get(ctx, client.ObjectKey{Name: account}, acct)).To(Succeed())
		g.Expect(acct.Status.Conditions).To(BeEmpty(), "%s keeps the Account trimmed", user)
		g.Expect(acct.Status.SecretVersion).NotTo(BeEmpty())
	}
	var full corev1.SecretList
	g.Expect(shards[clusterShard].mgr.GetCache().List(ctx, &full, client.InNamespace(testenv.AccountNamespace),
		client.HasLabels{membershipv1alpha1.AccountSecretLabel})).To(Succeed())
	g.Expect(full.Items).NotTo(BeEmpty(), "the Account controller's shard caches them")

	t.Log("a new password reaches both stores")
	second, err := credentials.HashPassword("the second long passphrase", 10)
	g.Expect(err).NotTo(HaveOccurred())
	ask(accounts.Request{Kind: membershipv1alpha1.AccountRequestPassword, PasswordHash: second})
	projected("the second password", membershipv1alpha1.CredentialPasswordHash, second)

	t.Log("a first 2FA key, then a second one: each reaches both stores")
	for i := range 2 {
		key, err := credentials.NewTOTP(rand.Reader, "Shop", string(email))
		g.Expect(err).NotTo(HaveOccurred())
		ask(accounts.Request{Kind: membershipv1alpha1.AccountRequestTwoFactor, TOTPSecret: key.Secret})
		projected("2FA key "+string(rune('1'+i)), membershipv1alpha1.CredentialTOTPSecret, []byte(key.Secret))
	}

	t.Log("with the cluster shard down, a Member declared in Git asks for its Account: no namespace shard caches the request")
	cluster := shards[clusterShard]
	delete(shards, clusterShard) // stopped here: the deferred stop must not wait for it again
	cluster.stop()
	g.Expect(<-cluster.done).To(Succeed())
	imported, err := credentials.HashPassword("an imported long passphrase", 10)
	g.Expect(err).NotTo(HaveOccurred())
	gitNS := stores[1]
	g.Expect(cp.Client.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: gitNS, Name: "lee-password",
			Labels: map[string]string{membershipv1alpha1.PasswordSourceLabel: "true"}},
		Data: map[string][]byte{membershipv1alpha1.CredentialPasswordHash: imported}, // imported as it is
	})).To(Succeed())
	lee := member(gitNS, "lee")
	lee.Spec.PasswordSecretRef = &membershipv1alpha1.SecretKeyReference{Name: "lee-password", Key: membershipv1alpha1.CredentialPasswordHash}
	g.Expect(cp.Client.Create(ctx, lee)).To(Succeed())
	leeAccount := membershipv1alpha1.AccountName(lee.Spec.Email)
	g.Eventually(func(g Gomega) []corev1.Secret {
		var waiting corev1.SecretList
		g.Expect(cp.Client.List(ctx, &waiting, client.InNamespace(testenv.AccountNamespace),
			client.MatchingLabels{membershipv1alpha1.AccountLabel: leeAccount},
			client.HasLabels{membershipv1alpha1.AccountRequestLabel})).To(Succeed())
		return waiting.Items
	}).WithTimeout(30*time.Second).ShouldNot(BeEmpty(), "the shard of %s asked for lee's Account", gitNS)
	// A Secret the namespace shards do cache, written after the request: once a shard's cache
	// holds it, its informer of the operator's namespace has seen the request's creation too.
	sentinel := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: testenv.AccountNamespace, Name: "after-the-request",
		Labels: map[string]string{membershipv1alpha1.ManagedByLabel: membershipv1alpha1.ManagedByValue}}}
	g.Expect(cp.Client.Create(ctx, sentinel)).To(Succeed())
	for _, user := range []string{shard0Leader, shard1} {
		g.Eventually(func() error {
			return shards[user].mgr.GetCache().Get(ctx, client.ObjectKeyFromObject(sentinel), &corev1.Secret{})
		}).WithTimeout(30 * time.Second).Should(Succeed())
		var cached corev1.SecretList
		g.Expect(shards[user].mgr.GetCache().List(ctx, &cached, client.InNamespace(testenv.AccountNamespace),
			client.HasLabels{membershipv1alpha1.AccountRequestLabel})).To(Succeed())
		g.Expect(cached.Items).To(BeEmpty(), "%s caches account requests", user)
	}

	t.Log("the cluster shard is back: lee's Account is made from the request, governed by the imported hash")
	shards[clusterShard] = startShard(ctx, g, cp, sender, clusterShard, shard.Cluster)
	g.Eventually(func(g Gomega) {
		m := &membershipv1alpha1.Member{}
		g.Expect(cp.Client.Get(ctx, client.ObjectKeyFromObject(lee), m)).To(Succeed())
		g.Expect(m.Status.Phase).To(Equal(membershipv1alpha1.MemberActive))
		g.Expect(m.Status.Account).To(Equal(leeAccount))
		acct := &membershipv1alpha1.Account{}
		g.Expect(cp.Client.Get(ctx, client.ObjectKey{Name: leeAccount}, acct)).To(Succeed())
		g.Expect(acct.GovernedBy(gitNS, lee.Spec.PasswordSecretRef)).To(BeTrue())
		secret := &corev1.Secret{}
		leeCredentials := client.ObjectKey{Namespace: gitNS, Name: membershipv1alpha1.CredentialsSecretName("lee")}
		g.Expect(cp.Client.Get(ctx, leeCredentials, secret)).To(Succeed())
		g.Expect(secret.Data).To(HaveKeyWithValue(membershipv1alpha1.CredentialPasswordHash, imported))
	}).WithTimeout(60 * time.Second).Should(Succeed())

	t.Log("each store's credential Secret was written by its own shard alone")
	all, err := devenv.ReadWrites(auditLog)
	g.Expect(err).NotTo(HaveOccurred())
	for _, w := range all {
		if w.ObjectRef.Resource != "secrets" || w.ObjectRef.Name != membershipv1alpha1.CredentialsSecretName("pat") {
			continue
		}
		g.Expect(ranges[w.User.Username].Contains(w.ObjectRef.Namespace)).To(BeTrue(), "%s wrote %s/%s",
			w.User.Username, w.ObjectRef.Namespace, w.ObjectRef.Name)
	}
	acct := &membershipv1alpha1.Account{}
	g.Expect(cp.Client.Get(ctx, client.ObjectKey{Name: account}, acct)).To(Succeed())
	g.Expect(meta.IsStatusConditionTrue(acct.Status.Conditions, membershipv1alpha1.ConditionReady)).To(BeTrue())
}
