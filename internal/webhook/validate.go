// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package webhook holds the validating admission webhooks for Members and Invitations: thin
// adapters that read what a decision needs from the manager's cache and call the pure Validate*
// functions of this file. What they refuse, the controllers also re-check, because a webhook can
// be bypassed or down.
package webhook

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// Operation is what the request does to the object.
type Operation string

// The operations the webhooks see.
const (
	Create Operation = "CREATE"
	Update Operation = "UPDATE"
	Delete Operation = "DELETE"
)

var (
	rolesPath = field.NewPath("spec", "roles")
	specPath  = field.NewPath("spec")
)

// ownerRoleGiven is the message for anyone but the operator giving the owner role.
func ownerRoleGiven(store string) string {
	return fmt.Sprintf("the owner role is given only by the operator, to Member %q (Store %q's owner); "+
		"to change the owner, change the Store's spec.owner.email; to give full access otherwise, use admin",
		membershipv1alpha1.OwnerMemberName(store), store)
}

const roleFlip = "a role cannot change between owner and another role: the owner is changed through the " +
	"Store's spec.owner.email, and owner and member accounts are separate"

// ValidateMember decides a Member create, update or delete. byOperator says whether the
// requester is the operator itself; store is the Member's Store (nil when missing).
//   - Only the operator gives the owner role, changes the owner Member's spec, or deletes it
//     while its Store stands.
//   - Nobody flips a Member's roles between owner and non-owner.
func ValidateMember(op Operation, byOperator bool, old, obj *membershipv1alpha1.Member, store *membershipv1alpha1.Store) field.ErrorList {
	var errs field.ErrorList
	switch op {
	case Create:
		if membershipv1alpha1.HasOwnerRole(obj.Spec.Roles) && !byOperator {
			errs = append(errs, field.Forbidden(rolesPath, ownerRoleGiven(obj.Spec.StoreRef.Name)))
		}
	case Update:
		wasOwner, isOwner := membershipv1alpha1.HasOwnerRole(old.Spec.Roles), membershipv1alpha1.HasOwnerRole(obj.Spec.Roles)
		switch {
		case wasOwner != isOwner:
			errs = append(errs, field.Forbidden(rolesPath, roleFlip))
		case wasOwner && !byOperator && !equality.Semantic.DeepEqual(old.Spec, obj.Spec):
			errs = append(errs, field.Forbidden(specPath, fmt.Sprintf(
				"Member %q is the owner of Store %q and the operator manages it: change the Store's spec.owner instead",
				obj.Name, obj.Spec.StoreRef.Name)))
		case wasOwner && !byOperator:
			errs = append(errs, ownerMetadataChanges(old, obj)...)
		}
	case Delete:
		if membershipv1alpha1.HasOwnerRole(old.Spec.Roles) && !byOperator && store != nil && store.DeletionTimestamp.IsZero() &&
			metav1.IsControlledBy(old, store) {
			errs = append(errs, field.Forbidden(rolesPath, fmt.Sprintf(
				"Member %q is the owner of Store %q: a store always has its owner; delete the Store, or change its "+
					"spec.owner.email to hand it over", old.Name, store.Name)))
		}
	}
	return errs
}

var metadataPath = field.NewPath("metadata")

// ownerMetadataChanges refuses a person's change to what makes the owner Member the owner and
// keeps it working: its owner references, its finalizers, and the operator's labels and
// annotations (membership.storeops.io/*, including reset-password and reset-2fa: the owner resets
// through the Store's flow or the self-service pages). Other labels and annotations are theirs.
func ownerMetadataChanges(old, obj *membershipv1alpha1.Member) field.ErrorList {
	var errs field.ErrorList
	forbid := func(path *field.Path, what string) {
		errs = append(errs, field.Forbidden(path, fmt.Sprintf(
			"Member %q is the owner of Store %q and the operator manages its %s", obj.Name, obj.Spec.StoreRef.Name, what)))
	}
	if !equality.Semantic.DeepEqual(old.OwnerReferences, obj.OwnerReferences) {
		forbid(metadataPath.Child("ownerReferences"), "owner references")
	}
	if !slices.Equal(old.Finalizers, obj.Finalizers) {
		forbid(metadataPath.Child("finalizers"), "finalizers")
	}
	for _, m := range []struct {
		name     string
		old, obj map[string]string
	}{{"labels", old.Labels, obj.Labels}, {"annotations", old.Annotations, obj.Annotations}} {
		for _, key := range changedOperatorKeys(m.old, m.obj) {
			forbid(metadataPath.Child(m.name).Key(key), m.name+" under "+membershipv1alpha1.GroupPrefix)
		}
	}
	return errs
}

// changedOperatorKeys lists, sorted, the membership.storeops.io/ keys added, removed or changed
// between old and obj.
func changedOperatorKeys(old, obj map[string]string) []string {
	var keys []string
	for _, m := range []map[string]string{old, obj} {
		for k := range m {
			was, inOld := old[k]
			is, inObj := obj[k]
			if strings.HasPrefix(k, membershipv1alpha1.GroupPrefix) && (was != is || inOld != inObj) && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// ValidateInvitationRoles decides the owner role on an Invitation create or update: only the
// operator's own owner invitations carry it, and no update flips it.
func ValidateInvitationRoles(op Operation, byOperator bool, old, obj *membershipv1alpha1.Invitation) field.ErrorList {
	var errs field.ErrorList
	isOwner := membershipv1alpha1.HasOwnerRole(obj.Spec.Roles)
	if op == Update && membershipv1alpha1.HasOwnerRole(old.Spec.Roles) != isOwner {
		return append(errs, field.Forbidden(rolesPath, roleFlip))
	}
	if isOwner && !byOperator {
		errs = append(errs, field.Forbidden(rolesPath, ownerRoleGiven(obj.Spec.StoreRef.Name)))
	}
	return errs
}

// InvitationRefusal turns the invitation controller's refusal (reason and message from
// invitationpolicy.Check) into the field error kubectl shows at apply time; empty when there is none.
// A missing Store is not refused here: GitOps tools apply in any order, and the invitation waits
// for its Store.
func InvitationRefusal(reason, message string) field.ErrorList {
	switch reason {
	case "", membershipv1alpha1.ReasonStoreNotFound:
		return nil
	case membershipv1alpha1.ReasonAlreadyMember, membershipv1alpha1.ReasonMemberOfAnotherStore:
		return field.ErrorList{field.Forbidden(field.NewPath("spec", "email"), message)}
	case membershipv1alpha1.ReasonMemberLimitReached:
		return field.ErrorList{field.Forbidden(field.NewPath("spec", "storeRef", "name"),
			message+"; raise the Store's spec.memberLimit or remove a member first")}
	case membershipv1alpha1.ReasonOwnerRoleNotAllowed:
		return field.ErrorList{field.Forbidden(rolesPath, message)}
	default:
		return field.ErrorList{field.Forbidden(specPath, message)}
	}
}
