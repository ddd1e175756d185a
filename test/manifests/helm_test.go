// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package manifests_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"

	"github.com/storeops/member-operator/test/manifests"
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

func helmTemplate(t *testing.T, helm, release string, args ...string) map[string]map[string]any {
	t.Helper()
	return render(t, helm, append([]string{"template", release, "dist/chart", "--namespace", "member-operator-system",
		"--kube-version", "1.37.0"}, args...)...)
}

// withoutChartMetadata drops what the chart adds to every object: Helm's standard labels and the
// CRDs' keep policy (checked on its own below).
func withoutChartMetadata(obj map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range obj {
		out[k] = v
	}
	meta := map[string]any{}
	for k, v := range obj["metadata"].(map[string]any) {
		meta[k] = v
	}
	delete(meta, "labels")
	if annotations, ok := meta["annotations"].(map[string]any); ok {
		rest := map[string]any{}
		for k, v := range annotations {
			if k != "helm.sh/resource-policy" {
				rest[k] = v
			}
		}
		meta["annotations"] = rest
		if len(rest) == 0 {
			delete(meta, "annotations")
		}
	}
	out["metadata"] = meta
	return out
}

// aggregationLabels are the labels that decide what an RBAC role is aggregated into.
func aggregationLabels(obj map[string]any) map[string]any {
	out := map[string]any{}
	labels, _ := field(obj, "metadata", "labels").(map[string]any)
	for k, v := range labels {
		if strings.HasPrefix(k, "rbac.authorization.k8s.io/") {
			out[k] = v
		}
	}
	return out
}

func TestHelmChartRendersWhatKustomizeDoes(t *testing.T) {
	g := NewWithT(t)
	helm, kustomize := tool(t, "HELM"), tool(t, "KUSTOMIZE")
	fromKustomize := render(t, kustomize, "build", "config/default")
	fromHelm := helmTemplate(t, helm, "member-operator", "--api-versions", mutatingAdmissionPolicyAPI)

	compared := 0
	for key, want := range fromKustomize {
		kind, _, _ := strings.Cut(key, "/")
		got := fromHelm[key]
		switch kind {
		case "CustomResourceDefinition":
			g.Expect(got).NotTo(BeNil(), key)
			g.Expect(withoutChartMetadata(got)).To(Equal(withoutChartMetadata(want)), key)
		case "ClusterRole", "Role":
			g.Expect(got).NotTo(BeNil(), key)
			same(g, got["rules"], want["rules"], key)
			same(g, aggregationLabels(got), aggregationLabels(want), key)
		case "ClusterRoleBinding", "RoleBinding":
			g.Expect(got).NotTo(BeNil(), key)
			same(g, got["subjects"], want["subjects"], key)
			same(g, got["roleRef"], want["roleRef"], key)
		case "ValidatingWebhookConfiguration":
			g.Expect(got).NotTo(BeNil(), key)
			same(g, got["webhooks"], want["webhooks"], key)
			same(g, field(got, "metadata", "annotations"), field(want, "metadata", "annotations"), key)
		case "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding":
			g.Expect(got).NotTo(BeNil(), key)
			same(g, got["spec"], want["spec"], key)
		default:
			continue
		}
		compared++
	}
	g.Expect(compared).To(BeNumerically(">=", 3+12+1+4+1+2),
		"CRDs, roles, bindings, the webhook configuration and the admission policy were compared")
	for key := range fromHelm {
		kind, _, _ := strings.Cut(key, "/")
		switch kind {
		case "CustomResourceDefinition", "ClusterRole", "Role", "ClusterRoleBinding", "RoleBinding", "ValidatingWebhookConfiguration",
			"MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding":
			g.Expect(fromKustomize).To(HaveKey(key), "the chart's %s is not in config/default", key)
		}
	}
}

// mutatingAdmissionPolicyAPI is what a cluster that serves MutatingAdmissionPolicy (Kubernetes
// 1.36 or later) tells Helm; helm template says it only when asked.
const mutatingAdmissionPolicyAPI = "admissionregistration.k8s.io/v1/MutatingAdmissionPolicy"

// The Member finalizer's admission policy is installed where the cluster serves its API, and not
// where it does not (the manager then adds the finalizer itself) or when switched off.
func TestHelmChartInstallsTheFinalizerPolicyOnlyWhereServed(t *testing.T) {
	g := NewWithT(t)
	helm := tool(t, "HELM")
	policies := func(args ...string) []string {
		var found []string
		for key := range helmTemplate(t, helm, "member-operator", args...) {
			if strings.HasPrefix(key, "MutatingAdmissionPolicy") {
				found = append(found, key)
			}
		}
		return found
	}
	g.Expect(policies("--api-versions", mutatingAdmissionPolicyAPI)).To(ConsistOf(
		"MutatingAdmissionPolicy/member-operator-member-finalizer", "MutatingAdmissionPolicyBinding/member-operator-member-finalizer"))
	g.Expect(policies()).To(BeEmpty(), "a cluster without the API")
	g.Expect(policies("--api-versions", mutatingAdmissionPolicyAPI, "--set", "memberFinalizerPolicy.enabled=false")).To(BeEmpty())
	otherRelease := helmTemplate(t, helm, "other", "--api-versions", mutatingAdmissionPolicyAPI)
	binding := otherRelease["MutatingAdmissionPolicyBinding/other-member-operator-member-finalizer"]
	g.Expect(field(binding, "spec", "policyName")).To(Equal("other-member-operator-member-finalizer"),
		"the binding names its own release's policy")
}

func TestHelmChartKeepsTheCRDsOnUninstall(t *testing.T) {
	g := NewWithT(t)
	helm := tool(t, "HELM")
	crds := 0
	for key, obj := range helmTemplate(t, helm, "member-operator") {
		if strings.HasPrefix(key, "CustomResourceDefinition/") {
			g.Expect(field(obj, "metadata", "annotations", "helm.sh/resource-policy")).To(Equal("keep"), key)
			crds++
		}
	}
	g.Expect(crds).To(Equal(4), "Store, Member, Invitation and Account")
	for key, obj := range helmTemplate(t, helm, "member-operator", "--set", "crds.keep=false") {
		if strings.HasPrefix(key, "CustomResourceDefinition/") {
			g.Expect(field(obj, "metadata", "annotations", "helm.sh/resource-policy")).To(BeNil(), key)
		}
	}
}

func TestHelmChartSchemaRefusesUnknownKeysAndWrongTypes(t *testing.T) {
	helm := tool(t, "HELM")
	for _, tc := range []struct{ set, want string }{
		{"replicas=2", "additional properties 'replicas' not allowed"},
		{"accept.ingres.enabled=true", "additional properties 'ingres' not allowed"},
		{"manager.replicas=two", "/manager/replicas"},
		{"crds.keep=maybe", "/crds/keep"},
		{"accept.trustedProxies[0]=everyone", "/accept/trustedProxies/0"},
		{"manager.extraArgs[0]=-v", "/manager/extraArgs/0"},
		{"image.digest=latest", "/image/digest"},
	} {
		t.Run(tc.set, func(t *testing.T) {
			g := NewWithT(t)
			cmd := exec.Command(helm, "template", "x", "dist/chart", "--set", tc.set)
			cmd.Dir = filepath.Join("..", "..")
			out, err := cmd.CombinedOutput()
			g.Expect(err).To(HaveOccurred(), "helm template --set %s rendered", tc.set)
			g.Expect(string(out)).To(ContainSubstring(tc.want))
		})
	}
}

func TestHelmChartRendersEveryValueSetAndLints(t *testing.T) {
	helm := tool(t, "HELM")
	for name, args := range manifests.ValueSets {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			objects := helmTemplate(t, helm, "member-operator", args...)
			g.Expect(objects).To(HaveKey("Deployment/member-operator-controller-manager"))
			g.Expect(objects).To(HaveKey("Deployment/member-operator-accept"))
			lint := exec.Command(helm, append([]string{"lint", "--strict", "--kube-version", "1.37.0", "dist/chart"}, args...)...)
			lint.Dir = filepath.Join("..", "..")
			out, err := lint.CombinedOutput()
			g.Expect(err).NotTo(HaveOccurred(), "helm lint: %s", out)
		})
	}
}

func TestHelmChartProductionValuesReachTheObjects(t *testing.T) {
	g := NewWithT(t)
	objects := helmTemplate(t, tool(t, "HELM"), "member-operator", manifests.ValueSets["production"]...)
	manager := objects["Deployment/member-operator-controller-manager"]
	accept := objects["Deployment/member-operator-accept"]
	container := func(d map[string]any) map[string]any {
		return field(d, "spec", "template", "spec", "containers").([]any)[0].(map[string]any)
	}
	g.Expect(container(manager)["image"]).To(Equal("registry.example.com/platform/member-operator@sha256:" +
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"))
	g.Expect(container(manager)["args"]).To(ContainElements("--exclusive-membership", "--member-concurrency=8",
		"--mail-from=Shop Team <team@shop.example.com>", "--public-url=https://members.shop.example.com"))
	g.Expect(container(accept)["args"]).To(ContainElement("--accept-trusted-proxies=10.42.7.0/24,fd00:42::/64"))
	g.Expect(container(accept)["env"]).To(ContainElement(HaveKeyWithValue("valueFrom",
		HaveKeyWithValue("secretKeyRef", map[string]any{"name": "mail-relay", "key": "smtp-url"}))))
	g.Expect(field(manager, "spec", "template", "spec", "priorityClassName")).To(Equal("system-cluster-critical"))
	g.Expect(field(manager, "spec", "template", "spec", "topologySpreadConstraints")).To(HaveLen(1))
	g.Expect(field(manager, "spec", "template", "spec", "tolerations")).To(HaveLen(1))
	g.Expect(field(manager, "spec", "replicas")).To(BeEquivalentTo(3))
	g.Expect(objects).To(HaveKey("Ingress/member-operator-accept"))
	g.Expect(field(objects["Ingress/member-operator-accept"], "spec", "rules")).
		To(ContainElement(HaveKeyWithValue("host", "members.shop.example.com")))
	g.Expect(objects).To(HaveKey("PodDisruptionBudget/member-operator-manager"))
	g.Expect(objects).To(HaveKey("NetworkPolicy/member-operator-accept"))
	g.Expect(objects).To(HaveKey("PrometheusRule/member-operator-rules"))
	g.Expect(objects).To(HaveKey("ConfigMap/member-operator-dashboard"))
	monitor := objects["ServiceMonitor/member-operator-controller-manager"]
	g.Expect(monitor).NotTo(BeNil())
	endpoint := field(monitor, "spec", "endpoints").([]any)[0].(map[string]any)
	g.Expect(endpoint["honorLabels"]).To(BeTrue())
	g.Expect(field(endpoint, "tlsConfig", "insecureSkipVerify")).To(BeNil())
	g.Expect(field(endpoint, "tlsConfig", "ca", "secret", "name")).To(Equal("member-operator-metrics-server-cert"))
	g.Expect(field(objects["Certificate/member-operator-metrics-certs"], "spec", "issuerRef", "kind")).To(Equal("ClusterIssuer"))
	g.Expect(objects).NotTo(HaveKey("Issuer/member-operator-selfsigned-issuer"), "the given issuer is used instead")
}

// shards: N deploys N namespace shards beside the cluster shard, each selecting its own Pods, and
// refuses what it cannot do.
func TestHelmChartDeploysShards(t *testing.T) {
	g := NewWithT(t)
	helm := tool(t, "HELM")
	objects := helmTemplate(t, helm, "member-operator", manifests.ValueSets["sharded"]...)
	args := func(name string) []any {
		d := objects["Deployment/member-operator-"+name]
		g.Expect(d).NotTo(BeNil(), name)
		return field(d, "spec", "template", "spec", "containers").([]any)[0].(map[string]any)["args"].([]any)
	}
	g.Expect(args("controller-manager")).To(ContainElements("--shard=cluster", "--accept-bind-address=0",
		"--webhook-cert-path=/tmp/k8s-webhook-server/serving-certs"), "the cluster shard serves the webhooks")
	selectors := map[string]bool{}
	for i := range 3 {
		name := fmt.Sprintf("shard-%d", i)
		g.Expect(args(name)).To(ContainElements(fmt.Sprintf("--shard=%d/3", i), "--accept-bind-address=0", "--enable-webhooks=false",
			"--leader-elect", "--leader-election-id=member-operator.membership.storeops.io"), "a Lease of its own: the manager adds the range")
		selector := field(objects["Deployment/member-operator-"+name], "spec", "selector", "matchLabels").(map[string]any)
		g.Expect(selector).To(HaveKeyWithValue("membership.storeops.io/shard", strconv.Itoa(i)))
		g.Expect(field(objects["PodDisruptionBudget/member-operator-"+name], "spec", "selector", "matchLabels")).To(Equal(selector))
		selectors[fmt.Sprint(selector)] = true
	}
	g.Expect(selectors).To(HaveLen(3), "no shard's Deployment selects another's Pods")
	g.Expect(objects).NotTo(HaveKey("Deployment/member-operator-shard-3"))

	for _, refused := range [][]string{{"--set", "shards=1"}, {"--set", "shards=2", "--set", "exclusiveMembership=true"}} {
		cmd := exec.Command(helm, append([]string{"template", "member-operator", "dist/chart", "--kube-version", "1.37.0"}, refused...)...)
		cmd.Dir = filepath.Join("..", "..")
		out, err := cmd.CombinedOutput()
		g.Expect(err).To(HaveOccurred(), "%v renders", refused)
		g.Expect(string(out)).To(Or(ContainSubstring("shards: 1 is one manager"), ContainSubstring("exclusiveMembership compares")))
	}
}

// Two releases in one namespace (the second without CRDs, which are cluster-wide) share no
// object name, and neither selects the other's Pods.
func TestTwoReleasesDoNotCollide(t *testing.T) {
	g := NewWithT(t)
	helm := tool(t, "HELM")
	first := helmTemplate(t, helm, "shop-a")
	second := helmTemplate(t, helm, "shop-b", "--set", "crds.install=false")
	for key := range second {
		g.Expect(first).NotTo(HaveKey(key), "both releases render %s", key)
	}
	for _, objects := range []map[string]map[string]any{first, second} {
		for key, obj := range objects {
			if strings.HasPrefix(key, "Deployment/") || strings.HasPrefix(key, "PodDisruptionBudget/") {
				g.Expect(field(obj, "spec", "selector", "matchLabels", "app.kubernetes.io/instance")).NotTo(BeNil(), key)
			}
			if strings.HasPrefix(key, "Service/") {
				g.Expect(field(obj, "spec", "selector", "app.kubernetes.io/instance")).NotTo(BeNil(), key)
			}
		}
	}
	args := func(objects map[string]map[string]any, release string) []any {
		d := objects["Deployment/"+release+"-member-operator-controller-manager"]
		g.Expect(d).NotTo(BeNil())
		return field(d, "spec", "template", "spec", "containers").([]any)[0].(map[string]any)["args"].([]any)
	}
	g.Expect(args(first, "shop-a")).To(ContainElements("--leader-election-id=shop-a-member-operator.membership.storeops.io",
		"--token-key-secret=shop-a-member-operator-token-key", "--accept-service-account=shop-a-member-operator-accept"))
	g.Expect(args(second, "shop-b")).To(ContainElement("--leader-election-id=shop-b-member-operator.membership.storeops.io"))
}
