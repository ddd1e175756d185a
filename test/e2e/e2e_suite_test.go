// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package e2e runs the real manager binary against a local control plane, set up by the same code
// as `make dev`, and drives it with the real kubectl, as a newcomer would.
package e2e

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/storeops/member-operator/test/devenv"
	"github.com/storeops/member-operator/test/leakcheck"
)

var (
	ctx    context.Context
	cancel context.CancelFunc

	rootDir       string // the repository root
	binDir        string // binaries built for this run
	kubectlPath   string
	managerBinary string
	env           *devenv.Env
	metricsAddr   string // the manager's metrics endpoint
)

func TestE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: needs a control plane and builds the manager")
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "e2e Suite")
}

var _ = BeforeSuite(func() {
	ctx, cancel = context.WithCancel(context.Background())
	var err error
	rootDir, err = filepath.Abs("../..")
	Expect(err).NotTo(HaveOccurred())
	binDir = GinkgoT().TempDir()

	By("building the manager")
	managerBinary = goBuild("./cmd", "manager")

	kubectlPath = os.Getenv("KUBECTL")
	if kubectlPath == "" {
		assets, err := devenv.BinaryAssetsDir()
		Expect(err).NotTo(HaveOccurred())
		kubectlPath = filepath.Join(assets, "kubectl")
	}
	Expect(kubectlPath).To(BeAnExistingFile(), "kubectl is built with the envtest binaries (make setup-envtest)")

	By("starting the control plane, the mail catcher and the manager")
	metricsAddr, err = devenv.FreeLoopbackAddr()
	Expect(err).NotTo(HaveOccurred())
	env, err = devenv.Start(ctx, devenv.Options{
		// Plain HTTP on loopback, so the suite can scrape it without a ServiceAccount token.
		ManagerArgs:   []string{"--metrics-bind-address=" + metricsAddr, "--metrics-secure=false"},
		Dir:           GinkgoT().TempDir(),
		CRDDir:        filepath.Join(rootDir, "config", "crd", "bases"),
		RBACRole:      filepath.Join(rootDir, "config", "rbac", "role.yaml"),
		WebhookConfig: filepath.Join(rootDir, "config", "webhook", "manifests.yaml"),
		// As config/default installs it: new Members get their finalizer from kube-apiserver.
		AdmissionPolicy: filepath.Join(rootDir, "config", "policy", "member_finalizer.yaml"),
		ManagerBinary:   managerBinary,
		ManagerOutput:   io.MultiWriter(GinkgoWriter, managerLog),
		Log:             GinkgoWriter,
	})
	Expect(err).NotTo(HaveOccurred())
	issued, err = leakcheck.Watch(ctx, env.Config)
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	if env != nil {
		By("searching everything the run wrote for the secrets it issued")
		expectNoLeaks()
	}
	if issued != nil {
		issued.Stop()
	}
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
	cancel()
})

// goBuild builds a package of this module into binDir.
func goBuild(pkg, name string) string {
	GinkgoHelper()
	out := filepath.Join(binDir, name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = rootDir
	output, err := cmd.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), string(output))
	return out
}

// kubectl runs the real kubectl against kubeconfig from the repository root and returns stdout,
// stderr and the error.
func kubectl(kubeconfig string, stdin string, args ...string) (string, string, error) {
	cmd := exec.CommandContext(ctx, kubectlPath, args...)
	cmd.Dir = rootDir
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	GinkgoWriter.Printf("$ kubectl %s\n%s%s", strings.Join(args, " "), stdout.String(), stderr.String())
	return stdout.String(), stderr.String(), err
}
