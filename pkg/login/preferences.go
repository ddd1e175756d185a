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

package login

import "encoding/json"

// preferences decodes the email-preferences key; a malformed one is no preferences (the mailer
// then uses the store's defaults it knows) rather than a failed sign-in.
func preferences(raw []byte) map[string]bool {
	out := map[string]bool{}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil
	}
	return out
}
