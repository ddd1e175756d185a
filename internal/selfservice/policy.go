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
