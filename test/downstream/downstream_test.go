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
// integration test: it uses only test/testenv's exported API and the API types. The README shows
// it.
package downstream_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
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
