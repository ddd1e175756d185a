// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package metrics holds the operator's Prometheus metrics, served on the manager's metrics
// endpoint next to controller-runtime's own. Counters are incremented where the event happens;
// the members gauge is read from the cache at scrape time, so it can never drift.
package metrics

import (
	"context"
	"errors"
	"maps"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/internal/version"
)

const (
	// prefix is the metric namespace of every metric here.
	prefix = "member_operator"
	// namespaceLabel is the Kubernetes namespace of the objects counted.
	namespaceLabel = "namespace"
)

var (
	// InvitationsSent counts invitation emails the SMTP server accepted, per namespace.
	InvitationsSent = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: prefix, Name: "invitations_sent_total",
		Help: "Invitation emails (including owner activations and transfers) the SMTP server accepted.",
	}, []string{namespaceLabel})
	// InvitationDeliveryFailures counts failed attempts to hand an invitation to SMTP.
	InvitationDeliveryFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: prefix, Name: "invitation_delivery_failures_total",
		Help: "Attempts to hand an invitation email to the SMTP server that failed (each is retried with backoff).",
	}, []string{namespaceLabel})
	// EventsDropped counts Events not recorded because too many were waiting for the API server
	// (internal/eventrecorder): the API server is slow or down, or the operator emits too many.
	EventsDropped = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: prefix, Name: "events_dropped_total",
		Help: "Kubernetes Events dropped because the queue of Events waiting for the API server was full.",
	})
	// InvitationsExpired counts invitations that expired unused.
	InvitationsExpired = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: prefix, Name: "invitations_expired_total",
		Help: "Invitations whose link expired before it was used.",
	}, []string{namespaceLabel})
	// InvitationsAccepted counts invitations accepted through the acceptance server.
	InvitationsAccepted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: prefix, Name: "invitations_accepted_total",
		Help: "Invitations accepted through the acceptance server.",
	}, []string{namespaceLabel})
	// AcceptanceRequests counts the acceptance server's invitation requests by outcome.
	AcceptanceRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: prefix, Name: "acceptance_requests_total",
		Help: "Requests to accept an invitation (page, form and JSON API), by outcome: accepted, bad-input, " +
			"unknown-token, already-accepted, no-longer-valid, rate-limited, busy, internal-error.",
	}, []string{"outcome"})
	// PasswordChecks counts the bcrypt comparisons the acceptance server ran for sign-ins (the
	// self-service API), against an account's hash or the dummy one: what the per-account failure
	// limit and the bcrypt slots bound.
	PasswordChecks = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: prefix, Name: "password_checks_total",
		Help: "bcrypt password comparisons run by the acceptance server's sign-ins.",
	})
	// PasswordHashes counts the bcrypt hashes the controllers made (generated passwords and those
	// from a passwordSecretRef): an imported password-hash costs none.
	PasswordHashes = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: prefix, Name: "password_hashes_total",
		Help: "bcrypt hashes made by the controllers for generated and supplied passwords.",
	})
	// AcceptanceResponses counts every answer of the acceptance server by HTTP status code: the
	// 5xx alert reads it.
	AcceptanceResponses = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: prefix, Name: "acceptance_http_responses_total",
		Help: "Answers of the acceptance server (pages, links and JSON API) by HTTP status code.",
	}, []string{"code"})
	// EmailsSent counts the emails handed to SMTP by kind (invitation, password-reset, ...) and
	// outcome (sent, failed).
	EmailsSent = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: prefix, Name: "emails_total",
		Help: "Emails handed to the SMTP server, by kind and outcome (sent: the server accepted it; failed).",
	}, []string{"kind", "outcome"})
	// EmailSendDuration is how long one SMTP delivery took (dial, TLS, auth, DATA), whatever its
	// outcome: a slow relay shows here before invitations start failing.
	EmailSendDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: prefix, Name: "email_send_duration_seconds",
		Help:    "Time to hand one email to the SMTP server (dial, TLS, authentication and DATA), by kind.",
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{"kind"})
	// BuildInfo is 1, labelled with the running build: version and revision.
	BuildInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: prefix, Name: "build_info",
		Help: "Always 1; the labels say which build of the operator is running.",
	}, []string{"version", "revision", "goversion"})
	// AcceptanceBusy counts requests answered 503 because every bcrypt slot stayed in use.
	AcceptanceBusy = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: prefix, Name: "acceptance_busy_total",
		Help: "Requests the acceptance server answered 503 because every bcrypt slot stayed in use.",
	})
)

func init() {
	ctrlmetrics.Registry.MustRegister(InvitationsSent, InvitationDeliveryFailures, InvitationsExpired,
		InvitationsAccepted, AcceptanceRequests, PasswordChecks, PasswordHashes, AcceptanceBusy, AcceptanceResponses,
		EmailsSent, EmailSendDuration, EventsDropped, BuildInfo)
	info := version.Get()
	BuildInfo.WithLabelValues(info.Version, info.Revision, info.GoVersion).Set(1)
}

// MeasuredSender wraps a mail.Sender so every send is counted by kind and outcome and timed.
type MeasuredSender struct{ mail.Sender }

// Send delivers msg through the wrapped sender and records the attempt.
func (m MeasuredSender) Send(ctx context.Context, msg mail.Message) error {
	kind := string(msg.Kind)
	if kind == "" {
		kind = "unknown"
	}
	start := time.Now()
	err := m.Sender.Send(ctx, msg)
	EmailSendDuration.WithLabelValues(kind).Observe(time.Since(start).Seconds())
	outcome := "sent"
	if err != nil {
		outcome = "failed"
	}
	EmailsSent.WithLabelValues(kind, outcome).Inc()
	return err
}

var membersDesc = prometheus.NewDesc(prometheus.BuildFQName(prefix, "", "members"),
	"Members by namespace and phase (Pending, Active, Disabled, Conflict, ...), as the manager's cache holds them.",
	[]string{namespaceLabel, "phase"}, nil)

// membersKey is one series of the members gauge.
type membersKey struct{ namespace, phase string }

// membersGauge counts Members by namespace and phase as the cache's informer delivers their
// changes, so that a scrape reads the counts and never the Members: counting 10,000 Members at
// each scrape was 3% of the manager's CPU in the large-store benchmark. The informer hands over
// every object it adds, changes and removes (a relist included), so the counts are the cache's.
type membersGauge struct {
	synced func() bool
	mu     sync.Mutex
	counts map[membersKey]int
}

func newMembersGauge(synced func() bool) *membersGauge {
	return &membersGauge{synced: synced, counts: map[membersKey]int{}}
}

func membersKeyOf(obj any) (membersKey, bool) {
	if tombstone, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	m, ok := obj.(*membershipv1alpha1.Member)
	if !ok {
		return membersKey{}, false
	}
	phase := string(m.Status.Phase)
	if phase == "" {
		phase = string(membershipv1alpha1.MemberPending)
	}
	return membersKey{m.Namespace, phase}, true
}

func (g *membersGauge) count(obj any, delta int) {
	k, ok := membersKeyOf(obj)
	if !ok {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.counts[k] += delta; g.counts[k] <= 0 {
		delete(g.counts, k)
	}
}

// OnAdd, OnUpdate and OnDelete implement toolscache.ResourceEventHandler.
func (g *membersGauge) OnAdd(obj any, _ bool) { g.count(obj, 1) }

func (g *membersGauge) OnUpdate(older, newer any) {
	g.count(older, -1)
	g.count(newer, 1)
}

func (g *membersGauge) OnDelete(obj any) { g.count(obj, -1) }

func (g *membersGauge) Describe(ch chan<- *prometheus.Desc) { ch <- membersDesc }

// Collect reports the counts once the cache has synced (before, they would be partial).
func (g *membersGauge) Collect(ch chan<- prometheus.Metric) {
	if !g.synced() {
		ch <- prometheus.NewInvalidMetric(membersDesc, errors.New("the Member cache has not synced yet"))
		return
	}
	g.mu.Lock()
	counts := maps.Clone(g.counts) // the informer's handler never waits on a slow scrape
	g.mu.Unlock()
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(membersDesc, prometheus.GaugeValue, float64(n), k.namespace, k.phase)
	}
}

// RegisterMembers adds the members gauge, fed by the Member informer of informers (the
// manager's cache). A second registration (another manager in the same test process) replaces
// the first.
func RegisterMembers(ctx context.Context, informers cache.Informers) error {
	informer, err := informers.GetInformer(ctx, &membershipv1alpha1.Member{})
	if err != nil {
		return err
	}
	gauge := newMembersGauge(informer.HasSynced)
	if _, err := informer.AddEventHandler(gauge); err != nil {
		return err
	}
	if err := ctrlmetrics.Registry.Register(gauge); err != nil {
		var already prometheus.AlreadyRegisteredError
		if !errors.As(err, &already) {
			return err
		}
		ctrlmetrics.Registry.Unregister(already.ExistingCollector)
		return ctrlmetrics.Registry.Register(gauge)
	}
	return nil
}
