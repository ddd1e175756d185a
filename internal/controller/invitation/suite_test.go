// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package invitation_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
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

// The suite runs the Invitation controller in a real manager against a real kube-apiserver,
// sending over real SMTP to an in-process server that specs can stop and start. Time is a fake
// clock the specs move; a spec may stop the manager and start another, as a crash would.

const publicURL = "https://members.storeops.example"

var (
	ctx          context.Context
	cancel       context.CancelFunc
	controlPlane *testenv.ControlPlane
	k8sClient    client.Client
	scheme       *runtime.Scheme
	fakeClock    *clocktesting.FakeClock
	logs         = &logcapture.Buffer{}
	// tokenKey is what the operator would keep in its token key Secret.
	tokenKey = bytes.Repeat([]byte("k"), 32)

	smtpAddr string
	catcherM sync.Mutex
	catcher  *mailcatcher.Catcher
	sender   *hookedSender
	manager  *runningManager
	// failStatusWrites makes every status write of the manager's client fail before it reaches
	// the API server, as if the process had died: a spec arms it instead of racing a cancel
	// against a PATCH already on the wire.
	failStatusWrites atomic.Bool
)

// errInjectedCrash is the status write failure failStatusWrites injects.
var errInjectedCrash = errors.New("injected: the process died before this status write")

// crashableClient is the manager's client whose status writes fail while failStatusWrites is set.
type crashableClient struct{ client.Client }

func (c crashableClient) Status() client.SubResourceWriter {
	return crashableStatus{SubResourceWriter: c.Client.Status()}
}

type crashableStatus struct{ client.SubResourceWriter }

func (w crashableStatus) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	if failStatusWrites.Load() {
		return errInjectedCrash
	}
	return w.SubResourceWriter.Patch(ctx, obj, patch, opts...)
}

func (w crashableStatus) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	if failStatusWrites.Load() {
		return errInjectedCrash
	}
	return w.SubResourceWriter.Update(ctx, obj, opts...)
}

// currentCatcher is the SMTP server now running (a spec may replace it).
func currentCatcher() *mailcatcher.Catcher {
	catcherM.Lock()
	defer catcherM.Unlock()
	return catcher
}

// hookedSender is the real SMTP sender with a hook a spec can set to run after each delivered
// message (to stop the manager right after a send).
type hookedSender struct {
	*mail.SMTPSender
	mu        sync.Mutex
	afterSend func(mail.Message)
}

func (s *hookedSender) Send(ctx context.Context, msg mail.Message) error {
	if err := s.SMTPSender.Send(ctx, msg); err != nil {
		return err
	}
	s.mu.Lock()
	hook := s.afterSend
	s.mu.Unlock()
	if hook != nil {
		hook(msg)
	}
	return nil
}

func (s *hookedSender) setAfterSend(hook func(mail.Message)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.afterSend = hook
}

type runningManager struct {
	stop    context.CancelFunc
	stopped chan struct{}
}

// startManager starts a manager with the Invitation controller (and --exclusive-membership on).
func startManager() *runningManager {
	GinkgoHelper()
	mgrCtx, stop := context.WithCancel(ctx) //nolint:gosec // stop is kept in runningManager and called by the spec or AfterSuite
	settings := testenv.Settings(publicURL)
	settings.ExclusiveMembership = true
	mgr, err := controlPlane.NewOperator(mgrCtx, settings, setup.Parts{
		Mail: sender, MailDomain: sender.FromDomain(), TokenKey: tokenKey, Clock: fakeClock,
		Controllers: []setup.Controller{setup.InvitationController},
		Client:      func(c client.Client) client.Client { return crashableClient{Client: c} },
	})
	Expect(err).NotTo(HaveOccurred())
	running := &runningManager{stop: stop, stopped: make(chan struct{})}
	go func() {
		defer GinkgoRecover()
		defer close(running.stopped)
		Expect(mgr.Start(mgrCtx)).To(Succeed())
	}()
	return running
}

func TestInvitationController(t *testing.T) {
	suite.Run(t, "Invitation controller Suite")
}

var _ = BeforeSuite(func() {
	ctx, cancel = suite.Begin(logs)
	var err error
	controlPlane, err = testenv.StartControlPlane()
	Expect(err).NotTo(HaveOccurred())
	k8sClient, scheme = controlPlane.Client, controlPlane.Scheme

	var smtp *mail.SMTPSender
	catcher, smtp, err = testenv.StartMail(GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	smtpAddr = catcher.Addr()
	sender = &hookedSender{SMTPSender: smtp}
	fakeClock = clocktesting.NewFakeClock(time.Now())
	manager = startManager()
})

var _ = AfterSuite(func() {
	if manager != nil {
		manager.stop()
		<-manager.stopped
	}
	cancel()
	if c := currentCatcher(); c != nil {
		_ = c.Close()
	}
	Expect(controlPlane.Stop()).To(Succeed())
})
