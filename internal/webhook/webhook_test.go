// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package webhook_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/test/testenv"
)

func newNamespace() string {
	GinkgoHelper()
	return testenv.Must(testenv.NewNamespace(ctx, person, "webhook-"))
}

func createStore(ns, name, owner string, limit int32) {
	GinkgoHelper()
	Expect(person.Create(ctx, testenv.NewStore(ns, name, owner, func(s *membershipv1alpha1.Store) {
		s.Spec.MemberLimit = limit
	}))).To(Succeed())
}

func newMember(ns, name, store, email string, roles ...membershipv1alpha1.Role) *membershipv1alpha1.Member {
	return &membershipv1alpha1.Member{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: membershipv1alpha1.MemberSpec{StoreRef: membershipv1alpha1.StoreReference{Name: store},
			Email: membershipv1alpha1.EmailAddress(email), Roles: roles},
	}
}

func newInvitation(ns, name, store, email string, roles ...membershipv1alpha1.Role) *membershipv1alpha1.Invitation {
	if len(roles) == 0 {
		roles = []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff}
	}
	return &membershipv1alpha1.Invitation{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: membershipv1alpha1.InvitationSpec{StoreRef: membershipv1alpha1.StoreReference{Name: store},
			Email: membershipv1alpha1.EmailAddress(email), Roles: roles},
	}
}

// refusedWith matches the 422 Invalid error an admission webhook's refusal comes back as, with
// the field and rule in its message, as kubectl prints it.
func refusedWith(parts ...string) OmegaMatcher {
	matchers := make([]OmegaMatcher, 0, 1+len(parts))
	matchers = append(matchers, WithTransform(apierrors.IsInvalid, BeTrue()))
	for _, p := range parts {
		matchers = append(matchers, WithTransform(func(err error) string { return err.Error() }, ContainSubstring(p)))
	}
	return And(matchers...)
}

func ownerMember(ns, store string) *membershipv1alpha1.Member {
	GinkgoHelper()
	m := &membershipv1alpha1.Member{}
	Eventually(func() error {
		return person.Get(ctx, client.ObjectKey{Namespace: ns, Name: membershipv1alpha1.OwnerMemberName(store)}, m)
	}).WithTimeout(20 * time.Second).Should(Succeed())
	return m
}

// updateMember applies mutate to the latest Member and updates it as the person, again after a
// conflict (the controllers write too); it returns the final error.
func updateMember(ns, name string, mutate func(*membershipv1alpha1.Member)) error {
	var err error
	for range 10 {
		m := &membershipv1alpha1.Member{}
		if err = person.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, m); err != nil {
			return err
		}
		mutate(m)
		if err = person.Update(ctx, m); !apierrors.IsConflict(err) {
			return err
		}
	}
	return err
}

var _ = Describe("Member webhook", func() {
	It("refuses a person giving the owner role, flipping roles, or editing or deleting the owner", func() {
		ns := newNamespace()
		createStore(ns, "shop", "owner-a@example.com", 0)
		owner := ownerMember(ns, "shop")

		By("creating a Member with the owner role")
		Expect(person.Create(ctx, newMember(ns, "mallory", "shop", "mallory@example.com", membershipv1alpha1.RoleOwner))).To(
			refusedWith(`Member.membership.storeops.io "mallory" is invalid`, "spec.roles: Forbidden: the owner role is given only by the operator",
				`change the Store's spec.owner.email`))

		By("promoting a staff Member to owner")
		Expect(person.Create(ctx, newMember(ns, "bob", "shop", "bob@example.com", membershipv1alpha1.RoleStaff))).To(Succeed())
		Expect(updateMember(ns, "bob", func(m *membershipv1alpha1.Member) {
			m.Spec.Roles = []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff, membershipv1alpha1.RoleOwner}
		})).To(refusedWith("spec.roles: Forbidden: a role cannot change between owner and another role"))

		By("turning the owner into an admin")
		Expect(updateMember(ns, owner.Name, func(m *membershipv1alpha1.Member) {
			m.Spec.Roles = []membershipv1alpha1.Role{membershipv1alpha1.RoleAdmin}
		})).To(refusedWith("spec.roles: Forbidden: a role cannot change between owner and another role"))

		By("changing the owner's email directly")
		Expect(updateMember(ns, owner.Name, func(m *membershipv1alpha1.Member) { m.Spec.Email = "someone-else@example.com" })).To(
			refusedWith(`spec: Forbidden: Member "shop-owner" is the owner of Store "shop"`, "change the Store's spec.owner instead"))

		By("deleting the owner while the Store stands")
		Expect(person.Delete(ctx, owner)).To(refusedWith("a store always has its owner"))

		By("inviting someone as owner")
		Expect(person.Create(ctx, newInvitation(ns, "invite-mallory", "shop", "mallory@example.com", membershipv1alpha1.RoleOwner))).To(
			refusedWith("spec.roles: Forbidden: the owner role is given only by the operator"))

		By("stripping the owner's owner reference, so the Store would no longer recognise it")
		Expect(updateMember(ns, owner.Name, func(m *membershipv1alpha1.Member) { m.OwnerReferences = nil })).To(
			refusedWith(`metadata.ownerReferences: Forbidden: Member "shop-owner" is the owner of Store "shop"`))

		By("removing the owner's finalizer")
		Expect(updateMember(ns, owner.Name, func(m *membershipv1alpha1.Member) { m.Finalizers = nil })).To(
			refusedWith("metadata.finalizers: Forbidden"))

		By("asking for the owner's password or 2FA reset through the administrator annotations")
		for _, key := range []string{membershipv1alpha1.ResetPasswordAnnotation, membershipv1alpha1.ResetTwoFactorAnnotation} {
			Expect(updateMember(ns, owner.Name, func(m *membershipv1alpha1.Member) {
				if m.Annotations == nil {
					m.Annotations = map[string]string{}
				}
				m.Annotations[key] = "now"
			})).To(refusedWith("metadata.annotations[" + key + "]: Forbidden"))
		}

		By("moving the owner to another Store by its label")
		Expect(updateMember(ns, owner.Name, func(m *membershipv1alpha1.Member) { m.Labels[membershipv1alpha1.StoreLabel] = "other" })).To(
			refusedWith("metadata.labels[membership.storeops.io/store]: Forbidden"))

		By("labelling the owner with a label of one's own is fine, and nothing was changed by the refused requests")
		Expect(updateMember(ns, owner.Name, func(m *membershipv1alpha1.Member) { m.Labels["team"] = "platform" })).To(Succeed())
		latest := ownerMember(ns, "shop")
		Expect(latest.Spec.Roles).To(ConsistOf(membershipv1alpha1.RoleOwner))
		Expect(latest.Spec.Email).To(Equal(membershipv1alpha1.EmailAddress("owner-a@example.com")))
		Expect(latest.DeletionTimestamp).To(BeNil())
		Expect(latest.OwnerReferences).To(Equal(owner.OwnerReferences))
		Expect(latest.Annotations).NotTo(HaveKey(membershipv1alpha1.ResetPasswordAnnotation))
		Expect(person.Get(ctx, client.ObjectKey{Namespace: ns, Name: "mallory"}, &membershipv1alpha1.Member{})).To(
			WithTransform(apierrors.IsNotFound, BeTrue()))
	})
})

var _ = Describe("Member webhook and the Store's limits", func() {
	It("refuses at apply time a Member past the memberLimit, and one with another Store's address", func() {
		ns := newNamespace()
		createStore(ns, "seated", "owner-s@example.com", 1)
		createStore(ns, "elsewhere", "owner-e@example.com", 0)
		Expect(person.Create(ctx, newMember(ns, "amy", "seated", "amy@example.com", membershipv1alpha1.RoleStaff))).To(Succeed())

		By("the one seat is taken")
		Eventually(func() error {
			return person.Create(ctx, newMember(ns, "bea", "seated", "bea@example.com", membershipv1alpha1.RoleStaff), client.DryRunAll)
		}).Should(refusedWith(`Member.membership.storeops.io "bea" is invalid`,
			`spec.storeRef.name: Forbidden: Store "seated" has memberLimit 1 and 1 seats were taken`, "raise the Store's spec.memberLimit"))

		By("amy's address in another Store, with --exclusive-membership")
		Eventually(func() error {
			return person.Create(ctx, newMember(ns, "amy-too", "elsewhere", "Amy@example.com", membershipv1alpha1.RoleStaff), client.DryRunAll)
		}).Should(refusedWith(`spec.email: Forbidden: Amy@example.com already belongs to another Store`))
		Expect(person.Create(ctx, newMember(ns, "amy-plus", "elsewhere", "amy+elsewhere@example.com", membershipv1alpha1.RoleStaff))).
			To(Succeed(), "a plus-alias is another address")
	})
})

var _ = Describe("Invitation webhook", func() {
	It("refuses at apply time an address that is already a Member, one past the member limit, and one of another Store", func() {
		ns := newNamespace()
		createStore(ns, "limited", "owner-b@example.com", 2)
		createStore(ns, "other", "owner-c@example.com", 0)
		Expect(person.Create(ctx, newMember(ns, "anna", "limited", "anna@example.com", membershipv1alpha1.RoleStaff))).To(Succeed())

		By("an address that is already a Member of the Store (compared case-insensitively)")
		Eventually(func() error {
			return person.Create(ctx, newInvitation(ns, "invite-anna", "limited", "Anna@Example.com"), client.DryRunAll)
		}).Should(refusedWith(`spec.email: Forbidden: Anna@Example.com is already Member "anna" of Store "limited"`))

		By("the second seat is free; the third is refused")
		Expect(person.Create(ctx, newInvitation(ns, "invite-ben", "limited", "ben@example.com"))).To(Succeed())
		third := newInvitation(ns, "invite-cleo", "limited", "cleo@example.com")
		Eventually(func() error { return person.Create(ctx, third.DeepCopy(), client.DryRunAll) }).Should(
			refusedWith(`spec.storeRef.name: Forbidden: Store "limited" has memberLimit 2 and 2 seats are taken`, "raise the Store's spec.memberLimit"))
		Expect(person.Create(ctx, third)).To(refusedWith("memberLimit 2"))

		By("with --exclusive-membership, an address that belongs to another Store")
		Expect(person.Create(ctx, newInvitation(ns, "invite-anna-elsewhere", "other", "anna@example.com"))).To(
			refusedWith("spec.email: Forbidden: anna@example.com already belongs to another Store"))
		Expect(person.Create(ctx, newInvitation(ns, "invite-anna-alias", "other", "anna+other@example.com"))).To(Succeed(),
			"a plus-alias is another address")

		By("nothing refused was stored")
		var list membershipv1alpha1.InvitationList
		Expect(person.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
		var names []string
		for _, i := range list.Items {
			if !membershipv1alpha1.HasOwnerRole(i.Spec.Roles) {
				names = append(names, i.Name)
			}
		}
		Expect(names).To(ConsistOf("invite-ben", "invite-anna-alias"))
	})

	It("with the webhook disabled, lets the third Invitation in and the controller fails it: MemberLimitReached", func() {
		ns := newNamespace()
		createStore(ns, "limited", "owner-d@example.com", 2)
		Expect(person.Create(ctx, newInvitation(ns, "invite-dana", "limited", "dana@example.com"))).To(Succeed())
		Expect(person.Create(ctx, newInvitation(ns, "invite-eli", "limited", "eli@example.com"))).To(Succeed())

		By("removing the ValidatingWebhookConfiguration, as a broken install or an outage would")
		var hooks admissionv1.ValidatingWebhookConfigurationList
		Expect(controlPlane.Client.List(ctx, &hooks)).To(Succeed())
		Expect(hooks.Items).To(HaveLen(1))
		saved := hooks.Items[0].DeepCopy()
		Expect(controlPlane.Client.Delete(ctx, &hooks.Items[0])).To(Succeed())
		DeferCleanup(func() {
			saved.ResourceVersion, saved.UID, saved.CreationTimestamp = "", "", metav1.Time{}
			Expect(controlPlane.Client.Create(ctx, saved)).To(Succeed())
			Eventually(func() error {
				return person.Create(ctx, newMember(ns, "probe", "limited", "probe@example.com", membershipv1alpha1.RoleOwner), client.DryRunAll)
			}).Should(refusedWith("owner role"), "the webhook is back")
		})
		Eventually(func() error {
			return person.Create(ctx, newMember(ns, "probe", "limited", "probe@example.com", membershipv1alpha1.RoleOwner), client.DryRunAll)
		}).Should(Succeed(), "the webhook is gone")

		third := newInvitation(ns, "invite-finn", "limited", "finn@example.com")
		Expect(person.Create(ctx, third)).To(Succeed())
		Eventually(func(g Gomega) *metav1.Condition {
			g.Expect(person.Get(ctx, client.ObjectKeyFromObject(third), third)).To(Succeed())
			g.Expect(third.Status.Phase).To(Equal(membershipv1alpha1.InvitationFailed))
			return meta.FindStatusCondition(third.Status.Conditions, membershipv1alpha1.ConditionReady)
		}).WithTimeout(20 * time.Second).Should(And(Not(BeNil()),
			HaveField("Reason", membershipv1alpha1.ReasonMemberLimitReached),
			HaveField("Message", ContainSubstring("memberLimit 2"))))
		Expect(meta.FindStatusCondition(third.Status.Conditions, membershipv1alpha1.ConditionStalled)).To(And(Not(BeNil()),
			HaveField("Status", metav1.ConditionTrue), HaveField("Reason", membershipv1alpha1.ReasonMemberLimitReached)),
			"kstatus: Flux and Argo CD see it needs someone to act")
		for _, m := range catcher.Messages() {
			Expect(m.To).NotTo(ContainElement("finn@example.com"), "no email goes to a refused invitation")
		}
	})
})

var _ = Describe("Account webhook", func() {
	It("lets nobody but the operator create, edit or delete an Account", func() {
		acct := &membershipv1alpha1.Account{
			ObjectMeta: metav1.ObjectMeta{Name: membershipv1alpha1.AccountName("ulla@example.com")},
			Spec:       membershipv1alpha1.AccountSpec{Email: "ulla@example.com"},
		}
		By("a person creating one")
		Expect(person.Create(ctx, acct.DeepCopy())).To(refusedWith(`Account.membership.storeops.io "`+acct.Name+`" is invalid`,
			"Accounts are kept by the member operator alone"))

		By("the operator creating one (held by a finalizer of this spec while it looks)")
		acct.Finalizers = []string{"storeops.io/test-hold"}
		Expect(controlPlane.Client.Create(ctx, acct)).To(Succeed())
		DeferCleanup(func() {
			held := acct.DeepCopy()
			acct.Finalizers = nil
			Expect(controlPlane.Client.Patch(ctx, acct, client.MergeFrom(held))).To(Succeed())
		})

		// Patches without a resourceVersion: the Account controller deletes an Account nobody joined
		// (the finalizer holds it), which must not turn a refusal into a conflict.
		By("a person editing it, its status, or deleting it")
		edited := acct.DeepCopy()
		edited.Spec.Email = "mallory@example.com"
		Expect(person.Patch(ctx, edited, client.MergeFrom(acct))).To(refusedWith("Accounts are kept by the member operator alone"))
		edited = acct.DeepCopy()
		edited.Status.Members = []membershipv1alpha1.AccountMember{{Namespace: "evil", Name: "mallory", UID: "1", Store: "shop"}}
		Expect(person.Status().Patch(ctx, edited, client.MergeFrom(acct))).To(refusedWith("Accounts are kept by the member operator alone"))
		Expect(person.Delete(ctx, acct.DeepCopy())).To(refusedWith("Accounts are kept by the member operator alone"))
		edited = &membershipv1alpha1.Account{}
		Expect(controlPlane.Client.Get(ctx, client.ObjectKeyFromObject(acct), edited)).To(Succeed())
		Expect(edited.Spec.Email).To(Equal(membershipv1alpha1.EmailAddress("ulla@example.com")))
		Expect(edited.Status.Members).To(BeEmpty())
	})
})
