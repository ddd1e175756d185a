// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package accept_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/accept"
	"github.com/storeops/member-operator/internal/config"
	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/internal/setup"
	"github.com/storeops/member-operator/test/devenv"
	"github.com/storeops/member-operator/test/logcapture"
	"github.com/storeops/member-operator/test/mailcatcher"
	"github.com/storeops/member-operator/test/suite"
	"github.com/storeops/member-operator/test/testenv"
)

// The suite runs the acceptance server with the Invitation and Member controllers in one real
// manager, against a real kube-apiserver, with real SMTP; the pages are driven in a real headless
// Chromium. Time is a fake clock shared by the controllers and the server.

// clientBurst is the acceptance server's per-client burst in this suite. Its limiter runs on the
// suite's fake clock, so within a spec nothing refills.
const clientBurst = 40

// clientRate is the per-client refill rate, per second, in this suite.
const clientRate = 5

// refillClients lets the time pass in which every client's bucket refills: what a person takes
// between two visits, which the fake clock does not.
func refillClients() { fakeClock.Step(clientBurst / clientRate * time.Second) }

var (
	ctx          context.Context
	cancel       context.CancelFunc
	controlPlane *testenv.ControlPlane
	k8sClient    client.Client
	// operatorCache reads the operator manager's cache, the one its acceptance server answers
	// from: a spec that needs the server to know an object waits for it there.
	operatorCache client.Reader
	scheme        *runtime.Scheme
	fakeClock     *clocktesting.FakeClock
	logs          = &logcapture.Buffer{}
	catcher       *mailcatcher.Catcher
	// baseURL is the acceptance server's address, which is also the --public-url of the links.
	baseURL string
	// artifacts receives the browser's screenshots.
	artifacts string
	// replica is a second manager with its own cache and no controllers, as another replica (or
	// the acceptance-only Deployment) would be; specs start acceptance servers on it.
	replica  ctrl.Manager
	sender   *mail.SMTPSender
	tokenKey = bytes.Repeat([]byte("t"), 32)
)

// startReplicaServer starts an acceptance server on the replica manager, with the suite's
// settings changed by configure, and returns its base URL once it answers.
func startReplicaServer(configure func(*accept.Server)) string {
	GinkgoHelper()
	addr, err := devenv.FreeLoopbackAddr()
	Expect(err).NotTo(HaveOccurred())
	settings := acceptSettings()
	settings.AcceptBindAddress = addr
	srv, err := setup.AcceptanceServer(replica, settings, acceptParts())
	Expect(err).NotTo(HaveOccurred())
	srv.Log = srv.Log.WithName("replica")
	if configure != nil {
		configure(srv)
	}
	Expect(replica.Add(srv)).To(Succeed())
	url := "http://" + addr
	Eventually(func() error {
		resp, err := httpClient("127.0.0.1").Get(url + "/healthz")
		if err == nil {
			_ = resp.Body.Close()
		}
		return err
	}).WithTimeout(30 * time.Second).Should(Succeed())
	return url
}

// acceptSettings are the suite's operator settings: links based on the suite's server, reset
// links that live resetTTL.
func acceptSettings() *config.Options {
	settings := testenv.Settings(baseURL)
	settings.PasswordResetTTL = resetTTL
	// A Git password's new value reaches the stores of its Account within seconds, not a minute.
	settings.PasswordSecretResync = 2 * time.Second
	return settings
}

// acceptParts are the suite's mail, token key and fake clock, and room in the per-client rate
// limit for the browser specs, which all come from 127.0.0.1 (the rate-limit spec uses its own
// addresses and sends more than this).
func acceptParts() *setup.Parts {
	return &setup.Parts{
		Mail: sender, MailDomain: sender.FromDomain(), TokenKey: tokenKey, Clock: fakeClock,
		Server: func(srv *accept.Server) { srv.ClientRate, srv.ClientBurst = clientRate, clientBurst },
	}
}

// resetTTL is how long the suite's password reset links work (on the fake clock).
const resetTTL = time.Hour

func TestAcceptanceServer(t *testing.T) {
	suite.Run(t, "Acceptance server Suite")
}

var _ = BeforeSuite(func() {
	ctx, cancel = suite.Begin(logs)
	artifacts = os.Getenv("ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join("..", "..", "bin", "artifacts")
	}
	artifacts = filepath.Join(artifacts, "accept")
	Expect(os.MkdirAll(artifacts, 0o750)).To(Succeed())

	var err error
	controlPlane, err = testenv.StartControlPlane()
	Expect(err).NotTo(HaveOccurred())
	scheme = controlPlane.Scheme
	k8sClient = controlPlane.Client

	catcher, sender, err = testenv.StartMail(GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	fakeClock = clocktesting.NewFakeClock(time.Now())
	addr, err := devenv.FreeLoopbackAddr()
	Expect(err).NotTo(HaveOccurred())
	baseURL = "http://" + addr

	settings := acceptSettings()
	settings.AcceptBindAddress = addr
	parts := acceptParts()
	parts.Controllers = []setup.Controller{setup.MemberController, setup.InvitationController, setup.AccountController}
	mgr, err := controlPlane.NewOperator(ctx, settings, *parts)
	Expect(err).NotTo(HaveOccurred())
	operatorCache = mgr.GetClient()

	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
	// The replica serves nothing until a spec starts a server on it; it runs no controllers.
	replicaSettings := acceptSettings()
	replicaSettings.AcceptOnly = true
	replica, err = controlPlane.NewOperator(ctx, replicaSettings, *acceptParts())
	Expect(err).NotTo(HaveOccurred())
	go func() {
		defer GinkgoRecover()
		Expect(replica.Start(ctx)).To(Succeed())
	}()
	Eventually(func() error {
		resp, err := httpClient("127.0.0.1").Get(baseURL + "/healthz")
		if err == nil {
			_ = resp.Body.Close()
		}
		return err
	}).WithTimeout(30 * time.Second).Should(Succeed())
})

var _ = AfterSuite(func() {
	// After every spec (top-level containers run in random order): nothing they used is logged.
	By("searching the logs for every token, password, hash and TOTP secret the specs used")
	Expect(seen).NotTo(BeEmpty())
	text := logs.String()
	Expect(text).To(ContainSubstring("acceptance server listening"), "the logs were captured")
	By("and every event the server and controllers recorded")
	var events eventsv1.EventList
	Expect(k8sClient.List(ctx, &events)).To(Succeed())
	Expect(events.Items).NotTo(BeEmpty())
	var notes strings.Builder
	for _, e := range events.Items {
		notes.WriteString(e.Note + "\n")
	}
	By("and every Account, status included")
	var accounts membershipv1alpha1.AccountList
	Expect(k8sClient.List(ctx, &accounts)).To(Succeed())
	accountText, err := json.Marshal(accounts)
	Expect(err).NotTo(HaveOccurred())
	for _, s := range seen {
		if len(s) >= 12 {
			Expect(text).NotTo(ContainSubstring(s))
			Expect(notes.String()).NotTo(ContainSubstring(s))
			Expect(string(accountText)).NotTo(ContainSubstring(s))
		}
	}
	cancel()
	if catcher != nil {
		_ = catcher.Close()
	}
	Expect(controlPlane.Stop()).To(Succeed())
})
