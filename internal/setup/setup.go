// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package setup wires the operator into a controller-runtime manager: the cache indexes, the
// Store, Member and Invitation controllers, the validating webhooks and the acceptance server,
// each built from the process's settings (internal/config) with every default. cmd/main.go,
// test/testenv and every envtest suite call Operator, so what the tests run is what ships.
package setup

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/storeops/member-operator/internal/accept"
	"github.com/storeops/member-operator/internal/config"
	"github.com/storeops/member-operator/internal/controller/account"
	"github.com/storeops/member-operator/internal/controller/invitation"
	"github.com/storeops/member-operator/internal/controller/member"
	"github.com/storeops/member-operator/internal/controller/store"
	"github.com/storeops/member-operator/internal/eventrecorder"
	"github.com/storeops/member-operator/internal/index"
	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/internal/metrics"
	storewebhook "github.com/storeops/member-operator/internal/webhook"
)

// Controller names one of the operator's controllers.
type Controller string

// The operator's controllers.
const (
	StoreController      Controller = "store"
	MemberController     Controller = "member"
	InvitationController Controller = "invitation"
	AccountController    Controller = "account"
)

// Parts are what the process supplies besides its settings, and what a test replaces.
type Parts struct {
	// Mail sends every email; MailDomain is the domain of their Message-IDs (the From address's).
	Mail       mail.Sender
	MailDomain string
	// TokenKey derives invitation link tokens (internal/tokenkey): the same on every replica.
	TokenKey []byte
	// Clock is real time when nil; tests pass a fake one to move invitations to expiry.
	Clock clock.PassiveClock
	// Random is crypto/rand when nil.
	Random io.Reader
	// Controllers are the controllers to run; all of them when empty. A suite that studies one
	// controller runs only that one.
	Controllers []Controller
	// Client, when set, wraps the manager's client for the controllers (tests inject failures).
	Client func(client.Client) client.Client
	// Server, when set, adjusts the acceptance server before it is added (tests widen the rate
	// limits, which have no flag).
	Server func(*accept.Server)
}

func (p *Parts) complete() error {
	if p.Mail == nil {
		return errors.New("setup: Parts.Mail is required")
	}
	if p.Clock == nil {
		p.Clock = clock.RealClock{}
	}
	if p.Random == nil {
		p.Random = rand.Reader
	}
	if p.Client == nil {
		p.Client = func(c client.Client) client.Client { return c }
	}
	return nil
}

func (p *Parts) runs(c Controller) bool {
	if len(p.Controllers) == 0 {
		return true
	}
	for _, wanted := range p.Controllers {
		if wanted == c {
			return true
		}
	}
	return false
}

// Manager fills in, on options made by cmd/main.go or test/testenv, what opts decide of the
// manager, and returns the rest config to make it with: the operator's cache policy
// (index.CacheOptions) and the leader-election Lease, one per shard (shard.Range.LeaseName). A
// namespace shard asks the API server for its own namespaces only on every cluster-wide list and
// watch (shard.Range.WrapTransport) and caches what is every person's rather than its
// namespaces' as little as it can (index.ShardCacheOptions).
func Manager(cfg *rest.Config, opts *config.Options, options *ctrl.Options) *rest.Config {
	options.Cache = index.CacheOptions()
	options.LeaderElectionID = opts.Shard.LeaseName(opts.LeaderElectionID)
	if !opts.Shard.Namespaced() {
		return cfg
	}
	if opts.AccountNamespace != "" {
		options.Cache = index.ShardCacheOptions(opts.AccountNamespace)
	}
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(opts.Shard.WrapTransport)
	return cfg
}

// Operator registers on mgr everything opts ask for: the cache indexes always; the controllers
// (and, with opts.EnableWebhooks, the webhooks) unless opts.AcceptOnly; the acceptance server
// unless opts.AcceptBindAddress is "0". mgr must have been made with index.CacheOptions.
func Operator(ctx context.Context, mgr ctrl.Manager, opts *config.Options, parts Parts) error {
	if err := parts.complete(); err != nil {
		return err
	}
	if err := index.Setup(ctx, mgr, parts.TokenKey); err != nil {
		return fmt.Errorf("registering the cache indexes: %w", err)
	}
	recorder, err := eventRecorder(mgr)
	if err != nil {
		return err
	}
	if !opts.AcceptOnly {
		if err := controllers(ctx, mgr, opts, &parts, recorder); err != nil {
			return err
		}
		if opts.EnableWebhooks {
			if err := webhooks(ctx, mgr, opts); err != nil {
				return fmt.Errorf("setting up the webhooks: %w", err)
			}
		}
	}
	if opts.ServesAcceptance() {
		if err := mgr.Add(acceptanceServer(mgr, opts, &parts, recorder)); err != nil {
			return fmt.Errorf("adding the acceptance server: %w", err)
		}
	}
	return nil
}

// eventRecorder adds to mgr the recorder of the Events of its controllers and acceptance server:
// bounded memory whatever the API server's pace (internal/eventrecorder).
func eventRecorder(mgr ctrl.Manager) (*eventrecorder.Recorder, error) {
	// A client of its own, and so a client-side rate limiter of its own (as controller-runtime's
	// recorder had): Events never take the requests the controllers' writes wait for.
	events, err := client.New(rest.CopyConfig(mgr.GetConfig()), client.Options{
		Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper(), HTTPClient: mgr.GetHTTPClient(),
	})
	if err != nil {
		return nil, fmt.Errorf("the events client: %w", err)
	}
	recorder := eventrecorder.New(eventrecorder.Options{
		Sink: eventrecorder.Client{Client: events}, Scheme: mgr.GetScheme(),
		Log: mgr.GetLogger().WithName("events"), Dropped: metrics.EventsDropped.Inc,
	})
	if err := mgr.Add(recorder); err != nil {
		return nil, fmt.Errorf("adding the event recorder: %w", err)
	}
	return recorder, nil
}

// controllers registers the Store, Member and Invitation controllers parts asks for.
func controllers(ctx context.Context, mgr ctrl.Manager, opts *config.Options, parts *Parts, recorder *eventrecorder.Recorder) error {
	c := parts.Client(mgr.GetClient())
	// The cluster-scoped shard runs the Account controller only; a namespace shard all but it.
	namespaced, clusterScoped := !opts.Shard.ClusterOnly, !opts.Shard.Namespaced()
	if namespaced && parts.runs(StoreController) {
		if err := (&store.Reconciler{
			Client: c, APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme(),
			Recorder: recorder.For("membership.storeops.io/store-controller"),
			Clock:    parts.Clock, Mail: parts.Mail, MailDomain: parts.MailDomain,
			PublicURL: opts.PublicURL, Random: parts.Random, AccountNamespace: opts.AccountNamespace,
			Shard: opts.Shard, MaxConcurrentReconciles: opts.StoreConcurrency,
		}).SetupWithManager(mgr); err != nil {
			return fmt.Errorf("creating the Store controller: %w", err)
		}
	}
	if namespaced && parts.runs(MemberController) {
		if err := (&member.Reconciler{
			Client: c, APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme(),
			Recorder: recorder.For("membership.storeops.io/member-controller"),
			Clock:    parts.Clock, Mail: parts.Mail, MailDomain: parts.MailDomain, Random: parts.Random,
			BcryptCost:              opts.BcryptCost,
			RemovalNoticeTimeout:    opts.RemovalNoticeTimeout,
			PasswordSecretResync:    opts.PasswordSecretResync,
			PublicURL:               opts.PublicURL,
			PasswordResetTTL:        opts.PasswordResetTTL,
			ExclusiveMembership:     opts.ExclusiveMembership,
			AccountNamespace:        opts.AccountNamespace,
			AccountSecrets:          accountSecrets(mgr, opts),
			Shard:                   opts.Shard,
			MaxConcurrentReconciles: opts.MemberConcurrency,
		}).SetupWithManager(ctx, mgr); err != nil {
			return fmt.Errorf("creating the Member controller: %w", err)
		}
	}
	if clusterScoped && parts.runs(AccountController) && opts.AccountNamespace != "" {
		if err := (&account.Reconciler{
			Client: c, APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme(),
			Recorder: recorder.For("membership.storeops.io/account-controller"),
			Clock:    parts.Clock, Random: parts.Random,
			Namespace: opts.AccountNamespace, MaxConcurrentReconciles: opts.AccountConcurrency,
		}).SetupWithManager(mgr); err != nil {
			return fmt.Errorf("creating the Account controller: %w", err)
		}
	}
	if namespaced && parts.runs(InvitationController) {
		if err := (&invitation.Reconciler{
			Client: c, Scheme: mgr.GetScheme(),
			Recorder: recorder.For("membership.storeops.io/invitation-controller"),
			Clock:    parts.Clock, Mail: parts.Mail, MailDomain: parts.MailDomain, TokenKey: parts.TokenKey,
			PublicURL:               opts.PublicURL,
			ExclusiveMembership:     opts.ExclusiveMembership,
			Retention:               opts.InvitationRetention,
			Shard:                   opts.Shard,
			MaxConcurrentReconciles: opts.InvitationConcurrency,
		}).SetupWithManager(mgr); err != nil {
			return fmt.Errorf("creating the Invitation controller: %w", err)
		}
	}
	return nil
}

// accountSecrets is where the Member controller reads the Accounts' own Secrets and the account
// requests: the API server in a namespace shard, whose cache leaves them out (Manager,
// index.ShardCacheOptions); nil (the cache) otherwise.
func accountSecrets(mgr ctrl.Manager, opts *config.Options) client.Reader {
	if opts.Shard.Namespaced() && opts.AccountNamespace != "" {
		return mgr.GetAPIReader()
	}
	return nil
}

// webhooks serves the validating webhooks. Only the operator's own identity (asked of the API
// server) and the acceptance-only Deployment's may manage the owner role.
func webhooks(ctx context.Context, mgr ctrl.Manager, opts *config.Options) error {
	operator, err := storewebhook.OperatorIdentity(ctx, mgr.GetConfig())
	if err != nil {
		return err
	}
	var alsoOperator []string
	if identity := opts.AcceptIdentity(); identity != "" {
		alsoOperator = append(alsoOperator, identity)
	}
	if err := storewebhook.Setup(mgr, operator, opts.ExclusiveMembership, alsoOperator...); err != nil {
		return err
	}
	// Not ready until the webhook server serves: the API server calls it for every Member and
	// Invitation write.
	if err := mgr.AddReadyzCheck("webhook", mgr.GetWebhookServer().StartedChecker()); err != nil {
		return err
	}
	mgr.GetLogger().WithName("setup").Info("validating webhooks registered", "port", opts.WebhookPort, "operator", operator)
	return nil
}

// AcceptanceServer builds an acceptance server with its own event recorder (added to mgr), for a
// test that adds more than one to a manager (replicas of the public server, each with its own
// settings); Operator adds the one a process serves. The caller adds the server to mgr.
func AcceptanceServer(mgr ctrl.Manager, opts *config.Options, parts *Parts) (*accept.Server, error) {
	if err := parts.complete(); err != nil {
		return nil, err
	}
	recorder, err := eventRecorder(mgr)
	if err != nil {
		return nil, err
	}
	return acceptanceServer(mgr, opts, parts, recorder), nil
}

// acceptanceServer is the acceptance server (the public pages and JSON API), which runs on every
// replica, leader or not. parts must be complete.
func acceptanceServer(mgr ctrl.Manager, opts *config.Options, parts *Parts, recorder *eventrecorder.Recorder) *accept.Server {
	srv := &accept.Server{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme(),
		Recorder: recorder.For("membership.storeops.io/acceptance-server"),
		Clock:    parts.Clock, Mail: parts.Mail, MailDomain: parts.MailDomain, TokenKey: parts.TokenKey,
		Random: parts.Random, BcryptCost: opts.BcryptCost, Addr: opts.AcceptBindAddress,
		TrustedProxies: opts.TrustedProxies, Log: mgr.GetLogger().WithName("accept"),
		PublicURL: opts.PublicURL, PasswordResetTTL: opts.PasswordResetTTL,
		ExclusiveMembership: opts.ExclusiveMembership, AccountNamespace: opts.AccountNamespace,
	}
	if parts.Server != nil {
		parts.Server(srv)
	}
	return srv
}
