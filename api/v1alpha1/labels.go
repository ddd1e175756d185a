// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package v1alpha1

import (
	"fmt"
	"hash/fnv"
	"strings"

	"k8s.io/apimachinery/pkg/types"
)

// GroupPrefix starts every label and annotation key of the operator's own.
const GroupPrefix = "membership.storeops.io/"

// Condition types. Reasons are added with the behaviour that sets them.
const (
	// ConditionReady is True when the operator has nothing left to do on its own: the object is as
	// its spec asks, waits on a person, or has finished; its reason says which. It is False
	// exactly while Reconciling or Stalled is True (docs/gitops.md).
	ConditionReady = "Ready"
	// ConditionCredentialsReady is True when a Member's credential Secret matches its spec.
	ConditionCredentialsReady = "CredentialsReady"
	// ConditionDelivered is True when an Invitation's email reached the SMTP server.
	ConditionDelivered = "Delivered"
	// ConditionOwnerActive is True on a Store once its owner has activated their account (a
	// person's step: the Store is Ready before it).
	ConditionOwnerActive = "OwnerActive"
	// ConditionMembersSuspended (Store) is True while the owner's activation is overdue
	// (spec.owner.activationDeadline passed): every Member but integration logins is Suspended and
	// member invitations wait. The Store controller decides it; the others follow it.
	ConditionMembersSuspended = "MembersSuspended"
	// ConditionReconciling (kstatus) is True while the operator works on an object and expects to
	// finish on its own; absent otherwise.
	ConditionReconciling = "Reconciling"
	// ConditionStalled (kstatus) is True when an object cannot progress until someone changes
	// something; absent otherwise.
	ConditionStalled = "Stalled"
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
	// InvitationLabel names the Invitation a token Secret belongs to.
	InvitationLabel = "membership.storeops.io/invitation"
	// TokenIDLabel on a token Secret holds the public ID part of the link token, so the acceptance
	// server finds the Secret through an index instead of comparing every stored hash.
	TokenIDLabel = "membership.storeops.io/token-id"
	// TokenKeyLabel marks the Secret holding the key from which link tokens are derived.
	TokenKeyLabel = "membership.storeops.io/token-key"
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
	// ReasonAccessExpired: spec.accessExpiresAt has passed.
	ReasonAccessExpired = "AccessExpired"
	// ReasonPasswordSourceConflict: another Member of the person in this namespace declares the
	// password of their Account with a different spec.passwordSecretRef; the earlier one wins.
	ReasonPasswordSourceConflict = "PasswordSourceConflict"
	// ReasonPasswordSecretNotFound: spec.passwordSecretRef names a missing Secret or key.
	ReasonPasswordSecretNotFound = "PasswordSecretNotFound"
	// ReasonPasswordInvalid: the supplied password cannot be used (empty or over 72 bytes).
	ReasonPasswordInvalid = "PasswordInvalid"

	// ReasonAlreadyMember: an Invitation's email already belongs to a Member of its Store.
	ReasonAlreadyMember = "AlreadyMember"
	// ReasonMemberLimitReached: sending the Invitation would pass the Store's memberLimit.
	ReasonMemberLimitReached = "MemberLimitReached"
	// ReasonMemberOfAnotherStore: with --exclusive-membership, the email belongs to another Store.
	ReasonMemberOfAnotherStore = "MemberOfAnotherStore"
	// ReasonOwnerRoleNotAllowed: the owner role is given only by the operator (a Store's owner
	// activation and ownership transfer), never by an Invitation someone wrote.
	ReasonOwnerRoleNotAllowed = "OwnerRoleNotAllowed"
	// ReasonSending: the invitation email is being handed to the SMTP server.
	ReasonSending = "Sending"
	// ReasonDeliveryFailed: the SMTP server did not accept the email; it is retried with backoff.
	ReasonDeliveryFailed = "DeliveryFailed"
	// ReasonSent: the email was delivered and the link works until status.expiresAt.
	ReasonSent = "Sent"
	// ReasonAccepted: the invitee accepted and became a Member.
	ReasonAccepted = "Accepted"
	// ReasonExpired: the link was not used before status.expiresAt.
	ReasonExpired = "Expired"
	// ReasonRevoked: the invitation was withdrawn; its link no longer works.
	ReasonRevoked = "Revoked"
	// ReasonDeclined: the invitee declined the invitation.
	ReasonDeclined = "Declined"
	// ReasonAwaitingPassword: the Member was created by accepting an invitation and its password
	// (chosen by the invitee) is being stored.
	ReasonAwaitingPassword = "AwaitingPassword"
	// ReasonSecretConflict: a Secret a Member needs (<member>-credentials or -retained) exists
	// and is not controlled by that Member; the operator leaves it exactly as it is.
	ReasonSecretConflict = "SecretConflict"
	// ReasonOwnerActive: the Store's owner has activated their account (set a password).
	ReasonOwnerActive = "OwnerActive"
	// ReasonAwaitingOwnerActivation: the owner's activation email is out (or being sent) and the
	// owner has not set their password yet.
	ReasonAwaitingOwnerActivation = "AwaitingOwnerActivation"
	// ReasonOwnerManagedByStore: the owner Member is the Store's; it is put back to what the
	// Store says (roles [owner], 2FA on, enabled) when edited directly.
	ReasonOwnerManagedByStore = "OwnerManagedByStore"
	// ReasonLoginConflict: another Member of the Store already signs in with this login (an
	// integration's client ID against a person's email or another client ID).
	ReasonLoginConflict = "LoginConflict"
	// ReasonOwnerActivationOverdue: the Store's owner did not activate by
	// spec.owner.activationDeadline, so the Store's Members are suspended and its invitations wait.
	ReasonOwnerActivationOverdue = "OwnerActivationOverdue"
)

// Finalizers and annotations.
const (
	// MemberFinalizer holds a Member until its access is revoked and the removed person is told.
	MemberFinalizer = "membership.storeops.io/revoke-access"
	// StoreFinalizer holds a Store until its Members (whose own finalizers revoke their access
	// and tell them) and its Invitations (whose links are revoked) are gone. It works without a
	// garbage collector.
	StoreFinalizer = "membership.storeops.io/remove-members"
	// InvitationFinalizer holds an owner-transfer Invitation until the new owner's password hash
	// (NewOwnerCredentialsSecretName) is gone, with or without a garbage collector. Member
	// invitations have none: the link's hash lives in the Invitation's status, so deleting the
	// Invitation destroys it. (Invitations sent before the hash moved into the status carry it
	// too, until their token Secret is gone.)
	InvitationFinalizer = "membership.storeops.io/revoke-invitation"
	// PasswordSourceLabel, set to "true", opts a Secret in as a Member's spec.passwordSecretRef.
	// The operator reads no other Secret for a password: without the opt-in, a tenant who may
	// edit Members but not read Secrets could point one at any Secret of the namespace and learn
	// from the Member's status whether it exists, which keys it has, or log in with its value.
	PasswordSourceLabel = "membership.storeops.io/password-source"
	// PasswordSourceAnnotation on a credential Secret records which version (UID/resourceVersion)
	// of the spec.passwordSecretRef Secret its hash was made from, so an unchanged source costs no
	// bcrypt work.
	PasswordSourceAnnotation = "membership.storeops.io/password-source"
	// InvitationAnnotation on a Member names the Invitation it was created from by the acceptance
	// server. Such a Member gets its password from the invitee, never a generated one: the
	// controller waits for the credential Secret the acceptance server writes.
	InvitationAnnotation = "membership.storeops.io/invitation"
	// OwnerNotifiedAnnotation on a transfer Invitation holds when (RFC 3339) the current owner was
	// emailed about it, with the link that stops it.
	OwnerNotifiedAnnotation = "membership.storeops.io/owner-notified"
	// CancelledByOwnerAnnotation on a transfer Invitation holds when (RFC 3339) the current owner
	// stopped it through that link. The Store revokes it, and starts no transfer to that address
	// again while it exists.
	CancelledByOwnerAnnotation = "membership.storeops.io/cancelled-by-owner"
	// SeatSinceAnnotation on a Member created by the acceptance server holds when (RFC 3339) its
	// Invitation was created: the Member's place in line for a seat under spec.memberLimit is its
	// invitation's, not the moment it was accepted.
	SeatSinceAnnotation = "membership.storeops.io/seat-since"
	// AcceptClaimAnnotation on a Member created by the acceptance server holds when (RFC 3339) an
	// acceptance claimed it. A second submission of the same link while it is fresh gets 409; an
	// acceptance interrupted before it finished may be completed by a retry after a minute.
	AcceptClaimAnnotation = "membership.storeops.io/accept-claimed-at"
	// TOTPLastStepAnnotation on a credential Secret records the last TOTP time step (Unix seconds
	// / 30) the operator's endpoints accepted for it. A code of that step or an earlier one is
	// refused, so a code seen over someone's shoulder or in a proxy log cannot be replayed, on any
	// replica: the record is written with the Secret's resourceVersion as precondition.
	TOTPLastStepAnnotation = "membership.storeops.io/totp-last-step"
	// RetainedForLabel marks the Secret that keeps a disabled Member's credentials (hash, TOTP
	// secret) so that enabling restores them. It deliberately lacks MemberLabel: it is no grant.
	RetainedForLabel = "membership.storeops.io/retained-for"
)

// Owner invitations: the Store controller creates them (controlled by the Store) to activate the
// owner's account and to hand the store over.
const (
	// OwnerInvitationAnnotation on an owner Invitation says what it is for: OwnerActivation or
	// OwnerTransfer. It selects the email and what accepting it does.
	OwnerInvitationAnnotation = "membership.storeops.io/owner-invitation"
	// OwnerActivation: the owner sets the password of the owner Member, which has none yet.
	OwnerActivation = "activation"
	// OwnerTransfer: a new owner takes the store over; the previous owner's credentials go.
	OwnerTransfer = "transfer"
	// PreviousOwnerAnnotation on a transfer Invitation holds the address of the owner being
	// replaced, who is told when the transfer completes.
	PreviousOwnerAnnotation = "membership.storeops.io/previous-owner"
	// AcceptedByAnnotation on an Invitation names the Member its invitee became, written by the
	// acceptance server once the password is stored (AcceptedAtAnnotation: when, RFC 3339). The
	// Invitation controller, its status's one writer, then marks it Accepted and deletes its
	// link; every reader counts it accepted from the moment the annotation is written.
	AcceptedByAnnotation = "membership.storeops.io/accepted-by"
	AcceptedAtAnnotation = "membership.storeops.io/accepted-at"
	// DeclinedAtAnnotation on an Invitation is written by the acceptance server when the invitee
	// says it is not for them (RFC 3339). The Invitation controller marks it Declined, deletes its
	// link and tells the Store's notification address; every reader counts it declined (its link
	// dead) from the moment the annotation is written. An acceptance recorded first wins.
	DeclinedAtAnnotation = "membership.storeops.io/declined-at"
	// RevokeAnnotation on an Invitation asks the Invitation controller, its status's one writer,
	// to withdraw it: Revoked, its link dead, with the annotation's value as the reason. The
	// Store sets it on the owner invitations it no longer wants; an accepted or expired
	// invitation ignores it. (Deleting an Invitation revokes it too, and removes the record.)
	RevokeAnnotation = "membership.storeops.io/revoke"
	// SupersededByAnnotation on a Member that the Store removes because its email became the
	// owner's (one account per email per store) names the owner Member. Its person is not sent an
	// "access removed" email: they now hold the store's owner account.
	SupersededByAnnotation = "membership.storeops.io/superseded-by"
)

// Account tokens: single-use links the acceptance server issues to Members (a password reset).
// Each lives in a Secret owned by its Member, holding only the SHA-256 of the token's secret.
const (
	// TokenPurposeLabel says what an account token Secret's link does.
	TokenPurposeLabel = "membership.storeops.io/token-purpose"
	// PurposePasswordReset: the link sets a new password.
	PurposePasswordReset = "password-reset"
	// PurposeEmailChange: the link, sent to the new address, makes it the Member's login email.
	PurposeEmailChange = "email-change"
	// PurposeEmailChangeCancel: the link, sent to the current address when a change is asked
	// for, stops it (revokes the email-change link) until the change is confirmed.
	PurposeEmailChangeCancel = "email-change-cancel"
	// PurposeTransferCancel: the link, sent to the current owner when a transfer starts, stops it
	// until it is accepted. Its Secret names the transfer Invitation (InvitationAnnotation).
	PurposeTransferCancel = "transfer-cancel"
	// NewEmailAnnotation on an email-change token Secret holds the address being confirmed.
	NewEmailAnnotation = "membership.storeops.io/new-email"
	// PurposeTwoFactorEnrolment: the link shows a Member's new TOTP secret once, after an
	// administrator reset their 2FA.
	PurposeTwoFactorEnrolment = "2fa-enrolment"
	// TokenForLabel names the Member an account token Secret belongs to. It is deliberately not
	// MemberLabel, which marks the credential Secret (the grant).
	TokenForLabel = "membership.storeops.io/token-for"
	// ExpiresAtAnnotation on an account token Secret holds when (RFC 3339) its link stops
	// working; the Member controller deletes it then.
	ExpiresAtAnnotation = "membership.storeops.io/expires-at"
)

// OperatorFieldManager is the field manager of the operator's own writes to Members. A Member
// whose spec.email another manager owns (kubectl, Argo CD, Flux) is declared in Git: self-service
// never changes that field, so the operator never fights a GitOps pipeline.
const OperatorFieldManager = "member-operator"

// AccountTokenSecretName is the name of the Secret of a Member's account token with public ID id.
func AccountTokenSecretName(member, purpose, id string) string {
	return boundedName(member, "-"+purpose+"-"+id)
}

// OwnerMemberName is the name of a Store's owner Member: <store>-owner.
func OwnerMemberName(store string) string { return boundedName(store, "-owner") }

// NewOwnerCredentialsSecretName is the name of the Secret in which accepting a transfer
// Invitation leaves the new owner's password hash and TOTP secret until the Store controller
// moves them into the owner's credential Secret.
func NewOwnerCredentialsSecretName(invitation string) string {
	return boundedName(invitation, "-new-owner-credentials")
}

// CredentialRequestName is the name of the credential request of kind for the Member with uid:
// one per kind and Member, so that creating an activation request is a claim (a second one gets
// 409) and a newer password change replaces a waiting one.
func CredentialRequestName(kind string, uid types.UID) string {
	return "credentials-" + kind + "-" + string(uid)
}

// TokenHashKey is the key of a token Secret holding the hex SHA-256 of the link token's secret
// (account links; and invitation links sent before the hash moved into Invitation.status.tokenHash).
const TokenHashKey = "token-hash"

// Keys of a credential Secret.
const (
	CredentialUsername     = "username"
	CredentialPasswordHash = "password-hash"
	CredentialPassword     = "password"
	CredentialTOTPSecret   = "totp-secret"
	CredentialTOTPURI      = "totp-uri"
	CredentialRoles        = "roles"
	CredentialPermissions  = "permissions"
	// CredentialEmailPreferences holds the Member's effective email preferences (the Store's
	// defaults overlaid by the Member's own) as a JSON object of name to bool, so that the admin
	// application's mailer honours them.
	CredentialEmailPreferences = "email-preferences"
	// CredentialLoginType is "integration" in an integration login's Secret (absent for a person),
	// whose username is the client ID and password, when generated, the client secret.
	CredentialLoginType = "login-type"
	// LoginTypeIntegration is CredentialLoginType's value for an integration login.
	LoginTypeIntegration = "integration"
	// CredentialLoginName is the person's login name (their Account's spec.loginName), present
	// only when they chose one: the admin application accepts it wherever it accepts the email
	// in username, which stays the email so that readers of username keep working.
	CredentialLoginName = "login-name"
)

// CredentialsSecretName is the name of a Member's credential Secret: <member>-credentials.
func CredentialsSecretName(member string) string { return boundedName(member, "-credentials") }

// RetainedSecretName is the name of the Secret that keeps a disabled Member's credentials.
func RetainedSecretName(member string) string { return boundedName(member, "-credentials-retained") }

// InvitationTokenSecretName is the name of the Secret in which versions before
// status.tokenHash kept an Invitation's token hash: <invitation>-token, shortened with a hash of
// the full name when that would pass 253 characters. It is read only to keep links emailed before
// an upgrade working, until the controller has moved their hash into the status.
func InvitationTokenSecretName(invitation string) string { return boundedName(invitation, "-token") }

// boundedName appends suffix to base, keeping the result a valid object name (at most 253
// characters): an over-long base is cut and followed by 8 hex digits of its FNV hash, so distinct
// bases stay distinct.
func boundedName(base, suffix string) string {
	const maxLen = 253
	if len(base)+len(suffix) <= maxLen {
		return base + suffix
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(base))
	tag := fmt.Sprintf("-%08x", h.Sum32())
	return strings.TrimRight(base[:maxLen-len(suffix)-len(tag)], "-.") + tag + suffix
}

// Accounts: what the operator keeps of a person, and how the acceptance server and the Member
// controller ask the Account controller (the one writer of an Account and its Secret) to change it.
const (
	// AccountLabel names the Account that an account Secret, an account request or a credential
	// Secret projecting the Account belongs to.
	AccountLabel = "membership.storeops.io/account"
	// AccountSecretLabel (value AccountSecretValue) marks an Account's own Secret (password hash, 2FA key,
	// login name), which the Account controller writes. Namespace shards leave these Secrets out
	// of their caches (a selector "notin (true)", which also keeps every Secret without the label)
	// and read the few they project from the API server.
	AccountSecretLabel = "membership.storeops.io/account-secret"
	// AccountSecretValue is AccountSecretLabel's value.
	AccountSecretValue = "true"
	// AccountRequestLabel marks a request Secret (in the operator's namespace, where tenants
	// cannot write) that asks the Account controller to change an Account; its value is what is
	// asked (AccountRequest*). The controller applies requests in creation order, then deletes them.
	AccountRequestLabel = "membership.storeops.io/account-request"
	// AccountRequestPassword sets the Account's password (data: password-hash), and creates the
	// Account when there is none. With MemberUIDAnnotation, it also joins that Member.
	AccountRequestPassword = "password"
	// AccountRequestJoin joins the Member MemberUIDAnnotation names, after the person signed in
	// with the Account's password. Data may carry totp-secret: the key enrolled at that moment
	// when the Account had none.
	AccountRequestJoin = "join"
	// AccountRequestTwoFactor replaces the Account's TOTP key (data: totp-secret): an
	// administrator's reset-2fa, which affects every store of the person.
	AccountRequestTwoFactor = "two-factor"
	// AccountRequestMove moves a person's Account to a new login email (the person confirmed it
	// through a link sent there). It is made for the new address's Account and carries the old
	// Account's password-hash and totp-secret, the old address (MovedFromAnnotation) and the
	// Members that move (MovingMembersAnnotation), which join the new Account once their
	// spec.email holds the new address. It applies only to an Account without a password of its
	// own: nobody's password is replaced by a move.
	AccountRequestMove = "move"
	// AccountRequestGitPassword sets the Account's password from a Member's
	// spec.passwordSecretRef (data: password-hash, and totp-secret, the Member's key, for an
	// Account it makes) and joins that Member (MemberUIDAnnotation). It makes the Account when
	// there is none, governed by that source (PasswordSourceRefAnnotation); it applies to an
	// existing Account only when the same source governs it.
	AccountRequestGitPassword = "git-password"
	// AccountRequestProfile sets the person's display name and phone on the Account (annotations
	// DisplayNameAnnotation and PhoneAnnotation; empty clears), from the account page.
	AccountRequestProfile = "profile"
	// AccountRequestTwoFactorOff removes the Account's TOTP key, from the account page: only
	// while none of the person's memberships requires 2FA (the controller checks again).
	AccountRequestTwoFactorOff = "two-factor-off"
	// AccountRequestLoginName sets (or, empty, removes) the Account's login name (annotation
	// LoginNameAnnotation), from the account page. The Account controller claims the name
	// (LoginNameClaimName) before it writes it, so two people never hold one name.
	AccountRequestLoginName = "login-name"
	// LoginNameAnnotation on a login-name request is the name asked for.
	LoginNameAnnotation = "membership.storeops.io/login-name"
	// LoginNameClaimLabel marks the Secret (in the operator's namespace, controlled by the
	// Account, with no data) that holds a login name for one Account: it is created, never
	// updated, so the API server decides who was first. Its value is the name.
	LoginNameClaimLabel = "membership.storeops.io/login-name-claim"
	// PhoneAnnotation on a profile request is the person's phone number (E.164).
	PhoneAnnotation = "membership.storeops.io/phone"
	// PasswordSourceRefAnnotation on a git-password request names the source as namespace/secret/key.
	PasswordSourceRefAnnotation = "membership.storeops.io/password-source-ref"
	// MovedFromAnnotation on a move request holds the address the Account moves away from.
	MovedFromAnnotation = "membership.storeops.io/moved-from"
	// MovingMembersAnnotation on a move request lists the Members that move, as
	// namespace/name/uid separated by commas.
	MovingMembersAnnotation = "membership.storeops.io/moving-members"
	// MemberRefAnnotation on an account request names the Member (namespace/name) it joins;
	// MemberUIDAnnotation holds that Member's UID.
	MemberRefAnnotation = "membership.storeops.io/member-ref"
	MemberUIDAnnotation = "membership.storeops.io/member-uid"
	// EmailAnnotation on an account request holds the address whose Account it changes.
	EmailAnnotation = "membership.storeops.io/email"
	// DisplayNameAnnotation on an account request holds the display name the invitee chose.
	DisplayNameAnnotation = "membership.storeops.io/display-name"
	// CredentialRequestLabel marks a request Secret (in the operator's namespace, where tenants
	// cannot write) that asks the Member controller, the one writer of a credential Secret's data,
	// to put a password hash (and a TOTP key) into the credential Secret of the Member that
	// MemberRefAnnotation and MemberUIDAnnotation name. Its value is what is asked
	// (CredentialRequest*); its name is CredentialRequestName's, one per kind and Member. The
	// Member controller applies it and deletes it.
	CredentialRequestLabel = "membership.storeops.io/credential-request"
	// CredentialRequestActivation creates the credential Secret of a login of its own (the owner
	// activating the Store, an invitee whose address has no Account here) with the password the
	// person chose on the acceptance page (data: password-hash, and totp-secret when 2FA is
	// required). It applies only while the Member has no credential Secret: its creation is the
	// acceptance's claim.
	CredentialRequestActivation = "activation"
	// CredentialRequestPassword replaces the password hash of a login of its own (data:
	// password-hash), the person's own change through self-service. It applies only while the
	// Secret still has the hash the person signed in with (ReplacesAnnotation): a password
	// written in between (a transfer, a reset) is never undone by it.
	CredentialRequestPassword = "password"
	// CredentialRequestTransfer puts an accepted ownership transfer's new owner's password hash
	// and TOTP key (data) into the owner Member's credential Secret, asked by the Store
	// controller; the previous owner's credentials stop working at that write.
	CredentialRequestTransfer = "transfer"
	// ReplacesAnnotation on a password credential request is the hex SHA-256 of the password hash
	// it replaces.
	ReplacesAnnotation = "membership.storeops.io/replaces"
	// AccountSeparate is AccountLabel's value on a credential Secret that belongs to no Account:
	// a Member declared without the person (in Git, by an administrator, the owner from the
	// Store), or one that kept its own password through the upgrade to accounts.
	AccountSeparate = "none"
)
