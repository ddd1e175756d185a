// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package index_test

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
