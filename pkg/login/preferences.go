// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

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
