// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package testenv

import (
	"bytes"

	"github.com/prometheus/common/expfmt"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/storeops/member-operator/test/devenv"
)

// OperatorMetrics reads the metrics of the suite's in-process operator from controller-runtime's
// registry, in the form devenv scrapes from a running manager's endpoint, so a suite asks
// Metrics.Sum what an e2e test would ask a real one.
func OperatorMetrics() (devenv.Metrics, error) {
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		return nil, err
	}
	var text bytes.Buffer
	for _, f := range families {
		if _, err := expfmt.MetricFamilyToText(&text, f); err != nil {
			return nil, err
		}
	}
	return devenv.ParseMetrics(&text)
}
