// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MemberPhase summarises where a Member stands.
// +kubebuilder:validation:Enum=Pending;Active;Disabled;Conflict;Expired;Suspended
type MemberPhase string

const (
	// MemberPending means the Member's credentials are not issued yet.
	MemberPending MemberPhase = "Pending"
	// MemberActive means the Member can log in: its credential Secret exists.
	MemberActive MemberPhase = "Active"
	// MemberDisabled means access is revoked while spec.disabled is true; the Member stays listed.
	MemberDisabled MemberPhase = "Disabled"
	// MemberConflict means the Member cannot be granted access, for example because its email
	// already belongs to another Member of the store.
	MemberConflict MemberPhase = "Conflict"
	// MemberExpired means spec.accessExpiresAt has passed: the credentials are withheld (kept
	// aside, so a later date restores the same ones) and the Member stays listed.
	MemberExpired MemberPhase = "Expired"
	// MemberSuspended means the Store's owner did not activate by spec.owner.activationDeadline:
	// the credentials are withheld (kept aside) until the owner activates, then restored as they were.
	MemberSuspended MemberPhase = "Suspended"
)

// Administrator annotations on a Member. Each acts once per new value, e.g.
// `kubectl annotate member bob membership.storeops.io/reset-password=$(date +%s) --overwrite`.
const (
	// ResetPasswordAnnotation emails the Member a single-use link to choose a new password. The
	// current password keeps working until the link is used.
	ResetPasswordAnnotation = "membership.storeops.io/reset-password"
	// ResetTwoFactorAnnotation gives the Member a new TOTP secret (the old one stops validating at
	// once) and emails them a single-use link to enrol it in their authenticator app.
	ResetTwoFactorAnnotation = "membership.storeops.io/reset-2fa"
)

// TwoFactorSpec configures two-factor authentication (TOTP) for a Member.
type TwoFactorSpec struct {
	// required turns on TOTP two-factor authentication for this Member. It is always true for the
	// store's owner and optional for everyone else.
	// +optional
	Required bool `json:"required,omitempty"`
}

// SecretKeyReference selects one key of a Secret in the Member's namespace.
type SecretKeyReference struct {
	// name of the Secret, in the same namespace as the Member.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`

	// key in the Secret's data that holds the password. The key password-hash holds a bcrypt
	// hash instead (cost 10 or more), used as it is: existing users are imported without their
	// plaintext in Git and without re-hashing.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key"`
}

// MemberType says who a membership is for: a person, or a machine (an integration).
// +kubebuilder:validation:Enum=Person;Integration
type MemberType string

const (
	// MemberPerson is a person: a login email, an invitation or a password, optional 2FA.
	MemberPerson MemberType = "Person"
	// MemberIntegration is a machine (an ERP, a shop connector): a client ID and a secret, no
	// email, no invitation, no 2FA; untouched by the owner's activation and ownership transfers.
	MemberIntegration MemberType = "Integration"
)

// MemberSpec is the desired state of a Member.
// +kubebuilder:validation:XValidation:rule="!has(self.accessExpiresAt) || !self.roles.exists(r, r == 'owner')",message="accessExpiresAt: the owner's access does not expire; hand the store over instead"
// +kubebuilder:validation:XValidation:rule="has(self.email) || (has(self.type) && self.type == 'Integration')",message="required for a person (type Person); only an integration has none",fieldPath=".email"
// +kubebuilder:validation:XValidation:rule="!has(self.type) || self.type != 'Integration' || !has(self.email)",message="an integration (type Integration) has no email; it signs in with spec.clientID",fieldPath=".email"
// +kubebuilder:validation:XValidation:rule="(has(self.type) && self.type == 'Integration') || !has(self.clientID)",message="only an integration (type Integration) has one; a person signs in with spec.email",fieldPath=".clientID"
// +kubebuilder:validation:XValidation:rule="!has(self.type) || self.type != 'Integration' || !has(self.twoFactor) || !has(self.twoFactor.required) || !self.twoFactor.required",message="an integration signs in with its client ID and secret, without 2FA",fieldPath=".twoFactor.required"
// +kubebuilder:validation:XValidation:rule="!has(self.type) || self.type != 'Integration' || !self.roles.exists(r, r == 'owner')",message="an integration cannot be the owner",fieldPath=".roles"
type MemberSpec struct {
	// storeRef names the Store, in the same namespace, that this Member belongs to. Immutable.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="is immutable: a Member cannot move to another Store"
	StoreRef StoreReference `json:"storeRef"`

	// type is Person (default) or Integration: a machine (an ERP, a shop connector) that signs in
	// with a client ID (spec.clientID, or the Member's name) and a secret (generated, or from
	// spec.passwordSecretRef, which may hold a bcrypt hash to import an existing store login as it
	// is). Integrations have no email, invitation or 2FA, take no seat under memberLimit and are
	// not suspended by an overdue owner activation. Immutable.
	// +optional
	// +kubebuilder:default=Person
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="is immutable: delete the Member and create it as the other type"
	Type MemberType `json:"type,omitempty"`

	// clientID is an integration's login, unique in the store among every login (emails
	// included), compared case-insensitively; the Member's name when empty. Letters, digits and
	// . _ @ + - (so an imported login that was an email address keeps working), at most 254.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=254
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9][A-Za-z0-9._@+-]*$`
	ClientID string `json:"clientID,omitempty"`

	// email is a person's login address. It may change (members may change their login email);
	// it must be unique within the store, compared case-insensitively. Required for a person;
	// an integration has none.
	// +optional
	Email EmailAddress `json:"email,omitempty"`

	// displayName is the Member's name as shown in emails and pages.
	// +optional
	DisplayName DisplayName `json:"displayName,omitempty"`

	// phone is the Member's phone number in E.164 form, such as +31201234567.
	// +optional
	// +kubebuilder:validation:Pattern=`^[+][1-9][0-9]{6,14}$`
	Phone string `json:"phone,omitempty"`

	// roles the Member holds: admin, operations, finance, staff (one or more, each at most once).
	// Permissions are the union over the roles. The owner role exists only on the owner Member
	// that the operator manages.
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=5
	Roles []Role `json:"roles"`

	// disabled revokes the Member's access while true: the credential Secret is removed and the
	// Member stays listed. Setting it back to false restores the same password.
	// +optional
	// +kubebuilder:default=false
	Disabled bool `json:"disabled,omitempty"`

	// twoFactor configures TOTP two-factor authentication.
	// +optional
	TwoFactor TwoFactorSpec `json:"twoFactor,omitempty,omitzero"`

	// passwordSecretRef supplies the initial password from a Secret (for example a sealed or
	// external secret in GitOps) that carries the label
	// membership.storeops.io/password-source: "true"; the operator reads no other Secret. A
	// change of that Secret rotates the password. Without it, and without an invitation, the
	// operator generates a password.
	// +optional
	PasswordSecretRef *SecretKeyReference `json:"passwordSecretRef,omitempty"`

	// emailPreferences override the Store's default email preferences for this Member.
	// +optional
	EmailPreferences EmailPreferences `json:"emailPreferences,omitempty"`

	// accessExpiresAt ends the Member's access by itself at that instant (partners, temporary
	// staff): the credential Secret is withdrawn, the phase becomes Expired and the person is
	// told by email. Moving it later restores the same credentials. Not for the owner.
	// +optional
	AccessExpiresAt *metav1.Time `json:"accessExpiresAt,omitempty"`
}

// MemberStatus is the observed state of a Member.
type MemberStatus struct {
	// phase is Pending, Active, Disabled, Conflict or Expired.
	// +optional
	Phase MemberPhase `json:"phase,omitempty"`

	// credentialsSecret is the name of the Secret that holds the Member's credentials
	// (<member>-credentials). It exists only while the Member has access.
	// +optional
	CredentialsSecret string `json:"credentialsSecret,omitempty"`

	// permissions is the sorted union of the permissions of the Member's roles.
	// +optional
	// +listType=set
	Permissions []string `json:"permissions,omitempty"`

	// emailPreferences are the effective preferences: the Store's defaults overlaid by the
	// Member's own.
	// +optional
	EmailPreferences map[string]bool `json:"emailPreferences,omitempty"`

	// account is the Account (cluster-scoped) whose password and 2FA key this Member's
	// credential Secret carries; empty while the Member keeps a login of its own (one declared
	// without the person: in Git, by an administrator, or the Store's owner).
	// +optional
	Account string `json:"account,omitempty"`

	// invitation is the name of the Invitation this Member joined through, if any.
	// +optional
	Invitation string `json:"invitation,omitempty"`

	// observedResetPassword is the last value of the reset-password annotation acted on.
	// +optional
	ObservedResetPassword string `json:"observedResetPassword,omitempty"`

	// observedResetTwoFactor is the last value of the reset-2fa annotation acted on.
	// +optional
	ObservedResetTwoFactor string `json:"observedResetTwoFactor,omitempty"`

	// accessExpiredNotice is the spec.accessExpiresAt the person was told had passed (the
	// email goes once per expiry).
	// +optional
	AccessExpiredNotice *metav1.Time `json:"accessExpiredNotice,omitempty"`

	// joinedAt is when the Member first became Active.
	// +optional
	JoinedAt *metav1.Time `json:"joinedAt,omitempty"`

	// observedGeneration is the spec generation that this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready (the Member is in its desired state) and CredentialsReady (the credential
	// Secret matches the spec).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=member,categories=storeops
// +kubebuilder:printcolumn:name="Store",type=string,JSONPath=`.spec.storeRef.name`
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Email",type=string,JSONPath=`.spec.email`
// +kubebuilder:printcolumn:name="Client ID",type=string,JSONPath=`.spec.clientID`,priority=1
// +kubebuilder:printcolumn:name="Roles",type=string,JSONPath=`.spec.roles`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// Member is a person with access to a Store's admin panel: their login email, roles, 2FA setting
// and the credential Secret (<member>-credentials) that the admin application reads to log them in.
type Member struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired state of the Member.
	// +required
	Spec MemberSpec `json:"spec"`

	// status is the observed state of the Member.
	// +optional
	Status MemberStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// MemberList contains a list of Member.
type MemberList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Member `json:"items"`
}

// IsIntegration reports whether the Member is a machine's login (spec.type Integration).
func (m *Member) IsIntegration() bool {
	return m.Spec.Type == MemberIntegration
}

// Login is what the Member signs in with: a person's email, an integration's client ID (its name
// when spec.clientID is empty). It is the credential Secret's username.
func (m *Member) Login() string {
	switch {
	case !m.IsIntegration():
		return string(m.Spec.Email)
	case m.Spec.ClientID != "":
		return m.Spec.ClientID
	}
	return m.Name
}
