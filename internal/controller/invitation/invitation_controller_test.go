// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package invitation_test

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	gomegatypes "github.com/onsi/gomega/types"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/internal/tokenkey"
	"github.com/storeops/member-operator/test/health"
	"github.com/storeops/member-operator/test/mailcatcher"
	"github.com/storeops/member-operator/test/testenv"
)

// watchInvitations records every version of the Invitations in ns the API server sends to a
// watch, from now until the spec ends: what a GitOps tool polling at the wrong moment could read.
func watchInvitations(ns string) func() []membershipv1alpha1.Invitation {
	GinkgoHelper()
	watcher, err := client.NewWithWatch(controlPlane.Config, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	w, err := watcher.Watch(ctx, &membershipv1alpha1.InvitationList{}, client.InNamespace(ns))
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(w.Stop)
	var mu sync.Mutex
	var seen []membershipv1alpha1.Invitation
	go func() {
		for event := range w.ResultChan() {
			if inv, ok := event.Object.(*membershipv1alpha1.Invitation); ok {
				mu.Lock()
				seen = append(seen, *inv.DeepCopy())
				mu.Unlock()
			}
		}
	}()
	return func() []membershipv1alpha1.Invitation {
		mu.Lock()
		defer mu.Unlock()
		return append([]membershipv1alpha1.Invitation(nil), seen...)
	}
}

// tokensSeen collects every link token the specs received, for the leak checks.
var tokensSeen []credentials.Token

func newNamespace() string {
	GinkgoHelper()
	return testenv.Must(testenv.NewNamespace(ctx, k8sClient, "invitation-"))
}

func createStore(ns, name string, mutate ...func(*membershipv1alpha1.Store)) {
	GinkgoHelper()
	Expect(k8sClient.Create(ctx, testenv.NewStore(ns, name, "owner@example.com", mutate...))).To(Succeed())
}

func createMember(ns, name, store, email string) {
	GinkgoHelper()
	Expect(k8sClient.Create(ctx, &membershipv1alpha1.Member{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: membershipv1alpha1.MemberSpec{
			StoreRef: membershipv1alpha1.StoreReference{Name: store},
			Email:    membershipv1alpha1.EmailAddress(email), Roles: []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff},
		},
	})).To(Succeed())
}

func createInvitation(ns, name, store, email string, mutate ...func(*membershipv1alpha1.Invitation)) *membershipv1alpha1.Invitation {
	GinkgoHelper()
	inv := &membershipv1alpha1.Invitation{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: membershipv1alpha1.InvitationSpec{
			StoreRef: membershipv1alpha1.StoreReference{Name: store},
			Email:    membershipv1alpha1.EmailAddress(email),
			Roles:    []membershipv1alpha1.Role{membershipv1alpha1.RoleOperations, membershipv1alpha1.RoleFinance},
		},
	}
	for _, m := range mutate {
		m(inv)
	}
	Expect(k8sClient.Create(ctx, inv)).To(Succeed())
	return inv
}

// annotate sets an annotation on the invitation (a change that is not a spec change), with a
// merge patch that needs no resourceVersion.
func annotate(inv *membershipv1alpha1.Invitation, value string) {
	GinkgoHelper()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{"example.com/poke":%q}}}`, value)
	Expect(k8sClient.Patch(ctx, inv.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(patch)))).To(Succeed())
}

func get(inv *membershipv1alpha1.Invitation) func(Gomega) *membershipv1alpha1.Invitation {
	return func(g Gomega) *membershipv1alpha1.Invitation {
		out := &membershipv1alpha1.Invitation{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(inv), out)).To(Succeed())
		return out
	}
}

func inPhase(p membershipv1alpha1.InvitationPhase) OmegaMatcher {
	return WithTransform(func(i *membershipv1alpha1.Invitation) membershipv1alpha1.InvitationPhase { return i.Status.Phase }, Equal(p))
}

func conditionReason(conditionType string) func(*membershipv1alpha1.Invitation) string {
	return func(i *membershipv1alpha1.Invitation) string {
		if c := meta.FindStatusCondition(i.Status.Conditions, conditionType); c != nil {
			return string(c.Status) + "/" + c.Reason
		}
		return ""
	}
}

// update applies mutate to the latest Invitation, retrying on conflicts with the controller.
func update(inv *membershipv1alpha1.Invitation, mutate func(*membershipv1alpha1.Invitation)) {
	GinkgoHelper()
	Eventually(func() error {
		latest := &membershipv1alpha1.Invitation{}
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(inv), latest); err != nil {
			return err
		}
		mutate(latest)
		return k8sClient.Update(ctx, latest)
	}).Should(Succeed())
}

// poke makes the controller look at an Invitation again (after the fake clock moved).
func poke(inv *membershipv1alpha1.Invitation) {
	GinkgoHelper()
	update(inv, func(i *membershipv1alpha1.Invitation) {
		if i.Annotations == nil {
			i.Annotations = map[string]string{}
		}
		i.Annotations["test.storeops.io/poke"] = time.Now().Format(time.RFC3339Nano)
	})
}

func messagesTo(email string) func() []mailcatcher.Message {
	return func() []mailcatcher.Message {
		var out []mailcatcher.Message
		for _, m := range currentCatcher().Messages() {
			for _, to := range m.To {
				if strings.EqualFold(to, email) {
					out = append(out, m)
				}
			}
		}
		return out
	}
}

// oneEmailTo waits for the email to address and checks that no second one follows.
func oneEmailTo(email string) mailcatcher.Message {
	GinkgoHelper()
	Eventually(messagesTo(email)).WithTimeout(20 * time.Second).Should(HaveLen(1))
	Consistently(messagesTo(email)).WithTimeout(time.Second).Should(HaveLen(1))
	return messagesTo(email)()[0]
}

func messageID(m mailcatcher.Message) string {
	GinkgoHelper()
	h, err := m.Header()
	Expect(err).NotTo(HaveOccurred())
	return h.Get("Message-Id")
}

// linkToken reads the invitation link of an email and parses its token.
func linkToken(m mailcatcher.Message) credentials.Token {
	GinkgoHelper()
	body, err := m.Body()
	Expect(err).NotTo(HaveOccurred())
	link := body.Link("/invitations/accept")
	Expect(link).To(HavePrefix(publicURL + "/invitations/accept?token="))
	u, err := url.Parse(link)
	Expect(err).NotTo(HaveOccurred())
	tok, err := credentials.ParseToken(u.Query().Get("token"))
	Expect(err).NotTo(HaveOccurred())
	Expect(body.HTML).To(ContainSubstring(`href="`+link+`"`), "the Join store button carries the same link")
	tokensSeen = append(tokensSeen, tok)
	return tok
}

// noTokenSecret says whether the Secret in which versions before status.tokenHash kept the
// link's hash is absent.
func noTokenSecret(inv *membershipv1alpha1.Invitation) func() bool {
	return func() bool {
		err := k8sClient.Get(ctx, client.ObjectKey{Namespace: inv.Namespace, Name: membershipv1alpha1.InvitationTokenSecretName(inv.Name)},
			&corev1.Secret{})
		return apierrors.IsNotFound(err)
	}
}

// tokenHash is the link hash in the Invitation's status.
func tokenHash(inv *membershipv1alpha1.Invitation) func() string {
	return func() string { return get(inv)(Default).Status.TokenHash }
}

// tokenWorks says whether tok matches a stored link, as the acceptance server checks it: the
// Invitation whose current send round derives tok's ID, and whose status.tokenHash is the hash
// of tok's secret (compared in constant time).
func tokenWorks(tok credentials.Token) bool {
	var invitations membershipv1alpha1.InvitationList
	Expect(k8sClient.List(ctx, &invitations)).To(Succeed())
	for _, inv := range invitations.Items {
		current, err := credentials.InvitationToken(tokenKey, string(inv.UID), inv.Status.Resends)
		Expect(err).NotTo(HaveOccurred())
		if current.ID == tok.ID && inv.Status.TokenHash != "" && credentials.TokenMatches(inv.Status.TokenHash, tok.Secret) {
			return true
		}
	}
	return false
}

// eventsFor lists "TYPE REASON: note" of the events about an Invitation.
func eventsFor(inv *membershipv1alpha1.Invitation) func() []string {
	return func() []string {
		var list eventsv1.EventList
		Expect(k8sClient.List(ctx, &list, client.InNamespace(inv.Namespace))).To(Succeed())
		var out []string
		for _, e := range list.Items {
			if e.Regarding.Name == inv.Name && e.Regarding.Kind == "Invitation" {
				out = append(out, e.Type+" "+e.Reason+": "+e.Note)
			}
		}
		return out
	}
}

// clusterText is every Secret's data, labels and annotations, every Invitation's status and
// every event in the cluster, as text to search.
func clusterText() string {
	GinkgoHelper()
	var b strings.Builder
	var secrets corev1.SecretList
	Expect(k8sClient.List(ctx, &secrets)).To(Succeed())
	for _, s := range secrets.Items {
		for _, v := range s.Data {
			b.Write(v)
			b.WriteByte('\n')
		}
		for k, v := range s.Labels {
			b.WriteString(k + "=" + v + "\n")
		}
		for k, v := range s.Annotations {
			b.WriteString(k + "=" + v + "\n")
		}
	}
	var invitations membershipv1alpha1.InvitationList
	Expect(k8sClient.List(ctx, &invitations)).To(Succeed())
	for _, i := range invitations.Items {
		out, err := json.Marshal(i)
		Expect(err).NotTo(HaveOccurred())
		b.Write(out)
	}
	var events eventsv1.EventList
	Expect(k8sClient.List(ctx, &events)).To(Succeed())
	var coreEvents corev1.EventList
	Expect(k8sClient.List(ctx, &coreEvents)).To(Succeed())
	for _, list := range []any{events, coreEvents} {
		out, err := json.Marshal(list)
		Expect(err).NotTo(HaveOccurred())
		b.Write(out)
	}
	return b.String()
}

var _ = Describe("Invitation controller", func() {
	DescribeTable("sends exactly one email per invitation, in the Store's language, with a link whose token matches the stored hash",
		func(locale membershipv1alpha1.Locale, wantSubject, wantRole string) {
			ns := newNamespace()
			createStore(ns, "shop", func(s *membershipv1alpha1.Store) { s.Spec.Locale = locale })
			versions := watchInvitations(ns)
			email := "dave-" + string(locale) + "@example.com"
			createMember(ns, "dave-alias", "shop", "dave-"+string(locale)+"+old@example.com") // a plus-alias is another address
			inv := createInvitation(ns, "invite-dave", "shop", email, func(i *membershipv1alpha1.Invitation) {
				i.Spec.InvitedBy, i.Spec.Message = "Alice Admin", "Welcome aboard"
			})

			Eventually(get(inv)).Should(inPhase(membershipv1alpha1.InvitationSent))
			got := get(inv)(Default)
			Expect(got.Status.DeliveryAttempts).To(Equal(int32(1)))
			Expect(got.Status.SentAt).NotTo(BeNil())
			Expect(got.Status.ExpiresAt.Time).To(Equal(got.Status.SentAt.Add(7 * 24 * time.Hour)))
			Expect(conditionReason(membershipv1alpha1.ConditionDelivered)(got)).To(Equal("True/Sent"))
			Expect(conditionReason(membershipv1alpha1.ConditionReady)(got)).To(Equal("True/Sent"))
			Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
			Expect(got.Finalizers).To(BeEmpty(), "a member invitation's link dies with it: no finalizer to write")

			msg := oneEmailTo(email)
			Expect(msg.To).To(Equal([]string{email}))
			Expect(msg.Subject()).To(Equal(wantSubject))
			Expect(messageID(msg)).To(Equal("<" + mail.MessageID(got.UID, "invitation-0", "storeops.example") + ">"))
			body, err := msg.Body()
			Expect(err).NotTo(HaveOccurred())
			Expect(body.Text).To(And(ContainSubstring("Alice Admin"), ContainSubstring("Welcome aboard"), ContainSubstring(wantRole)))
			Expect(body.HTML).To(ContainSubstring(wantRole))

			tok := linkToken(msg)
			Expect(credentials.TokenMatches(got.Status.TokenHash, tok.Secret)).To(BeTrue(), "status.tokenHash is the hash of the link's secret")
			Expect(noTokenSecret(inv)()).To(BeTrue(), "no token Secret")
			Expect(tokenWorks(tok)).To(BeTrue())

			By("two writes of the Invitation: the attempt with the link's hash before the send, the result after it")
			Consistently(get(inv)).WithTimeout(time.Second).Should(inPhase(membershipv1alpha1.InvitationSent))
			seenVersions := versions()
			writes := make([]string, 0, len(seenVersions))
			for _, seen := range seenVersions {
				writes = append(writes, string(seen.Status.Phase)+"/"+seen.Status.TokenHash)
			}
			Expect(writes).To(Equal([]string{"/", "Pending/" + got.Status.TokenHash, "Sent/" + got.Status.TokenHash}),
				"created, then the recorded attempt carrying the hash, then the result: nothing else")

			text := clusterText()
			Expect(text).To(ContainSubstring(got.Status.TokenHash), "the search sees the stored hash")
			Expect(text).NotTo(ContainSubstring(tok.Secret), "the raw token is nowhere in the cluster")
			Expect(eventsFor(inv)()).To(ContainElement(HavePrefix("Normal InvitationSent: Invitation email sent to " + email)))
		},
		Entry("English", membershipv1alpha1.LocaleEnglish, "You have been invited to manage Acme Shop", "Operations (orders and products)"),
		Entry("Dutch", membershipv1alpha1.Locale("nl"), "Je bent uitgenodigd om Acme Shop te beheren", "Financiën (facturen; de rest alleen lezen)"),
		Entry("Japanese", membershipv1alpha1.Locale("ja"), "Acme Shop の管理に招待されました", "オペレーション（注文と商品）"),
	)

	DescribeTable("refuses what it cannot honour, with a distinct reason, and sends nothing",
		func(reason string, setUp func(ns, email string) (store string), extraRoles ...membershipv1alpha1.Role) {
			ns := newNamespace()
			email := "refused-" + strings.ToLower(reason) + "@example.com"
			versions := watchInvitations(ns)
			inv := createInvitation(ns, "invite", setUp(ns, email), email, func(i *membershipv1alpha1.Invitation) {
				i.Spec.Roles = append(i.Spec.Roles, extraRoles...)
			})

			Eventually(get(inv)).Should(And(inPhase(membershipv1alpha1.InvitationFailed),
				WithTransform(conditionReason(membershipv1alpha1.ConditionReady), Equal("False/"+reason))))
			Consistently(messagesTo(email)).WithTimeout(time.Second).Should(BeEmpty())
			Expect(tokenHash(inv)()).To(BeEmpty(), "no link exists")
			Expect(noTokenSecret(inv)()).To(BeTrue())
			Expect(get(inv)(Default).Status.DeliveryAttempts).To(BeZero())
			Eventually(eventsFor(inv)).Should(ContainElement(HavePrefix("Warning InvitationRefused")))
			for _, seen := range versions() {
				if seen.Status.Phase == membershipv1alpha1.InvitationFailed {
					Expect(meta.IsStatusConditionTrue(seen.Status.Conditions, membershipv1alpha1.ConditionStalled)).To(BeTrue(),
						"every version written Failed is Stalled too (resourceVersion %s): GitOps tools read each one", seen.ResourceVersion)
				}
			}
		},
		Entry("the email is already a Member of the Store (compared case-insensitively)", membershipv1alpha1.ReasonAlreadyMember,
			func(ns, email string) string {
				createStore(ns, "shop")
				createMember(ns, "existing", "shop", strings.ToUpper(email))
				return "shop"
			}),
		Entry("the owner role is asked for by a person, not the Store", membershipv1alpha1.ReasonOwnerRoleNotAllowed,
			func(ns, _ string) string {
				createStore(ns, "shop")
				return "shop"
			}, membershipv1alpha1.RoleOwner),
		Entry("the Store is full", membershipv1alpha1.ReasonMemberLimitReached,
			func(ns, _ string) string {
				createStore(ns, "shop", func(s *membershipv1alpha1.Store) { s.Spec.MemberLimit = 1 })
				createMember(ns, "someone", "shop", "someone-full@example.com")
				return "shop"
			}),
		Entry("with --exclusive-membership, the email belongs to another Store", membershipv1alpha1.ReasonMemberOfAnotherStore,
			func(ns, email string) string {
				createStore(ns, "shop")
				elsewhere := newNamespace()
				createStore(elsewhere, "rival")
				createMember(elsewhere, "taken", "rival", email)
				return "shop"
			}),
	)

	It("waits, Pending and in progress, for a Store applied after it, then sends", func() {
		ns := newNamespace()
		inv := createInvitation(ns, "early", "late-shop", "early@example.com")
		Eventually(get(inv)).Should(And(inPhase(membershipv1alpha1.InvitationPending),
			WithTransform(conditionReason(membershipv1alpha1.ConditionReady), Equal("False/"+membershipv1alpha1.ReasonStoreNotFound)),
			WithTransform(conditionReason(membershipv1alpha1.ConditionReconciling), Equal("True/"+membershipv1alpha1.ReasonStoreNotFound))))
		Expect(health.Kstatus(get(inv)(Default))).To(Equal("InProgress"), "Flux waits for the Store rather than failing")
		Expect(health.ArgoCD(get(inv)(Default))).To(Equal("Progressing"))
		Consistently(messagesTo("early@example.com")).WithTimeout(time.Second).Should(BeEmpty())
		Eventually(eventsFor(inv)).Should(ContainElement(HavePrefix("Normal InvitationWaiting")))
		createStore(ns, "late-shop") // GitOps applied the Invitation before its Store
		Eventually(get(inv)).Should(inPhase(membershipv1alpha1.InvitationSent))
		linkToken(oneEmailTo("early@example.com"))
	})

	It("gives the last seat to the earlier of two invitations and the next one when it frees", func() {
		ns := newNamespace()
		createStore(ns, "shop", func(s *membershipv1alpha1.Store) { s.Spec.MemberLimit = 1 })
		first := createInvitation(ns, "first", "shop", "seat-first@example.com")
		Eventually(get(first)).Should(inPhase(membershipv1alpha1.InvitationSent))
		second := createInvitation(ns, "second", "shop", "seat-second@example.com")
		Eventually(get(second)).Should(And(inPhase(membershipv1alpha1.InvitationFailed),
			WithTransform(conditionReason(membershipv1alpha1.ConditionReady), Equal("False/MemberLimitReached"))))

		Expect(k8sClient.Delete(ctx, first)).To(Succeed())
		Eventually(get(second)).Should(inPhase(membershipv1alpha1.InvitationSent))
		linkToken(oneEmailTo("seat-second@example.com"))
	})

	It("expires the link at expiresAt on an injected clock, and deletes the invitation after the retention", func() {
		ns := newNamespace()
		createStore(ns, "shop")
		inv := createInvitation(ns, "expiring", "shop", "expiring@example.com")
		Eventually(get(inv)).Should(inPhase(membershipv1alpha1.InvitationSent))
		tok := linkToken(oneEmailTo("expiring@example.com"))
		expiresAt := get(inv)(Default).Status.ExpiresAt.Time

		fakeClock.SetTime(expiresAt.Add(-time.Second))
		poke(inv)
		Consistently(get(inv)).WithTimeout(time.Second).Should(inPhase(membershipv1alpha1.InvitationSent))
		Expect(tokenWorks(tok)).To(BeTrue())

		fakeClock.SetTime(expiresAt)
		poke(inv)
		Eventually(get(inv)).Should(And(inPhase(membershipv1alpha1.InvitationExpired),
			// Finished: nothing left for the operator, so Ready (a GitOps sync does not wait on it).
			WithTransform(conditionReason(membershipv1alpha1.ConditionReady), Equal("True/Expired"))))
		Expect(health.Kstatus(get(inv)(Default))).To(Equal("Current"))
		Eventually(tokenHash(inv)).Should(BeEmpty())
		Expect(tokenWorks(tok)).To(BeFalse())
		Eventually(eventsFor(inv)).Should(ContainElement(HavePrefix("Normal InvitationExpired")))

		fakeClock.SetTime(expiresAt.Add(720*time.Hour - time.Minute))
		poke(inv)
		Consistently(get(inv)).WithTimeout(time.Second).Should(inPhase(membershipv1alpha1.InvitationExpired))
		fakeClock.SetTime(expiresAt.Add(720 * time.Hour))
		poke(inv)
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(inv), &membershipv1alpha1.Invitation{}))
		}).Should(BeTrue(), "deleted after --invitation-retention")
	})

	It("rotates the token, restarts the TTL and sends again on a new resend annotation", func() {
		ns := newNamespace()
		createStore(ns, "shop")
		inv := createInvitation(ns, "resent", "shop", "resent@example.com")
		Eventually(get(inv)).Should(inPhase(membershipv1alpha1.InvitationSent))
		first := oneEmailTo("resent@example.com")
		oldToken := linkToken(first)
		before := get(inv)(Default)

		fakeClock.Step(time.Hour)
		update(inv, func(i *membershipv1alpha1.Invitation) {
			i.Annotations = map[string]string{membershipv1alpha1.ResendAnnotation: "1"}
		})
		Eventually(get(inv)).Should(And(inPhase(membershipv1alpha1.InvitationSent),
			WithTransform(func(i *membershipv1alpha1.Invitation) int32 { return i.Status.Resends }, Equal(int32(1)))))
		Eventually(messagesTo("resent@example.com")).Should(HaveLen(2))
		Consistently(messagesTo("resent@example.com")).WithTimeout(time.Second).Should(HaveLen(2))
		second := messagesTo("resent@example.com")()[1]
		newToken := linkToken(second)

		Expect(newToken).NotTo(Equal(oldToken))
		Expect(tokenWorks(oldToken)).To(BeFalse(), "the old link stops working")
		Expect(tokenWorks(newToken)).To(BeTrue())
		Expect(messageID(second)).NotTo(Equal(messageID(first)))
		after := get(inv)(Default)
		Expect(after.Status.ExpiresAt.Time).To(Equal(before.Status.ExpiresAt.Add(time.Hour)), "the TTL restarts")
		Expect(after.Status.DeliveryAttempts).To(Equal(int32(1)))
		Expect(after.Status.ObservedResend).To(Equal("1"))
		Eventually(eventsFor(inv)).Should(ContainElement(HavePrefix("Normal InvitationResent")))

		By("the same value again does nothing")
		poke(inv)
		Consistently(messagesTo("resent@example.com")).WithTimeout(time.Second).Should(HaveLen(2))
	})

	It("revokes a pending invitation's link at once when it is deleted", func() {
		ns := newNamespace()
		createStore(ns, "shop")
		inv := createInvitation(ns, "withdrawn", "shop", "withdrawn@example.com")
		Eventually(get(inv)).Should(inPhase(membershipv1alpha1.InvitationSent))
		tok := linkToken(oneEmailTo("withdrawn@example.com"))
		Expect(k8sClient.Delete(ctx, inv)).To(Succeed())
		Eventually(func() bool { return tokenWorks(tok) }).Should(BeFalse())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(inv), &membershipv1alpha1.Invitation{}))
		}).Should(BeTrue(), "gone at once: no finalizer holds it")
	})

	It("withdraws a sent invitation asked to by the revoke annotation, as the Store asks: Revoked, with the reason, its link dead", func() {
		ns := newNamespace()
		createStore(ns, "shop")
		inv := createInvitation(ns, "asked", "shop", "asked-to-revoke@example.com")
		Eventually(get(inv)).Should(inPhase(membershipv1alpha1.InvitationSent))
		tok := linkToken(oneEmailTo("asked-to-revoke@example.com"))
		Expect(tokenWorks(tok)).To(BeTrue())

		latest := get(inv)(Default)
		patch := client.MergeFrom(latest.DeepCopy())
		latest.Annotations = map[string]string{membershipv1alpha1.RevokeAnnotation: "Withdrawn by the Store: a test"}
		Expect(k8sClient.Patch(ctx, latest, patch)).To(Succeed())

		Eventually(get(inv)).Should(And(inPhase(membershipv1alpha1.InvitationRevoked),
			WithTransform(conditionReason(membershipv1alpha1.ConditionReady), Equal("True/Revoked"))), "finished: nothing is left to do")
		Expect(get(inv)(Default).Status.RevokedAt).NotTo(BeNil())
		Expect(meta.FindStatusCondition(get(inv)(Default).Status.Conditions, membershipv1alpha1.ConditionReady).Message).To(
			Equal("Withdrawn by the Store: a test"))
		Eventually(func() bool { return tokenWorks(tok) }).Should(BeFalse())
		Eventually(eventsFor(inv)).Should(ContainElement(HavePrefix("Normal InvitationRevoked: Invitation to asked-to-revoke@example.com revoked")))
	})

	It("keeps a link emailed by the previous version working: its hash moves from the token Secret into the status", func() {
		ns := newNamespace()
		// No Store yet: the invitation waits, so nothing of this version sends it.
		inv := createInvitation(ns, "legacy", "later", "legacy@example.com")
		Eventually(get(inv)).Should(WithTransform(conditionReason(membershipv1alpha1.ConditionReady),
			Equal("False/"+membershipv1alpha1.ReasonStoreNotFound)))
		created := get(inv)(Default)
		tok, err := credentials.InvitationToken(tokenKey, string(created.UID), 0)
		Expect(err).NotTo(HaveOccurred())

		By("as the previous version left it: sent, a finalizer, the hash in a token Secret it controls")
		legacy := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: membershipv1alpha1.InvitationTokenSecretName(inv.Name),
			Labels: map[string]string{membershipv1alpha1.ManagedByLabel: membershipv1alpha1.ManagedByValue, membershipv1alpha1.TokenIDLabel: tok.ID}},
			Data: map[string][]byte{membershipv1alpha1.TokenHashKey: []byte(credentials.HashTokenSecret(tok.Secret))}}
		Expect(controllerutil.SetControllerReference(created, legacy, scheme)).To(Succeed())
		Expect(k8sClient.Create(ctx, legacy)).To(Succeed())
		update(inv, func(i *membershipv1alpha1.Invitation) {
			controllerutil.AddFinalizer(i, membershipv1alpha1.InvitationFinalizer)
		})
		Eventually(func() error {
			latest := get(inv)(Default)
			sentAt := metav1.NewTime(fakeClock.Now().Truncate(time.Second))
			expiresAt := metav1.NewTime(sentAt.Add(7 * 24 * time.Hour))
			latest.Status.Phase, latest.Status.DeliveryAttempts = membershipv1alpha1.InvitationSent, 1
			latest.Status.SentAt, latest.Status.ExpiresAt = &sentAt, &expiresAt
			latest.Status.Conditions = nil
			return k8sClient.Status().Update(ctx, latest)
		}).Should(Succeed())

		Eventually(tokenHash(inv)).Should(Equal(credentials.HashTokenSecret(tok.Secret)), "the hash moves into the status")
		Eventually(noTokenSecret(inv)).Should(BeTrue(), "then the token Secret goes")
		Expect(tokenWorks(tok)).To(BeTrue(), "the emailed link works throughout")
		Expect(get(inv)(Default)).To(inPhase(membershipv1alpha1.InvitationSent))
		Consistently(messagesTo("legacy@example.com")).WithTimeout(time.Second).Should(BeEmpty(), "nothing is sent again")

		By("the old finalizer is released on deletion")
		Expect(k8sClient.Delete(ctx, inv)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(inv), &membershipv1alpha1.Invitation{}))
		}).Should(BeTrue())
	})

	It("sends all the same when a Secret that is not the operator's has the old token Secret's name, and leaves it alone", func() {
		ns := newNamespace()
		createStore(ns, "shop")
		Expect(k8sClient.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "squatted-token"},
			StringData: map[string]string{"note": "someone else's"}})).To(Succeed())
		inv := createInvitation(ns, "squatted", "shop", "squatted@example.com")
		Eventually(get(inv)).Should(inPhase(membershipv1alpha1.InvitationSent))
		Expect(tokenWorks(linkToken(oneEmailTo("squatted@example.com")))).To(BeTrue())
		secret := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "squatted-token"}, secret)).To(Succeed())
		Expect(secret.Data).To(HaveKeyWithValue("note", []byte("someone else's")), "the other Secret is left alone")

		By("and it stays when the invitation finishes: only a token Secret the invitation controls is deleted")
		latest := get(inv)(Default)
		patch := client.MergeFrom(latest.DeepCopy())
		latest.Annotations = map[string]string{membershipv1alpha1.RevokeAnnotation: "Withdrawn by the Store: a test"}
		Expect(k8sClient.Patch(ctx, latest, patch)).To(Succeed())
		Eventually(get(inv)).Should(inPhase(membershipv1alpha1.InvitationRevoked))
		Consistently(noTokenSecret(inv)).WithTimeout(time.Second).Should(BeFalse())
	})

	It("escapes a hostile store name and message: HTML is inert and no header is added", func() {
		ns := newNamespace()
		createStore(ns, "shop", func(s *membershipv1alpha1.Store) { s.Spec.DisplayName = "<script>alert(1)</script> Shop" })
		email := "hostile@example.com"
		createInvitation(ns, "hostile", "shop", email, func(i *membershipv1alpha1.Invitation) {
			i.Spec.InvitedBy = `Eve "<b>boss</b>"`
			i.Spec.Message = "Hi Dave,\r\nBcc: evil@example.com\r\nSubject: forged\r\n\r\n<img src=x onerror=alert(2)>"
		})
		msg := oneEmailTo(email)
		Expect(msg.To).To(Equal([]string{email}), "the envelope has the invitee only")
		h, err := msg.Header()
		Expect(err).NotTo(HaveOccurred())
		Expect(h).NotTo(HaveKey("Bcc"))
		Expect(h["Subject"]).To(HaveLen(1))
		Expect(msg.Subject()).To(Equal("You have been invited to manage <script>alert(1)</script> Shop"))
		body, err := msg.Body()
		Expect(err).NotTo(HaveOccurred())
		Expect(body.HTML).NotTo(ContainSubstring("<script>"))
		Expect(body.HTML).NotTo(ContainSubstring("<img"))
		Expect(body.HTML).NotTo(ContainSubstring("<b>boss"))
		Expect(body.HTML).To(ContainSubstring("&lt;script&gt;alert(1)&lt;/script&gt; Shop"))
		Expect(body.HTML).To(ContainSubstring("&lt;img src=x onerror=alert(2)&gt;"))
		Expect(body.Text).To(ContainSubstring("Bcc: evil@example.com"), "the message is shown as text in the body")
		linkToken(msg)
	})

	It("shows Delivered=False while SMTP is down, retries on its backoff and not on every change, and delivers once it returns", func() {
		Expect(currentCatcher().Close()).To(Succeed())
		ns := newNamespace()
		createStore(ns, "shop")
		inv := createInvitation(ns, "outage", "shop", "outage@example.com")
		attempts := func(i *membershipv1alpha1.Invitation) int32 { return i.Status.DeliveryAttempts }
		Eventually(get(inv)).WithTimeout(20 * time.Second).Should(And(
			inPhase(membershipv1alpha1.InvitationPending),
			WithTransform(conditionReason(membershipv1alpha1.ConditionDelivered), Equal("False/DeliveryFailed")),
			WithTransform(conditionReason(membershipv1alpha1.ConditionReady), Equal("False/DeliveryFailed")),
			WithTransform(attempts, Equal(int32(1))),
			WithTransform(func(i *membershipv1alpha1.Invitation) bool { return i.Status.NextAttemptAt != nil }, BeTrue()),
		))
		Expect(eventsFor(inv)()).To(ContainElement(HavePrefix("Warning InvitationDeliveryFailed")))

		By("changing the invitation and its Store while the next attempt is not due on the (fake) clock")
		for i := range 3 {
			annotate(inv, fmt.Sprintf("poke-%d", i))
			store := &membershipv1alpha1.Store{}
			Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop"}, store)).To(Succeed())
			store.Annotations = map[string]string{"poke": strconv.Itoa(i)}
			Expect(k8sClient.Update(ctx, store)).To(Succeed())
		}
		Consistently(get(inv)).WithTimeout(3*time.Second).Should(WithTransform(attempts, Equal(int32(1))), "no attempt before it is due")

		By("letting the backoff pass: the next attempt runs, and fails again")
		// An attempt is counted (recorded) before its send; its next attempt is scheduled after the
		// send fails, from the clock read then. Step the fake clock only once that is written.
		failed := func(attempt int) gomegatypes.GomegaMatcher {
			return And(WithTransform(attempts, Equal(int32(attempt))),
				WithTransform(func(i *membershipv1alpha1.Invitation) string {
					if c := meta.FindStatusCondition(i.Status.Conditions, membershipv1alpha1.ConditionDelivered); c != nil {
						return c.Message
					}
					return ""
				}, HavePrefix(fmt.Sprintf("Attempt %d failed", attempt))))
		}
		Eventually(get(inv)).WithTimeout(20 * time.Second).Should(failed(1))
		fakeClock.Step(2 * time.Second)
		Eventually(get(inv)).WithTimeout(20 * time.Second).Should(failed(2))
		fakeClock.Step(3 * time.Second)
		Eventually(get(inv)).WithTimeout(20 * time.Second).Should(failed(3))

		restarted, err := mailcatcher.Start(mailcatcher.Options{Addr: smtpAddr, Log: GinkgoWriter})
		Expect(err).NotTo(HaveOccurred())
		catcherM.Lock()
		catcher = restarted
		catcherM.Unlock()
		fakeClock.Step(5 * time.Second)
		Eventually(get(inv)).WithTimeout(30 * time.Second).Should(inPhase(membershipv1alpha1.InvitationSent))
		Expect(get(inv)(Default).Status.NextAttemptAt).To(BeNil())
		linkToken(oneEmailTo("outage@example.com"))
		Expect(conditionReason(membershipv1alpha1.ConditionDelivered)(get(inv)(Default))).To(Equal("True/Sent"))
	})

	It("loses nothing when the manager stops right after a send: at most one duplicate, with the same Message-ID and link", func() {
		ns := newNamespace()
		createStore(ns, "shop")
		email := "crash@example.com"
		stopped := manager
		sender.setAfterSend(func(m mail.Message) {
			if m.To == email {
				// The process dies here: the status write that follows fails before it is sent
				// (injected, so no PATCH already on the wire can land), then the manager stops.
				failStatusWrites.Store(true)
				stopped.stop()
			}
		})
		inv := createInvitation(ns, "crash", "shop", email)
		Eventually(stopped.stopped).WithTimeout(time.Minute).Should(BeClosed())
		sender.setAfterSend(nil)
		failStatusWrites.Store(false)
		Expect(messagesTo(email)()).To(HaveLen(1))
		Expect(get(inv)(Default)).To(inPhase(membershipv1alpha1.InvitationPending), "the send was not recorded as done")

		manager = startManager()
		Eventually(get(inv)).Should(inPhase(membershipv1alpha1.InvitationSent))
		Eventually(messagesTo(email)).Should(HaveLen(2))
		Consistently(messagesTo(email)).WithTimeout(time.Second).Should(HaveLen(2))
		received := messagesTo(email)()
		Expect(messageID(received[1])).To(Equal(messageID(received[0])))
		Expect(linkToken(received[1])).To(Equal(linkToken(received[0])))
		Expect(tokenWorks(linkToken(received[1]))).To(BeTrue())
	})

	It("makes the token key once, and replicas starting together read the same one", func() {
		ns := newNamespace()
		name := types.NamespacedName{Namespace: ns, Name: "member-operator-token-key"}
		keys := make(chan []byte, 3)
		for range 3 {
			go func() {
				defer GinkgoRecover()
				key, err := tokenkey.Ensure(ctx, k8sClient, name, rand.Reader)
				Expect(err).NotTo(HaveOccurred())
				keys <- key
			}()
		}
		first := <-keys
		Expect(first).To(HaveLen(tokenkey.Size))
		Expect(<-keys).To(Equal(first))
		Expect(<-keys).To(Equal(first))
		secret := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, name, secret)).To(Succeed())
		Expect(secret.Labels).To(HaveKeyWithValue(membershipv1alpha1.ManagedByLabel, membershipv1alpha1.ManagedByValue))
		Expect(*secret.Immutable).To(BeTrue())

		By("refusing a key too short to be safe, naming the Secret")
		short := types.NamespacedName{Namespace: ns, Name: "short-key"}
		Expect(k8sClient.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: short.Name},
			Data: map[string][]byte{tokenkey.DataKey: []byte("too short")}})).To(Succeed())
		_, err := tokenkey.Ensure(ctx, k8sClient, short, rand.Reader)
		Expect(err).To(MatchError(ContainSubstring("secret " + ns + "/short-key: key \"key\" holds 9 bytes; it needs at least 32")))
	})

	It("never puts a link token in a Secret, status, event or log line", func() {
		Expect(tokensSeen).NotTo(BeEmpty())
		text := clusterText()
		logText := logs.String()
		Expect(logText).To(ContainSubstring("Reconcile"), "the logs were captured")
		for _, tok := range tokensSeen {
			Expect(text).NotTo(ContainSubstring(tok.Secret))
			Expect(logText).NotTo(ContainSubstring(tok.Secret))
		}
	})
})
