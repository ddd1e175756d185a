// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package manifests checks what the operator is installed with: the Helm chart against
// config/default, its value sets and schema, and the RBAC roles. test/e2e applies the same value
// sets to a real API server.
package manifests

// ValueSets are the chart's value files that are rendered, linted and applied with server-side
// dry run (test/e2e): the defaults, three shards and two others. Paths are from the repository
// root.
var ValueSets = map[string][]string{
	"default":    nil,
	"sharded":    {"--set", "shards=3"},
	"production": {"--values", "test/manifests/testdata/values-production.yaml"},
	"minimal":    {"--values", "test/manifests/testdata/values-minimal.yaml"},
}
