// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package testenv starts what the operator's integration tests need: a real control plane
// (envtest's kube-apiserver and etcd, built by `make setup-envtest`) with the CRDs installed and a
// client for the operator's types, and a real SMTP server with a sender pointed at it. The
// envtest suites of the controllers and the acceptance server share it.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/config"
	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/internal/setup"
	"github.com/storeops/member-operator/test/devenv"
	"github.com/storeops/member-operator/test/mailcatcher"
)

// MailFrom is the From address of the test senders; Message-IDs use its domain.
const MailFrom = "Store Team <no-reply@storeops.example>"

// ControlPlane is a running kube-apiserver and etcd with the operator's CRDs.
type ControlPlane struct {
	Env    *envtest.Environment
	Config *rest.Config
	// Client reads and writes directly (no cache), with Scheme.
	Client client.Client
	Scheme *k8sruntime.Scheme
}

// NewScheme is the core types and the operator's.
func NewScheme() *k8sruntime.Scheme {
	scheme := k8sruntime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(membershipv1alpha1.AddToScheme(scheme))
	return scheme
}

// CRDDir is config/crd/bases of this repository, wherever the test runs from.
func CRDDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "config", "crd", "bases")
}

// WebhookDir is config/webhook of this repository: the generated ValidatingWebhookConfiguration.
func WebhookDir() string {
	return filepath.Join(CRDDir(), "..", "..", "webhook", "manifests.yaml")
}

// Option changes what StartControlPlane starts.
type Option func(*envtest.Environment)

// WithWebhooks installs the operator's validating webhooks (config/webhook), pointed at a local
// serving address with a generated certificate; managers from NewManager then serve there.
func WithWebhooks() Option {
	return func(env *envtest.Environment) {
		env.WebhookInstallOptions = envtest.WebhookInstallOptions{Paths: []string{WebhookDir()}}
	}
}

// StartControlPlane starts kube-apiserver and etcd and installs the CRDs.
func StartControlPlane(opts ...Option) (*ControlPlane, error) {
	assets, err := devenv.BinaryAssetsDir()
	if err != nil {
		return nil, err
	}
	cp := &ControlPlane{
		Env: &envtest.Environment{
			CRDDirectoryPaths:     []string{CRDDir()},
			ErrorIfCRDPathMissing: true,
			BinaryAssetsDirectory: assets,
		},
		Scheme: NewScheme(),
	}
	devenv.EnableFeatureGates(cp.Env)
	for _, opt := range opts {
		opt(cp.Env)
	}
	if cp.Config, err = cp.Env.Start(); err != nil {
		return nil, fmt.Errorf("start the control plane: %w", err)
	}
	if cp.Client, err = client.New(cp.Config, client.Options{Scheme: cp.Scheme}); err != nil {
		return nil, errors.Join(err, cp.Env.Stop())
	}
	return cp, nil
}

// Stop stops the control plane; safe on nil.
func (cp *ControlPlane) Stop() error {
	if cp == nil {
		return nil
	}
	return cp.Env.Stop()
}

// NewOperator makes a manager for cp as cmd/main.go does (the operator's cache policy) and
// registers on it, through internal/setup, what opts and parts ask for: the suites run the wiring
// that ships. Metrics are off, and controller names are free to be registered again (a spec may
// stop a manager and start another in the same process, as a crash would). The caller starts it.
func (cp *ControlPlane) NewOperator(ctx context.Context, opts *config.Options, parts setup.Parts) (ctrl.Manager, error) {
	return cp.NewOperatorAs(ctx, cp.Config, opts, parts, nil)
}

// NewOperatorAs is NewOperator connecting with cfg (a user of its own, from AddUser: its writes
// are told apart in an audit log), with adjust, when set, changing the manager's options last
// (leader election, for a spec that kills a leader).
func (cp *ControlPlane) NewOperatorAs(ctx context.Context, cfg *rest.Config, opts *config.Options, parts setup.Parts,
	adjust func(*ctrl.Options)) (ctrl.Manager, error) {
	options := ctrl.Options{
		Scheme:     cp.Scheme,
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Controller: ctrlconfig.Controller{SkipNameValidation: ptr.To(true)},
	}
	cfg = setup.Manager(cfg, opts, &options)
	if adjust != nil {
		adjust(&options)
	}
	if hook := cp.Env.WebhookInstallOptions; hook.LocalServingPort != 0 {
		options.WebhookServer = webhook.NewServer(webhook.Options{
			Host: hook.LocalServingHost, Port: hook.LocalServingPort, CertDir: hook.LocalServingCertDir,
		})
	}
	mgr, err := ctrl.NewManager(cfg, options)
	if err != nil {
		return nil, err
	}
	if opts.AccountNamespace != "" {
		if err := ensureNamespace(ctx, cp.Config, cp.Scheme, opts.AccountNamespace); err != nil {
			return nil, err
		}
	}
	if err := setup.Operator(ctx, mgr, opts, parts); err != nil {
		return nil, err
	}
	return mgr, nil
}

// Settings are the operator's defaults (config.Defaults), as every suite starts from them, with
// what a test process needs instead: the lowest bcrypt cost the operator accepts (the suites hash
// hundreds of passwords on two cores), no webhooks and no acceptance server unless a suite turns
// them on, and links in emails based on publicURL.
func Settings(publicURL string) *config.Options {
	opts := config.Defaults()
	opts.BcryptCost = config.MinBcryptCost
	opts.EnableWebhooks = false
	opts.AcceptBindAddress = "0"
	opts.PublicURL = publicURL
	opts.AccountNamespace = AccountNamespace
	return &opts
}

// AccountNamespace stands for the operator's namespace in the suites: where Accounts keep their
// Secrets. NewOperator creates it.
const AccountNamespace = "member-operator-system"

// EventuallyTimeout is every suite's default Eventually timeout: a shared 2-core machine runs
// several controllers per write, which takes more than Gomega's default second.
const EventuallyTimeout = 20 * time.Second

// NewUserClient is a client that authenticates as a user of its own (in system:masters, so RBAC
// lets it do anything): a person, as the admission webhooks see them, not the operator.
func (cp *ControlPlane) NewUserClient(name string) (client.Client, error) {
	cfg, err := cp.AddUser(name)
	if err != nil {
		return nil, err
	}
	return client.New(cfg, client.Options{Scheme: cp.Scheme})
}

// WriteKubeconfig writes a kubeconfig for a user of its own (in system:masters) to path, for
// tools that take --kubeconfig (kubectl, the kubectl plugin).
func (cp *ControlPlane) WriteKubeconfig(name, path string) error {
	user, err := cp.Env.ControlPlane.AddUser(envtest.User{Name: name, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return err
	}
	data, err := user.KubeConfig()
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

// StartMail starts a real SMTP server on a free loopback port (one line per message to log) and
// a sender that delivers to it as the operator would.
func StartMail(log io.Writer) (*mailcatcher.Catcher, *mail.SMTPSender, error) {
	catcher, err := mailcatcher.Start(mailcatcher.Options{Log: log})
	if err != nil {
		return nil, nil, err
	}
	sender, err := mail.NewSMTPSender(mail.SMTPConfig{URL: catcher.URL(), From: MailFrom, Timeout: 5 * time.Second})
	if err != nil {
		return nil, nil, errors.Join(err, catcher.Close())
	}
	return catcher, sender, nil
}

// ensureNamespace creates namespace unless it exists.
func ensureNamespace(ctx context.Context, cfg *rest.Config, scheme *k8sruntime.Scheme, namespace string) error {
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	err = c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// AddUser is a rest config of a user of its own named name (in system:masters, so RBAC lets it do
// anything), for a manager whose requests an audit log tells apart.
func (cp *ControlPlane) AddUser(name string) (*rest.Config, error) {
	user, err := cp.Env.ControlPlane.AddUser(envtest.User{Name: name, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, err
	}
	return user.Config(), nil
}
