// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package v1alpha1 contains the membership.storeops.io/v1alpha1 API: Store, Member and Invitation,
// the validation that the API server applies to them, and the role-to-permission matrix.
// +kubebuilder:object:generate=true
// +groupName=membership.storeops.io
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The API package depends only on k8s.io/apimachinery, so that downstream teams can import it
// without pulling in controller-runtime.
var (
	// GroupVersion is group version used to register these objects.
	GroupVersion = schema.GroupVersion{Group: "membership.storeops.io", Version: "v1alpha1"}

	// SchemeBuilder is used to add go types to the GroupVersionKind scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types in this group-version to the given scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(GroupVersion,
		&Store{}, &StoreList{},
		&Member{}, &MemberList{},
		&Account{}, &AccountList{},
		&Invitation{}, &InvitationList{},
	)
	metav1.AddToGroupVersion(scheme, GroupVersion)
	return nil
}
