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
