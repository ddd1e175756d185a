// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package account

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// report emits the events of what this reconcile changed.
func (r *Reconciler) report(acct *membershipv1alpha1.Account, ch *changes) {
	for _, m := range ch.joined {
		r.Recorder.Eventf(acct, nil, corev1.EventTypeNormal, EventMemberJoined, "Members",
			"Member %s/%s (store %s) joined this Account", m.Namespace, m.Name, m.Store)
	}
	for _, m := range ch.left {
		r.Recorder.Eventf(acct, nil, corev1.EventTypeNormal, EventMemberLeft, "Members",
			"Member %s/%s no longer uses this Account", m.Namespace, m.Name)
	}
	if ch.refusedLoginName != "" {
		r.Recorder.Eventf(acct, nil, corev1.EventTypeWarning, EventLoginNameTaken, "LoginName",
			"Login name %q not set: another account holds it", ch.refusedLoginName)
	} else if ch.loginName != nil && ch.loginNameChanged {
		r.Recorder.Eventf(acct, nil, corev1.EventTypeNormal, EventLoginNameChanged, "LoginName",
			"Login name is now %q", acct.Spec.LoginName)
	}
	if ch.movedFrom != "" {
		r.Recorder.Eventf(acct, nil, corev1.EventTypeNormal, EventMoved, "Move",
			"The person's account moved here from %s (a confirmed change of the login email): same password and 2FA key", ch.movedFrom)
	}
	for _, from := range ch.refused {
		r.Recorder.Eventf(acct, nil, corev1.EventTypeWarning, EventMoveRefused, "Move",
			"The account of %s did not move here: this address's Account has a password of its own, which a move never replaces; "+
				"the Members that moved keep their password and 2FA key as logins of their own", from)
	}
	for _, m := range ch.refusedSources {
		r.Recorder.Eventf(acct, nil, corev1.EventTypeWarning, EventPasswordSourceRefused, "Password",
			"Member %s's spec.passwordSecretRef does not set this Account's password: only the source that made it does, from its namespace", m)
	}
	if ch.refusedPasswords > 0 {
		r.Recorder.Eventf(acct, nil, corev1.EventTypeWarning, EventPasswordSourceRefused, "Password",
			"A password change was not applied: the password is declared in Git (status.passwordSource)")
	}
	if ch.ungoverned {
		r.Recorder.Eventf(acct, nil, corev1.EventTypeNormal, EventPasswordSourceRemoved, "Password",
			"No Member declares this Account's password in Git any more: it is the person's from now on")
	}
	if ch.password {
		r.Recorder.Eventf(acct, nil, corev1.EventTypeNormal, EventPasswordChanged, "Password",
			"The password was changed; every store of the person uses the new one")
	}
}

// setStatus records the joined Members (sorted), the 2FA enrolment and Ready.
func (r *Reconciler) setStatus(acct *membershipv1alpha1.Account, joined map[string]membershipv1alpha1.AccountMember,
	data map[string][]byte, ch *changes) {
	list := slices.Collect(maps.Values(joined))
	slices.SortFunc(list, func(a, b membershipv1alpha1.AccountMember) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	acct.Status.Members = list
	stores := map[string]bool{}
	for _, m := range list {
		stores[m.Namespace+"/"+m.Store] = true
	}
	acct.Status.Stores = int32(len(stores)) //nolint:gosec // bounded by the number of Members
	acct.Status.TwoFactor = len(data[membershipv1alpha1.CredentialTOTPSecret]) > 0
	if ch.password {
		now := metav1.NewTime(r.Clock.Now().Truncate(time.Second))
		acct.Status.PasswordChangedAt = &now
	}
	acct.Status.ObservedGeneration = acct.Generation
	meta.SetStatusCondition(&acct.Status.Conditions, metav1.Condition{
		Type: membershipv1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: "Active",
		Message: fmt.Sprintf("Used by %d Member(s)", len(list)), ObservedGeneration: acct.Generation,
	})
}

// secretVersionAdvances reports whether status.secretVersion should become seen, the
// resourceVersion of the Account's Secret as this reconcile knows it: when nothing is recorded,
// or seen is later. A reconcile may read the Secret from a cache behind its own last write; a
// version it recorded is never taken back for an older one (which would wake every store of the
// person twice). resourceVersions are compared as numbers only when both are (etcd's revisions,
// as every kube-apiserver writes them); otherwise any other value is news.
func secretVersionAdvances(recorded, seen string) bool {
	if seen == "" || seen == recorded {
		return false
	}
	r, errR := strconv.ParseUint(recorded, 10, 64)
	s, errS := strconv.ParseUint(seen, 10, 64)
	if recorded == "" || errR != nil || errS != nil {
		return true
	}
	return s > r
}
