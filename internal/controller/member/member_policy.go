// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package member

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/accounttoken"
	"github.com/storeops/member-operator/internal/progress"
)

// The decisions of the Member controller, as pure functions of their inputs (the clock included),
// table-tested in policy_test.go.

// emailHolder returns which of members (one Store's Members) holds email: the Store's owner Member
// if it has it (an ownership transfer to a Member's address hands that address to the owner),
// else the earliest created, then by name, among those not being deleted. Emails compare
// case-insensitively; plus-aliases are distinct addresses.
func emailHolder(members []membershipv1alpha1.Member, email string) *membershipv1alpha1.Member {
	var holder *membershipv1alpha1.Member
	for i := range members {
		m := &members[i]
		if !m.DeletionTimestamp.IsZero() || !strings.EqualFold(m.Login(), email) {
			continue
		}
		if isOwnerMember(m) {
			return m
		}
		if holder == nil || earlier(m, holder) {
			holder = m
		}
	}
	return holder
}

func earlier(a, b *membershipv1alpha1.Member) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}

// effectivePreferences overlays the Member's email preferences on the Store's defaults.
func effectivePreferences(store, member membershipv1alpha1.EmailPreferences) map[string]bool {
	if len(store) == 0 && len(member) == 0 {
		return nil
	}
	out := make(map[string]bool, len(store)+len(member))
	for k, v := range store {
		out[k] = v
	}
	for k, v := range member {
		out[k] = v
	}
	return out
}

// removalNoticeRetry decides, after a failed "access removed" email, whether to give up (the
// deletion has waited timeout) and otherwise when to try again: a quarter of the time waited so
// far, between 1s and 30s, and never past the deadline.
func removalNoticeRetry(deletedAt metav1.Time, now time.Time, timeout time.Duration) (giveUp bool, retryAfter time.Duration) {
	waited := now.Sub(deletedAt.Time)
	if waited >= timeout {
		return true, 0
	}
	retryAfter = min(max(waited/4, time.Second), 30*time.Second)
	return false, min(retryAfter, timeout-waited)
}

// rolesAndPermissions are the Secret's "roles" and "permissions" values: sorted, comma-separated.
func rolesAndPermissions(roles []membershipv1alpha1.Role) (string, string) {
	names := make([]string, 0, len(roles))
	for _, r := range roles {
		names = append(names, string(r))
	}
	sort.Strings(names)
	return strings.Join(names, ","), strings.Join(membershipv1alpha1.PermissionsFor(roles), ",")
}

// isOwnerMember reports whether m is, by name and role, its Store's owner Member. Whether the Store
// really controls it is checked against the Store (ownerRoleRefusal).
func isOwnerMember(m *membershipv1alpha1.Member) bool {
	return membershipv1alpha1.HasOwnerRole(m.Spec.Roles) && m.Name == membershipv1alpha1.OwnerMemberName(m.Spec.StoreRef.Name)
}

// ownerEmailUnsanctioned reports whether m is the Store's activated owner with a login email the
// Store did not record (status.ownerEmail): an edit the Store is about to put back.
func ownerEmailUnsanctioned(m *membershipv1alpha1.Member, store *membershipv1alpha1.Store) bool {
	return isOwnerMember(m) && store.Status.OwnerEmail != "" && !strings.EqualFold(string(m.Spec.Email), string(store.Status.OwnerEmail))
}

// ownerRoleRefusal says why m may not hold the owner role, or "" when it may: only the Member
// that its Store created and controls (<store>-owner) is the owner. The admission webhook refuses
// anyone else's owner role at apply time; this holds when the webhook was bypassed or down.
func ownerRoleRefusal(m *membershipv1alpha1.Member, store *membershipv1alpha1.Store) string {
	if !membershipv1alpha1.HasOwnerRole(m.Spec.Roles) {
		return ""
	}
	// The Store decides who its owner is (its status records the owner Member's UID); an owner
	// reference can be edited by anybody who may edit Members.
	if isOwnerMember(m) && (metav1.IsControlledBy(m, store) || store.Status.OwnerMemberUID != "" && store.Status.OwnerMemberUID == m.UID) {
		return ""
	}
	return fmt.Sprintf("spec.roles: owner is held only by Member %q, which Store %q manages; "+
		"change the Store's spec.owner.email to change the owner", membershipv1alpha1.OwnerMemberName(store.Name), store.Name)
}

// tokenExpiry splits a Member's account token Secrets into those whose links have expired at
// now (or carry no readable expiry) and says how long until the next of the others expires
// (0 when none is left).
func tokenExpiry(secrets []corev1.Secret, now time.Time) (expired []*corev1.Secret, next time.Duration) {
	for i := range secrets {
		gone, left := accounttoken.Expiry(&secrets[i], now)
		if gone {
			expired = append(expired, &secrets[i])
			continue
		}
		if next == 0 || left < next {
			next = left
		}
	}
	return expired, next
}

// memberProgress is the Member's kstatus progress: Conflict and an unusable supplied password
// need someone to act (Stalled); a missing Store or password Secret, or an acceptance completing,
// resolve on their own (Reconciling); an owner awaiting activation waits on a person, which is
// current, as are Active and Disabled.
func memberProgress(m *membershipv1alpha1.Member) (progress.Progress, string, string) {
	reason, message := "", ""
	if ready := meta.FindStatusCondition(m.Status.Conditions, membershipv1alpha1.ConditionReady); ready != nil {
		reason, message = ready.Reason, ready.Message
	}
	switch {
	case m.Status.Phase == membershipv1alpha1.MemberConflict, reason == membershipv1alpha1.ReasonPasswordInvalid:
		return progress.Stalled, reason, message
	case m.Status.Phase != membershipv1alpha1.MemberPending:
		return progress.Current, "", ""
	case reason == membershipv1alpha1.ReasonAwaitingPassword && membershipv1alpha1.HasOwnerRole(m.Spec.Roles):
		return progress.Current, "", ""
	}
	return progress.Reconciling, reason, message
}

// twoFactorRequired: always for the owner, else as the spec says.
func twoFactorRequired(m *membershipv1alpha1.Member) bool {
	return membershipv1alpha1.HasOwnerRole(m.Spec.Roles) || m.Spec.TwoFactor.Required
}

// accessLeft says whether member's access has ended at now (spec.accessExpiresAt, never for the
// owner) and, while it has not, how long until it does (0 when it has no end): the Member is
// reconciled again at that instant, not polled.
func accessLeft(member *membershipv1alpha1.Member, now time.Time) (expired bool, left time.Duration) {
	end := member.Spec.AccessExpiresAt
	if end == nil || membershipv1alpha1.HasOwnerRole(member.Spec.Roles) {
		return false, 0
	}
	if !now.Before(end.Time) {
		return true, 0
	}
	return false, end.Sub(now)
}
