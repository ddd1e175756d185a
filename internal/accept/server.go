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

// Package accept serves the pages and JSON API where an invitee accepts an invitation: they open
// the link from the email, choose a password (and enrol 2FA when required), and become a Member.
// The server runs in the manager on every replica, reads from the manager's cache, and is
// hardened for the open internet: strict CSP, no referrer, cross-origin protection on POST, rate
// limits per client and per link, size limits and timeouts, and no token or password in any log.
package accept

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"rsc.io/qr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/internal/metrics"
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
	maxBodyBytes       = 16 << 10
)

// ContentSecurityPolicy allows the page's own stylesheet and nothing else: no scripts at all.
const ContentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'"

//go:embed templates static
var assets embed.FS

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"t": func(string) string { return "" }, // replaced per request with the page's locale
}).ParseFS(assets, "templates/page.html"))

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
	// DefaultBcryptWait when zero.
	BcryptWait time.Duration

	// PublicURL is the base of the links in self-service emails (--public-url).
	PublicURL string
	// PasswordResetTTL is how long a reset link works (--password-reset-ttl; default 1h); an
	// email change's confirmation link lives as long.
	PasswordResetTTL time.Duration
	// ExclusiveMembership refuses a new login email that belongs to another Store's Member.
	ExclusiveMembership bool

	clients *keyedLimiter
	tokens  *keyedLimiter
	// logins counts failed password checks per account; forgots, reset emails asked for.
	logins  *keyedLimiter
	forgots *keyedLimiter
	// emailChanges counts email-change requests per account.
	emailChanges *keyedLimiter
	bcrypt       chan struct{}
	bcryptOnce   sync.Once
	// background is the work that outlives its request (emails); Start waits for it on shutdown.
	background sync.WaitGroup
	// dummyHash is compared against when there is no account, so timing does not tell.
	dummyHash     []byte
	dummyHashOnce sync.Once
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

// requestTimeout bounds work that continues after its answer (a reset request's lookup and writes).
func (s *Server) requestTimeout() time.Duration { return 30 * time.Second }

// Handler is the server's routes with its protections around them.
func (s *Server) Handler() http.Handler {
	if s.ClientRate == 0 {
		s.ClientRate, s.ClientBurst = DefaultClientRate, DefaultClientBurst
	}
	if s.TokenRate == 0 {
		s.TokenRate, s.TokenBurst = DefaultTokenRate, DefaultTokenBurst
	}
	s.clients = newKeyedLimiter(s.ClientRate, s.ClientBurst, s.LimiterSize)
	s.tokens = newKeyedLimiter(s.TokenRate, s.TokenBurst, s.LimiterSize)
	s.logins = newKeyedLimiter(loginFailureRate, loginFailureBurst, s.LimiterSize)
	s.forgots = newKeyedLimiter(forgotRate, forgotBurst, s.LimiterSize)
	s.emailChanges = newKeyedLimiter(emailChangeRate, emailChangeBurst, s.LimiterSize)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /invitations/accept", s.showForm)
	mux.HandleFunc("POST /invitations/accept", s.submitForm)
	mux.HandleFunc("POST /api/v1/invitations/accept", s.submitJSON)
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
	static, _ := fs.Sub(assets, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })

	protected := http.NewCrossOriginProtection().Handler(mux)
	return s.logged(s.secured(s.limited(protected)))
}

// secured sets the headers every answer carries.
func (s *Server) secured(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// limited refuses a client over its rate with 429 before any work is done.
func (s *Server) limited(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" && !s.clients.allow(clientAddress(r, s.TrustedProxies), s.Clock.Now()) {
			if strings.HasSuffix(r.URL.Path, "/invitations/accept") && r.Method == http.MethodPost {
				metrics.AcceptanceRequests.WithLabelValues(string(OutcomeRateLimited)).Inc()
			}
			s.answer(w, r, OutcomeRateLimited, nil, nil)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// clientAddress is the rate-limit key of the client a request is attributed to (clientKey: an
// IPv6 client's /64): the peer's, or, when the peer is a trusted proxy, the nearest address in
// X-Forwarded-For that is not a trusted proxy itself.
func clientAddress(r *http.Request, trusted []netip.Prefix) string {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	addr := peer.Addr().Unmap()
	if !isTrusted(addr, trusted) {
		return clientKey(addr)
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a garbled header: stop at the last proxy we trust
		}
		addr = hop.Unmap()
		if !isTrusted(addr, trusted) {
			break
		}
	}
	return clientKey(addr)
}

func isTrusted(addr netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// logged writes one line per request: method, path (never the query, which holds the token),
// status and duration.
func (s *Server) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		metrics.AcceptanceResponses.WithLabelValues(strconv.Itoa(rec.status)).Inc()
		s.Log.V(1).Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"duration", time.Since(start).Round(time.Millisecond))
	})
}

// apiError is the JSON API's answer to a failed request.
type apiError struct {
	// Error is the outcome, e.g. "bad-input", "unknown-token".
	Error string `json:"error"`
	// Field and Code name the refused field and rule of a 400.
	Field   string `json:"field,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
}

var statusOf = map[Outcome]int{
	OutcomeAccepted:      http.StatusCreated,
	OutcomeBadInput:      http.StatusBadRequest,
	OutcomeUnknownToken:  http.StatusNotFound,
	OutcomeAlreadyUsed:   http.StatusConflict,
	OutcomeNoLongerValid: http.StatusGone,
	OutcomeRateLimited:   http.StatusTooManyRequests,
	OutcomeInternalError: http.StatusInternalServerError,
	OutcomeChanged:       http.StatusOK,
	OutcomeUnauthorized:  http.StatusUnauthorized,
	OutcomeBusy:          http.StatusServiceUnavailable,
	OutcomeNoSeat:        http.StatusConflict,
}

// apiMessages are the JSON API's explanations of each outcome.
var apiMessages = map[Outcome]string{
	OutcomeBadInput:      "token: malformed; use the whole link from the invitation email",
	OutcomeUnknownToken:  "no invitation has this token",
	OutcomeAlreadyUsed:   "this invitation has already been accepted",
	OutcomeNoLongerValid: "this invitation has expired or was revoked",
	OutcomeRateLimited:   "too many requests; try again later",
	OutcomeInternalError: "internal error; try again later",
	OutcomeBusy:          "the server is busy checking passwords; try again in a few seconds",
	OutcomeNoSeat:        "the store has no seat left for this invitation (its member limit); ask the store's owner",
}

// process resolves the token and, when the link is live, accepts. It applies the per-link rate
// limit, and logs server-side failures without anything secret.
func (s *Server) process(r *http.Request, in acceptance) (*accepted, *link, Outcome, *FieldError) {
	result, l, outcome, fe := s.tryAccept(r, in)
	metrics.AcceptanceRequests.WithLabelValues(string(outcome)).Inc()
	return result, l, outcome, fe
}

func (s *Server) tryAccept(r *http.Request, in acceptance) (*accepted, *link, Outcome, *FieldError) {
	if s.linkOverLimit(r.Context(), in.Token) {
		return nil, nil, OutcomeRateLimited, nil
	}
	l, outcome, err := s.resolve(r.Context(), in.Token)
	if err == nil && outcome == OutcomeAccepted {
		var result *accepted
		var fe *FieldError
		result, outcome, fe, err = s.accept(r.Context(), l, in)
		if err == nil {
			return result, l, outcome, fe
		}
	}
	switch {
	case errors.Is(err, errBcryptBusy):
		outcome = OutcomeBusy
	case err != nil:
		s.Log.Error(err, "acceptance failed")
		outcome = OutcomeInternalError
	}
	return nil, l, outcome, nil
}

func (s *Server) submitJSON(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Token       string `json:"token"`
		Password    string `json:"password"`
		DisplayName string `json:"displayName"`
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeJSON(w, http.StatusUnsupportedMediaType, apiError{Error: "unsupported-media-type", Message: "send application/json"})
		return
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: string(OutcomeBadInput),
			Message: "body: must be a JSON object with the fields token, password and displayName"})
		return
	}
	result, _, outcome, fe := s.process(r, acceptance{Token: body.Token, Password: body.Password, DisplayName: body.DisplayName})
	s.answer(w, r, outcome, result, fe)
}

// answer writes an outcome as JSON (the API and the rate limiter) or, for the HTML form's
// failures other than field errors, as a page.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, outcome Outcome, result *accepted, fe *FieldError) {
	status := statusOf[outcome]
	switch outcome {
	case OutcomeRateLimited:
		w.Header().Set("Retry-After", "60")
	case OutcomeBusy:
		w.Header().Set("Retry-After", "5")
	}
	if !strings.HasPrefix(r.URL.Path, "/api/") {
		s.renderProblem(w, "en", outcome)
		return
	}
	switch {
	case outcome == OutcomeAccepted:
		out := map[string]any{"member": result.Member, "namespace": result.Namespace}
		if result.TOTPSecret != "" {
			out["twoFactor"] = map[string]string{"secret": result.TOTPSecret, "uri": result.TOTPURI}
		}
		writeJSON(w, status, out)
	case fe != nil:
		writeJSON(w, status, apiError{Error: string(outcome), Field: fe.Field, Code: fe.Code, Message: fe.Message})
	default:
		out := apiError{Error: string(outcome), Message: apiMessages[outcome]}
		if outcome == OutcomeBadInput {
			out.Field, out.Code = "token", "malformed"
		}
		writeJSON(w, status, out)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// render executes the page template with texts of locale.
func render(w http.ResponseWriter, status int, data *pageData) {
	t, err := pageTemplate.Clone()
	if err == nil {
		t = t.Funcs(template.FuncMap{"t": func(key string) string { return texts[data.Locale][key] }})
	}
	var buf bytes.Buffer
	if err == nil {
		err = t.ExecuteTemplate(&buf, "page", data)
	}
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) renderProblem(w http.ResponseWriter, locale string, outcome Outcome) {
	render(w, statusOf[outcome], &pageData{
		Locale: locale, Base: rootFromPage, Kind: kindProblem, Title: texts[locale]["problem.title"],
		Problem: texts[locale]["problem."+string(outcome)],
	})
}

// qrSVG draws the QR code of text as an inline SVG: generated here, so the page needs no
// script and no external image.
func qrSVG(text string) (template.HTML, error) {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return "", err
	}
	const quiet = 4
	size := code.Size + 2*quiet
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-label="QR code" shape-rendering="crispEdges">`, size, size)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, size, size)
	for y := range code.Size {
		for x := range code.Size {
			if code.Black(x, y) {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String()), nil //nolint:gosec // built from numbers only
}
