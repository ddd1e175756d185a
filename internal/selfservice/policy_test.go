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
