// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package faults

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/test/devenv"
)

// The crash run: what is done to the cluster while the manager is killed, and over how long.
const (
	crashInvitations = 200
	crashDeletions   = 50
	crashDisables    = 50
	crashKills       = 10
	crashWindow      = 45 * time.Second
)

const crashNamespace = "crash"

func memberEmail(i int) string { return fmt.Sprintf("member-%03d@%s.example", i, crashNamespace) }

// newMember is a Member declared directly (as from Git): the operator issues its credentials.
func newMember(i int) *membershipv1alpha1.Member {
	return &membershipv1alpha1.Member{
		ObjectMeta: metav1.ObjectMeta{Namespace: crashNamespace, Name: fmt.Sprintf("m-%03d", i)},
		Spec: membershipv1alpha1.MemberSpec{
			StoreRef: membershipv1alpha1.StoreReference{Name: "shop"},
			Email:    membershipv1alpha1.EmailAddress(memberEmail(i)),
			Roles:    []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff},
		},
	}
}

var _ = Describe("a manager SIGKILLed again and again", func() {
	It("loses no invitation, removal or revocation when killed at 10 random moments", func() {
		const ns = crashNamespace
		var figures report
		// FAULT_SEED=<seed> replays a run's schedule (operations and kill moments).
		seed := uint64(time.Now().UnixNano())
		if replay := os.Getenv("FAULT_SEED"); replay != "" {
			var err error
			seed, err = strconv.ParseUint(replay, 10, 64)
			Expect(err).NotTo(HaveOccurred(), "FAULT_SEED")
		}
		// Seeded and printed, so that a failing schedule can be replayed; not for secrets.
		random := rand.New(rand.NewPCG(seed, seed>>1)) //nolint:gosec // a test schedule
		figures.add("random seed %d", seed)
		f := startEnv(devenv.Options{})
		f.createStore(ns)

		By("creating the 100 Members the run deletes or disables, and waiting for their credentials")
		members := crashDeletions + crashDisables
		for i := range members {
			Expect(f.c.Create(ctx, newMember(i))).To(Succeed())
		}
		Eventually(func(g Gomega) {
			var list membershipv1alpha1.MemberList
			g.Expect(f.c.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
			active := 0
			for _, m := range list.Items {
				if m.Status.Phase == membershipv1alpha1.MemberActive && strings.HasPrefix(m.Name, "m-") {
					active++
				}
			}
			g.Expect(active).To(Equal(members))
		}).WithTimeout(3 * time.Minute).WithPolling(time.Second).Should(Succeed())

		By("running 200 creations, 50 deletions and 50 disables in random order while killing the manager")
		type operation struct {
			what string
			i    int
		}
		var ops []operation
		for i := range crashInvitations {
			ops = append(ops, operation{"invite", i})
		}
		for i := range crashDeletions {
			ops = append(ops, operation{"delete", i})
		}
		for i := crashDeletions; i < members; i++ {
			ops = append(ops, operation{"disable", i})
		}
		random.Shuffle(len(ops), func(i, j int) { ops[i], ops[j] = ops[j], ops[i] })
		killAt := make([]time.Duration, crashKills)
		for i := range killAt {
			killAt[i] = time.Duration(random.Int64N(int64(crashWindow)))
		}
		slices.Sort(killAt)

		start := time.Now()
		var done atomic.Int64
		var wg sync.WaitGroup
		wg.Go(func() {
			defer GinkgoRecover()
			interval := crashWindow / time.Duration(len(ops))
			for n, op := range ops {
				time.Sleep(time.Until(start.Add(time.Duration(n) * interval)))
				member := &membershipv1alpha1.Member{}
				member.Namespace, member.Name = ns, newMember(op.i).Name
				switch op.what {
				case "invite":
					Expect(f.c.Create(ctx, newInvitation(ns, op.i))).To(Succeed())
				case "delete":
					Expect(f.c.Delete(ctx, member)).To(Succeed())
				case "disable":
					patch := client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"disabled":true}}`))
					Expect(f.c.Patch(ctx, member, patch)).To(Succeed())
				}
				done.Add(1)
			}
		})
		kills := make([]string, 0, len(killAt))
		for _, at := range killAt {
			time.Sleep(time.Until(start.Add(at)))
			f.KillManager()
			kills = append(kills, fmt.Sprintf("%.1fs (%d ops done, %d emails)", time.Since(start).Seconds(), done.Load(), len(f.Mail.Messages())))
			restart := time.Now()
			Expect(f.StartManager(ctx)).To(Succeed(), "the manager starts again after SIGKILL")
			GinkgoWriter.Printf("killed the manager; ready again after %s\n", time.Since(restart))
		}
		wg.Wait()
		figures.add("%d operations (%d invitations, %d deletions, %d disables) over %s; SIGKILL at %s",
			len(ops), crashInvitations, crashDeletions, crashDisables, crashWindow, strings.Join(kills, ", "))

		By("waiting for the last manager to finish the work")
		deleted := make([]string, crashDeletions)
		for i := range deleted {
			deleted[i] = memberEmail(i)
		}
		want := invitees(ns, crashInvitations)
		Eventually(func(g Gomega) {
			g.Expect(takeCensus(f.Mail.Messages(), invitationEvent).missing(want)).To(BeEmpty(), "invitation emails")
			g.Expect(takeCensus(f.Mail.Messages(), accessRemovedEvent).missing(deleted)).To(BeEmpty(), "access-removed emails")
			phases, _ := f.invitationPhases(ns)
			g.Expect(phases[membershipv1alpha1.InvitationSent]).To(Equal(crashInvitations))
			for i := range members {
				m := &membershipv1alpha1.Member{}
				err := f.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: newMember(i).Name}, m)
				if i < crashDeletions {
					g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "member %d is deleted", i)
				} else {
					g.Expect(err).NotTo(HaveOccurred())
					g.Expect(m.Status.Phase).To(Equal(membershipv1alpha1.MemberDisabled), "member %d", i)
				}
			}
		}).WithTimeout(5 * time.Minute).WithPolling(2 * time.Second).Should(Succeed())
		settled := time.Since(start)

		By("checking that no removed or disabled Member keeps a credential")
		var secrets corev1.SecretList
		Expect(f.c.List(ctx, &secrets, client.InNamespace(ns))).To(Succeed())
		for i := range members {
			name := newMember(i).Name
			for _, s := range secrets.Items {
				Expect(s.Name).NotTo(Equal(membershipv1alpha1.CredentialsSecretName(name)), "member %s has no credential Secret", name)
				Expect(s.Labels[membershipv1alpha1.MemberLabel]).NotTo(Equal(name), "no Secret grants %s anything", name)
				if i < crashDeletions {
					for key, value := range s.Labels {
						Expect(value).NotTo(Equal(name), "Secret %s (label %s) outlived deleted member %s", s.Name, key, name)
					}
				}
			}
		}
		inviteDups := takeCensus(f.Mail.Messages(), invitationEvent).expectOncePerRecipient(want)
		removalDups := takeCensus(f.Mail.Messages(), accessRemovedEvent).expectOncePerRecipient(deleted)
		figures.add("settled %s after the run began: %d/%d invitations Sent and emailed, %d/%d deleted Members gone with "+
			"their Secrets and emailed, %d/%d disabled Members without credentials; %d Secrets left in the namespace checked; "+
			"duplicates: %d invitation, %d access-removed (each a same-Message-ID retry)",
			settled.Round(time.Second), crashInvitations, crashInvitations, crashDeletions, crashDeletions, crashDisables, crashDisables,
			len(secrets.Items), inviteDups, removalDups)
		figures.entry("crashes")
		f.expectNoLeaks()
	})
})
