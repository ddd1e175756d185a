// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package store_test

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/storeops/member-operator/test/leakcheck"
	"github.com/storeops/member-operator/test/logcapture"
	"github.com/storeops/member-operator/test/suite"
	"github.com/storeops/member-operator/test/testenv"
)

// The suite runs the whole operator as test/testenv.Start gives it to downstream teams: the Store
// controller with the Member and Invitation controllers (whose finalizers the Store's deletion
// relies on) and the acceptance server (through which owners activate and take over) in a real
// manager, with real SMTP. envtest has no garbage collector, so what the specs see removed, the
// controllers removed.

var (
	ctx       context.Context
	cancel    context.CancelFunc
	env       *testenv.Env
	k8sClient client.Client
	catcher   *testenv.Mailbox
	logs      = &logcapture.Buffer{}
	issued    *leakcheck.Collector // every operator Secret the suite saw, for the leak search
	// baseURL is the acceptance server's, and the base of the links in emails.
	baseURL string
)

func TestStoreController(t *testing.T) {
	suite.Run(t, "Store controller Suite")
}

var _ = BeforeSuite(func() {
	ctx, cancel = suite.Begin(logs)
	var err error
	env, err = testenv.Start(ctx, testenv.Options{MailLog: GinkgoWriter})
	Expect(err).NotTo(HaveOccurred())
	k8sClient, catcher, baseURL = env.Client, env.Mailbox, env.AcceptURL
	issued, err = leakcheck.Watch(ctx, env.Config)
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	if env != nil {
		By("searching the suite's log, events and objects for every secret it issued")
		report, err := issued.Search(ctx, k8sClient, catcher.Messages(), map[string]string{"log": logs.String()})
		Expect(err).NotTo(HaveOccurred(), "owners' passwords and links were issued")
		AddReportEntry("secret-leak search", report.String())
		Expect(report.Leaks).To(BeEmpty())
		issued.Stop()
		Expect(env.Stop()).To(Succeed())
	}
	cancel()
})
