// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package config

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/storeops/member-operator/internal/shard"
)

func parse(t *testing.T, args []string, env map[string]string) (*Options, error) {
	t.Helper()
	return parseIn(t, args, env, filepath.Join(t.TempDir(), "no-namespace-file"))
}

// parseIn parses with the service account's namespace file at namespaceFile.
func parseIn(t *testing.T, args []string, env map[string]string, namespaceFile string) (*Options, error) {
	t.Helper()
	o := Options{namespaceFile: namespaceFile}
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	o.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse: %v", err)
	}
	return &o, o.Complete(func(k string) string { return env[k] })
}

var minimal = []string{"--smtp-url=smtp://mail.example.com:587", "--mail-from=Store Team <no-reply@example.com>",
	"--public-url=https://members.example.com", "--token-key-secret=member-operator-system/member-operator-token-key"}

// minimalInPod is minimal with the token key in the operator's own namespace, as deployed.
var minimalInPod = minimal[:3:3]

func TestDefaults(t *testing.T) {
	g := NewWithT(t)
	o, err := parse(t, minimal, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(o.AcceptBindAddress).To(Equal(":8082"))
	g.Expect(o.PasswordResetTTL).To(Equal(time.Hour))
	g.Expect(o.BcryptCost).To(Equal(12))
	g.Expect(o.ExclusiveMembership).To(BeFalse())
	g.Expect(o.ProbeAddr).To(Equal(":8081"))
	g.Expect(o.EnableLeaderElection).To(BeFalse())
	g.Expect(o.WebhookCertName).To(Equal("tls.crt"))
	g.Expect(o.InvitationRetention).To(Equal(720 * time.Hour))
	g.Expect(o.TokenKeyNamespace).To(Equal("member-operator-system"))
	g.Expect(o.TokenKeyName).To(Equal("member-operator-token-key"))
	g.Expect(o.SMTPAllowInsecure).To(BeFalse())
	g.Expect(o.PprofAddr).To(Equal("0"), "pprof is off unless asked for")
	g.Expect(o.KubeAPIQPS).To(BeNumerically("==", 200))
	g.Expect(o.KubeAPIBurst).To(Equal(400))
	g.Expect([]int{o.StoreConcurrency, o.MemberConcurrency, o.InvitationConcurrency, o.AccountConcurrency}).To(Equal([]int{2, 4, 8, 4}))
}

func TestTokenKeySecretNamespace(t *testing.T) {
	g := NewWithT(t)
	o, err := parse(t, minimalInPod, map[string]string{EnvPodNamespace: "member-operator-system"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(o.TokenKeyNamespace).To(Equal("member-operator-system"), "the pod's namespace, from the downward API")

	file := filepath.Join(t.TempDir(), "namespace")
	g.Expect(os.WriteFile(file, []byte("ops-members\n"), 0o600)).To(Succeed())
	o, err = parseIn(t, minimalInPod, nil, file)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(o.TokenKeyNamespace).To(Equal("ops-members"), "the service account's namespace file, without $POD_NAMESPACE")
	g.Expect(o.AcceptIdentity()).To(Equal("system:serviceaccount:ops-members:member-operator-accept"),
		"the acceptance-only Deployment's ServiceAccount, which the webhooks trust")

	_, err = parse(t, minimalInPod, nil)
	g.Expect(err).To(MatchError(ContainSubstring("the operator's namespace is unknown")),
		"never the shared \"default\" namespace for the link-signing key")

	o, err = parse(t, append(minimalInPod, "--token-key-secret=ops/links-key"), map[string]string{EnvPodNamespace: "ignored"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect([]string{o.TokenKeyNamespace, o.TokenKeyName}).To(Equal([]string{"ops", "links-key"}))
}

func TestEnvironmentFallbacks(t *testing.T) {
	g := NewWithT(t)
	o, err := parse(t, minimal[1:], map[string]string{
		EnvSMTPURL: "smtps://relay@mail.example.com:465", EnvSMTPPassword: "s3cret-from-env",
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(o.SMTPURL).To(Equal("smtps://relay@mail.example.com:465"))
	g.Expect(o.SMTPPassword).To(Equal("s3cret-from-env"))

	o, err = parse(t, minimal, map[string]string{EnvSMTPURL: "smtp://ignored.example.com"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(o.SMTPURL).To(Equal("smtp://mail.example.com:587"), "the flag wins over the environment")
}

func TestPublicURLTrailingSlashIsTrimmed(t *testing.T) {
	g := NewWithT(t)
	o, err := parse(t, append(minimal[:2:2], minimal[3], "--public-url=https://members.example.com/stores/"), nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(o.PublicURL).To(Equal("https://members.example.com/stores"))
}

func TestInvalidSettingsNameTheFlagAndHideThePassword(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no smtp url", []string{"--mail-from=a@example.com", "--public-url=https://x.example.com"}, "--smtp-url (or $SMTP_URL) is required"},
		{"wrong scheme", []string{"--smtp-url=http://user:hunter2hunter2@mail.example.com", "--mail-from=a@example.com", "--public-url=https://x.example.com"}, "scheme must be smtp"},
		{"no host", []string{"--smtp-url=smtp://user:hunter2hunter2@:25", "--mail-from=a@example.com", "--public-url=https://x.example.com"}, "a host is required"},
		{"bad port", []string{"--smtp-url=smtp://user:hunter2hunter2@mail.example.com:99999", "--mail-from=a@example.com", "--public-url=https://x.example.com"}, "port must be 1-65535"},
		{"unparseable url", []string{"--smtp-url=smtp://user:hunter2hunter2@mail.example.com:%zz", "--mail-from=a@example.com", "--public-url=https://x.example.com"}, "--smtp-url: not a valid URL"},
		{"no mail-from", []string{"--smtp-url=smtp://mail.example.com", "--public-url=https://x.example.com"}, "--mail-from is required"},
		{"bad mail-from", []string{"--smtp-url=smtp://mail.example.com", "--mail-from=Store Team", "--public-url=https://x.example.com"}, "--mail-from \"Store Team\" is not an email address"},
		{"no public url", []string{"--smtp-url=smtp://mail.example.com", "--mail-from=a@example.com"}, "--public-url is required"},
		{"relative public url", []string{"--smtp-url=smtp://mail.example.com", "--mail-from=a@example.com", "--public-url=members.example.com"}, "must be an absolute http or https URL"},
		{"public url with query", []string{"--smtp-url=smtp://mail.example.com", "--mail-from=a@example.com", "--public-url=https://x.example.com?a=b"}, "must not have a query"},
		{"bcrypt cost too low", append(minimal, "--bcrypt-cost=4"), "--bcrypt-cost 4 must be between 10 and 16"},
		{"reset ttl too long", append(minimal, "--password-reset-ttl=48h"), "--password-reset-ttl 48h0m0s must be between 1m and 24h"},
		{"bad trusted proxy", append(minimal, "--accept-trusted-proxies=10.0.0.0/8,ingress"), "--accept-trusted-proxies: \"ingress\" is not a network"},
		{"retention too short", append(minimal, "--invitation-retention=10s"), "--invitation-retention 10s must be at least 1m"},
		{"bad token key name", append(minimal, "--token-key-secret=Not_A_Name"), "--token-key-secret \"Not_A_Name\": the name"},
		{"qps zero", append(minimal, "--kube-api-qps=0"), "--kube-api-qps 0 must be above 0"},
		{"burst zero", append(minimal, "--kube-api-burst=0"), "--kube-api-burst 0 must be between 1 and 20000"},
		{"member concurrency zero", append(minimal, "--member-concurrency=0"), "--member-concurrency 0 must be between 1 and 64"},
		{"invitation concurrency too high", append(minimal, "--invitation-concurrency=65"), "--invitation-concurrency 65 must be between 1 and 64"},
		{"store concurrency negative", append(minimal, "--store-concurrency=-1"), "--store-concurrency -1 must be between 1 and 64"},
		{"account concurrency zero", append(minimal, "--account-concurrency=0"), "--account-concurrency 0 must be between 1 and 64"},
		{"bad token key namespace", append(minimal, "--token-key-secret=a/b/c"), "--token-key-secret \"a/b/c\": the name"},
		{"accept-only serving nothing", append(minimal, "--accept-only", "--accept-bind-address=0"), "--accept-bind-address must not be 0"},
		{"accept-only with leader election", append(minimal, "--accept-only", "--leader-elect"), "drop --leader-elect"},
		{"bad shard", append(minimal, "--shard=4/4"), "--shard \"4/4\": index/count needs 0 <= index < count"},
		{"shard serving the acceptance server", append(minimal, "--shard=1/4", "--enable-webhooks=false"),
			"--shard 1/4 needs --accept-bind-address=0"},
		{"shard serving webhooks", append(minimal, "--shard=1/4", "--accept-bind-address=0"), "--shard 1/4 needs --enable-webhooks=false"},
		{"shard as accept-only", append(minimal, "--shard=0/2", "--accept-only", "--enable-webhooks=false"), "--shard 0/2 with --accept-only"},
		{"shard with exclusive membership", append(minimal, "--shard=0x0-0x8000000000000000", "--accept-bind-address=0",
			"--enable-webhooks=false", "--exclusive-membership"), "cannot enforce --exclusive-membership"},
		{"plain text smtp to a network host", append(minimal[1:], "--smtp-url=smtp://mail.example.com:25?tls=none"), "--smtp-allow-insecure"},
		{"opportunistic smtp to a network host", append(minimal[1:], "--smtp-url=smtp://mail.example.com:25?tls=opportunistic"), "--smtp-allow-insecure"},
		{"smtp password in plain text even when allowed", append(minimal[1:], "--smtp-url=smtp://u:hunter2hunter2@mail.example.com:25?tls=none", "--smtp-allow-insecure"), "password unencrypted"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := parse(t, tc.args, nil)
			g.Expect(err).To(MatchError(ContainSubstring(tc.want)))
			g.Expect(err.Error()).NotTo(ContainSubstring("hunter2hunter2"), "no password in errors")
		})
	}
}

func TestRedactedSMTPURL(t *testing.T) {
	g := NewWithT(t)
	o := Options{SMTPURL: "smtp://relay:hunter2hunter2@mail.example.com:587"} //nolint:gosec // a fake password to redact
	g.Expect(o.RedactedSMTPURL()).To(Equal("smtp://relay:xxxxx@mail.example.com:587"))
	o.SMTPURL = "smtp://mail.example.com:%zz"
	g.Expect(o.RedactedSMTPURL()).To(Equal("<unparseable>"))
}

func TestTrustedProxies(t *testing.T) {
	g := NewWithT(t)
	o, err := parse(t, append(minimal, "--accept-trusted-proxies=10.0.0.0/8, 192.168.1.7/24"), nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(o.TrustedProxies).To(HaveLen(2))
	g.Expect(o.TrustedProxies[1].String()).To(Equal("192.168.1.0/24"))
}

func TestInsecureSMTPOnlyWhenAskedFor(t *testing.T) {
	g := NewWithT(t)
	o, err := parse(t, append(minimal[1:], "--smtp-url=smtp://relay.internal:25?tls=none", "--smtp-allow-insecure"), nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(o.SMTPAllowInsecure).To(BeTrue())
	_, err = parse(t, append(minimal[1:], "--smtp-url=smtp://127.0.0.1:1025?tls=none"), nil)
	g.Expect(err).NotTo(HaveOccurred(), "a loopback catcher needs no flag")
}

func TestAcceptOnlyAndNoAcceptanceServer(t *testing.T) {
	g := NewWithT(t)
	o, err := parse(t, minimal, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(o.AcceptOnly).To(BeFalse())
	g.Expect(o.ServesAcceptance()).To(BeTrue(), "by default one process does everything")
	o, err = parse(t, append(minimal, "--accept-only"), nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(o.AcceptOnly && o.ServesAcceptance()).To(BeTrue())
	o, err = parse(t, append(minimal, "--accept-bind-address=0"), nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(o.ServesAcceptance()).To(BeFalse(), "the controller Deployment beside an acceptance-only one")
}

func TestShards(t *testing.T) {
	g := NewWithT(t)
	o, err := parse(t, minimal, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(o.Shard.IsWhole()).To(BeTrue(), "without --shard one manager reconciles everything")
	o, err = parse(t, append(minimal, "--shard=2/4", "--accept-bind-address=0", "--enable-webhooks=false"), nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(o.Shard).To(Equal(shard.Of(2, 4)))
	o, err = parse(t, append(minimal, "--shard=cluster"), nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(o.Shard.ClusterOnly).To(BeTrue(), "the cluster shard serves the acceptance server and the webhooks")
}
