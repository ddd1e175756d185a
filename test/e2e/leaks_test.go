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
