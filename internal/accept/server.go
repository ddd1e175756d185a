// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package accept serves the pages and JSON API where an invitee accepts an invitation: they open
// the link from the email, choose a password (and enrol 2FA when required), and become a Member.
// The server runs in the manager on every replica, reads from the manager's cache, and is
// hardened for the open internet: strict CSP, no referrer, cross-origin protection on POST, rate
// limits per client and per link, size limits and timeouts, and no token or password in any log.
//
// The Server is the one HTTP server of the public pages: it serves invitation acceptance itself,
// mounts member self-service (internal/selfservice), and puts the web layer (internal/web:
// headers, request log, rate limits, bcrypt pool, pages and languages) around both.
package accept

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/internal/metrics"
	"github.com/storeops/member-operator/internal/selfservice"
	"github.com/storeops/member-operator/internal/web"
)

// Event reasons on Invitations.
const (
	EventInvitationAccepted      = "InvitationAccepted"
	EventMemberJoinedEmailFailed = "MemberJoinedEmailFailed"
)

// Default rate limits: per client address, and per link (token ID) so that one link cannot be
// hammered from many addresses.
const (
	DefaultClientRate  = rate.Limit(1) // per second
	DefaultClientBurst = 20
	DefaultTokenRate   = rate.Limit(0.2)
	DefaultTokenBurst  = 10
)

// The acceptance server creates the Member of an accepted invitation and its credential Secret,
// and tells the Invitation controller (an annotation) that the Invitation is accepted.
// +kubebuilder:rbac:groups=membership.storeops.io,resources=members,verbs=get;list;watch;create;update
// +kubebuilder:rbac:groups=membership.storeops.io,resources=invitations,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch;delete

// Server is the acceptance server. Every dependency is a field, so tests inject their own.
type Server struct {
	// Client is the manager's client: reads come from its cache (with the token-ID index).
	Client client.Client
	// APIReader reads uncached where freshness decides single use.
	APIReader  client.Reader
	Scheme     *runtime.Scheme
	Recorder   events.EventRecorder
	Clock      clock.PassiveClock
	Mail       mail.Sender
	MailDomain string
	// TokenKey derives link tokens (internal/tokenkey).
	TokenKey []byte
	// Random is the source of TOTP secrets: crypto/rand.Reader.
	Random     io.Reader
	BcryptCost int
	// Addr is where to listen, e.g. ":8082".
	Addr string
	Log  logr.Logger

	// TrustedProxies are the networks of the reverse proxies (the ingress) in front of the
	// server. A request from one of them is attributed to the address its X-Forwarded-For names,
	// so the per-client limit applies per person, not to the ingress as a whole. Empty: the peer
	// address is the client (X-Forwarded-For can be forged by anyone).
	TrustedProxies []netip.Prefix

	ClientRate  rate.Limit
	ClientBurst int
	TokenRate   rate.Limit
	TokenBurst  int
	// LimiterSize bounds the keys each rate limiter remembers (least recently used evicted);
	// 100,000 when zero.
	LimiterSize int
	// BcryptConcurrency bounds the bcrypt work in flight; the CPUs the process may use when zero.
	BcryptConcurrency int
	// BcryptWait is how long a request waits for a bcrypt slot before the answer is 503;
	// web.DefaultBcryptWait when zero.
	BcryptWait time.Duration

	// PublicURL is the base of the links in self-service emails (--public-url).
	PublicURL string
	// PasswordResetTTL is how long a reset link works (--password-reset-ttl; default 1h); an
	// email change's confirmation link lives as long.
	PasswordResetTTL time.Duration
	// ExclusiveMembership refuses a new login email that belongs to another Store's Member.
	ExclusiveMembership bool
	// AccountNamespace is the operator's namespace, where Accounts keep their Secrets and
	// where this server asks for changes to them; empty keeps a login per Member.
	AccountNamespace string

	clients *web.KeyedLimiter
	tokens  *web.KeyedLimiter
	// logins is the per-account limit on failed sign-ins, shared with self-service.
	logins *web.KeyedLimiter
	// passwords is the bcrypt work pool, shared with self-service.
	passwords *web.PasswordWork
	// background is the work that outlives its request (emails); Start waits for it on shutdown.
	background sync.WaitGroup
}

// NeedLeaderElection is false: every replica serves the pages.
func (s *Server) NeedLeaderElection() bool { return false }

// Start serves until ctx ends, then shuts down gracefully (manager.Runnable).
func (s *Server) Start(ctx context.Context) error {
	listener, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("acceptance server: %w", err)
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      60 * time.Second, // bcrypt and the API writes fit well within
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	s.Log.Info("acceptance server listening", "address", listener.Addr().String())
	errs := make(chan error, 1)
	go func() { errs <- srv.Serve(listener) }()
	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := srv.Shutdown(shutdownCtx) //nolint:contextcheck // ctx is done; shutdown needs its own deadline
		s.background.Wait()              // emails already promised to someone
		return err
	}
}

// Handler is the server's routes with its protections around them.
func (s *Server) Handler() http.Handler {
	if s.ClientRate == 0 {
		s.ClientRate, s.ClientBurst = DefaultClientRate, DefaultClientBurst
	}
	if s.TokenRate == 0 {
		s.TokenRate, s.TokenBurst = DefaultTokenRate, DefaultTokenBurst
	}
	s.clients = web.NewKeyedLimiter(s.ClientRate, s.ClientBurst, s.LimiterSize)
	s.tokens = web.NewKeyedLimiter(s.TokenRate, s.TokenBurst, s.LimiterSize)
	s.passwords = &web.PasswordWork{Cost: s.BcryptCost, Concurrency: s.BcryptConcurrency, Wait: s.BcryptWait}
	s.logins = selfservice.NewLogins(s.LimiterSize)

	mux := http.NewServeMux()
	// Invitation acceptance: the invitee's audience.
	mux.HandleFunc("GET /invitations/accept", s.showForm)
	mux.HandleFunc("POST /invitations/accept", s.submitForm)
	mux.HandleFunc("POST /api/v1/invitations/accept", s.submitJSON)
	mux.HandleFunc("GET /invitations/decline", s.showDecline)
	mux.HandleFunc("POST /invitations/decline", s.submitDecline)
	mux.HandleFunc("POST /api/v1/invitations/decline", s.submitDeclineJSON)
	// Self-service: members who already have credentials.
	sessionKey, _ := sessionKeyOf(s.TokenKey) // without a usable token key, no session opens
	(&selfservice.Service{
		SessionKey: sessionKey,
		Client:     s.Client, APIReader: s.APIReader, Scheme: s.Scheme, Recorder: s.Recorder, Clock: s.Clock,
		Mail: s.Mail, MailDomain: s.MailDomain, Random: s.Random, Log: s.Log, PublicURL: s.PublicURL,
		PasswordResetTTL: s.PasswordResetTTL, ExclusiveMembership: s.ExclusiveMembership,
		Passwords: s.passwords, Logins: s.logins, AccountNamespace: s.AccountNamespace, LinkOverLimit: s.linkOverLimit, Background: &s.background, LimiterSize: s.LimiterSize,
	}).Register(mux)
	mux.Handle("GET /static/", web.Static())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })

	protected := http.NewCrossOriginProtection().Handler(mux)
	return web.Logged(s.Log, web.Secure(s.limited(protected)))
}

// limited refuses a client over its rate with 429 before any work is done.
func (s *Server) limited(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" && !s.clients.Allow(web.ClientAddress(r, s.TrustedProxies), s.Clock.Now()) {
			if strings.HasSuffix(r.URL.Path, "/invitations/accept") && r.Method == http.MethodPost {
				metrics.AcceptanceRequests.WithLabelValues(string(web.OutcomeRateLimited)).Inc()
			}
			s.answer(w, r, web.OutcomeRateLimited, nil, nil)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// apiMessages are the JSON API's explanations of each outcome.
var apiMessages = map[web.Outcome]string{
	web.OutcomeBadInput:      "token: malformed; use the whole link from the invitation email",
	web.OutcomeUnknownToken:  "no invitation has this token",
	web.OutcomeAlreadyUsed:   "this invitation has already been accepted",
	web.OutcomeNoLongerValid: "this invitation has expired or was revoked",
	web.OutcomeRateLimited:   web.Messages[web.OutcomeRateLimited],
	web.OutcomeInternalError: web.Messages[web.OutcomeInternalError],
	web.OutcomeBusy:          web.Messages[web.OutcomeBusy],
	web.OutcomeNoSeat:        "the store has no seat left for this invitation (its member limit); ask the store's owner",
}

// process resolves the token and, when the link is live, accepts. It applies the per-link rate
// limit, and logs server-side failures without anything secret.
func (s *Server) process(r *http.Request, in acceptance) (*accepted, *link, web.Outcome, *web.FieldError) {
	result, l, outcome, fe := s.tryAccept(r, in)
	metrics.AcceptanceRequests.WithLabelValues(string(outcome)).Inc()
	return result, l, outcome, fe
}

func (s *Server) tryAccept(r *http.Request, in acceptance) (*accepted, *link, web.Outcome, *web.FieldError) {
	if s.linkOverLimit(r.Context(), in.Token) {
		return nil, nil, web.OutcomeRateLimited, nil
	}
	l, outcome, err := s.resolve(r.Context(), in.Token)
	if err == nil && outcome == web.OutcomeAccepted {
		var result *accepted
		var fe *web.FieldError
		result, outcome, fe, err = s.accept(r.Context(), l, in)
		if err == nil {
			return result, l, outcome, fe
		}
	}
	switch {
	case errors.Is(err, web.ErrBusy):
		outcome = web.OutcomeBusy
	case err != nil:
		s.Log.Error(err, "acceptance failed")
		outcome = web.OutcomeInternalError
	}
	return nil, l, outcome, nil
}

func (s *Server) submitJSON(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Token       string `json:"token"`
		Password    string `json:"password"`
		DisplayName string `json:"displayName"`
		TOTPCode    string `json:"totpCode"`
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		web.WriteJSON(w, http.StatusUnsupportedMediaType, web.APIError{Error: "unsupported-media-type", Message: "send application/json"})
		return
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		web.WriteJSON(w, http.StatusBadRequest, web.APIError{Error: string(web.OutcomeBadInput),
			Message: "body: must be a JSON object with the fields token, password, displayName and (signing in to an account with 2FA) totpCode"})
		return
	}
	result, _, outcome, fe := s.process(r, acceptance{Token: body.Token, Password: body.Password, DisplayName: body.DisplayName, TOTPCode: body.TOTPCode})
	s.answer(w, r, outcome, result, fe)
}

// answer writes an outcome as JSON (the API and the rate limiter) or, for the HTML form's
// failures other than field errors, as a page.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, outcome web.Outcome, result *accepted, fe *web.FieldError) {
	status := web.StatusOf[outcome]
	switch outcome {
	case web.OutcomeRateLimited:
		w.Header().Set("Retry-After", "60")
	case web.OutcomeBusy:
		w.Header().Set("Retry-After", "5")
	}
	if !strings.HasPrefix(r.URL.Path, "/api/") {
		web.RenderProblem(w, "en", outcome)
		return
	}
	switch {
	case outcome == web.OutcomeAccepted:
		out := map[string]any{"member": result.Member, "namespace": result.Namespace}
		if result.TOTPSecret != "" {
			out["twoFactor"] = map[string]string{"secret": result.TOTPSecret, "uri": result.TOTPURI}
		}
		web.WriteJSON(w, status, out)
	case fe != nil:
		web.WriteJSON(w, status, web.APIError{Error: string(outcome), Field: fe.Field, Code: fe.Code, Message: fe.Message})
	default:
		out := web.APIError{Error: string(outcome), Message: apiMessages[outcome]}
		if outcome == web.OutcomeBadInput {
			out.Field, out.Code = "token", "malformed"
		}
		web.WriteJSON(w, status, out)
	}
}

// sessionKeyOf derives the account page's session-signing key from the token key, which every
// replica shares, so a session opened on one replica works on all; a new token key ends them.
func sessionKeyOf(tokenKey []byte) ([]byte, error) {
	stream, err := credentials.KeyedStream(tokenKey, "account-session")
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	_, err = io.ReadFull(stream, key)
	return key, err
}
