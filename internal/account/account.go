// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package account holds what the Account controller (the one writer of an Account and its
// Secret), the Member controller (which projects an Account into credential Secrets) and the
// acceptance server (which asks for changes) share: where an Account's Secret is, how it is read
// and checked, and how a change is asked for. A change is a request Secret in the operator's
// namespace, where tenants cannot write: the Account controller applies requests in creation
// order and deletes them, as cert-manager's CertificateRequests hand work to an issuer.
package account

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/index"
)

// Credentials are what an Account keeps for every store of its person.
type Credentials struct {
	// PasswordHash is the bcrypt hash of the person's password.
	PasswordHash []byte
	// TOTPSecret is the person's TOTP key; empty when not enrolled.
	TOTPSecret string
}

// Person is an Account with its Secret: someone who can sign in.
type Person struct {
	Account     *membershipv1alpha1.Account
	Secret      *corev1.Secret
	Credentials Credentials
}

// Find reads the Account of email from reader and its Secret from secrets (both the cache, but
// for a namespace shard, which does not cache account Secrets: the API server). nil when there
// is no Account, or it has no Secret of its own (controller reference with the Account's UID)
// with a password yet: nobody can sign in to it.
func Find(ctx context.Context, reader, secrets client.Reader, namespace string, email membershipv1alpha1.EmailAddress) (*Person, error) {
	acct, err := Of(ctx, reader, email)
	if err != nil || acct == nil {
		return nil, err
	}
	return PersonOf(ctx, secrets, namespace, acct)
}

// PersonOf is acct with its Secret, read from secrets; nil when acct is being deleted or has no
// Secret of its own with a password. Callers that decide on the Account first (has this Member
// joined it?) read the Secret, uncached in a namespace shard, only when it matters.
func PersonOf(ctx context.Context, secrets client.Reader, namespace string, acct *membershipv1alpha1.Account) (*Person, error) {
	if !acct.DeletionTimestamp.IsZero() {
		return nil, nil
	}
	secret, err := SecretOf(ctx, secrets, namespace, acct)
	if err != nil || secret == nil {
		return nil, err
	}
	creds := CredentialsOf(secret)
	if len(creds.PasswordHash) == 0 {
		return nil, nil
	}
	return &Person{Account: acct, Secret: secret, Credentials: creds}, nil
}

// Of reads the Account of email from reader; nil when there is none. The Account's name keeps 48
// bits of a hash of the address, so another address can be made to share it with some GPU-hours
// of work: a name is not an identity, and an Account of another address is not this one's.
func Of(ctx context.Context, reader client.Reader, email membershipv1alpha1.EmailAddress) (*membershipv1alpha1.Account, error) {
	acct := &membershipv1alpha1.Account{}
	if err := reader.Get(ctx, client.ObjectKey{Name: membershipv1alpha1.AccountName(email)}, acct); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	if !strings.EqualFold(string(acct.Spec.Email), string(email)) {
		return nil, nil
	}
	return acct, nil
}

// SecretOf reads acct's Secret; nil when it has none of its own.
func SecretOf(ctx context.Context, reader client.Reader, namespace string, acct *membershipv1alpha1.Account) (*corev1.Secret, error) {
	secret := &corev1.Secret{}
	err := reader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: membershipv1alpha1.AccountSecretName(acct.Name)}, secret)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !metav1.IsControlledBy(secret, acct) {
		return nil, nil // not the Account's: never read a password from it
	}
	return secret, nil
}

// CredentialsOf reads the credentials in an Account's Secret.
func CredentialsOf(secret *corev1.Secret) Credentials {
	return Credentials{
		PasswordHash: secret.Data[membershipv1alpha1.CredentialPasswordHash],
		TOTPSecret:   string(secret.Data[membershipv1alpha1.CredentialTOTPSecret]),
	}
}

// Request is a change asked of the Account controller.
type Request struct {
	// Kind is membershipv1alpha1.AccountRequestPassword, AccountRequestJoin, AccountRequestTwoFactor
	// or AccountRequestMove.
	Kind string
	// Email is the address of the Account.
	Email membershipv1alpha1.EmailAddress
	// Member, when set, is joined to the Account.
	Member *membershipv1alpha1.Member
	// DisplayName is the person's name, for an Account this request creates, or (Kind profile)
	// the name the person chose.
	DisplayName string
	// Phone is the person's phone number (Kind profile), or the one that moves with them (Kind move).
	Phone string
	// LoginName is the login name asked for, empty to remove it (Kind login-name), or the one
	// that moves with the person (Kind move).
	LoginName string
	// PasswordHash is the new password's bcrypt hash (Kind password).
	PasswordHash []byte
	// TOTPSecret is a TOTP key: the one enrolled while joining, or an administrator's reset.
	TOTPSecret string
	// MovedFrom is the address an Account moves away from (Kind move).
	MovedFrom membershipv1alpha1.EmailAddress
	// Moving are the Members that move with it (Kind move).
	Moving []membershipv1alpha1.Member
	// PasswordSource is the Secret that declares the password (Kind git-password).
	PasswordSource *membershipv1alpha1.AccountPasswordSource
	// NotAfter, when set, is when the request stops waiting (Kind move; ExpiresAtAnnotation),
	// on the asker's clock, which is the Account controller's too.
	NotAfter time.Time
}

// AllIn reports whether every one of members is in namespace: the only Accounts a password
// source in that namespace may govern, so that the tenant writing it decides for its own stores
// alone. The Member controller asks it of an Account's status, the Account controller of the
// Members it is recording.
func AllIn(namespace string, members ...membershipv1alpha1.AccountMember) bool {
	for _, m := range members {
		if m.Namespace != namespace {
			return false
		}
	}
	return true
}

// MoveWait bounds how long a move waits for its Members to take the new address. The server
// updates them right after asking; a move still waiting after that was interrupted (the server
// stopped in between): the Members updated by then have joined, the others stay with the old
// Account.
const MoveWait = 5 * time.Minute

// Waiting reports whether req may still wait at now: before its ExpiresAtAnnotation, or, without
// one, within MoveWait of its creation.
func Waiting(req *corev1.Secret, now time.Time) bool {
	if at, err := time.Parse(time.RFC3339, req.Annotations[membershipv1alpha1.ExpiresAtAnnotation]); err == nil {
		return now.Before(at)
	}
	return now.Sub(req.CreationTimestamp.Time) < MoveWait
}

// PasswordSourceOf reads a git-password request's source (PasswordSourceRefAnnotation).
func PasswordSourceOf(req *corev1.Secret) (membershipv1alpha1.AccountPasswordSource, bool) {
	parts := strings.Split(req.Annotations[membershipv1alpha1.PasswordSourceRefAnnotation], "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return membershipv1alpha1.AccountPasswordSource{}, false
	}
	return membershipv1alpha1.AccountPasswordSource{Namespace: parts[0], Secret: parts[1], Key: parts[2]}, true
}

// MovingMembers reads a move request's list of Members (MovingMembersAnnotation) as
// namespace, name and UID.
func MovingMembers(req *corev1.Secret) []membershipv1alpha1.AccountMember {
	var out []membershipv1alpha1.AccountMember
	for _, entry := range strings.Split(req.Annotations[membershipv1alpha1.MovingMembersAnnotation], ",") {
		parts := strings.Split(entry, "/")
		if len(parts) == 3 && parts[0] != "" && parts[1] != "" && parts[2] != "" {
			out = append(out, membershipv1alpha1.AccountMember{Namespace: parts[0], Name: parts[1], UID: parts[2]})
		}
	}
	return out
}

// ErrNoNamespace says that the operator's namespace for accounts is not configured.
var ErrNoNamespace = errors.New("the operator's namespace for accounts is not known (--account-namespace)")

// Ask creates the request Secret for req in namespace, the operator's. The Account controller
// applies it within moments; the caller does not wait.
func Ask(ctx context.Context, c client.Client, namespace string, req Request) (*corev1.Secret, error) {
	if namespace == "" {
		return nil, ErrNoNamespace
	}
	name := membershipv1alpha1.AccountName(req.Email)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: "account-request-",
			Namespace:    namespace,
			Labels: map[string]string{
				membershipv1alpha1.ManagedByLabel:      membershipv1alpha1.ManagedByValue,
				membershipv1alpha1.AccountLabel:        name,
				membershipv1alpha1.AccountRequestLabel: req.Kind,
			},
			Annotations: map[string]string{membershipv1alpha1.EmailAnnotation: string(req.Email)},
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{},
	}
	if req.Member != nil {
		secret.Annotations[membershipv1alpha1.MemberRefAnnotation] = req.Member.Namespace + "/" + req.Member.Name
		secret.Annotations[membershipv1alpha1.MemberUIDAnnotation] = string(req.Member.UID)
	}
	if src := req.PasswordSource; src != nil {
		secret.Annotations[membershipv1alpha1.PasswordSourceRefAnnotation] = src.Namespace + "/" + src.Secret + "/" + src.Key
	}
	if !req.NotAfter.IsZero() {
		secret.Annotations[membershipv1alpha1.ExpiresAtAnnotation] = req.NotAfter.UTC().Format(time.RFC3339)
	}
	if req.MovedFrom != "" {
		secret.Annotations[membershipv1alpha1.MovedFromAnnotation] = string(req.MovedFrom)
	}
	if len(req.Moving) > 0 {
		entries := make([]string, 0, len(req.Moving))
		for i := range req.Moving {
			m := &req.Moving[i]
			entries = append(entries, m.Namespace+"/"+m.Name+"/"+string(m.UID))
		}
		secret.Annotations[membershipv1alpha1.MovingMembersAnnotation] = strings.Join(entries, ",")
	}
	if req.DisplayName != "" || req.Kind == membershipv1alpha1.AccountRequestProfile {
		secret.Annotations[membershipv1alpha1.DisplayNameAnnotation] = req.DisplayName
	}
	if req.Kind == membershipv1alpha1.AccountRequestProfile || req.Phone != "" {
		secret.Annotations[membershipv1alpha1.PhoneAnnotation] = req.Phone
	}
	if req.Kind == membershipv1alpha1.AccountRequestLoginName || req.LoginName != "" {
		secret.Annotations[membershipv1alpha1.LoginNameAnnotation] = strings.ToLower(req.LoginName)
	}
	if len(req.PasswordHash) > 0 {
		secret.Data[membershipv1alpha1.CredentialPasswordHash] = req.PasswordHash
	}
	if req.TOTPSecret != "" {
		secret.Data[membershipv1alpha1.CredentialTOTPSecret] = []byte(req.TOTPSecret)
	}
	if err := c.Create(ctx, secret); err != nil {
		return nil, err
	}
	return secret, nil
}

// Pending lists the requests for the Account name from the manager's cache, oldest first, by
// index (index.SecretAccountRequest): a label selector would scan every Secret the cache holds in
// the namespace.
func Pending(ctx context.Context, cache client.Reader, namespace, name string) ([]corev1.Secret, error) {
	return pending(ctx, cache, client.InNamespace(namespace), client.MatchingFields{index.SecretAccountRequest: name})
}

// PendingLive lists the requests for the Account name from the API server, oldest first: where
// the cache leaves them out (a namespace shard, index.ShardCacheOptions).
func PendingLive(ctx context.Context, apiReader client.Reader, namespace, name string) ([]corev1.Secret, error) {
	return pending(ctx, apiReader, client.InNamespace(namespace), client.MatchingLabels{membershipv1alpha1.AccountLabel: name},
		client.HasLabels{membershipv1alpha1.AccountRequestLabel})
}

func pending(ctx context.Context, reader client.Reader, opts ...client.ListOption) ([]corev1.Secret, error) {
	var list corev1.SecretList
	if err := reader.List(ctx, &list, opts...); err != nil {
		return nil, err
	}
	requests := list.Items
	slices.SortStableFunc(requests, inCreationOrder)
	return requests, nil
}

// inCreationOrder orders requests by creation. creationTimestamp has one-second resolution, and
// two password changes may fall in one second: within it, the resourceVersion they were created
// at decides (etcd's revision, increasing; compared only when both are numbers, as every
// kube-apiserver writes them), then the name.
func inCreationOrder(a, b corev1.Secret) int {
	if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
		return c
	}
	ra, errA := strconv.ParseUint(a.ResourceVersion, 10, 64)
	rb, errB := strconv.ParseUint(b.ResourceVersion, 10, 64)
	if errA == nil && errB == nil && ra != rb {
		return cmp.Compare(ra, rb)
	}
	return strings.Compare(a.Name, b.Name)
}

// Projection is what a joined Member's credential Secret carries of its Account: the password
// hash, the generated password if any, and the TOTP key with its URI for store (its issuer).
func Projection(secret *corev1.Secret, storeDisplayName string, email membershipv1alpha1.EmailAddress) map[string][]byte {
	data := map[string][]byte{}
	creds := CredentialsOf(secret)
	data[membershipv1alpha1.CredentialPasswordHash] = creds.PasswordHash
	if name := secret.Data[membershipv1alpha1.CredentialLoginName]; len(name) > 0 {
		data[membershipv1alpha1.CredentialLoginName] = name
	}
	if creds.TOTPSecret != "" {
		data[membershipv1alpha1.CredentialTOTPSecret] = []byte(creds.TOTPSecret)
		data[membershipv1alpha1.CredentialTOTPURI] = []byte(credentials.TOTPURI(storeDisplayName, string(email), creds.TOTPSecret))
	}
	return data
}

// appliedPoll is how often Applied looks at the cache while a request is applied.
const appliedPoll = 20 * time.Millisecond

// Applied waits, up to timeout, until the Secret key (an Account's, or a Member's credential
// Secret projecting it) read from reader (the cache, kept current by the watch) satisfies done.
// It reports whether it did. Those who ask for a change and must not answer before it holds (a
// password change: the old one must verify nowhere once the person is told) wait here.
func Applied(ctx context.Context, reader client.Reader, key client.ObjectKey, timeout time.Duration, done func(*corev1.Secret) bool) (bool, error) {
	err := wait.PollUntilContextTimeout(ctx, appliedPoll, timeout, true, func(ctx context.Context) (bool, error) {
		secret := &corev1.Secret{}
		if err := reader.Get(ctx, key, secret); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		return done(secret), nil
	})
	if wait.Interrupted(err) {
		return false, nil
	}
	return err == nil, err
}
