// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package selfservice

import (
	"encoding/json"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// emailManager names the field manager that owns a Member's spec.email when it is not the
// operator ("" otherwise): kubectl, Argo CD, Flux... The Member is then declared in Git, and its
// email is changed there, not through self-service.
func emailManager(m *membershipv1alpha1.Member) string {
	for _, entry := range m.ManagedFields {
		if entry.Manager == membershipv1alpha1.OperatorFieldManager || entry.FieldsV1 == nil {
			continue
		}
		var fields map[string]map[string]any
		if err := json.Unmarshal(entry.FieldsV1.GetRawBytes(), &fields); err != nil {
			continue
		}
		if _, ok := fields["f:spec"]["f:email"]; ok {
			return entry.Manager
		}
	}
	return ""
}
