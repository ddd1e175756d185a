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

// Command manager runs the member operator: the Store, Member and Invitation controllers and the
// invitation acceptance server, in one process.
package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	uberzap "go.uber.org/zap"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	_ "k8s.io/client-go/plugin/pkg/client/auth"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/accept"
	"github.com/storeops/member-operator/internal/config"
	"github.com/storeops/member-operator/internal/controller/invitation"
	"github.com/storeops/member-operator/internal/controller/member"
	"github.com/storeops/member-operator/internal/controller/store"
	"github.com/storeops/member-operator/internal/index"
	"github.com/storeops/member-operator/internal/logging"
	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/internal/memlimit"
	"github.com/storeops/member-operator/internal/metrics"
	"github.com/storeops/member-operator/internal/tokenkey"
	"github.com/storeops/member-operator/internal/version"
	storewebhook "github.com/storeops/member-operator/internal/webhook"
)

var (
	scheme   = runtime.NewScheme()
	setupLog = ctrl.Log.WithName("setup")
)

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(membershipv1alpha1.AddToScheme(scheme))
}

func main() {
	var opts config.Options
	opts.BindFlags(flag.CommandLine)
	zapOpts := zap.Options{Development: false}
	zapOpts.BindFlags(flag.CommandLine)
	showVersion := flag.Bool("version", false, "Print the version and exit.")
	flag.Parse()
	if *showVersion {
		fmt.Println("manager", version.Get())
		return
	}
	// Whatever --zap-log-level says, client-go's HTTP body dumps (which carry Secret data) are
	// dropped.
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts), zap.RawZapOpts(uberzap.WrapCore(logging.WithoutBodies))))

	if err := opts.Complete(os.Getenv); err != nil {
		setupLog.Error(err, "invalid flags")
		os.Exit(2)
	}
	if limit := memlimit.Set(); limit > 0 {
		setupLog.Info("Go soft memory limit set from the container's", "bytes", limit, "fraction", memlimit.Fraction)
	}

	var tlsOpts []func(*tls.Config)
	if !opts.EnableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}

	var webhookCertWatcher, metricsCertWatcher *certwatcher.CertWatcher
	webhookTLSOpts := tlsOpts
	if opts.WebhookCertPath != "" {
		var err error
		webhookCertWatcher, err = certwatcher.New(
			filepath.Join(opts.WebhookCertPath, opts.WebhookCertName),
			filepath.Join(opts.WebhookCertPath, opts.WebhookCertKey),
		)
		if err != nil {
			setupLog.Error(err, "failed to initialize webhook certificate watcher")
			os.Exit(1)
		}
		webhookTLSOpts = append(webhookTLSOpts, func(c *tls.Config) { c.GetCertificate = webhookCertWatcher.GetCertificate })
	}

	metricsServerOptions := metricsserver.Options{
		BindAddress:   opts.MetricsAddr,
		SecureServing: opts.SecureMetrics,
		TLSOpts:       tlsOpts,
	}
	if opts.SecureMetrics {
		// Only authenticated and authorized clients (a ServiceAccount bound to the metrics-reader
		// ClusterRole) may scrape.
		metricsServerOptions.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	if opts.MetricsCertPath != "" {
		var err error
		metricsCertWatcher, err = certwatcher.New(
			filepath.Join(opts.MetricsCertPath, opts.MetricsCertName),
			filepath.Join(opts.MetricsCertPath, opts.MetricsCertKey),
		)
		if err != nil {
			setupLog.Error(err, "failed to initialize metrics certificate watcher")
			os.Exit(1)
		}
		metricsServerOptions.TLSOpts = append(metricsServerOptions.TLSOpts,
			func(c *tls.Config) { c.GetCertificate = metricsCertWatcher.GetCertificate })
	}

	restConfig := ctrl.GetConfigOrDie()
	restConfig.QPS, restConfig.Burst = float32(opts.KubeAPIQPS), opts.KubeAPIBurst
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsServerOptions,
		WebhookServer:           webhook.NewServer(webhook.Options{TLSOpts: webhookTLSOpts, Port: opts.WebhookPort}),
		HealthProbeBindAddress:  opts.ProbeAddr,
		PprofBindAddress:        opts.PprofAddr,
		LeaderElection:          opts.EnableLeaderElection && !opts.AcceptOnly,
		LeaderElectionID:        opts.LeaderElectionID,
		LeaderElectionNamespace: opts.LeaderElectionNamespace,
		// The process exits right after the manager stops, so the next leader need not wait for
		// the lease to expire.
		LeaderElectionReleaseOnCancel: true,
		Cache:                         index.CacheOptions(),
	})
	if err != nil {
		setupLog.Error(err, "unable to create manager")
		os.Exit(1)
	}

	ctx := ctrl.SetupSignalHandler()
	// The token key is read (or made) before the caches start, with a client that reads directly.
	directClient, err := client.New(mgr.GetConfig(), client.Options{Scheme: mgr.GetScheme()})
	if err != nil {
		setupLog.Error(err, "unable to create a client")
		os.Exit(1)
	}
	tokenKey, err := tokenkey.Ensure(ctx, directClient,
		types.NamespacedName{Namespace: opts.TokenKeyNamespace, Name: opts.TokenKeyName}, rand.Reader)
	if err != nil {
		setupLog.Error(err, "unable to read or create the invitation token key")
		os.Exit(1)
	}
	if err := index.Setup(ctx, mgr, tokenKey); err != nil {
		setupLog.Error(err, "unable to register cache indexes")
		os.Exit(1)
	}
	// How long API requests take, and how long they wait on the client-side rate limiter
	// (--kube-api-qps): the first thing to look at when reconciles are slow.
	crmetrics.RegisterRESTClientMetrics(crmetrics.MetricRequestLatency, crmetrics.MetricRateLimiterLatency)
	smtpSender, err := mail.NewSMTPSender(mail.SMTPConfig{URL: opts.SMTPURL, Password: opts.SMTPPassword, From: opts.MailFrom,
		AllowInsecure: opts.SMTPAllowInsecure})
	if err != nil {
		setupLog.Error(err, "invalid mail settings")
		os.Exit(2)
	}
	sender := metrics.MeasuredSender{Sender: smtpSender}
	if !opts.AcceptOnly {
		setupControllers(ctx, mgr, &opts, sender, smtpSender.FromDomain(), tokenKey)
	}
	if opts.ServesAcceptance() {
		setupAcceptance(mgr, &opts, sender, smtpSender.FromDomain(), tokenKey)
	}
	for _, w := range []*certwatcher.CertWatcher{webhookCertWatcher, metricsCertWatcher} {
		if w != nil {
			if err := mgr.Add(w); err != nil {
				setupLog.Error(err, "unable to add certificate watcher to manager")
				os.Exit(1)
			}
		}
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		setupLog.Error(err, "unable to set up health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		setupLog.Error(err, "unable to set up ready check")
		os.Exit(1)
	}

	setupLog.Info("starting manager", "version", version.Get().Version, "revision", version.Get().Revision,
		"smtpURL", opts.RedactedSMTPURL(), "mailFrom", opts.MailFrom, "publicURL", opts.PublicURL,
		"acceptBindAddress", opts.AcceptBindAddress, "acceptOnly", opts.AcceptOnly, "exclusiveMembership", opts.ExclusiveMembership,
		"invitationRetention", opts.InvitationRetention, "tokenKeySecret", opts.TokenKeyNamespace+"/"+opts.TokenKeyName)
	if err := mgr.Start(ctx); err != nil {
		setupLog.Error(err, "problem running manager")
		os.Exit(1)
	}
}

// setupControllers registers the Store, Member and Invitation controllers, the members metric
// and, unless turned off, the validating webhooks: everything but the public server.
func setupControllers(ctx context.Context, mgr ctrl.Manager, opts *config.Options, sender mail.Sender, mailDomain string, tokenKey []byte) {
	if err := metrics.RegisterMembers(mgr.GetClient()); err != nil {
		setupLog.Error(err, "unable to register the members metric")
		os.Exit(1)
	}
	if err := (&store.Reconciler{
		Client:     mgr.GetClient(),
		APIReader:  mgr.GetAPIReader(),
		Scheme:     mgr.GetScheme(),
		Recorder:   mgr.GetEventRecorder("membership.storeops.io/store-controller"),
		Clock:      clock.RealClock{},
		Mail:       sender,
		MailDomain: mailDomain,
		PublicURL:  opts.PublicURL,
		Random:     rand.Reader,

		MaxConcurrentReconciles: opts.StoreConcurrency,
	}).SetupWithManager(mgr); err != nil {
		setupLog.Error(err, "unable to create controller", "controller", "Store")
		os.Exit(1)
	}
	if err := (&member.Reconciler{
		Client:               mgr.GetClient(),
		APIReader:            mgr.GetAPIReader(),
		Scheme:               mgr.GetScheme(),
		Recorder:             mgr.GetEventRecorder("membership.storeops.io/member-controller"),
		Clock:                clock.RealClock{},
		Mail:                 sender,
		MailDomain:           mailDomain,
		Random:               rand.Reader,
		BcryptCost:           opts.BcryptCost,
		RemovalNoticeTimeout: opts.RemovalNoticeTimeout,
		PasswordSecretResync: opts.PasswordSecretResync,
		PublicURL:            opts.PublicURL,
		PasswordResetTTL:     opts.PasswordResetTTL,
		ExclusiveMembership:  opts.ExclusiveMembership,

		MaxConcurrentReconciles: opts.MemberConcurrency,
	}).SetupWithManager(ctx, mgr); err != nil {
		setupLog.Error(err, "unable to create controller", "controller", "Member")
		os.Exit(1)
	}
	if err := (&invitation.Reconciler{
		Client:              mgr.GetClient(),
		Scheme:              mgr.GetScheme(),
		Recorder:            mgr.GetEventRecorder("membership.storeops.io/invitation-controller"),
		Clock:               clock.RealClock{},
		Mail:                sender,
		MailDomain:          mailDomain,
		TokenKey:            tokenKey,
		PublicURL:           opts.PublicURL,
		ExclusiveMembership: opts.ExclusiveMembership,
		Retention:           opts.InvitationRetention,

		MaxConcurrentReconciles: opts.InvitationConcurrency,
	}).SetupWithManager(mgr); err != nil {
		setupLog.Error(err, "unable to create controller", "controller", "Invitation")
		os.Exit(1)
	}
	if opts.EnableWebhooks {
		// Only the operator's own identity may manage the owner role; ask the API server who we are.
		operator, err := storewebhook.OperatorIdentity(ctx, mgr.GetConfig())
		if err != nil {
			setupLog.Error(err, "unable to set up the webhooks")
			os.Exit(1)
		}
		var alsoOperator []string
		if identity := opts.AcceptIdentity(); identity != "" {
			alsoOperator = append(alsoOperator, identity)
		}
		if err := storewebhook.Setup(mgr, operator, opts.ExclusiveMembership, alsoOperator...); err != nil {
			setupLog.Error(err, "unable to set up the webhooks")
			os.Exit(1)
		}
		// Not ready until the webhook server serves: the API server calls it for every Member and
		// Invitation write.
		if err := mgr.AddReadyzCheck("webhook", mgr.GetWebhookServer().StartedChecker()); err != nil {
			setupLog.Error(err, "unable to set up the webhook ready check")
			os.Exit(1)
		}
		setupLog.Info("validating webhooks registered", "port", opts.WebhookPort, "operator", operator)
	}

}

// setupAcceptance adds the acceptance server (the public pages and JSON API), which runs on every
// replica, leader or not.
func setupAcceptance(mgr ctrl.Manager, opts *config.Options, sender mail.Sender, mailDomain string, tokenKey []byte) {
	if err := mgr.Add(&accept.Server{
		Client:              mgr.GetClient(),
		APIReader:           mgr.GetAPIReader(),
		Scheme:              mgr.GetScheme(),
		Recorder:            mgr.GetEventRecorder("membership.storeops.io/acceptance-server"),
		Clock:               clock.RealClock{},
		Mail:                sender,
		MailDomain:          mailDomain,
		TokenKey:            tokenKey,
		Random:              rand.Reader,
		BcryptCost:          opts.BcryptCost,
		Addr:                opts.AcceptBindAddress,
		TrustedProxies:      opts.TrustedProxies,
		Log:                 ctrl.Log.WithName("accept"),
		PublicURL:           opts.PublicURL,
		PasswordResetTTL:    opts.PasswordResetTTL,
		ExclusiveMembership: opts.ExclusiveMembership,
	}); err != nil {
		setupLog.Error(err, "unable to add the acceptance server")
		os.Exit(1)
	}

}
