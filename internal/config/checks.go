// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package config

import (
	"errors"
	"fmt"
	netmail "net/mail"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/internal/shard"
)

// The checks Complete runs before the manager starts, and the environment fallbacks it reads.

// Complete fills settings that were not given as flags from the environment (getenv is os.Getenv
// in the process, a map in tests) and checks every setting. The errors name the flag and never
// contain a password.
func (o *Options) Complete(getenv func(string) string) error {
	if o.SMTPURL == "" {
		o.SMTPURL = getenv(EnvSMTPURL)
	}
	if p := getenv(EnvSMTPPassword); p != "" {
		o.SMTPPassword = p
	}

	var errs []error
	if err := validateSMTPURL(o.SMTPURL, o.SMTPPassword, o.SMTPAllowInsecure); err != nil {
		errs = append(errs, err)
	}
	if o.MailFrom == "" {
		errs = append(errs, errors.New("--mail-from is required, e.g. \"Store Team <no-reply@example.com>\""))
	} else if _, err := netmail.ParseAddress(o.MailFrom); err != nil {
		errs = append(errs, fmt.Errorf("--mail-from %q is not an email address: %w", o.MailFrom, err))
	}
	// Links are built as PublicURL + "/invitations/accept?...": one slash, whatever was given.
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	if err := validatePublicURL(o.PublicURL); err != nil {
		errs = append(errs, err)
	}
	if o.PasswordResetTTL < time.Minute || o.PasswordResetTTL > 24*time.Hour {
		errs = append(errs, fmt.Errorf("--password-reset-ttl %s must be between 1m and 24h", o.PasswordResetTTL))
	}
	if o.BcryptCost < MinBcryptCost || o.BcryptCost > MaxBcryptCost {
		errs = append(errs, fmt.Errorf("--bcrypt-cost %d must be between %d and %d", o.BcryptCost, MinBcryptCost, MaxBcryptCost))
	}
	if o.RemovalNoticeTimeout < time.Second || o.RemovalNoticeTimeout > 24*time.Hour {
		errs = append(errs, fmt.Errorf("--removal-notice-timeout %s must be between 1s and 24h", o.RemovalNoticeTimeout))
	}
	if o.PasswordSecretResync < time.Second || o.PasswordSecretResync > time.Hour {
		errs = append(errs, fmt.Errorf("--password-secret-resync %s must be between 1s and 1h", o.PasswordSecretResync))
	}
	if o.KubeAPIQPS <= 0 || o.KubeAPIQPS > 10000 {
		errs = append(errs, fmt.Errorf("--kube-api-qps %g must be above 0 and at most 10000", o.KubeAPIQPS))
	}
	if o.KubeAPIBurst < 1 || o.KubeAPIBurst > 20000 {
		errs = append(errs, fmt.Errorf("--kube-api-burst %d must be between 1 and 20000", o.KubeAPIBurst))
	}
	for _, c := range []struct {
		flag  string
		value int
	}{
		{"--store-concurrency", o.StoreConcurrency},
		{"--member-concurrency", o.MemberConcurrency},
		{"--invitation-concurrency", o.InvitationConcurrency},
		{"--account-concurrency", o.AccountConcurrency},
	} {
		if c.value < 1 || c.value > MaxConcurrency {
			errs = append(errs, fmt.Errorf("%s %d must be between 1 and %d", c.flag, c.value, MaxConcurrency))
		}
	}
	errs = append(errs, o.validateAcceptance()...)
	errs = append(errs, o.validateShard()...)
	if o.InvitationRetention < time.Minute {
		errs = append(errs, fmt.Errorf("--invitation-retention %s must be at least 1m", o.InvitationRetention))
	}
	for _, cidr := range strings.Split(o.AcceptTrustedProxies, ",") {
		if cidr = strings.TrimSpace(cidr); cidr == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(cidr)
		if err != nil {
			errs = append(errs, fmt.Errorf("--accept-trusted-proxies: %q is not a network in CIDR notation, e.g. 10.42.7.0/24", cidr))
			continue
		}
		o.TrustedProxies = append(o.TrustedProxies, prefix.Masked())
	}
	o.Namespace = o.ownNamespace(getenv)
	if err := o.resolveTokenKeySecret(getenv); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (o *Options) resolveTokenKeySecret(getenv func(string) string) error {
	namespace, name, found := strings.Cut(o.TokenKeySecret, "/")
	if !found {
		name = o.TokenKeySecret
	}
	if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
		return fmt.Errorf("--token-key-secret %q: the name %s", o.TokenKeySecret, strings.Join(msgs, "; "))
	}
	if !found {
		if namespace = o.ownNamespace(getenv); namespace == "" {
			// Not "default": the key signs every link, and a namespace its tenants share is no
			// place for it.
			return fmt.Errorf("--token-key-secret %q: the operator's namespace is unknown (no $%s and no %s); "+
				"set $%s from the downward API or name the namespace, e.g. --token-key-secret=member-operator-system/%s",
				o.TokenKeySecret, EnvPodNamespace, o.serviceAccountNamespaceFile(), EnvPodNamespace, o.TokenKeySecret)
		}
	}
	if msgs := validation.IsDNS1123Label(namespace); len(msgs) > 0 {
		return fmt.Errorf("--token-key-secret %q: the namespace %s", o.TokenKeySecret, strings.Join(msgs, "; "))
	}
	o.TokenKeyNamespace, o.TokenKeyName = namespace, name
	if o.AccountNamespace == "" {
		o.AccountNamespace = namespace
	}
	if msgs := validation.IsDNS1123Label(o.AccountNamespace); len(msgs) > 0 {
		return fmt.Errorf("--account-namespace %q: %s", o.AccountNamespace, strings.Join(msgs, "; "))
	}
	return nil
}

// validateShard parses --shard and refuses what a namespace shard cannot do: its caches hold its
// own namespaces only, and the acceptance server (a link can be any namespace's), the webhooks
// (a request can be any namespace's) and --exclusive-membership (an address in any namespace)
// need every namespace. Those run in the manager with --shard=cluster.
func (o *Options) validateShard() []error {
	r, err := shard.Parse(o.ShardSpec)
	if err != nil {
		return []error{err}
	}
	o.Shard = r
	if !r.Namespaced() {
		return nil
	}
	var errs []error
	rule := "a namespace shard caches its own namespaces only; run it in the --shard=cluster manager"
	if o.AcceptOnly {
		errs = append(errs, fmt.Errorf("--shard %s with --accept-only: the acceptance server serves every namespace's links, "+
			"and runs unsharded", o.ShardSpec))
	}
	if o.ServesAcceptance() {
		errs = append(errs, fmt.Errorf("--shard %s needs --accept-bind-address=0: the acceptance server serves every namespace's links; %s",
			o.ShardSpec, rule))
	}
	if o.EnableWebhooks {
		errs = append(errs, fmt.Errorf("--shard %s needs --enable-webhooks=false: the webhooks judge requests for every namespace; %s",
			o.ShardSpec, rule))
	}
	if o.ExclusiveMembership {
		errs = append(errs, fmt.Errorf("--shard %s cannot enforce --exclusive-membership, which compares addresses across all "+
			"namespaces: not supported with namespace shards yet", o.ShardSpec))
	}
	return errs
}

// validateAcceptance checks the flags of the acceptance server and of --accept-only.
func (o *Options) validateAcceptance() []error {
	var errs []error
	if o.AcceptBindAddress == "" {
		errs = append(errs, errors.New("--accept-bind-address must not be empty"))
	}
	if o.AcceptOnly && !o.ServesAcceptance() {
		errs = append(errs, errors.New("--accept-only serves only the acceptance server: --accept-bind-address must not be 0"))
	}
	if o.AcceptOnly && o.EnableLeaderElection {
		errs = append(errs, errors.New("--accept-only runs no controllers and every replica serves: drop --leader-elect"))
	}
	return errs
}

// ownNamespace is the operator's namespace: $POD_NAMESPACE, else the one in the service account's
// namespace file (every Pod has it); "" outside a Pod without the variable.
func (o *Options) ownNamespace(getenv func(string) string) string {
	if ns := getenv(EnvPodNamespace); ns != "" {
		return ns
	}
	data, err := os.ReadFile(o.serviceAccountNamespaceFile())
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

func (o *Options) serviceAccountNamespaceFile() string {
	if o.namespaceFile != "" {
		return o.namespaceFile
	}
	return ServiceAccountNamespaceFile
}

func validateSMTPURL(raw, password string, allowInsecure bool) error {
	if raw == "" {
		return errors.New("--smtp-url (or $" + EnvSMTPURL + ") is required, e.g. smtp://user@mail.example.com:587")
	}
	ep, err := mail.ParseSMTPURL(raw)
	if err != nil {
		return fmt.Errorf("--smtp-url: %w", err)
	}
	if password != "" {
		ep.Password = password
	}
	if err := ep.CheckTransport(allowInsecure); err != nil {
		return fmt.Errorf("--smtp-url: %w", err)
	}
	return nil
}

func validatePublicURL(raw string) error {
	if raw == "" {
		return errors.New("--public-url is required, e.g. https://members.example.com")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--public-url %q must be an absolute http or https URL", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("--public-url %q must not have a query, fragment or user info", raw)
	}
	return nil
}
