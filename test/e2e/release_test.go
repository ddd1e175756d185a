// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"

	"github.com/storeops/member-operator/test/manifests"
)

// Third-party CRDs the chart's optional objects need, from the projects' own modules on the Go
// module proxy at pinned versions (no download outside it).
var thirdPartyCRDs = []struct{ module, dir string }{
	{"github.com/cert-manager/cert-manager@v1.17.2", "deploy/crds"},
	{"github.com/prometheus-operator/prometheus-operator@v0.80.1", "example/prometheus-operator-crd"},
}

// crdFile names which of a module's CRD files are installed.
var crdFile = regexp.MustCompile(
	`(crd-(certificates|issuers|clusterissuers)|monitoring\.coreos\.com_(servicemonitors|prometheusrules))\.yaml$`)

// installThirdPartyCRDs installs cert-manager's and Prometheus Operator's CRDs for the kinds the
// chart renders. cert-manager ships its CRDs as Helm templates whose only template parts are
// comments and label values; the labels are dropped.
func installThirdPartyCRDs() {
	GinkgoHelper()
	var docs []string
	for _, m := range thirdPartyCRDs {
		out, err := exec.CommandContext(ctx, "go", "mod", "download", "-json", m.module).Output()
		Expect(err).NotTo(HaveOccurred(), "go mod download %s", m.module)
		var mod struct{ Dir string }
		Expect(json.Unmarshal(out, &mod)).To(Succeed())
		files, err := filepath.Glob(filepath.Join(mod.Dir, m.dir, "*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		for _, f := range files {
			if !crdFile.MatchString(f) {
				continue
			}
			data, err := os.ReadFile(f) //nolint:gosec // a file of a module we just downloaded
			Expect(err).NotTo(HaveOccurred())
			var crd map[string]any
			Expect(yaml.Unmarshal(data, &crd)).To(Succeed(), f)
			delete(crd["metadata"].(map[string]any), "labels")
			clean, err := yaml.Marshal(crd)
			Expect(err).NotTo(HaveOccurred())
			docs = append(docs, string(clean))
		}
	}
	Expect(docs).To(HaveLen(5), "Certificate, Issuer, ClusterIssuer, ServiceMonitor and PrometheusRule CRDs")
	_, _, err := kubectl(env.Kubeconfig, strings.Join(docs, "\n---\n"), "apply", "--server-side", "-f", "-")
	Expect(err).NotTo(HaveOccurred())
	_, _, err = kubectl(env.Kubeconfig, "", "wait", "--for=condition=Established", "--timeout=60s",
		"crd/certificates.cert-manager.io", "crd/issuers.cert-manager.io", "crd/clusterissuers.cert-manager.io",
		"crd/servicemonitors.monitoring.coreos.com", "crd/prometheusrules.monitoring.coreos.com")
	Expect(err).NotTo(HaveOccurred())
}

// toolPath is a pinned tool from make test's environment, or bin/ for a run by hand.
func toolPath(env, name string) string {
	GinkgoHelper()
	path := os.Getenv(env)
	if path == "" {
		path = filepath.Join(rootDir, "bin", name)
	}
	if _, err := os.Stat(path); err != nil { //nolint:gosec // a tool path from make test's environment
		Skip("no " + name + ": run `make " + name + "` (make test sets $" + env + ")")
	}
	return path
}

func run(name string, args ...string) string {
	GinkgoHelper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = rootDir
	out, err := cmd.Output()
	stderr := ""
	if exit, ok := err.(*exec.ExitError); ok {
		stderr = string(exit.Stderr)
	}
	Expect(err).NotTo(HaveOccurred(), "%s %s: %s", name, strings.Join(args, " "), stderr)
	return string(out)
}

var _ = Describe("what a release installs, checked by the API server itself", Ordered, func() {
	BeforeAll(installThirdPartyCRDs)

	It("accepts the Helm chart with each value set and config/default, with server-side dry run", func() {
		helm, kustomize := toolPath("HELM", "helm"), toolPath("KUSTOMIZE", "kustomize")
		sets := map[string]string{}
		for name, args := range manifests.ValueSets {
			sets["chart "+name] = run(helm, append([]string{"template", "member-operator", "dist/chart",
				"--namespace", "chart-dry-run", "--kube-version", "1.37.0",
				// As Helm says of a cluster that serves it: the chart's admission policy is checked too.
				"--api-versions", "admissionregistration.k8s.io/v1/MutatingAdmissionPolicy"}, args...)...)
		}
		sets["config/default"] = run(kustomize, "build", "config/default")
		sets["config/prometheus"] = run(kustomize, "build", "config/prometheus")
		for name, rendered := range sets {
			By("applying " + name + " with --dry-run=server")
			// config/prometheus is a kustomize base in the "system" namespace (config/default
			// moves it); the chart and config/default say their own.
			namespace := map[string]string{"config/default": "member-operator-system", "config/prometheus": "system"}[name]
			if namespace == "" {
				namespace = "chart-dry-run"
			}
			_, _, _ = kubectl(env.Kubeconfig, "", "create", "namespace", namespace) // may exist: config/default's is applied by another spec
			out, stderr, err := kubectl(env.Kubeconfig, rendered, "apply", "--server-side", "--force-conflicts",
				"--dry-run=server", "--field-manager=release-check", "-n", namespace, "-f", "-")
			Expect(err).NotTo(HaveOccurred(), "%s: %s", name, stderr)
			objects := len(regexp.MustCompile(`(?m)^kind: `).FindAllString(rendered, -1))
			Expect(strings.Count(out, "(server dry run)")).To(Equal(objects), "%s: every object was validated:\n%s", name, out)
		}
	})

})

// servesEveryQueriedMetric runs in the main ordered container, after the specs that accept and
// expire invitations (the counters with a namespace label exist only once something was counted).
func servesEveryQueriedMetric() {
	queried := queriedMetrics()
	Expect(queried).To(ContainElements("member_operator_invitation_delivery_failures_total",
		"member_operator_acceptance_http_responses_total", "member_operator_build_info",
		"member_operator_email_send_duration_seconds_bucket", "controller_runtime_webhook_requests_total"))

	By("making the manager do what each metric counts: a delivery that fails, then succeeds, and a page")
	_, _, err := kubectl(env.Kubeconfig, "", "create", "namespace", "metrics-check")
	Expect(err).NotTo(HaveOccurred())
	Expect(env.Mail.Suspend()).To(Succeed())
	resumed := false
	defer func() {
		if !resumed {
			_ = env.Mail.Resume()
		}
	}()
	_, _, err = kubectl(env.Kubeconfig, `apiVersion: membership.storeops.io/v1alpha1
kind: Store
metadata:
  name: metrics-shop
  namespace: metrics-check
spec:
  displayName: Metrics Shop
  owner:
    email: owner@metrics.example.com
`, "apply", "-f", "-")
	Expect(err).NotTo(HaveOccurred())
	Eventually(func() float64 {
		return metrics().Sum("member_operator_invitation_delivery_failures_total", `namespace="metrics-check"`)
	}).WithTimeout(time.Minute).Should(BeNumerically(">", 0))
	Expect(env.Mail.Resume()).To(Succeed())
	resumed = true
	Eventually(func() float64 {
		return metrics().Sum("member_operator_emails_total", `kind="owner-activation"`, `outcome="sent"`)
	}).WithTimeout(2 * time.Minute).Should(BeNumerically(">", 0))
	resp, err := http.Get(env.AcceptURL + "/password/forgot") //nolint:noctx // a plain page fetch
	Expect(err).NotTo(HaveOccurred())
	_ = resp.Body.Close()

	served := map[string]bool{}
	for sample := range metrics() {
		name, _, _ := strings.Cut(sample, "{")
		served[name] = true
	}
	var missing []string
	for _, name := range queried {
		if !served[name] {
			missing = append(missing, name)
		}
	}
	Expect(missing).To(BeEmpty(), "queried by config/prometheus but not served by the manager")
}

// queriedMetrics is every metric name in the alert expressions (config/prometheus/rules.yaml)
// and the dashboard's queries (config/prometheus/dashboard.json).
func queriedMetrics() []string {
	GinkgoHelper()
	var exprs []string
	data, err := os.ReadFile(filepath.Join(rootDir, "config", "prometheus", "rules.yaml"))
	Expect(err).NotTo(HaveOccurred())
	var rules struct {
		Spec struct {
			Groups []struct {
				Rules []struct {
					Expr string `json:"expr"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"spec"`
	}
	Expect(yaml.Unmarshal(data, &rules)).To(Succeed())
	for _, g := range rules.Spec.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}
	Expect(exprs).To(HaveLen(4))
	data, err = os.ReadFile(filepath.Join(rootDir, "config", "prometheus", "dashboard.json"))
	Expect(err).NotTo(HaveOccurred())
	var dashboard struct {
		Panels []struct {
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Query any `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	Expect(json.Unmarshal(data, &dashboard)).To(Succeed())
	for _, p := range dashboard.Panels {
		for _, t := range p.Targets {
			exprs = append(exprs, t.Expr)
		}
	}
	for _, v := range dashboard.Templating.List {
		if q, ok := v.Query.(string); ok {
			exprs = append(exprs, q)
		}
	}
	// A metric name is an identifier followed by a selector, a range or the end of an argument;
	// PromQL's functions and keywords are followed by "(" and are not metric names.
	ident := regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	var names []string
	for _, e := range exprs {
		e = regexp.MustCompile(`\{[^}]*\}|"[^"]*"|\[[^\]]*\]`).ReplaceAllStringFunc(e, func(s string) string {
			if strings.HasPrefix(s, "{") {
				return "{}"
			}
			return ""
		})
		for _, loc := range ident.FindAllStringIndex(e, -1) {
			name := e[loc[0]:loc[1]]
			next := strings.TrimLeft(e[loc[1]:], " ")
			prev := strings.TrimRight(e[:loc[0]], " ")
			if strings.HasPrefix(next, "(") || strings.HasSuffix(prev, "by (") || strings.HasSuffix(prev, ",") && !strings.HasPrefix(next, "{") {
				continue // a function, or a label in by (...)
			}
			if strings.Contains(name, "_") && (strings.HasPrefix(name, "member_operator_") ||
				strings.HasPrefix(name, "controller_runtime_") || strings.HasPrefix(name, "workqueue_")) {
				if !slices.Contains(names, name) {
					names = append(names, name)
				}
			}
		}
	}
	return names
}
