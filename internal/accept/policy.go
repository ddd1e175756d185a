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

package accept

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strings"
	"time"
	"unicode"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/invitationpolicy"
)

// Pure decisions of the acceptance server, table-tested in policy_test.go.

// Password length bounds in bytes: bcrypt reads at most 72.
const (
	MinPasswordBytes = 12
	MaxPasswordBytes = 72
)

// Names of the input fields, as in the JSON API and the form.
const (
	fieldPassword     = "password"
	fieldConfirmation = "passwordConfirmation"
	fieldDisplayName  = "displayName"
)

// FieldError is a refusal of one input field, shown next to that field on the page and named in
// the JSON API's 400 answer.
type FieldError struct {
	Field string `json:"field"`
	// Code names the rule, e.g. "too-short"; pages translate it.
	Code string `json:"code"`
	// Message is the English explanation.
	Message string `json:"message"`
}

// checkPassword applies the password policy: 12 to 72 bytes, not containing the local part of the
// invited address (case-insensitively), and, when the form asks twice, the same both times.
func checkPassword(password, confirmation string, confirm bool, email string) *FieldError {
	switch {
	case len(password) < MinPasswordBytes:
		return &FieldError{Field: fieldPassword, Code: "too-short", Message: "password: must be at least 12 bytes long"}
	case len(password) > MaxPasswordBytes:
		return &FieldError{Field: fieldPassword, Code: "too-long", Message: "password: must be at most 72 bytes long"}
	}
	local, _, _ := strings.Cut(email, "@")
	if len(local) >= 3 && strings.Contains(strings.ToLower(password), strings.ToLower(local)) {
		return &FieldError{Field: fieldPassword, Code: "contains-email", Message: "password: must not contain the part of your email address before the @"}
	}
	if confirm && password != confirmation {
		return &FieldError{Field: fieldConfirmation, Code: "mismatch", Message: "passwordConfirmation: must be the same as password"}
	}
	return nil
}

// checkDisplayName applies the Member's displayName rules: optional, at most 100 characters, no
// control characters.
func checkDisplayName(name string) *FieldError {
	if len([]rune(name)) > 100 {
		return &FieldError{Field: fieldDisplayName, Code: "too-long", Message: "displayName: must be at most 100 characters"}
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return &FieldError{Field: fieldDisplayName, Code: "control-character", Message: "displayName: must not contain control characters"}
		}
	}
	return nil
}

var nonName = regexp.MustCompile(`[^a-z0-9]+`)

// memberName is the deterministic name of the Member an accepted invitation creates: the
// address's local part, made a valid name, and a hash of the Store and address. The same
// acceptance retried gives the same name, and it fits in a label value (63 characters).
func memberName(store string, email membershipv1alpha1.EmailAddress) string {
	normalized := strings.ToLower(string(email))
	local, _, _ := strings.Cut(normalized, "@")
	base := strings.Trim(nonName.ReplaceAllString(local, "-"), "-")
	if len(base) > 40 {
		base = strings.Trim(base[:40], "-")
	}
	if base == "" {
		base = "member"
	}
	sum := sha256.Sum256([]byte(store + "/" + normalized))
	return base + "-" + hex.EncodeToString(sum[:])[:10]
}

// Outcome is what an acceptance request comes to; each maps to one HTTP status.
type Outcome string

const (
	OutcomeAccepted      Outcome = "accepted"         // 201
	OutcomeBadInput      Outcome = "bad-input"        // 400
	OutcomeUnknownToken  Outcome = "unknown-token"    // 404
	OutcomeAlreadyUsed   Outcome = "already-accepted" // 409
	OutcomeNoLongerValid Outcome = "no-longer-valid"  // 410
	OutcomeRateLimited   Outcome = "rate-limited"     // 429
	OutcomeInternalError Outcome = "internal-error"   // 500
	// Self-service outcomes.
	OutcomeChanged      Outcome = "changed"      // 200: a password was set
	OutcomeUnauthorized Outcome = "unauthorized" // 401: wrong store, email, password or 2FA code
	OutcomeBusy         Outcome = "busy"         // 503: every bcrypt slot is in use
	OutcomeNoSeat       Outcome = "no-seat"      // 409: the Store's limits leave no seat for this invitation
)

// linkState decides what a presented link is worth from its invitation alone: current says the
// token is the invitation's current round (not one a resend rotated away). It does not compare the
// secret; the caller has done that.
func linkState(inv *membershipv1alpha1.Invitation, current bool, now time.Time) Outcome {
	if _, accepted := invitationpolicy.Accepted(inv); accepted {
		if current {
			return OutcomeAlreadyUsed
		}
		return OutcomeNoLongerValid
	}
	switch inv.Status.Phase {
	case membershipv1alpha1.InvitationExpired, membershipv1alpha1.InvitationRevoked, membershipv1alpha1.InvitationFailed:
		return OutcomeNoLongerValid
	}
	if !inv.DeletionTimestamp.IsZero() || !current || invitationpolicy.Revoked(inv) {
		return OutcomeNoLongerValid // withdrawn, even before the controller marks it
	}
	if expired, _ := invitationpolicy.LinkExpired(inv, now); expired {
		return OutcomeNoLongerValid // past its time, even before the controller marks it
	}
	// Sent, or Pending while a retry of the very email this link came in is under way.
	return OutcomeAccepted
}

// claimIsStale says whether an acceptance that claimed a Member at claimedAt, and did not finish
// (no credentials yet), may be taken over by a retry at now.
func claimIsStale(claimedAt string, now time.Time) bool {
	at, err := time.Parse(time.RFC3339, claimedAt)
	if err != nil {
		return true
	}
	return now.Sub(at) >= claimTimeout
}

// claimTimeout is how long an unfinished acceptance holds its Member against a retry.
const claimTimeout = time.Minute

// memberLabels are the labels of a Member created by an acceptance: the Store's, except those
// that GitOps tools use to track what they own. Copying Argo CD's or Flux's tracking labels would
// make the tool count the Member as part of the application and prune it, since it is not in
// Git. The Member is labelled as the operator's, with its Store.
func memberLabels(store *membershipv1alpha1.Store) map[string]string {
	labels := map[string]string{}
	for k, v := range store.Labels {
		if gitOpsTrackingLabel(k) {
			continue
		}
		labels[k] = v
	}
	labels[membershipv1alpha1.ManagedByLabel] = membershipv1alpha1.ManagedByValue
	labels[membershipv1alpha1.StoreLabel] = store.Name
	return labels
}

func gitOpsTrackingLabel(key string) bool {
	switch key {
	case "app.kubernetes.io/instance", "app.kubernetes.io/part-of", membershipv1alpha1.ManagedByLabel:
		return true
	}
	for _, prefix := range []string{"argocd.argoproj.io/", "kustomize.toolkit.fluxcd.io/", "helm.toolkit.fluxcd.io/", "fluxcd.io/"} {
		if strings.HasPrefix(key, prefix) {
			return true
		}
	}
	return false
}

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
