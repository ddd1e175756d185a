// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package selfservice

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

func TestEmailManagerIsWhoeverElseOwnsSpecEmail(t *testing.T) {
	g := NewWithT(t)
	entry := func(manager, fields string) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Manager: manager, Operation: metav1.ManagedFieldsOperationUpdate,
			FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(fields)}
	}
	m := &membershipv1alpha1.Member{}
	g.Expect(emailManager(m)).To(BeEmpty(), "no managed fields")
	m.ManagedFields = []metav1.ManagedFieldsEntry{
		entry(membershipv1alpha1.OperatorFieldManager, `{"f:spec":{"f:email":{},"f:roles":{}}}`),
		entry("manager", `{"f:metadata":{"f:finalizers":{}}}`),
		entry("kubectl-label", `{"f:metadata":{"f:labels":{"f:team":{}}}}`),
	}
	g.Expect(emailManager(m)).To(BeEmpty(), "the operator's own, and others that own other fields")
	m.ManagedFields = append(m.ManagedFields, entry("argocd-controller", `{"f:spec":{"f:email":{},"f:storeRef":{}}}`))
	g.Expect(emailManager(m)).To(Equal("argocd-controller"))
	m.ManagedFields = []metav1.ManagedFieldsEntry{entry("kubectl-client-side-apply", `garbage`)}
	g.Expect(emailManager(m)).To(BeEmpty(), "unreadable entries are skipped")
}
