// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Command manager runs the member operator: the Store, Member and Invitation controllers and the
// invitation acceptance server, in one process.
package main

import (
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
	"github.com/storeops/member-operator/internal/config"
	"github.com/storeops/member-operator/internal/logging"
	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/internal/memlimit"
	"github.com/storeops/member-operator/internal/metrics"
	"github.com/storeops/member-operator/internal/setup"
	"github.com/storeops/member-operator/internal/tokenkey"
	"github.com/storeops/member-operator/internal/version"
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
	if percent := memlimit.SetGCPercent(); percent > 0 {
		setupLog.V(1).Info("Go collector set to run when the heap grew by half its live size (GOGC unset)", "gcPercent", percent)
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
	managerOptions := ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsServerOptions,
		WebhookServer:           webhook.NewServer(webhook.Options{TLSOpts: webhookTLSOpts, Port: opts.WebhookPort}),
		HealthProbeBindAddress:  opts.ProbeAddr,
		PprofBindAddress:        opts.PprofAddr,
		LeaderElection:          opts.EnableLeaderElection && !opts.AcceptOnly,
		LeaderElectionNamespace: opts.LeaderElectionNamespace,
		// The process exits right after the manager stops, so the next leader need not wait for
		// the lease to expire.
		LeaderElectionReleaseOnCancel: true,
	}
	// The cache policy and the Lease, and for a shard what it reconciles (internal/shard).
	restConfig = setup.Manager(restConfig, &opts, &managerOptions)
	setupLog.Info("reconciling", "shard", opts.Shard.String(), "lease", managerOptions.LeaderElectionID)
	mgr, err := ctrl.NewManager(restConfig, managerOptions)
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
	// How long API requests take, and how long they wait on the client-side rate limiter
	// (--kube-api-qps): the first thing to look at when reconciles are slow.
	crmetrics.RegisterRESTClientMetrics(crmetrics.MetricRequestLatency, crmetrics.MetricRateLimiterLatency)
	smtpSender, err := mail.NewSMTPSender(mail.SMTPConfig{URL: opts.SMTPURL, Password: opts.SMTPPassword, From: opts.MailFrom,
		AllowInsecure: opts.SMTPAllowInsecure})
	if err != nil {
		setupLog.Error(err, "invalid mail settings")
		os.Exit(2)
	}
	if !opts.AcceptOnly {
		if err := metrics.RegisterMembers(ctx, mgr.GetCache()); err != nil {
			setupLog.Error(err, "unable to register the members metric")
			os.Exit(1)
		}
	}
	if err := setup.Operator(ctx, mgr, &opts, setup.Parts{
		Mail: metrics.MeasuredSender{Sender: smtpSender}, MailDomain: smtpSender.FromDomain(), TokenKey: tokenKey,
	}); err != nil {
		setupLog.Error(err, "unable to set up the operator")
		os.Exit(1)
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
