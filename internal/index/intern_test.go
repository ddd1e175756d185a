// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package index_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"unsafe"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/index"
)

// sameCopy reports whether a and b are one copy of the string, not merely equal: only where their
// bytes are tells, and only unsafe shows that (read, never written through).
func sameCopy(a, b string) bool {
	return a == b && unsafe.StringData(a) == unsafe.StringData(b) //nolint:gosec // G103: compares addresses only
}

// decoded returns what a watch would deliver: each object decoded on its own, every string a copy.
func decoded[T any](t *testing.T, doc string) *T {
	t.Helper()
	out := new(T)
	if err := json.Unmarshal([]byte(doc), out); err != nil {
		t.Fatal(err)
	}
	return out
}

const memberDoc = `{"metadata":{"name":"%s","namespace":"shop-ns","finalizers":["membership.storeops.io/revoke-access"],
"labels":{"team":"%s"}},"spec":{"email":"%s@example.com","storeRef":{"name":"shop"},"roles":["staff"],"type":"Person"},
"status":{"phase":"Active","permissions":["orders:read","products:read"],
"conditions":[{"type":"Ready","status":"True","reason":"Active","message":"Credentials are in Secret %s-credentials","lastTransitionTime":"2026-12-01T00:00:00Z"}]}}`

const secretDoc = `{"metadata":{"name":"%s-credentials","namespace":"shop-ns",
"labels":{"app.kubernetes.io/managed-by":"member-operator","membership.storeops.io/store":"shop","membership.storeops.io/member":"%s"},
"ownerReferences":[{"apiVersion":"membership.storeops.io/v1alpha1","kind":"Member","name":"%s","uid":"u-%s","controller":true}]},
"type":"Opaque","data":{"username":"YQ==","roles":"c3RhZmY="}}`

func TestInternerSharesRepeatedStringsAndChangesNothingVisible(t *testing.T) {
	g := NewWithT(t)
	in := index.NewInterner()
	members := make([]*membershipv1alpha1.Member, 0, 2)
	secrets := make([]*corev1.Secret, 0, 2)
	for _, name := range []string{"ann", "bob"} {
		m := decoded[membershipv1alpha1.Member](t, fmt.Sprintf(memberDoc, name, name, name, name))
		s := decoded[corev1.Secret](t, fmt.Sprintf(secretDoc, name, name, name, name))
		before, beforeSecret := m.DeepCopy(), s.DeepCopy()
		for _, obj := range []any{m, s} {
			out, err := in.Transform(obj)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(out).To(BeIdenticalTo(obj))
		}
		g.Expect(equality.Semantic.DeepEqual(m, before)).To(BeTrue(), "a Member reads the same after interning")
		g.Expect(equality.Semantic.DeepEqual(s, beforeSecret)).To(BeTrue(), "a Secret reads the same after interning")
		members, secrets = append(members, m), append(secrets, s)
	}
	ann, bob := members[0], members[1]
	for what, pair := range map[string][2]string{
		"namespace":      {ann.Namespace, bob.Namespace},
		"finalizer":      {ann.Finalizers[0], bob.Finalizers[0]},
		"store":          {ann.Spec.StoreRef.Name, bob.Spec.StoreRef.Name},
		"role":           {string(ann.Spec.Roles[0]), string(bob.Spec.Roles[0])},
		"permission":     {ann.Status.Permissions[1], bob.Status.Permissions[1]},
		"phase":          {string(ann.Status.Phase), string(bob.Status.Phase)},
		"condition type": {ann.Status.Conditions[0].Type, bob.Status.Conditions[0].Type},
		"reason":         {ann.Status.Conditions[0].Reason, bob.Status.Conditions[0].Reason},
		"owner kind":     {secrets[0].OwnerReferences[0].Kind, secrets[1].OwnerReferences[0].Kind},
		"store label":    {secrets[0].Labels[membershipv1alpha1.StoreLabel], secrets[1].Labels[membershipv1alpha1.StoreLabel]},
		"secret ns":      {secrets[0].Namespace, ann.Namespace},
		"managed-by":     {secrets[0].Labels[membershipv1alpha1.ManagedByLabel], secrets[1].Labels[membershipv1alpha1.ManagedByLabel]},
	} {
		g.Expect(sameCopy(pair[0], pair[1])).To(BeTrue(), "%s: one copy", what)
	}
	for k := range ann.Labels {
		for l := range bob.Labels {
			g.Expect(sameCopy(k, l)).To(BeTrue(), "label keys: one copy")
		}
	}
	// What names one object stays its own: interning it would only fill the table.
	g.Expect(sameCopy(secrets[0].Labels[membershipv1alpha1.MemberLabel], ann.Name)).To(BeFalse())
	g.Expect(ann.Labels["team"]).To(Equal("ann"))
}

const accountDoc = `{"metadata":{"name":"%s-1a2b3c","uid":"u-%s"},"spec":{"email":"%s@example.com"},
"status":{"members":[{"namespace":"shop-ns","name":"%s","uid":"m-%s","store":"shop"}],
"passwordSource":{"namespace":"shop-ns","secret":"passwords","key":"password-hash"},"secretVersion":"1%s"}}`

// A trimmed Account shares its joined Members' namespace and store and its password source with
// every other Account of that namespace; its own name, UID, address and version stay its own.
func TestInternerSharesWhatAccountsRepeat(t *testing.T) {
	g := NewWithT(t)
	in := index.NewInterner()
	accounts := make([]*membershipv1alpha1.Account, 0, 2)
	for i, name := range []string{"ann", "bob"} {
		acct := index.TrimAccount(decoded[membershipv1alpha1.Account](t, fmt.Sprintf(accountDoc, name, name, name, name, name, fmt.Sprint(i))))
		before := acct.DeepCopy()
		_, err := in.Transform(acct)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(equality.Semantic.DeepEqual(acct, before)).To(BeTrue(), "an Account reads the same after interning")
		accounts = append(accounts, acct)
	}
	ann, bob := accounts[0], accounts[1]
	for what, pair := range map[string][2]string{
		"member namespace": {ann.Status.Members[0].Namespace, bob.Status.Members[0].Namespace},
		"store":            {ann.Status.Members[0].Store, bob.Status.Members[0].Store},
		"source namespace": {ann.Status.PasswordSource.Namespace, bob.Status.Members[0].Namespace},
		"source secret":    {ann.Status.PasswordSource.Secret, bob.Status.PasswordSource.Secret},
		"source key":       {ann.Status.PasswordSource.Key, bob.Status.PasswordSource.Key},
	} {
		g.Expect(sameCopy(pair[0], pair[1])).To(BeTrue(), "%s: one copy", what)
	}
	g.Expect(ann.Spec.Email).To(BeEquivalentTo("ann@example.com"))
	g.Expect(ann.Status.SecretVersion).To(Equal("10"))
}

// The table is bounded: past the bound it starts again, and every answer is still the string asked.
func TestInternerTableIsBounded(t *testing.T) {
	g := NewWithT(t)
	in := index.NewInterner()
	first := in.String(string([]byte("shop")))
	for i := range 20000 {
		v := fmt.Sprintf("value-%d", i)
		g.Expect(in.String(v)).To(Equal(v))
	}
	again := in.String(string([]byte("shop")))
	g.Expect(again).To(Equal("shop"))
	g.Expect(sameCopy(first, again)).To(BeFalse(), "the table was emptied on the way")
	g.Expect(sameCopy(in.String(string([]byte("shop"))), again)).To(BeTrue(), "and shares again from then on")
	// Other kinds have their metadata interned; an object without metadata passes through.
	store := &membershipv1alpha1.Store{ObjectMeta: metav1.ObjectMeta{Namespace: string([]byte("shop-ns"))}}
	_, err := in.Transform(store)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(sameCopy(store.Namespace, in.String(string([]byte("shop-ns"))))).To(BeTrue())
	g.Expect(in.Transform(&metav1.Status{})).NotTo(BeNil())
}

// The cache policy strips managedFields and interns, in that order, every object it caches.
func TestCachePolicyTransformStripsAndInterns(t *testing.T) {
	g := NewWithT(t)
	transform := index.CacheOptions().DefaultTransform
	cached := make([]*membershipv1alpha1.Member, 0, 2)
	for _, name := range []string{"ann", "bob"} {
		m := decoded[membershipv1alpha1.Member](t, fmt.Sprintf(memberDoc, name, name, name, name))
		m.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
		_, err := transform(m)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(m.ManagedFields).To(BeNil())
		cached = append(cached, m)
	}
	g.Expect(sameCopy(cached[0].Namespace, cached[1].Namespace)).To(BeTrue())
}

// Each cache policy configures a kind once: ByObject is keyed by pointers, and two entries for one
// kind would be applied in the map's random order (a namespace shard then cached the account
// Secrets it leaves out in about half of its starts).
func TestCachePoliciesConfigureEachKindOnce(t *testing.T) {
	for name, opts := range map[string]cache.Options{
		"CacheOptions": index.CacheOptions(), "ShardCacheOptions": index.ShardCacheOptions("member-operator-system"),
	} {
		g := NewWithT(t)
		kinds := map[string]int{}
		for obj := range opts.ByObject {
			kinds[fmt.Sprintf("%T", obj)]++
		}
		for kind, n := range kinds {
			g.Expect(n).To(Equal(1), "%s configures %s %d times", name, kind, n)
		}
		g.Expect(kinds).To(HaveKey("*v1.Secret"), name)
	}
}
