// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Locale is the language of every email and page of a store.
// +kubebuilder:validation:Enum=en;nl;ja
type Locale string

const (
	// LocaleEnglish is English, the default.
	LocaleEnglish Locale = "en"
	// LocaleDutch is Dutch.
	LocaleDutch Locale = "nl"
	// LocaleJapanese is Japanese.
	LocaleJapanese Locale = "ja"
)

// DefaultInvitationTTL is how long an invitation link stays valid unless the Store says otherwise.
const DefaultInvitationTTL = "168h"

// StoreOwner is the person who signed the store up.
type StoreOwner struct {
	// email is the owner's login address. Changing it starts an ownership transfer: an owner
	// invitation goes to the new address and the current owner keeps access until it is accepted.
	// +required
	Email EmailAddress `json:"email"`

	// displayName is the owner's name as shown in emails and pages.
	// +optional
	DisplayName DisplayName `json:"displayName,omitempty"`

	// activationDeadline is when the owner must have activated their account by. Before it, the
	// activation email goes again as a reminder 7 days and 1 day ahead (each with a fresh link);
	// once it passes without activation, every Member of the Store but integration logins has
	// its credentials withheld (phase Suspended, reason OwnerActivationOverdue) and member
	// invitations wait, until the owner activates, which restores everything at once. It has no
	// effect once the owner has activated.
	// +optional
	ActivationDeadline *metav1.Time `json:"activationDeadline,omitempty"`
}

// StoreSpec is the desired state of a Store.
type StoreSpec struct {
	// displayName is the store's name, shown in every email and page.
	// +required
	DisplayName DisplayName `json:"displayName"`

	// owner is the store's single owner. The operator manages the owner's Member (<store>-owner)
	// itself; nobody else may grant or remove the owner role.
	// +required
	Owner StoreOwner `json:"owner"`

	// notificationEmail is where system notifications (a member joined, ...) go. When empty, the
	// owner's email at the time the Store was first reconciled is used and recorded in
	// status.notificationEmail; it does not follow later owner changes.
	// +optional
	NotificationEmail EmailAddress `json:"notificationEmail,omitempty"`

	// locale is the language of every email and page for this store: en (default), nl or ja.
	// +optional
	// +kubebuilder:default=en
	Locale Locale `json:"locale,omitempty"`

	// invitationTTL is how long an invitation link stays valid, as a Go duration between 1m and
	// 720h. Defaults to 168h (7 days).
	// +optional
	// +kubebuilder:default="168h"
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(h|m|s|ms|us|ns))+$') && duration(self) >= duration('1m') && duration(self) <= duration('720h')",message="must be a duration between 1m and 720h, such as 168h or 90m"
	InvitationTTL *metav1.Duration `json:"invitationTTL,omitempty"`

	// memberLimit is how many people the store's plan allows: active and disabled Members plus
	// pending Invitations, the owner excluded. 0 means unlimited.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100000
	MemberLimit int32 `json:"memberLimit,omitempty"`

	// emailPreferences are the default email preferences of every member of the store; each
	// Member may override them in its own spec.emailPreferences.
	// +optional
	EmailPreferences EmailPreferences `json:"emailPreferences,omitempty"`
}

// OwnerTransferStatus describes an ownership transfer that is under way.
type OwnerTransferStatus struct {
	// email is the address the store is being handed over to.
	Email EmailAddress `json:"email"`

	// since is when the transfer started.
	Since metav1.Time `json:"since"`

	// invitation is the name of the owner Invitation sent to the new address.
	// +optional
	Invitation string `json:"invitation,omitempty"`
}

// StoreStatus is the observed state of a Store.
type StoreStatus struct {
	// notificationEmail is the address system notifications go to: spec.notificationEmail, or the
	// owner's email when the Store was first reconciled.
	// +optional
	NotificationEmail EmailAddress `json:"notificationEmail,omitempty"`

	// ownerMember is the name of the Member that holds the owner role.
	// +optional
	OwnerMember string `json:"ownerMember,omitempty"`

	// ownerMemberUID is the UID of that Member: which Member is the owner is decided by the
	// Store, not by an owner reference anybody who may edit Members can change.
	// +optional
	OwnerMemberUID types.UID `json:"ownerMemberUID,omitempty"`

	// ownerEmail is the login email of the owner who activated or to whom the store was last
	// handed over; the owner Member's spec.email is put back to it if someone else changes it.
	// +optional
	OwnerEmail EmailAddress `json:"ownerEmail,omitempty"`

	// members counts the store's Members, active and disabled, the owner and integrations
	// excluded: what memberLimit counts.
	// +optional
	Members int32 `json:"members,omitempty"`

	// integrations counts the store's integration logins (Members of type Integration).
	// +optional
	Integrations int32 `json:"integrations,omitempty"`

	// pendingInvitations counts Invitations not yet accepted, expired or revoked.
	// +optional
	PendingInvitations int32 `json:"pendingInvitations,omitempty"`

	// ownerTransfer is set while an ownership transfer is under way.
	// +optional
	OwnerTransfer *OwnerTransferStatus `json:"ownerTransfer,omitempty"`

	// observedGeneration is the spec generation that this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready is True when the owner has activated their account.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=store,categories=storeops
// +kubebuilder:printcolumn:name="Owner",type=string,JSONPath=`.spec.owner.email`
// +kubebuilder:printcolumn:name="Members",type=integer,JSONPath=`.status.members`
// +kubebuilder:printcolumn:name="Pending",type=integer,JSONPath=`.status.pendingInvitations`
// +kubebuilder:printcolumn:name="Integrations",type=integer,JSONPath=`.status.integrations`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Activated",type=string,JSONPath=`.status.conditions[?(@.type=="OwnerActive")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// Store is an online store whose admin panel the operator grants access to. It has one owner and
// a team of Members who join through Invitations.
type Store struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired state of the Store.
	// +required
	Spec StoreSpec `json:"spec"`

	// status is the observed state of the Store.
	// +optional
	Status StoreStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// StoreList contains a list of Store.
type StoreList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Store `json:"items"`
}

// NotificationAddress is where a Store's notices (a member joined, ...) go: spec.notificationEmail
// when set; otherwise the address recorded in status at the first reconcile (the owner's then),
// which does not follow later owner changes; the owner's before that. The Store controller
// records it and the acceptance server sends to it: one rule for both.
func (s *Store) NotificationAddress() EmailAddress {
	switch {
	case s.Spec.NotificationEmail != "":
		return s.Spec.NotificationEmail
	case s.Status.NotificationEmail != "":
		return s.Status.NotificationEmail
	default:
		return s.Spec.Owner.Email
	}
}

// MembersSuspended reports whether the Store's owner is overdue with activation
// (ConditionMembersSuspended): its Members' credentials are withheld and member invitations wait.
// The Store controller decides it from spec.owner.activationDeadline; every other reader follows.
func (s *Store) MembersSuspended() bool {
	return meta.IsStatusConditionTrue(s.Status.Conditions, ConditionMembersSuspended)
}
