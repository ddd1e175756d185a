// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package v1alpha1

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AccountMember is one membership (a Member) that uses an Account's password and 2FA key.
type AccountMember struct {
	// namespace of the Member.
	Namespace string `json:"namespace"`
	// name of the Member.
	Name string `json:"name"`
	// uid of the Member: a Member re-created under the same name is not joined.
	UID string `json:"uid"`
	// store is the Member's Store (spec.storeRef.name).
	Store string `json:"store"`
}

// AccountPasswordSource is a password declared in Git: a Member's spec.passwordSecretRef.
type AccountPasswordSource struct {
	// namespace of the Secret, and of every Member of an Account whose password it declares.
	Namespace string `json:"namespace"`
	// secret is the name of the Secret (spec.passwordSecretRef.name).
	Secret string `json:"secret"`
	// key in the Secret (spec.passwordSecretRef.key).
	Key string `json:"key"`
}

// AccountSpec is who the person is. The operator writes it; people and tenants cannot.
type AccountSpec struct {
	// email is the login address, normalized (lower case). The Account's name is derived from it.
	// +required
	Email EmailAddress `json:"email"`

	// displayName is the person's name, from the invitation they accepted first.
	// +optional
	DisplayName DisplayName `json:"displayName,omitempty"`

	// loginName is the person's own login name, which signs in wherever the email does. Unique
	// across the cluster, lower case; the person chooses it on the account page.
	// +optional
	LoginName LoginName `json:"loginName,omitempty"`

	// phone is the person's phone number in E.164 form.
	// +optional
	// +kubebuilder:validation:Pattern=`^[+][1-9][0-9]{6,14}$`
	Phone string `json:"phone,omitempty"`
}

// AccountStatus is what the operator observed of the Account.
type AccountStatus struct {
	// members are the memberships whose credential Secrets carry this Account's password hash
	// and 2FA key, sorted by namespace and name. Only the person joins one: by accepting an
	// invitation (choosing the password, or signing in with it).
	// +optional
	// +listType=map
	// +listMapKey=namespace
	// +listMapKey=name
	Members []AccountMember `json:"members,omitempty"`

	// stores is the number of Members, for kubectl get.
	// +optional
	Stores int32 `json:"stores,omitempty"`

	// twoFactor is true when the Account has a TOTP key.
	// +optional
	TwoFactor bool `json:"twoFactor,omitempty"`

	// passwordSource, when set, says that the password is declared in Git: a Member made the
	// Account from its spec.passwordSecretRef. Git wins: the Secret's changes reach every store,
	// the person's own password changes are refused, and only Members in its namespace join.
	// +optional
	PasswordSource *AccountPasswordSource `json:"passwordSource,omitempty"`

	// passwordChangedAt is when the person last set the Account's password.
	// +optional
	PasswordChangedAt *metav1.Time `json:"passwordChangedAt,omitempty"`

	// secretVersion is the resourceVersion of the Account's Secret when this status was written.
	// It changes whenever the Secret does (a new password, 2FA key or login name), so that a
	// manager that watches Accounts but does not cache their Secrets (a namespace shard) learns
	// when the stores' credential Secrets need the Account's Secret again.
	// +optional
	SecretVersion string `json:"secretVersion,omitempty"`

	// observedGeneration is the spec generation that this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=account,categories=storeops
// +kubebuilder:printcolumn:name="Email",type=string,JSONPath=`.spec.email`
// +kubebuilder:printcolumn:name="Login",type=string,JSONPath=`.spec.loginName`
// +kubebuilder:printcolumn:name="Stores",type=integer,JSONPath=`.status.stores`
// +kubebuilder:printcolumn:name="2FA",type=boolean,JSONPath=`.status.twoFactor`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// Account is one person across the cluster: the login email, display name and phone, and (in a
// Secret in the operator's namespace) the password hash and 2FA key that every credential Secret
// of the person's Members carries. The operator creates it when a person first accepts an
// invitation and deletes it, with its Secret, when their last Member is gone.
type Account struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is who the person is.
	// +required
	Spec AccountSpec `json:"spec"`

	// status is what the operator observed.
	// +optional
	Status AccountStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// AccountList contains a list of Account.
type AccountList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Account `json:"items"`
}

// StatusConditions are the Account's conditions, to be changed in place.
func (a *Account) StatusConditions() *[]metav1.Condition { return &a.Status.Conditions }

// SetObservedGeneration records the generation the Account's status describes.
func (a *Account) SetObservedGeneration(generation int64) { a.Status.ObservedGeneration = generation }

// StatusValue is the Account's status by value, to compare: it is read, never changed.
func (a *Account) StatusValue() any { return a.Status }

// GovernedBy reports whether the Account's password is the one that namespace's Secret and key
// declare (status.passwordSource).
func (a *Account) GovernedBy(namespace string, ref *SecretKeyReference) bool {
	src := a.Status.PasswordSource
	return src != nil && ref != nil && src.Namespace == namespace && src.Secret == ref.Name && src.Key == ref.Key
}

// Joined reports whether the Member with uid is one of the Account's memberships.
func (a *Account) Joined(uid string) bool {
	for _, m := range a.Status.Members {
		if m.UID == uid {
			return true
		}
	}
	return false
}

// AccountName is the name of the Account of an address: the readable part of the normalized
// address and a hash of all of it (an address may hold characters a name cannot, and two
// addresses may share their readable part).
func AccountName(email EmailAddress) string {
	normalized := strings.ToLower(string(email))
	sum := sha256.Sum256([]byte(normalized))
	var readable strings.Builder
	for _, r := range normalized {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			readable.WriteRune(r)
		case r == '@' || r == '.' || r == '-' || r == '+' || r == '_':
			if s := readable.String(); s != "" && !strings.HasSuffix(s, "-") {
				readable.WriteByte('-')
			}
		}
		if readable.Len() >= 40 {
			break
		}
	}
	prefix := strings.TrimRight(readable.String(), "-")
	if prefix == "" {
		prefix = "account"
	}
	return prefix + "-" + hex.EncodeToString(sum[:6])
}

// AccountSecretName is the name of an Account's Secret, in the operator's namespace.
func AccountSecretName(account string) string { return "account-" + account }
