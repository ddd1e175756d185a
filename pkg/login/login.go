// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package login is for store admin applications: it checks a sign-in against the credential
// Secrets the member-operator writes, exactly as the operator means them. A person signs in with
// their login email, password and, when 2FA is on, a TOTP code (each time step is accepted once);
// an integration with its client ID and secret. No Secret, or a Member that is not Active
// (disabled, expired, suspended, in conflict), is no access. Check decides for one Secret;
// Directory keeps an informer-backed view of every credential Secret and its Member and finds the
// login of a store.
package login

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/credentials"
)

// Errors. ErrDenied is the one answer for a wrong login, password or code, and for no access at
// all: telling them apart would tell a stranger which logins exist.
var (
	ErrDenied = errors.New("login: the login, password or code is wrong, or the login has no access")
	// ErrCodeRequired: the login and password are right and 2FA is on; ask for the code. It is
	// only returned after the password was checked.
	ErrCodeRequired = errors.New("login: a two-factor code is required")
	// ErrCodeUsed: the code's time step was already used to sign in with this 2FA key.
	ErrCodeUsed = errors.New("login: this two-factor code was already used; wait for the next one")
)

// Identity is who signed in and what they may do in the store.
type Identity struct {
	// Namespace, Store and Member name the membership.
	Namespace, Store, Member string
	// Login is the username of the credential Secret: a login email, or an integration's client ID.
	Login string
	// LoginName is the person's login name, when they chose one (it signs in as Login does).
	LoginName string
	// Integration is true for a machine's login (no person, no 2FA).
	Integration bool
	// Roles and Permissions are the membership's, sorted.
	Roles, Permissions []string
	// EmailPreferences are the person's effective email preferences for the store.
	EmailPreferences map[string]bool
}

// Steps records the TOTP time steps used to sign in, so a code is accepted once. NewSteps is one
// in memory; applications with several replicas can share one (in Redis, say) through this
// interface.
type Steps interface {
	// Spend records step for the 2FA key identified by key and reports whether it was fresh:
	// only a step later than every step spent before for that key is.
	Spend(key string, step int64) bool
}

// Check checks login (the username, email or client ID, or a person's login name; any case),
// password and code against one credential Secret at now. It does not know
// whether the Secret's Member is Active; Directory does. steps may be nil only where 2FA codes
// need not be single use (tests).
func Check(secret *corev1.Secret, login, password, code string, now time.Time, steps Steps) (*Identity, error) {
	data := secret.Data
	if !names(data, login) {
		spendBcrypt(password)
		return nil, ErrDenied
	}
	if !credentials.VerifyPassword(data[membershipv1alpha1.CredentialPasswordHash], password) {
		return nil, ErrDenied
	}
	integration := string(data[membershipv1alpha1.CredentialLoginType]) == membershipv1alpha1.LoginTypeIntegration
	if key := string(data[membershipv1alpha1.CredentialTOTPSecret]); key != "" && !integration {
		if code == "" {
			return nil, ErrCodeRequired
		}
		step, ok := credentials.MatchTOTP(key, code, now)
		if !ok {
			return nil, ErrDenied
		}
		if steps != nil && !steps.Spend(keyID(key), step) {
			return nil, ErrCodeUsed
		}
	}
	return identity(secret, integration), nil
}

// names reports whether login is the Secret's username or, when it has one, its login name.
func names(data map[string][]byte, login string) bool {
	name := string(data[membershipv1alpha1.CredentialLoginName])
	return login != "" && (strings.EqualFold(string(data[membershipv1alpha1.CredentialUsername]), login) ||
		name != "" && strings.EqualFold(name, login))
}

// identity reads who the Secret is for.
func identity(secret *corev1.Secret, integration bool) *Identity {
	data := secret.Data
	id := &Identity{
		Namespace: secret.Namespace, Store: secret.Labels[membershipv1alpha1.StoreLabel],
		Member: secret.Labels[membershipv1alpha1.MemberLabel], Login: string(data[membershipv1alpha1.CredentialUsername]),
		LoginName:   string(data[membershipv1alpha1.CredentialLoginName]),
		Integration: integration, Roles: list(data[membershipv1alpha1.CredentialRoles]),
		Permissions: list(data[membershipv1alpha1.CredentialPermissions]),
	}
	if raw := data[membershipv1alpha1.CredentialEmailPreferences]; len(raw) > 0 {
		id.EmailPreferences = preferences(raw)
	}
	return id
}

func list(raw []byte) []string {
	if len(raw) == 0 {
		return nil
	}
	out := strings.Split(string(raw), ",")
	sort.Strings(out)
	return out
}

// keyID names a 2FA key without holding it: a person's key is the same in every store of their
// Account, so a code spent in one store is spent in all.
func keyID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// decoy is a bcrypt hash of nothing anybody types: a login that matches no Secret costs the same
// bcrypt work as a wrong password, so timing does not tell which logins exist.
var decoy = func() []byte {
	hash, err := credentials.HashPassword("member-operator login decoy", 10)
	if err != nil {
		panic(err)
	}
	return hash
}()

func spendBcrypt(password string) { _ = credentials.VerifyPassword(decoy, password) }

// memorySteps is Steps in memory.
type memorySteps struct {
	mu   sync.Mutex
	last map[string]int64
	now  func() time.Time
}

// NewSteps is a Steps held in this process. It forgets a key once its last step is too old for
// any code to match it again (one step of skew), so it holds only the keys used in the last
// minute or two.
func NewSteps() Steps { return &memorySteps{last: map[string]int64{}, now: time.Now} }

// forgetAfter is how many keys it holds before forgetting stale ones on a write.
const forgetAfter = 1024

func (m *memorySteps) Spend(key string, step int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if last, seen := m.last[key]; seen && step <= last {
		return false
	}
	m.last[key] = step
	if len(m.last) > forgetAfter {
		oldest := m.now().Unix()/30 - 2 // a code of this step or before matches no more
		for k, s := range m.last {
			if s <= oldest {
				delete(m.last, k)
			}
		}
	}
	return true
}
