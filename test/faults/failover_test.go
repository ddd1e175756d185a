// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package faults

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/test/devenv"
)

var _ = Describe("two replicas with leader election", func() {
	It("fails over when the leader is killed mid-run, and the survivor's acceptance server never stops answering", func() {
		const ns, early, run = "failover", 10, 100
		var figures report
		f := startEnv(devenv.Options{
			DeferManager:       true,
			LeaderElectionRole: filepath.Join(rootDir, "config", "rbac", "leader_election_role.yaml"),
		})

		By("starting the first replica and waiting for it to lead")
		Expect(f.StartManager(ctx)).To(Succeed())
		var leader string
		Eventually(func() string { leader = f.leaseHolder(); return leader }).
			WithTimeout(time.Minute).ShouldNot(BeEmpty())

		By("starting the second replica")
		survivor, err := f.StartReplica(ctx)
		Expect(err).NotTo(HaveOccurred())
		Consistently(func() string { return f.leaseHolder() }).WithTimeout(2*time.Second).Should(Equal(leader),
			"the second replica waits")

		f.createStore(ns)
		f.createInvitations(ns, 0, early, 0)
		want := invitees(ns, early)
		Eventually(func() []string { return takeCensus(f.Mail.Messages(), invitationEvent).missing(want) }).
			WithTimeout(time.Minute).Should(BeEmpty())
		links := map[string]string{} // invitee -> token of the emailed link
		for _, m := range f.Mail.Messages() {
			body, err := m.Body()
			Expect(err).NotTo(HaveOccurred())
			if link := body.Link("/invitations/accept?token="); link != "" {
				links[m.To[0]] = link[strings.Index(link, "token=")+len("token="):]
			}
		}
		Expect(links).To(HaveKey(invitee(ns, 0)))
		Expect(links).To(HaveKey(invitee(ns, 1)))

		By("probing the second replica's acceptance server throughout")
		var probes, failures atomic.Int64
		var failuresSeen sync.Map
		stopProbing := make(chan struct{})
		var probing sync.WaitGroup
		probing.Go(func() {
			for tick := 0; ; tick++ {
				select {
				case <-stopProbing:
					return
				case <-time.After(250 * time.Millisecond):
				}
				// The page of a real link every 2 s (within the per-client limit), the health
				// endpoint in between.
				url := survivor.AcceptURL + "/healthz"
				if tick%8 == 0 {
					url = survivor.AcceptURL + "/invitations/accept?token=" + links[invitee(ns, 1)]
				}
				probes.Add(1)
				resp, err := http.Get(url) //nolint:gosec,noctx // the replica's own address
				if err != nil {
					failures.Add(1)
					failuresSeen.Store(err.Error(), true)
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK || (tick%8 == 0 && !bytes.Contains(body, []byte("Fault Shop"))) {
					failures.Add(1)
					failuresSeen.Store(resp.Status, true)
				}
			}
		})

		By("creating 100 more invitations over 10 s and killing the leader half way")
		created := make(chan struct{})
		go func() {
			defer GinkgoRecover()
			defer close(created)
			f.createInvitations(ns, early, run, 100*time.Millisecond)
		}()
		time.Sleep(5 * time.Second)
		sentBeforeKill := len(takeCensus(f.Mail.Messages(), invitationEvent))
		f.KillManager()
		killed := time.Now()

		By("accepting an invitation on the survivor while nobody leads")
		payload, err := json.Marshal(map[string]string{
			"token": links[invitee(ns, 0)], "password": "correct horse battery staple 7", "displayName": "Early Bird",
		})
		Expect(err).NotTo(HaveOccurred())
		f.chosen = append(f.chosen, "correct horse battery staple 7")
		resp, err := http.Post(survivor.AcceptURL+"/api/v1/invitations/accept", "application/json", bytes.NewReader(payload)) //nolint:noctx
		Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusCreated))
		Expect(f.leaseHolder()).To(Equal(leader), "accepted before the survivor took the lease")
		acceptedAfter := time.Since(killed)

		By("waiting for the survivor to take the lease and finish")
		Eventually(func() string { return f.leaseHolder() }).WithTimeout(time.Minute).WithPolling(100 * time.Millisecond).
			ShouldNot(Or(BeEmpty(), Equal(leader)))
		takeover := time.Since(killed)
		<-created
		want = invitees(ns, early+run)
		Eventually(func(g Gomega) {
			g.Expect(takeCensus(f.Mail.Messages(), invitationEvent).missing(want)).To(BeEmpty())
			phases, _ := f.invitationPhases(ns)
			g.Expect(phases[membershipv1alpha1.InvitationSent]).To(Equal(early + run - 1))
			g.Expect(phases[membershipv1alpha1.InvitationAccepted]).To(Equal(1))
			var members membershipv1alpha1.MemberList
			g.Expect(f.c.List(ctx, &members, client.InNamespace(ns))).To(Succeed())
			joined := false
			for _, m := range members.Items {
				joined = joined || (string(m.Spec.Email) == invitee(ns, 0) && m.Status.Phase == membershipv1alpha1.MemberActive)
			}
			g.Expect(joined).To(BeTrue(), "the member who accepted during the failover is Active")
		}).WithTimeout(3 * time.Minute).WithPolling(time.Second).Should(Succeed())
		finished := time.Since(killed)
		close(stopProbing)
		probing.Wait()
		Expect(survivor.Exited()).NotTo(BeClosed())

		var seen []string
		failuresSeen.Range(func(k, _ any) bool { seen = append(seen, k.(string)); return true })
		Expect(probes.Load()).To(BeNumerically(">", 40), "probed throughout the failover")
		Expect(failures.Load()).To(BeZero(), "the survivor's acceptance server answered every probe: %v", seen)
		duplicates := takeCensus(f.Mail.Messages(), invitationEvent).expectOncePerRecipient(want)
		figures.add("leader SIGKILLed 5 s into a run of %d invitations (%d of %d emails out); an invitation accepted on the "+
			"survivor %s later, while nobody led; lease taken over after %s; all %d emails out and the accepted Member Active "+
			"%s after the kill; %d duplicates; %d probes of the survivor's acceptance server, %d failed",
			run, sentBeforeKill, early+run, acceptedAfter.Round(time.Millisecond), takeover.Round(time.Second), early+run,
			finished.Round(time.Second), duplicates, probes.Load(), failures.Load())
		figures.entry("failover")
		f.expectNoLeaks()
	})
})
