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

package v1alpha1

// Condition types. Reasons are added with the behaviour that sets them.
const (
	// ConditionReady is True when the object is in its desired state.
	ConditionReady = "Ready"
	// ConditionCredentialsReady is True when a Member's credential Secret matches its spec.
	ConditionCredentialsReady = "CredentialsReady"
	// ConditionDelivered is True when an Invitation's email reached the SMTP server.
	ConditionDelivered = "Delivered"
)

// Labels the operator puts on what it creates. The manager caches only Secrets that carry
// ManagedByLabel=ManagedByValue, so unrelated Secrets in the cluster cost it no memory.
const (
	// ManagedByLabel is the standard label naming the tool that manages an object.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// ManagedByValue identifies this operator in ManagedByLabel.
	ManagedByValue = "member-operator"
	// StoreLabel names the Store an object belongs to.
	StoreLabel = "membership.storeops.io/store"
	// MemberLabel names the Member an object belongs to.
	MemberLabel = "membership.storeops.io/member"
)

// Condition reasons.
const (
	// ReasonActive: the Member has access; its credential Secret matches the spec.
	ReasonActive = "Active"
	// ReasonDisabled: spec.disabled is true, so the credential Secret is removed.
	ReasonDisabled = "Disabled"
	// ReasonStoreNotFound: spec.storeRef names no Store in the namespace.
	ReasonStoreNotFound = "StoreNotFound"
	// ReasonEmailConflict: another Member of the Store already has this email.
	ReasonEmailConflict = "EmailConflict"
	// ReasonPasswordSecretNotFound: spec.passwordSecretRef names a missing Secret or key.
	ReasonPasswordSecretNotFound = "PasswordSecretNotFound"
	// ReasonPasswordInvalid: the supplied password cannot be used (empty or over 72 bytes).
	ReasonPasswordInvalid = "PasswordInvalid"
)

// Finalizers and annotations.
const (
	// MemberFinalizer holds a Member until its access is revoked and the removed person is told.
	MemberFinalizer = "membership.storeops.io/revoke-access"
	// PasswordSourceAnnotation on a credential Secret records which version (UID/resourceVersion)
	// of the spec.passwordSecretRef Secret its hash was made from, so an unchanged source costs no
	// bcrypt work.
	PasswordSourceAnnotation = "membership.storeops.io/password-source"
	// RetainedForLabel marks the Secret that keeps a disabled Member's credentials (hash, TOTP
	// secret) so that enabling restores them. It deliberately lacks MemberLabel: it is no grant.
	RetainedForLabel = "membership.storeops.io/retained-for"
)

// Keys of a credential Secret.
const (
	CredentialUsername     = "username"
	CredentialPasswordHash = "password-hash"
	CredentialPassword     = "password"
	CredentialTOTPSecret   = "totp-secret"
	CredentialTOTPURI      = "totp-uri"
	CredentialRoles        = "roles"
	CredentialPermissions  = "permissions"
)

// CredentialsSecretName is the name of a Member's credential Secret: <member>-credentials.
func CredentialsSecretName(member string) string { return member + "-credentials" }

// RetainedSecretName is the name of the Secret that keeps a disabled Member's credentials.
func RetainedSecretName(member string) string { return member + "-credentials-retained" }
