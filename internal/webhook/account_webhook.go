// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package webhook

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

var accountKind = schema.GroupKind{Group: membershipv1alpha1.GroupVersion.Group, Kind: "Account"}

// +kubebuilder:webhook:path=/validate-membership-storeops-io-v1alpha1-account,mutating=false,failurePolicy=fail,sideEffects=None,groups=membership.storeops.io,resources=accounts;accounts/status,verbs=create;update;delete,versions=v1alpha1,name=vaccount-v1alpha1.membership.storeops.io,admissionReviewVersions=v1

// AccountValidator lets only the operator write Accounts: which Members use an Account decides
// whose password reaches which store, so nobody else (a cluster administrator included: the
// RBAC of the operator's ClusterRole is not the only door) may create, edit or delete one.
type AccountValidator struct {
	// Operator is the operator's own identity (OperatorIdentity): the Account controller's.
	Operator string
}

var _ admission.Validator[*membershipv1alpha1.Account] = &AccountValidator{}

func (v *AccountValidator) refuse(ctx context.Context, name, verb string) error {
	if requester(ctx) == v.Operator && v.Operator != "" {
		return nil
	}
	return asInvalid(accountKind, name, field.ErrorList{field.Forbidden(field.NewPath("metadata"),
		"Accounts are kept by the member operator alone (it "+verb+"s them as people accept invitations and leave stores); "+
			"change the Members instead")})
}

// ValidateCreate implements admission.Validator.
func (v *AccountValidator) ValidateCreate(ctx context.Context, obj *membershipv1alpha1.Account) (admission.Warnings, error) {
	return nil, v.refuse(ctx, obj.Name, "create")
}

// ValidateUpdate implements admission.Validator.
func (v *AccountValidator) ValidateUpdate(ctx context.Context, _, obj *membershipv1alpha1.Account) (admission.Warnings, error) {
	return nil, v.refuse(ctx, obj.Name, "update")
}

// ValidateDelete implements admission.Validator.
func (v *AccountValidator) ValidateDelete(ctx context.Context, obj *membershipv1alpha1.Account) (admission.Warnings, error) {
	return nil, v.refuse(ctx, obj.Name, "delete")
}
