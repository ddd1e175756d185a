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

package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/storeops/member-operator/internal/accept"
	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/test/devenv"
	"github.com/storeops/member-operator/test/logcapture"
	"github.com/storeops/member-operator/test/mailcatcher"
	"github.com/storeops/member-operator/test/testenv"
)

// The suite runs the Store controller with the Member and Invitation controllers (whose
// finalizers the Store's deletion relies on) and the acceptance server (through which owners
// activate and take over) in a real manager, with real SMTP. envtest has no
// garbage collector, so what the specs see removed, the controllers removed.

var (
	ctx          context.Context
	cancel       context.CancelFunc
	controlPlane *testenv.ControlPlane
	k8sClient    client.Client
	scheme       *runtime.Scheme
	catcher      *mailcatcher.Catcher
	logs         = &logcapture.Buffer{}
	// baseURL is the acceptance server's, and the base of the links in emails.
	baseURL string
)

func TestStoreController(t *testing.T) {
	if testing.Short() {
		t.Skip("envtest suite: needs a control plane")
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "Store controller Suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(logcapture.Logger(GinkgoWriter, logs))
	// Several controllers react to each write; on a shared 2-core machine that takes more than
	// Gomega's default second.
	SetDefaultEventuallyTimeout(20 * time.Second)
	ctx, cancel = context.WithCancel(context.Background())
	var err error
	controlPlane, err = testenv.StartControlPlane()
	Expect(err).NotTo(HaveOccurred())
	scheme = controlPlane.Scheme
	k8sClient = controlPlane.Client

	var sender *mail.SMTPSender
	catcher, sender, err = testenv.StartMail(GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	tokenKey := bytes.Repeat([]byte("s"), 32)
	addr, err := devenv.FreeLoopbackAddr()
	Expect(err).NotTo(HaveOccurred())
	baseURL = "http://" + addr

	mgr, err := controlPlane.NewManager(ctx, tokenKey)
	Expect(err).NotTo(HaveOccurred())
	Expect(testenv.Controllers{Mail: sender, TokenKey: tokenKey, PublicURL: baseURL}.SetupWithManager(ctx, mgr)).To(Succeed())
	Expect(mgr.Add(&accept.Server{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme(),
		Recorder: mgr.GetEventRecorder("membership.storeops.io/acceptance-server"),
		Clock:    clock.RealClock{}, Mail: sender, MailDomain: sender.FromDomain(), TokenKey: tokenKey,
		Random: rand.Reader, BcryptCost: 10, Addr: addr, Log: ctrl.Log.WithName("accept"),
	})).To(Succeed())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
	Eventually(func() error {
		resp, err := http.Get(baseURL + "/healthz")
		if err == nil {
			_ = resp.Body.Close()
		}
		return err
	}).WithTimeout(30 * time.Second).Should(Succeed())
})

var _ = AfterSuite(func() {
	cancel()
	if catcher != nil {
		_ = catcher.Close()
	}
	Expect(controlPlane.Stop()).To(Succeed())
})
