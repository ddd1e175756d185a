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

package manifests_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"
)

// tool is the path of a pinned tool from the environment (make test sets it); a workstation
// without it skips, CI fails.
func tool(t *testing.T, env string) string {
	t.Helper()
	path := os.Getenv(env)
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("$%s is required in CI: run the tests with make test", env)
		}
		t.Skipf("$%s not set: run the tests with make test", env)
	}
	return path
}

// render runs a command in the repository root and splits its YAML output into objects by
// kind and name.
func render(t *testing.T, name string, args ...string) map[string]map[string]any {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	objects := map[string]map[string]any{}
	for _, doc := range strings.Split(string(out), "\n---\n") {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("%v in\n%s", err, doc)
		}
		if obj == nil {
			continue
		}
		meta, _ := obj["metadata"].(map[string]any)
		objects[obj["kind"].(string)+"/"+meta["name"].(string)] = obj
	}
	return objects
}

// same expects got to equal want, absent (nil) values included.
func same(g Gomega, got, want any, description string) {
	if want == nil {
		g.Expect(got).To(BeNil(), description)
		return
	}
	g.Expect(got).To(Equal(want), description)
}

func field(obj map[string]any, path ...string) any {
	var cur any = obj
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func TestHelmChartRendersWhatKustomizeDoes(t *testing.T) {
	g := NewWithT(t)
	helm, kustomize := tool(t, "HELM"), tool(t, "KUSTOMIZE")
	fromKustomize := render(t, kustomize, "build", "config/default")
	fromHelm := render(t, helm, "template", "member-operator", "dist/chart",
		"--namespace", "member-operator-system", "--kube-version", "1.37.0")

	delete(fromKustomize, "Namespace/member-operator-system") // Helm installs into the release's namespace
	keys := func(m map[string]map[string]any) []string {
		out := make([]string, 0, len(m))
		for k := range m {
			out = append(out, k)
		}
		return out
	}
	g.Expect(keys(fromHelm)).To(ConsistOf(keys(fromKustomize)), "the same objects")
	compared := 0
	for key, want := range fromKustomize {
		kind, _, _ := strings.Cut(key, "/")
		got := fromHelm[key]
		switch kind {
		case "CustomResourceDefinition":
			g.Expect(got).To(Equal(want), key)
		case "ClusterRole", "Role":
			same(g, got["rules"], want["rules"], key)
			same(g, field(got, "metadata", "labels"), field(want, "metadata", "labels"), key)
		case "ClusterRoleBinding", "RoleBinding":
			same(g, got["subjects"], want["subjects"], key)
			same(g, got["roleRef"], want["roleRef"], key)
		case "ValidatingWebhookConfiguration":
			same(g, got["webhooks"], want["webhooks"], key)
			same(g, field(got, "metadata", "annotations"), field(want, "metadata", "annotations"), key)
		default:
			continue
		}
		compared++
	}
	g.Expect(compared).To(BeNumerically(">=", 3+12+2+1), "CRDs, ClusterRoles, bindings and the webhook configuration were compared")
}

func TestHelmChartLints(t *testing.T) {
	helm := tool(t, "HELM")
	cmd := exec.Command(helm, "lint", "--strict", "--kube-version", "1.37.0", "dist/chart")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helm lint: %v\n%s", err, out)
	}
}
