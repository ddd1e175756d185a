// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package config holds the operator process's settings: its command-line flags, their environment
// variable fallbacks and the checks that run before the manager starts, so that a bad flag stops
// the process with a clear message instead of failing later inside a reconcile.
package config

import (
	"flag"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"github.com/storeops/member-operator/internal/accounttoken"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/shard"
)

// Environment variables read when the matching flag is not given. Secrets come from the
// environment (a Secret mounted as env) so they never appear in the pod spec's arguments.
const (
	EnvSMTPURL      = "SMTP_URL"
	EnvSMTPPassword = "SMTP_PASSWORD"
	// EnvPodNamespace is the operator's namespace (from the downward API), where the token key
	// Secret lives unless --token-key-secret names another.
	EnvPodNamespace = "POD_NAMESPACE"
)

// Defaults of the flags that have one.
const (
	DefaultAcceptBindAddress = ":8082"
	DefaultPasswordResetTTL  = accounttoken.DefaultTTL
	DefaultBcryptCost        = 12
	// DefaultRemovalNoticeTimeout: a deletion waits this long for the access-removed email.
	DefaultRemovalNoticeTimeout = 10 * time.Minute
	// DefaultPasswordSecretResync: a change of a Member's password Secret shows within this.
	DefaultPasswordSecretResync = time.Minute
	// MinBcryptCost is the lowest bcrypt cost the operator accepts: below it an offline attack on a
	// leaked hash becomes cheap.
	MinBcryptCost = credentials.MinBcryptCost
	// MaxBcryptCost bounds hashing time (cost 16 is several seconds per password).
	MaxBcryptCost = 16
	// DefaultInvitationRetention: finished Invitations are deleted after this.
	DefaultInvitationRetention = 30 * 24 * time.Hour
	// DefaultKubeAPIQPS and DefaultKubeAPIBurst bound the manager's requests to the API server.
	// When an invitation took four writes (finalizer, link Secret, attempt, result), 500 of them
	// waited on the client's limiter at 100 QPS for a third of their time (docs/benchmarks.md); it
	// takes two now. The API server protects itself with priority and fairness; this only keeps a
	// burst polite. Events have a limiter of their own.
	DefaultKubeAPIQPS   = 200
	DefaultKubeAPIBurst = 400
	// Default concurrent reconciles per controller. Members are CPU-bound (bcrypt), Invitations
	// wait on the SMTP server, Stores do little, Accounts wait on the API server (a handful of
	// writes each, in order).
	DefaultStoreConcurrency      = 2
	DefaultMemberConcurrency     = 4
	DefaultInvitationConcurrency = 8
	DefaultAccountConcurrency    = 4
	// MaxConcurrency bounds the concurrency flags.
	MaxConcurrency = 64
	// DefaultLeaderElectionID is the Lease config/default's manager elects its leader with.
	DefaultLeaderElectionID = "member-operator.membership.storeops.io"
	// DefaultAcceptServiceAccount is the acceptance-only Deployment's ServiceAccount (config/default).
	DefaultAcceptServiceAccount = "member-operator-accept"
	// DefaultTokenKeySecret is the name of the Secret holding the invitation token key.
	DefaultTokenKeySecret = "member-operator-token-key"
	// ServiceAccountNamespaceFile is where a Pod reads its own namespace: the operator's namespace
	// when $POD_NAMESPACE is not set.
	ServiceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace" //nolint:gosec // a path, not a credential
)

// Options are the operator's settings.
type Options struct {
	// Manager settings, as in the kubebuilder v4 scaffold.
	MetricsAddr          string
	SecureMetrics        bool
	ProbeAddr            string
	EnableLeaderElection bool
	// LeaderElectionNamespace holds the Lease; empty means the Pod's own namespace, which only
	// exists in a cluster (a manager run from a workstation with --leader-elect must set it).
	LeaderElectionNamespace string
	EnableHTTP2             bool
	// PprofAddr serves net/http/pprof when not "0" (for profiling; off by default).
	PprofAddr string
	// KubeAPIQPS and KubeAPIBurst are the manager's client-side rate limit towards the API server.
	KubeAPIQPS   float64
	KubeAPIBurst int
	// Concurrent reconciles per controller.
	StoreConcurrency      int
	MemberConcurrency     int
	InvitationConcurrency int
	AccountConcurrency    int
	// EnableWebhooks serves the validating admission webhooks; WebhookPort is where.
	EnableWebhooks  bool
	WebhookPort     int
	WebhookCertPath string
	WebhookCertName string
	WebhookCertKey  string
	MetricsCertPath string
	MetricsCertName string
	MetricsCertKey  string

	// SMTPURL is smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465 (implicit TLS).
	// Use Redacted to print it.
	SMTPURL string
	// SMTPPassword overrides the password in SMTPURL; read from SMTP_PASSWORD.
	SMTPPassword string
	// SMTPAllowInsecure lets ?tls=none or ?tls=opportunistic reach a host that is not loopback.
	SMTPAllowInsecure bool
	// MailFrom is the From header of every email, e.g. "Store Team <no-reply@example.com>".
	MailFrom string
	// PublicURL is the base URL of links in emails, e.g. https://members.example.com.
	PublicURL string
	// AcceptBindAddress is where the invitation acceptance server listens; "0" serves none (the
	// controller Deployment, when the public server runs as its own).
	AcceptBindAddress string
	// AcceptOnly runs only the acceptance server: no controllers, no webhooks, no leader
	// election (the public server's own Deployment, with its own least-privilege role).
	AcceptOnly bool
	// LeaderElectionID names the leader election Lease.
	LeaderElectionID string
	// AcceptServiceAccount is the ServiceAccount, in the operator's namespace, of the
	// acceptance-only Deployment: the webhooks let it write the owner Member as the operator does.
	AcceptServiceAccount string
	// Namespace is the operator's own namespace ($POD_NAMESPACE, else the service account's
	// namespace file); "" when neither says.
	Namespace string
	// ExclusiveMembership refuses an email that already belongs to a Member of another Store.
	ExclusiveMembership bool
	// ShardSpec is --shard as given; Complete parses it into Shard (internal/shard).
	ShardSpec string
	Shard     shard.Range
	// PasswordResetTTL is how long a password reset link stays valid.
	PasswordResetTTL time.Duration
	// BcryptCost is the bcrypt cost of password hashes.
	BcryptCost int
	// RemovalNoticeTimeout bounds how long a Member deletion waits for the access-removed email.
	RemovalNoticeTimeout time.Duration
	// PasswordSecretResync is how often a Member's spec.passwordSecretRef Secret is re-read.
	PasswordSecretResync time.Duration
	// AcceptTrustedProxies is the comma-separated networks of the proxies in front of the
	// acceptance server; Complete parses it into TrustedProxies.
	AcceptTrustedProxies string
	TrustedProxies       []netip.Prefix
	// InvitationRetention is how long Accepted, Expired and Revoked Invitations are kept.
	InvitationRetention time.Duration
	// AccountNamespace is where Accounts keep their Secrets (password hash, TOTP key) and where
	// changes to them are asked for: the operator's own namespace unless --account-namespace
	// names another. Never a namespace tenants can write to.
	AccountNamespace string
	// TokenKeySecret is "[namespace/]name" of the Secret holding the key invitation link tokens
	// are derived from; Complete resolves it into TokenKeyNamespace and TokenKeyName.
	TokenKeySecret    string
	TokenKeyNamespace string
	TokenKeyName      string

	// namespaceFile is ServiceAccountNamespaceFile unless a test points elsewhere.
	namespaceFile string
}

// Defaults are the settings of a manager started without flags: what internal/setup builds
// from in tests, so a suite runs with production's defaults and overrides only what it studies.
func Defaults() Options {
	var o Options
	o.BindFlags(flag.NewFlagSet("defaults", flag.ContinueOnError))
	return o
}

// BindFlags registers every flag on fs with its default.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", "0",
		"The address the metrics endpoint binds to. Use :8443 for HTTPS or :8080 for HTTP, or leave as 0 to disable it.")
	fs.BoolVar(&o.SecureMetrics, "metrics-secure", true,
		"If set, the metrics endpoint is served securely via HTTPS. Use --metrics-secure=false to use HTTP instead.")
	fs.StringVar(&o.ProbeAddr, "health-probe-bind-address", ":8081", "The address the probe endpoint binds to.")
	fs.BoolVar(&o.EnableLeaderElection, "leader-elect", false,
		"Enable leader election for controller manager. Enabling this will ensure there is only one active controller manager.")
	fs.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", "",
		"The namespace of the leader election Lease; empty uses the Pod's namespace (required with --leader-elect outside a cluster).")
	fs.StringVar(&o.LeaderElectionID, "leader-election-id", DefaultLeaderElectionID,
		"The name of the leader election Lease: unique per installation in a namespace (the Helm chart uses the release's name).")
	fs.BoolVar(&o.EnableHTTP2, "enable-http2", false,
		"If set, HTTP/2 will be enabled for the metrics and webhook servers (off by default: CVE-2023-44487, CVE-2023-39325).")
	fs.StringVar(&o.PprofAddr, "pprof-bind-address", "0",
		"The address net/http/pprof is served on, e.g. 127.0.0.1:8083; 0 disables it. Profiles show code paths, "+
			"never Secret data, but keep it off networks others reach.")
	fs.Float64Var(&o.KubeAPIQPS, "kube-api-qps", DefaultKubeAPIQPS,
		"The manager's sustained requests per second to the API server (client-side limit).")
	fs.IntVar(&o.KubeAPIBurst, "kube-api-burst", DefaultKubeAPIBurst,
		"The manager's burst of requests to the API server above --kube-api-qps.")
	fs.IntVar(&o.StoreConcurrency, "store-concurrency", DefaultStoreConcurrency,
		"How many Stores are reconciled at once.")
	fs.IntVar(&o.MemberConcurrency, "member-concurrency", DefaultMemberConcurrency,
		"How many Members are reconciled at once; issuing credentials hashes a password, so about the number of CPUs "+
			"the manager may use, or a few more.")
	fs.IntVar(&o.InvitationConcurrency, "invitation-concurrency", DefaultInvitationConcurrency,
		"How many Invitations are reconciled at once; each send waits on the SMTP server.")
	fs.IntVar(&o.AccountConcurrency, "account-concurrency", DefaultAccountConcurrency,
		"How many Accounts are reconciled at once (where the Account controller runs); each waits on the API server "+
			"for a few writes in a row, so a Git onboarding of many people goes as fast as these overlap.")
	fs.BoolVar(&o.EnableWebhooks, "enable-webhooks", true,
		"Serve the validating admission webhooks for Members and Invitations (the controllers re-check everything "+
			"they refuse, so running without them is safe, only later to report).")
	fs.IntVar(&o.WebhookPort, "webhook-port", 9443, "The port the webhook server listens on.")
	fs.StringVar(&o.WebhookCertPath, "webhook-cert-path", "", "The directory that contains the webhook certificate.")
	fs.StringVar(&o.WebhookCertName, "webhook-cert-name", "tls.crt", "The name of the webhook certificate file.")
	fs.StringVar(&o.WebhookCertKey, "webhook-cert-key", "tls.key", "The name of the webhook key file.")
	fs.StringVar(&o.MetricsCertPath, "metrics-cert-path", "",
		"The directory that contains the metrics server certificate.")
	fs.StringVar(&o.MetricsCertName, "metrics-cert-name", "tls.crt", "The name of the metrics server certificate file.")
	fs.StringVar(&o.MetricsCertKey, "metrics-cert-key", "tls.key", "The name of the metrics server key file.")

	fs.StringVar(&o.SMTPURL, "smtp-url", "",
		"SMTP server: smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465 (implicit TLS). "+
			"Falls back to $"+EnvSMTPURL+"; the password may come from $"+EnvSMTPPassword+".")
	fs.BoolVar(&o.SMTPAllowInsecure, "smtp-allow-insecure", false,
		"Allow --smtp-url with ?tls=none or ?tls=opportunistic to a host that is not loopback. The emails carry "+
			"invitation and reset links, which are credentials: only for a relay on a network nobody else can read.")
	fs.StringVar(&o.MailFrom, "mail-from", "", `The From address of every email, e.g. "Store Team <no-reply@example.com>".`)
	fs.StringVar(&o.PublicURL, "public-url", "",
		"Base URL for links in emails, e.g. https://members.example.com: where users reach the acceptance server.")
	fs.StringVar(&o.AcceptBindAddress, "accept-bind-address", DefaultAcceptBindAddress,
		"The address the invitation acceptance server binds to; 0 serves none (when --accept-only processes serve it).")
	fs.StringVar(&o.AcceptServiceAccount, "accept-service-account", DefaultAcceptServiceAccount,
		"The ServiceAccount (in the operator's namespace) of the --accept-only Deployment, which the webhooks trust as the operator.")
	fs.BoolVar(&o.AcceptOnly, "accept-only", false,
		"Run only the acceptance server (the public pages and JSON API): no controllers, no webhooks, no leader election. "+
			"For its own Deployment with its own least-privilege RBAC (config/rbac/accept_role.yaml).")
	fs.BoolVar(&o.ExclusiveMembership, "exclusive-membership", false,
		"Refuse to invite or add an email that already belongs to a Member of another Store.")
	fs.StringVar(&o.ShardSpec, "shard", "",
		"Reconcile only the namespaces whose FNV-1a hash falls in this range, with a leader-election Lease of its own: "+
			"index/count (0-based, e.g. 0/4 .. 3/4) or 0xSTART-0xEND; or cluster, the one manager for cluster-scoped "+
			"objects (Accounts), the acceptance server and the webhooks, which reconciles no namespace. Empty reconciles "+
			"everything. A namespace shard asks kube-apiserver for its namespaces only (feature gate ShardedListAndWatch) "+
			"and filters them itself as well.")
	fs.DurationVar(&o.PasswordResetTTL, "password-reset-ttl", DefaultPasswordResetTTL,
		"How long a password reset link stays valid.")
	fs.IntVar(&o.BcryptCost, "bcrypt-cost", DefaultBcryptCost,
		"The bcrypt cost of password hashes, from "+strconv.Itoa(MinBcryptCost)+" to "+strconv.Itoa(MaxBcryptCost)+".")
	fs.DurationVar(&o.RemovalNoticeTimeout, "removal-notice-timeout", DefaultRemovalNoticeTimeout,
		"How long deleting a Member waits for the access-removed email to be accepted by SMTP before it is "+
			"released anyway, with a Warning event.")
	fs.DurationVar(&o.PasswordSecretResync, "password-secret-resync", DefaultPasswordSecretResync,
		"How often a Member's spec.passwordSecretRef Secret is re-read; a changed password is picked up within this.")
	fs.StringVar(&o.AcceptTrustedProxies, "accept-trusted-proxies", "",
		"Comma-separated networks (CIDR) of the reverse proxies in front of the acceptance server: the ingress "+
			"controller's Pods only, e.g. 10.42.7.0/24, never a whole cluster range (any Pod in it could then name any "+
			"client in X-Forwarded-For and dodge or aim the rate limits). Empty trusts no header.")
	fs.DurationVar(&o.InvitationRetention, "invitation-retention", DefaultInvitationRetention,
		"How long Accepted, Expired and Revoked Invitations are kept before they are deleted.")
	fs.StringVar(&o.TokenKeySecret, "token-key-secret", DefaultTokenKeySecret,
		"[namespace/]name of the Secret holding the key invitation link tokens are derived from; made at first start. "+
			"The namespace defaults to the operator's own ($"+EnvPodNamespace+", else the service account's namespace "+
			"file); without either the manager refuses to start.")
	fs.StringVar(&o.AccountNamespace, "account-namespace", "",
		"The namespace where Accounts keep their password hash and 2FA key; empty uses the operator's own (where the token key is).")
}

// AcceptIdentity is the username of the acceptance-only Deployment's ServiceAccount; "" when the
// operator's namespace is unknown.
func (o *Options) AcceptIdentity() string {
	if o.Namespace == "" || o.AcceptServiceAccount == "" {
		return ""
	}
	return "system:serviceaccount:" + o.Namespace + ":" + o.AcceptServiceAccount
}

// ServesAcceptance reports whether this process serves the acceptance server.
func (o *Options) ServesAcceptance() bool { return o.AcceptBindAddress != "0" }

// RedactedSMTPURL is the SMTP URL with any password replaced, safe for logs.
func (o *Options) RedactedSMTPURL() string {
	u, err := url.Parse(o.SMTPURL)
	if err != nil {
		return "<unparseable>"
	}
	return u.Redacted()
}
