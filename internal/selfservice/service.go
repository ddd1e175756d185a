// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package selfservice serves members who already have credentials: forgotten and changed
// passwords, a confirmed change of login email (and its cancel link), 2FA enrolment after an
// administrator's reset, and the owner's link that stops a store transfer. It runs inside the
// acceptance server (internal/accept), which mounts its routes behind the web layer
// (internal/web).
package selfservice

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/internal/web"
)

// requestTimeout bounds work that continues after its answer (a reset request's lookup and writes).
const requestTimeout = 30 * time.Second

// Service is member self-service. The acceptance server fills every field from its own.
type Service struct {
	// Client is the manager's client: reads come from its cache.
	Client client.Client
	// APIReader reads uncached where freshness decides single use.
	APIReader  client.Reader
	Scheme     *runtime.Scheme
	Recorder   events.EventRecorder
	Clock      clock.PassiveClock
	Mail       mail.Sender
	MailDomain string
	// Random is the source of TOTP secrets: crypto/rand.Reader.
	Random io.Reader
	Log    logr.Logger
	// PublicURL is the base of the links in self-service emails (--public-url).
	PublicURL string
	// PasswordResetTTL is how long a reset link works (--password-reset-ttl); an email change's
	// confirmation link lives as long.
	PasswordResetTTL time.Duration
	// ExclusiveMembership refuses a new login email that belongs to another Store's Member.
	ExclusiveMembership bool
	// AccountNamespace is where Accounts are kept and changes to them asked for.
	AccountNamespace string
	// Passwords is the server's bcrypt work pool, shared with invitation acceptance.
	Passwords *web.PasswordWork
	// LinkOverLimit applies the server's per-link rate limit to a presented token.
	LinkOverLimit func(ctx context.Context, raw string) bool
	// Background is the server's work that outlives its request (emails); the server waits for
	// it on shutdown.
	Background *sync.WaitGroup
	// SessionKey signs the account page's session cookies; every replica derives the same one.
	SessionKey []byte
	// SessionIdle ends a session without requests for that long; SessionLifetime ends any
	// session that old. Defaults: DefaultSessionIdle, DefaultSessionLifetime.
	SessionIdle, SessionLifetime time.Duration
	// LimiterSize bounds the keys each rate limiter remembers.
	LimiterSize int

	// Logins counts failed password checks per account, here and wherever else a person signs in
	// (joining a store with an existing account): NewLogins when nil.
	Logins *web.KeyedLimiter

	// forgots counts reset emails asked for; emailChanges, email-change requests.
	forgots      *web.KeyedLimiter
	emailChanges *web.KeyedLimiter
	// dummyHash is compared against when there is no account, so timing does not tell.
	dummyHash     []byte
	dummyHashOnce sync.Once
}

// NewLogins is the per-account limit on failed sign-ins, remembering at most size accounts.
func NewLogins(size int) *web.KeyedLimiter {
	return web.NewKeyedLimiter(loginFailureRate, loginFailureBurst, size)
}

// Register mounts the self-service routes on mux.
func (s *Service) Register(mux *http.ServeMux) {
	if s.Logins == nil {
		s.Logins = NewLogins(s.LimiterSize)
	}
	s.forgots = web.NewKeyedLimiter(forgotRate, forgotBurst, s.LimiterSize)
	s.emailChanges = web.NewKeyedLimiter(emailChangeRate, emailChangeBurst, s.LimiterSize)

	mux.HandleFunc("POST /api/v1/password/change", s.changePassword)
	mux.HandleFunc("GET /password/forgot", s.showForgot)
	mux.HandleFunc("POST /password/forgot", s.submitForgot)
	mux.HandleFunc("GET /password/reset", s.showReset)
	mux.HandleFunc("POST /password/reset", s.submitReset)
	mux.HandleFunc("POST /api/v1/email/change", s.changeEmail)
	mux.HandleFunc("GET /email/confirm", s.showConfirmEmail)
	mux.HandleFunc("POST /email/confirm", s.submitConfirmEmail)
	mux.HandleFunc("GET /email/cancel", s.showCancelEmail)
	mux.HandleFunc("POST /email/cancel", s.submitCancelEmail)
	mux.HandleFunc("GET /transfer/cancel", s.showCancelTransfer)
	mux.HandleFunc("POST /transfer/cancel", s.submitCancelTransfer)
	mux.HandleFunc("GET /2fa/enrol", s.showEnrol)
	mux.HandleFunc("POST /2fa/enrol", s.submitEnrol)
	mux.HandleFunc("GET /account", s.showAccount)
	mux.HandleFunc("POST /account", s.submitAccount)
	mux.HandleFunc("GET /api/v1/account", s.accountJSON)
	mux.HandleFunc("POST /api/v1/account/preferences", s.preferencesJSON)
	mux.HandleFunc("POST /api/v1/account/profile", s.profileJSON)
}
