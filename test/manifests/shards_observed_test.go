// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package manifests_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// selects reads a rendered label selector (matchLabels, matchExpressions) with apimachinery's own
// rules, as the ServiceMonitor's controller and the NetworkPolicy implementation read it.
func selects(t *testing.T, selector any, podLabels any) bool {
	t.Helper()
	raw, err := json.Marshal(selector)
	if err != nil {
		t.Fatal(err)
	}
	var ls metav1.LabelSelector
	if err := json.Unmarshal(raw, &ls); err != nil {
		t.Fatal(err)
	}
	sel, err := metav1.LabelSelectorAsSelector(&ls)
	if err != nil {
		t.Fatal(err)
	}
	set := labels.Set{}
	for k, v := range podLabels.(map[string]any) {
		set[k] = fmt.Sprint(v)
	}
	return sel.Matches(set)
}

// With shards, every controller Pod is scraped and fenced, not only the cluster shard's: a
// Service selects the namespace shards' Pods for the ServiceMonitor, which selects both metrics
// Services, and a NetworkPolicy admits only metrics and probes to them.
func TestHelmChartObservesAndFencesEveryShard(t *testing.T) {
	g := NewWithT(t)
	helm := tool(t, "HELM")
	objects := helmTemplate(t, helm, "member-operator", "--set", "shards=3", "--set", "networkPolicy.enabled=true",
		"--set", "metrics.serviceMonitor.enabled=true")
	monitor := objects["ServiceMonitor/member-operator-controller-manager"]
	g.Expect(monitor).NotTo(BeNil())
	services := []map[string]any{objects["Service/member-operator-controller-manager-metrics-service"],
		objects["Service/member-operator-shard-metrics-service"]}
	for _, svc := range services {
		g.Expect(svc).NotTo(BeNil())
		g.Expect(selects(t, field(monitor, "spec", "selector"), field(svc, "metadata", "labels"))).To(BeTrue(),
			"the ServiceMonitor selects %v", field(svc, "metadata", "name"))
	}
	policies := []map[string]any{}
	for key, obj := range objects {
		if strings.HasPrefix(key, "NetworkPolicy/") {
			policies = append(policies, obj)
		}
	}
	for _, name := range []string{"controller-manager", "shard-0", "shard-1", "shard-2"} {
		pods := field(objects["Deployment/member-operator-"+name], "spec", "template", "metadata", "labels")
		g.Expect(pods).NotTo(BeNil(), name)
		scraped := 0
		for _, svc := range services {
			if selects(t, map[string]any{"matchLabels": field(svc, "spec", "selector")}, pods) {
				scraped++
			}
		}
		g.Expect(scraped).To(Equal(1), "%s's Pods are behind exactly one metrics Service", name)
		fenced := 0
		for _, policy := range policies {
			if selects(t, field(policy, "spec", "podSelector"), pods) {
				fenced++
				if name != "controller-manager" {
					g.Expect(fmt.Sprint(field(policy, "spec", "ingress"))).NotTo(ContainSubstring("webhook"),
						"a namespace shard serves no webhook")
				}
			}
		}
		g.Expect(fenced).To(Equal(1), "%s's Pods are under one NetworkPolicy", name)
	}
	g.Expect(objects).To(HaveKey("Service/member-operator-shard-metrics-service"))
	g.Expect(helmTemplate(t, helm, "member-operator")).NotTo(HaveKey("Service/member-operator-shard-metrics-service"),
		"without shards the chart renders as before")
}
