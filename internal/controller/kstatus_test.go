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

package controller

import (
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

func TestSetProgressKeepsOneOfReconcilingAndStalled(t *testing.T) {
	g := NewWithT(t)
	conditions := make([]metav1.Condition, 0, 2)
	SetProgress(&conditions, 3, Reconciling, "Sending", "sending")
	g.Expect(meta.IsStatusConditionTrue(conditions, membershipv1alpha1.ConditionReconciling)).To(BeTrue())
	g.Expect(meta.FindStatusCondition(conditions, membershipv1alpha1.ConditionStalled)).To(BeNil())
	g.Expect(conditions[0].ObservedGeneration).To(Equal(int64(3)))

	SetProgress(&conditions, 3, Stalled, "MemberLimitReached", "full")
	g.Expect(meta.IsStatusConditionTrue(conditions, membershipv1alpha1.ConditionStalled)).To(BeTrue())
	g.Expect(meta.FindStatusCondition(conditions, membershipv1alpha1.ConditionReconciling)).To(BeNil())

	conditions = append(conditions, metav1.Condition{Type: membershipv1alpha1.ConditionReady, Status: metav1.ConditionTrue})
	SetProgress(&conditions, 3, Current, "", "")
	g.Expect(conditions).To(HaveLen(1), "kstatus wants them absent, not False; Ready stays")
	g.Expect(conditions[0].Type).To(Equal(membershipv1alpha1.ConditionReady))
}
