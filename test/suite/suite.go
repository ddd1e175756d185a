// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package suite is the Ginkgo bootstrap every envtest suite of the operator shares: skipped by
// `go test -short`, the manager's logs at every level to the spec output and to a buffer the
// secret-leak checks read, and one suite-wide Eventually timeout. test/testenv, which downstream
// teams use without Ginkgo, stays free of it.
package suite

import (
	"context"
	"testing"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/storeops/member-operator/test/logcapture"
	"github.com/storeops/member-operator/test/testenv"
)

// Run runs the package's specs as the suite called description; `go test -short` skips it, as
// it needs a control plane.
func Run(t *testing.T, description string) {
	t.Helper()
	if testing.Short() {
		t.Skip("envtest suite: needs a control plane")
	}
	gomega.RegisterFailHandler(ginkgo.Fail)
	ginkgo.RunSpecs(t, description)
}

// Begin is the first step of every BeforeSuite: it sends the logs of every verbosity to the spec
// output and to logs, sets the suite-wide Eventually timeout (testenv.EventuallyTimeout: a shared
// 2-core machine runs several controllers per write), and returns the suite's context.
func Begin(logs *logcapture.Buffer) (context.Context, context.CancelFunc) {
	logf.SetLogger(logcapture.Logger(ginkgo.GinkgoWriter, logs))
	gomega.SetDefaultEventuallyTimeout(testenv.EventuallyTimeout)
	return context.WithCancel(context.Background())
}
