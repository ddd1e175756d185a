// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package member_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/internal/setup"
	"github.com/storeops/member-operator/test/logcapture"
	"github.com/storeops/member-operator/test/mailcatcher"
	"github.com/storeops/member-operator/test/suite"
	"github.com/storeops/member-operator/test/testenv"
)

// The suite runs the Member controller in a real manager against a real kube-apiserver, sending
// over real SMTP to an in-process server. Time is a fake clock the specs move.

var (
	ctx          context.Context
	cancel       context.CancelFunc
	controlPlane *testenv.ControlPlane
	k8sClient    client.Client
	scheme       *runtime.Scheme
	catcher      *mailcatcher.Catcher
	smtpAddr     string
	fakeClock    *clocktesting.FakeClock
	logs         = &logcapture.Buffer{}
)

func TestMemberController(t *testing.T) {
	suite.Run(t, "Member controller Suite")
}

var _ = BeforeSuite(func() {
	ctx, cancel = suite.Begin(logs)
	var err error
	controlPlane, err = testenv.StartControlPlane()
	Expect(err).NotTo(HaveOccurred())
	k8sClient, scheme = controlPlane.Client, controlPlane.Scheme

	var sender *mail.SMTPSender
	catcher, sender, err = testenv.StartMail(GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	smtpAddr = catcher.Addr()
	fakeClock = clocktesting.NewFakeClock(time.Now())

	settings := testenv.Settings("")
	// Specs change a password Secret and wait for the Member to show it.
	settings.PasswordSecretResync = time.Second
	mgr, err := controlPlane.NewOperator(ctx, settings, setup.Parts{
		Mail: sender, MailDomain: sender.FromDomain(), TokenKey: bytes.Repeat([]byte("k"), 32), Clock: fakeClock,
		Controllers: []setup.Controller{setup.MemberController},
	})
	Expect(err).NotTo(HaveOccurred())

	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
})

var _ = AfterSuite(func() {
	cancel()
	if catcher != nil {
		_ = catcher.Close()
	}
	Expect(controlPlane.Stop()).To(Succeed())
})
