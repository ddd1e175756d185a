// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package webhook_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/internal/setup"
	"github.com/storeops/member-operator/internal/webhook"
	"github.com/storeops/member-operator/test/logcapture"
	"github.com/storeops/member-operator/test/mailcatcher"
	"github.com/storeops/member-operator/test/suite"
	"github.com/storeops/member-operator/test/testenv"
)

// The suite installs the operator's ValidatingWebhookConfiguration (config/webhook) in a real
// control plane, through envtest's webhook install options, and serves the webhooks from a real
// manager that also runs the three controllers, so the webhook's cache sees what they create.
// The manager authenticates as envtest's admin; the specs act as another user, "a person".

var (
	ctx          context.Context
	cancel       context.CancelFunc
	controlPlane *testenv.ControlPlane
	// person is someone with full RBAC who is not the operator.
	person  client.Client
	catcher *mailcatcher.Catcher
	logs    = &logcapture.Buffer{}
)

func TestWebhooks(t *testing.T) {
	suite.Run(t, "Webhook Suite")
}

var _ = BeforeSuite(func() {
	ctx, cancel = suite.Begin(logs)
	var err error
	controlPlane, err = testenv.StartControlPlane(testenv.WithWebhooks())
	Expect(err).NotTo(HaveOccurred())
	person, err = controlPlane.NewUserClient("platform-engineer")
	Expect(err).NotTo(HaveOccurred())

	var smtpSender *mail.SMTPSender
	catcher, smtpSender, err = testenv.StartMail(GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	tokenKey := bytes.Repeat([]byte("w"), 32)

	operator, err := webhook.OperatorIdentity(ctx, controlPlane.Config)
	Expect(err).NotTo(HaveOccurred())
	Expect(operator).NotTo(Equal("platform-engineer"))
	// With --exclusive-membership, so its spec can show that refusal too (each spec uses its own
	// addresses).
	settings := testenv.Settings("https://members.storeops.example")
	settings.EnableWebhooks = true
	settings.ExclusiveMembership = true
	mgr, err := controlPlane.NewOperator(ctx, settings, setup.Parts{
		Mail: smtpSender, MailDomain: smtpSender.FromDomain(), TokenKey: tokenKey,
	})
	Expect(err).NotTo(HaveOccurred())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()

	By("waiting for the webhook server to serve")
	hook := controlPlane.Env.WebhookInstallOptions
	addr := net.JoinHostPort(hook.LocalServingHost, fmt.Sprint(hook.LocalServingPort))
	Eventually(func() error {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // a readiness probe of a local test server
		if err != nil {
			return err
		}
		return conn.Close()
	}).WithTimeout(30 * time.Second).Should(Succeed())
})

var _ = AfterSuite(func() {
	cancel()
	if catcher != nil {
		_ = catcher.Close()
	}
	Expect(controlPlane.Stop()).To(Succeed())
})
