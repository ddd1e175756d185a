// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package faults

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/test/devenv"
)

const apiServerOutage = 20 * time.Second

var _ = Describe("a kube-apiserver restart", func() {
	// Without leader election: with it, a leader that cannot renew its Lease for the renew deadline
	// (10 s by default) stops on purpose, so that two replicas never act at once, and the kubelet
	// restarts it; docs/reliability.md says so.
	It("is survived by the running manager, which finishes its work without a restart", func() {
		const ns, before, after = "apiserver", 60, 30
		var figures report
		f := startEnv(devenv.Options{})
		pid := f.Manager.Process.Pid
		f.createStore(ns)

		By("creating 60 invitations and killing kube-apiserver while they are being sent")
		f.createInvitations(ns, 0, before, 0)
		Eventually(func() int { return len(takeCensus(f.Mail.Messages(), invitationEvent)) }).
			WithTimeout(time.Minute).WithPolling(10 * time.Millisecond).Should(BeNumerically(">=", 5))
		Expect(f.KillAPIServer()).To(Succeed())
		stopped := time.Now()
		sentAtStop := len(takeCensus(f.Mail.Messages(), invitationEvent))
		Consistently(f.ManagerExited()).WithTimeout(apiServerOutage).ShouldNot(BeClosed(), "the manager rides out the outage")
		sentDuringOutage := len(takeCensus(f.Mail.Messages(), invitationEvent)) - sentAtStop
		Expect(f.StartAPIServer()).To(Succeed())
		down := time.Since(stopped)

		By("creating 30 more invitations after the restart: the manager's watches must be back")
		f.createInvitations(ns, before, after, 0)
		restarted := time.Now()
		Eventually(func() []string {
			return takeCensus(f.Mail.Messages(), invitationEvent).missing([]string{invitee(ns, before)})
		}).
			WithTimeout(3 * time.Minute).WithPolling(100 * time.Millisecond).Should(BeEmpty())
		firstNew := time.Since(restarted)
		want := invitees(ns, before+after)
		Eventually(func(g Gomega) {
			g.Expect(takeCensus(f.Mail.Messages(), invitationEvent).missing(want)).To(BeEmpty())
			phases, _ := f.invitationPhases(ns)
			g.Expect(phases[membershipv1alpha1.InvitationSent]).To(Equal(before + after))
		}).WithTimeout(3 * time.Minute).WithPolling(time.Second).Should(Succeed())
		finished := time.Since(restarted)
		Expect(f.ManagerExited()).NotTo(BeClosed(), "never restarted")
		Expect(f.Manager.Process.Pid).To(Equal(pid))
		duplicates := takeCensus(f.Mail.Messages(), invitationEvent).expectOncePerRecipient(want)
		figures.add("kube-apiserver down %s with %d of %d invitations emailed (%d more went out during the outage); "+
			"%d more created after the restart, the first emailed %s later; all %d Sent and emailed %s after the restart by the "+
			"same process; %d duplicates", down.Round(100*time.Millisecond), sentAtStop, before, sentDuringOutage, after,
			firstNew.Round(100*time.Millisecond), before+after, finished.Round(time.Second), duplicates)
		figures.entry("kube-apiserver restart")
		f.expectNoLeaks()
	})
})
