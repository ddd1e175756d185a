// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// InvitationPhase summarises where an Invitation stands.
// +kubebuilder:validation:Enum=Pending;Sent;Accepted;Declined;Expired;Revoked;Failed
type InvitationPhase string

const (
	// InvitationPending means the invitation email has not been delivered yet.
	InvitationPending InvitationPhase = "Pending"
	// InvitationSent means the email was delivered and the link is valid until status.expiresAt.
	InvitationSent InvitationPhase = "Sent"
	// InvitationAccepted means the invitee set a password; status.member names their Member.
	InvitationAccepted InvitationPhase = "Accepted"
	// InvitationDeclined means the invitee said it is not for them ("this is not for me"); the
	// link is dead and the Store's notification address was told.
	InvitationDeclined InvitationPhase = "Declined"
	// InvitationExpired means the link was not used before status.expiresAt.
	InvitationExpired InvitationPhase = "Expired"
	// InvitationRevoked means the invitation was withdrawn before it was accepted.
	InvitationRevoked InvitationPhase = "Revoked"
	// InvitationFailed means the invitation was refused; the Ready condition says why.
	InvitationFailed InvitationPhase = "Failed"
)

// ResendAnnotation on an Invitation, set to any new value, rotates its token, restarts its
// time-to-live and sends the email again:
// kubectl annotate invitation X membership.storeops.io/resend=$(date +%s) --overwrite
const ResendAnnotation = "membership.storeops.io/resend"

// InvitationSpec is the desired state of an Invitation.
type InvitationSpec struct {
	// storeRef names the Store, in the same namespace, that the invitee is invited to. Immutable.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="is immutable: an Invitation cannot move to another Store"
	StoreRef StoreReference `json:"storeRef"`

	// email is the invitee's address; the invitation link works only for it. Immutable: to invite
	// another address, create another Invitation.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="is immutable: create a new Invitation for another address"
	Email EmailAddress `json:"email"`

	// roles the invitee will hold once they accept (one or more, each at most once).
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=5
	Roles []Role `json:"roles"`

	// message is an optional personal note included in the invitation email, at most 1000
	// characters. It is shown as plain text.
	// +optional
	// +kubebuilder:validation:MaxLength=1000
	Message string `json:"message,omitempty"`

	// invitedBy is the display name of the person who sent the invitation, shown in the email.
	// +optional
	InvitedBy DisplayName `json:"invitedBy,omitempty"`

	// twoFactor: when required, the invitee enrols an authenticator app (TOTP) on the acceptance
	// page, and the Member created for them requires it.
	// +optional
	TwoFactor TwoFactorSpec `json:"twoFactor,omitempty,omitzero"`
}

// InvitationStatus is the observed state of an Invitation.
type InvitationStatus struct {
	// phase is Pending, Sent, Accepted, Declined, Expired, Revoked or Failed.
	// +optional
	Phase InvitationPhase `json:"phase,omitempty"`

	// sentAt is when the current invitation email was delivered.
	// +optional
	SentAt *metav1.Time `json:"sentAt,omitempty"`

	// expiresAt is when the current link stops working: sentAt plus the Store's invitationTTL.
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`

	// acceptedAt is when the invitee accepted.
	// +optional
	AcceptedAt *metav1.Time `json:"acceptedAt,omitempty"`

	// member is the name of the Member created when the invitation was accepted.
	// +optional
	Member string `json:"member,omitempty"`

	// declinedAt is when the invitee declined (phase Declined).
	// +optional
	DeclinedAt *metav1.Time `json:"declinedAt,omitempty"`

	// declineNotified is true once the Store's notification address was told of the decline.
	// +optional
	DeclineNotified bool `json:"declineNotified,omitempty"`

	// revokedAt is when the invitation was withdrawn (phase Revoked).
	// +optional
	RevokedAt *metav1.Time `json:"revokedAt,omitempty"`

	// deliveryAttempts counts attempts to send the current invitation email. An attempt is
	// recorded before the email is handed to the SMTP server.
	// +optional
	DeliveryAttempts int32 `json:"deliveryAttempts,omitempty"`

	// nextAttemptAt is when the next delivery attempt is due after a failed one (1s, 2s, 4s, ...
	// at most 5m apart); changes to the invitation or its Store do not bring it forward. Unset
	// once the email is delivered.
	// +optional
	NextAttemptAt *metav1.Time `json:"nextAttemptAt,omitempty"`

	// resends counts the resend requests acted on; each one rotated the link.
	// +optional
	Resends int32 `json:"resends,omitempty"`

	// tokenHash is the hex SHA-256 of the secret of the current link token. It is written with
	// the delivery attempt, before the email goes, and cleared when the link dies (accepted,
	// declined, expired, revoked, refused, resent); the link works only while it is here, so
	// deleting the Invitation destroys it. The token itself is never stored: it cannot be
	// recovered from its hash.
	// +optional
	// +kubebuilder:validation:Pattern=`^[0-9a-f]{64}$`
	TokenHash string `json:"tokenHash,omitempty"`

	// observedResend is the value of the membership.storeops.io/resend annotation last acted on.
	// +optional
	ObservedResend string `json:"observedResend,omitempty"`

	// observedGeneration is the spec generation that this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Delivered (the email reached the SMTP server) and Ready.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=invitation;inv,categories=storeops
// +kubebuilder:printcolumn:name="Store",type=string,JSONPath=`.spec.storeRef.name`
// +kubebuilder:printcolumn:name="Email",type=string,JSONPath=`.spec.email`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Expires",type=string,format=date-time,JSONPath=`.status.expiresAt`
// +kubebuilder:printcolumn:name="Attempts",type=integer,JSONPath=`.status.deliveryAttempts`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// Invitation invites a person by email to join a Store with the given roles. The invitee follows
// the link in the email, sets a password and becomes a Member. The link is valid for the Store's
// invitationTTL (7 days by default); deleting a pending Invitation revokes it.
type Invitation struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired state of the Invitation.
	// +required
	Spec InvitationSpec `json:"spec"`

	// status is the observed state of the Invitation.
	// +optional
	Status InvitationStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// InvitationList contains a list of Invitation.
type InvitationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Invitation `json:"items"`
}
