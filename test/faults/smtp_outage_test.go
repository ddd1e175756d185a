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

// smtpOutage is how long the SMTP server is down: longer than the first seven retries together
// (1+2+...+64 s), so every invitation has failed several times when it returns.
const smtpOutage = 2 * time.Minute

var _ = Describe("an SMTP outage", func() {
	It("delivers all 100 invitations created during a 2-minute outage once the server returns", func() {
		const ns, invitations = "outage", 100
		var figures report
		f := startEnv(devenv.Options{})
		f.createStore(ns)

		By("taking the SMTP server down and creating 100 invitations")
		Expect(f.Mail.Suspend()).To(Succeed())
		down := time.Now()
		before := len(f.Mail.Messages())
		f.createInvitations(ns, 0, invitations, 0)

		By("waiting out the outage: every invitation is tried and fails, none is dropped")
		Eventually(func(g Gomega) {
			phases, attempts := f.invitationPhases(ns)
			g.Expect(phases[membershipv1alpha1.InvitationPending]).To(Equal(invitations), "pending while the server is down")
			g.Expect(attempts).To(BeNumerically(">=", 2*invitations), "each tried at least twice")
		}).WithTimeout(smtpOutage).WithPolling(time.Second).Should(Succeed())
		time.Sleep(time.Until(down.Add(smtpOutage)))
		phases, failedAttempts := f.invitationPhases(ns)
		Expect(phases[membershipv1alpha1.InvitationPending]).To(Equal(invitations))
		Expect(f.Mail.Messages()).To(HaveLen(before), "nothing can arrive while the server is down")
		// Created at the outage's start, each is tried at 0, 1, 3, 7, 15, 31 and 63 s: 7 failures
		// in 2 minutes (8 for the latest created, at the 127 s mark on a slow machine).
		Expect(failedAttempts).To(BeNumerically("<=", 8*invitations), "retries follow the backoff, not every event")
		figures.add("SMTP server down for %s while %d invitations were created: %d delivery attempts failed, all %d still Pending",
			smtpOutage, invitations, failedAttempts, phases[membershipv1alpha1.InvitationPending])

		By("bringing the server back: every invitation arrives")
		Expect(f.Mail.Resume()).To(Succeed())
		up := time.Now()
		want := invitees(ns, invitations)
		Eventually(func(g Gomega) {
			g.Expect(takeCensus(f.Mail.Messages(), invitationEvent).missing(want)).To(BeEmpty())
			phases, _ := f.invitationPhases(ns)
			g.Expect(phases[membershipv1alpha1.InvitationSent]).To(Equal(invitations))
		}).WithTimeout(4 * time.Minute).WithPolling(time.Second).Should(Succeed())
		lastArrival := time.Duration(0)
		for _, m := range f.Mail.Messages() {
			lastArrival = max(lastArrival, m.Received.Sub(up))
		}
		duplicates := takeCensus(f.Mail.Messages(), invitationEvent).expectOncePerRecipient(want)
		_, attempts := f.invitationPhases(ns)
		figures.add("after the server returned: %d/%d invitations Sent, the last email %s later, %d delivery attempts in all, "+
			"%d duplicate emails", invitations, invitations, lastArrival.Round(time.Second), attempts, duplicates)
		figures.entry("SMTP outage")
		f.expectNoLeaks()
	})
})
