// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package account

import (
	"bytes"
	"context"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	accounts "github.com/storeops/member-operator/internal/account"
)

// A move: the person confirmed a new login email, and their Account moves there with every
// store. An Account's name is its address's, so the move is a new Account: the acceptance server
// asks for it with the old Account's password hash and 2FA key, then writes the new address
// into each moving Member's spec.email. Here each Member joins the new Account once it holds the
// new address; the old Account, left by all of them, goes as any Account whose last Member left.
// Until a Member is updated the request stays, so the order of the server's writes and these
// reconciles does not matter.

// moveRecheck is how soon a move still waiting for its Members is looked at again when no
// Member event brings it back first.
const moveRecheck = 2 * time.Second

// applyMove applies the move request req to acct: the old Account's password hash and 2FA key
// become acct's, unless acct has a password of its own (a move never replaces a password:
// refused, and the moving Members keep theirs as logins of their own), and the moving Members
// that hold acct's address join. The request waits (ch.waiting) while any still holds the old one.
func (r *Reconciler) applyMove(ctx context.Context, acct *membershipv1alpha1.Account, req *corev1.Secret,
	data map[string][]byte, joined map[string]membershipv1alpha1.AccountMember, ch *changes) {
	from := req.Annotations[membershipv1alpha1.MovedFromAnnotation]
	hash := req.Data[membershipv1alpha1.CredentialPasswordHash]
	if len(hash) == 0 || from == "" {
		return
	}
	if current := data[membershipv1alpha1.CredentialPasswordHash]; len(current) > 0 && !bytes.Equal(current, hash) {
		ch.refused = append(ch.refused, from)
		return
	}
	if len(data[membershipv1alpha1.CredentialPasswordHash]) == 0 {
		ch.movedFrom = from
	}
	data[membershipv1alpha1.CredentialPasswordHash] = hash
	if name, ok := loginNameOf(req); ok && name != "" && acct.Spec.LoginName == "" {
		ch.loginName = &loginNameChange{name: name, movedFrom: from} // the person's name moves with them
	}
	if totp := req.Data[membershipv1alpha1.CredentialTOTPSecret]; len(totp) > 0 {
		data[membershipv1alpha1.CredentialTOTPSecret] = totp
	}
	waiting := false
	for _, ref := range accounts.MovingMembers(req) {
		if _, already := joined[ref.UID]; already {
			continue
		}
		m := &membershipv1alpha1.Member{}
		if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, m); err != nil {
			waiting = waiting || !apierrors.IsNotFound(err) // a failed read is tried again
			continue
		}
		if string(m.UID) != ref.UID || !m.DeletionTimestamp.IsZero() {
			continue // gone, or another Member under the name: it does not move
		}
		switch {
		case strings.EqualFold(string(m.Spec.Email), string(acct.Spec.Email)):
			moved := memberRef(m)
			joined[moved.UID] = moved
			ch.joined = append(ch.joined, moved)
		case strings.EqualFold(string(m.Spec.Email), from):
			waiting = true // the server has not written the new address yet
		}
	}
	if waiting && accounts.Waiting(req, r.Clock.Now()) {
		if ch.waiting == nil {
			ch.waiting = map[string]bool{}
		}
		ch.waiting[req.Name] = true
	}
}
