// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package index_test

import (
	"context"
	"slices"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/index"
)

// One MemberLogin lookup answers both questions the two indexes it replaced answered: who
// contends for a login in one Store, and where a person (never an integration) is a Member.
func TestOneLoginIndexAnswersBothQuestions(t *testing.T) {
	member := func(name, store, email, clientID string, integration bool) membershipv1alpha1.Member {
		m := membershipv1alpha1.Member{ObjectMeta: metav1.ObjectMeta{Name: name}}
		m.Spec.StoreRef.Name, m.Spec.Email, m.Spec.ClientID = store, membershipv1alpha1.EmailAddress(email), clientID
		if integration {
			m.Spec.Type = membershipv1alpha1.MemberIntegration
		}
		return m
	}
	// The Members a lookup of "ann@example.com" finds: a person in two Stores, and an integration
	// of the first Store whose client ID is that address.
	found := func() []membershipv1alpha1.Member {
		return []membershipv1alpha1.Member{
			member("ann-a", "a", "Ann@example.com", "", false),
			member("ann-b", "b", "ann@example.com", "", false),
			member("bot-a", "a", "ops@example.com", "ann@example.com", true),
		}
	}
	names := func(members []membershipv1alpha1.Member) []string {
		out := make([]string, 0, len(members))
		for _, m := range members {
			out = append(out, m.Name)
		}
		return out
	}

	for _, tc := range []struct {
		name   string
		filter func([]membershipv1alpha1.Member) []membershipv1alpha1.Member
		want   []string
	}{
		{"every login of Store a contends, the integration's client ID with the email",
			func(m []membershipv1alpha1.Member) []membershipv1alpha1.Member { return index.OfStore(m, "a") }, []string{"ann-a", "bot-a"}},
		{"Store b", func(m []membershipv1alpha1.Member) []membershipv1alpha1.Member { return index.OfStore(m, "b") }, []string{"ann-b"}},
		{"a Store without the login", func(m []membershipv1alpha1.Member) []membershipv1alpha1.Member { return index.OfStore(m, "c") }, []string{}},
		{"the person's Members in every Store, never the integration", index.People, []string{"ann-a", "ann-b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(names(tc.filter(found()))).To(Equal(tc.want))
		})
	}

	g := NewWithT(t)
	bot := member("bot-a", "a", "ops@example.com", "Ann@Example.com", true)
	g.Expect(index.NormalizeEmail(membershipv1alpha1.EmailAddress(bot.Login()))).To(Equal("ann@example.com"),
		"the index key of an integration is its client ID, lower case, as a person's is the email")
}

// ListByLogin and ListOfAccount answer from the one MemberLogin index (through a client with the
// index function Setup registers): exact logins, every namespace unless narrowed, and an Account's
// people without the integrations whose client ID is their address.
func TestLookupsByLoginAndAccountShareOneIndex(t *testing.T) {
	person := func(ns, name, email string) *membershipv1alpha1.Member {
		m := &membershipv1alpha1.Member{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		m.Spec.StoreRef.Name, m.Spec.Email = "shop", membershipv1alpha1.EmailAddress(email)
		return m
	}
	bot := person("a", "bot", "ops@example.com")
	bot.Spec.Type, bot.Spec.ClientID = membershipv1alpha1.MemberIntegration, "Ann@example.com"
	scheme := runtime.NewScheme()
	NewWithT(t).Expect(membershipv1alpha1.AddToScheme(scheme)).To(Succeed())
	c := fake.NewClientBuilder().WithScheme(scheme).
		WithIndex(&membershipv1alpha1.Member{}, index.MemberLogin, index.MemberLoginKeys).
		WithObjects(person("a", "ann", "ann@example.com"), person("b", "ann", "ANN@example.com"),
			person("a", "bob", "bob@example.com"), person("a", "ann-plus", "ann+x@example.com"), bot).Build()
	names := func(members []membershipv1alpha1.Member) []string {
		out := make([]string, 0, len(members))
		for _, m := range members {
			out = append(out, m.Namespace+"/"+m.Name)
		}
		slices.Sort(out)
		return out
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		lookup func() ([]membershipv1alpha1.Member, error)
		want   []string
	}{
		{"a login in every namespace, any case, the integration signing in as it too",
			func() ([]membershipv1alpha1.Member, error) { return index.ListByLogin(ctx, c, "ann@EXAMPLE.com") },
			[]string{"a/ann", "a/bot", "b/ann"}},
		{"narrowed to a namespace",
			func() ([]membershipv1alpha1.Member, error) {
				return index.ListByLogin(ctx, c, "ann@example.com", client.InNamespace("b"))
			}, []string{"b/ann"}},
		{"a plus-alias is another login",
			func() ([]membershipv1alpha1.Member, error) { return index.ListByLogin(ctx, c, "ann+x@example.com") },
			[]string{"a/ann-plus"}},
		{"an Account's people, never an integration",
			func() ([]membershipv1alpha1.Member, error) {
				return index.ListOfAccount(ctx, c, membershipv1alpha1.AccountName("ann@example.com"))
			}, []string{"a/ann", "b/ann"}},
		{"an address nobody has", func() ([]membershipv1alpha1.Member, error) { return index.ListByLogin(ctx, c, "eve@example.com") },
			[]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			found, err := tc.lookup()
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(names(found)).To(Equal(tc.want))
		})
	}
}

// Two logins can share a key (the Account name keeps 48 bits of a hash, and characters a name
// cannot hold are dropped): WithLogin keeps only the login asked.
func TestWithLoginKeepsOnlyTheLoginAsked(t *testing.T) {
	g := NewWithT(t)
	member := func(name, email string) membershipv1alpha1.Member {
		m := membershipv1alpha1.Member{ObjectMeta: metav1.ObjectMeta{Name: name}}
		m.Spec.Email = membershipv1alpha1.EmailAddress(email)
		return m
	}
	found := []membershipv1alpha1.Member{member("ann", "Ann@example.com"), member("other", "ann@example.org"), member("again", "ann@example.com")}
	kept := index.WithLogin(found, "ann@example.com")
	g.Expect(kept).To(HaveLen(2))
	g.Expect(kept[0].Name).To(Equal("ann"))
	g.Expect(kept[1].Name).To(Equal("again"))
}
