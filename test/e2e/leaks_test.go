// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/storeops/member-operator/test/leakcheck"
	"github.com/storeops/member-operator/test/logcapture"
)

var (
	// managerLog keeps everything the manager process wrote, for the secret-leak search.
	managerLog = &logcapture.Buffer{}
	// issued collects every operator Secret the run made, deleted ones too.
	issued *leakcheck.Collector
)

// expectNoLeaks searches the manager's whole log, every event and every Store, Member and
// Invitation (status included) for every secret the run issued (deleted ones too) or emailed.
func expectNoLeaks() {
	GinkgoHelper()
	c, err := leakcheck.NewClient(env.Config)
	Expect(err).NotTo(HaveOccurred())
	Expect(managerLog.String()).NotTo(BeEmpty())
	report, err := issued.Search(ctx, c, env.Mail.Messages(), map[string]string{"manager log": managerLog.String()})
	Expect(err).NotTo(HaveOccurred())
	AddReportEntry("secret-leak search", report.String())
	Expect(report.Leaks).To(BeEmpty(), "no password, hash, TOTP secret or link token in logs, events or status")
}
