// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package devenv starts the local environment that `make dev` runs and the e2e tests share: a
// control plane (etcd and kube-apiserver, as envtest runs them) with the CRDs installed, an SMTP
// mail catcher, and the manager binary as a separate process against both, authenticated as its
// own user with only the RBAC that config/rbac grants it, as it would be in a cluster.
package devenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/storeops/member-operator/test/mailcatcher"
)

// ManagerUser is the identity the manager authenticates as. It is bound to the ClusterRole in
// config/rbac/role.yaml and nothing else, so a missing RBAC marker fails here as it would in a
// cluster.
const ManagerUser = "system:serviceaccount:" + ManagerNamespace + ":member-operator-controller-manager"

// AcceptUser is the identity of an acceptance-only process (StartAcceptOnly), as the ServiceAccount
// of config/manager/accept.yaml.
const AcceptUser = "system:serviceaccount:" + ManagerNamespace + ":member-operator-accept"

// ManagerNamespace is the operator's own namespace, as config/default deploys it: the manager gets
// it as $POD_NAMESPACE and keeps its token key Secret there.
const ManagerNamespace = "member-operator-system"

// Options configure Start. Zero values pick free loopback ports and skip the manager.
type Options struct {
	// Dir holds the kubeconfigs, the control plane's data and mail/ (the .eml files).
	Dir string
	// BinaryAssetsDir holds kube-apiserver and etcd; see BinaryAssetsDir().
	BinaryAssetsDir string
	// CRDDir is config/crd/bases.
	CRDDir string
	// RBACRole is config/rbac/role.yaml, the ClusterRole granted to the manager.
	RBACRole string
	// LeaderElectionRole is config/rbac/leader_election_role.yaml. When set, the manager runs with
	// --leader-elect, holding its Lease in LeaderElectionNamespace ("default" when empty), and
	// that Role is granted there, as config/rbac binds it in the operator's namespace.
	LeaderElectionRole      string
	LeaderElectionNamespace string
	// WebhookConfig is config/webhook/manifests.yaml: the validating webhooks are installed,
	// pointed at the manager on a local port with a generated certificate. Empty runs the manager
	// with --enable-webhooks=false.
	WebhookConfig string
	// AdmissionPolicy is config/policy/member_finalizer.yaml: installed right before the first
	// manager process starts (so a floor measured before that runs without it), and awaited once
	// that process is ready. Empty leaves the manager to add the Member finalizer itself.
	AdmissionPolicy string
	// ManagerBinary is the built manager; when empty no manager is started.
	ManagerBinary string
	// DeferManager prepares the manager (its user, RBAC and flags) without starting it: call
	// StartManager. Benchmarks use it to measure a floor first, and startup itself.
	DeferManager bool
	// APIServerFlags are added to kube-apiserver's (e.g. an audit policy).
	APIServerFlags map[string]string
	// ManagerArgs are added to the manager's flags (later ones win).
	ManagerArgs []string
	// ManagerOutput receives the manager's log; defaults to os.Stderr.
	ManagerOutput io.Writer
	// SMTPAddr is where the mail catcher listens (e.g. 127.0.0.1:1025).
	SMTPAddr string
	// AcceptAddr and ProbeAddr are the manager's acceptance server and health probe addresses.
	AcceptAddr string
	ProbeAddr  string
	// Log receives the mail catcher's one line per email; nil discards it.
	Log io.Writer
	// ShowMailLinks adds each email's links to its Log line (make dev).
	ShowMailLinks bool
}

// Env is a running development environment.
type Env struct {
	// Kubeconfig is the path of an administrator's kubeconfig (group system:masters).
	Kubeconfig string
	// Config is the administrator's REST config.
	Config *rest.Config
	// Mail is the SMTP catcher the manager sends to.
	Mail *mailcatcher.Catcher
	// AcceptURL is the base URL of the manager's acceptance server (the --public-url).
	AcceptURL string
	// ProbeURL is the base URL of the manager's health probes.
	ProbeURL string
	// Manager is the manager process, when one is running (or ran last).
	Manager *exec.Cmd

	controlPlane *envtest.Environment
	primary      *ManagerProcess   // the manager of Options.ManagerBinary; nil without one
	replicas     []*ManagerProcess // started by StartReplica and StartAcceptOnly
	dir          string            // Options.Dir
	// replicaArgs are the flags every manager shares; each adds its own addresses after them.
	replicaArgs     []string
	webhooksEnabled bool
	// admissionPolicy is Options.AdmissionPolicy; the flags say how far installing it got.
	admissionPolicy                                    string
	admissionPolicyInstalled, admissionPolicyEffective bool
}

// Start brings the environment up. On error, whatever was started is stopped again.
func Start(ctx context.Context, opts Options) (_ *Env, err error) {
	if opts.Dir == "" {
		return nil, errors.New("devenv: Dir is required")
	}
	if opts.BinaryAssetsDir == "" {
		if opts.BinaryAssetsDir, err = BinaryAssetsDir(); err != nil {
			return nil, err
		}
	}
	if opts.ManagerOutput == nil {
		opts.ManagerOutput = os.Stderr
	}
	for _, addr := range []*string{&opts.SMTPAddr, &opts.AcceptAddr, &opts.ProbeAddr} {
		if *addr == "" {
			if *addr, err = FreeLoopbackAddr(); err != nil {
				return nil, err
			}
		}
	}
	// A fresh control plane each time: the state of a previous session is not carried over.
	for _, sub := range []string{"etcd", "apiserver", "mail"} {
		if err := os.RemoveAll(filepath.Join(opts.Dir, sub)); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(filepath.Join(opts.Dir, "apiserver"), 0o750); err != nil {
		return nil, err
	}

	env := &Env{dir: opts.Dir, admissionPolicy: opts.AdmissionPolicy}
	defer func() {
		if err != nil {
			_ = env.Stop()
		}
	}()

	env.controlPlane = &envtest.Environment{
		CRDDirectoryPaths:     []string{opts.CRDDir},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: opts.BinaryAssetsDir,
		// kube-apiserver drains its clients' requests before it exits; with a manager connected
		// that takes longer than envtest's default 20 s.
		ControlPlaneStopTimeout: 2 * time.Minute,
	}
	if opts.WebhookConfig != "" && opts.ManagerBinary != "" {
		env.controlPlane.WebhookInstallOptions = envtest.WebhookInstallOptions{Paths: []string{opts.WebhookConfig}}
	}
	// Keep the control plane's files under Dir, so every process of this environment names Dir on
	// its command line and can be found (and is known to be gone) by that.
	env.controlPlane.ControlPlane.GetAPIServer().CertDir = filepath.Join(opts.Dir, "apiserver")
	env.controlPlane.ControlPlane.Etcd = &envtest.Etcd{DataDir: filepath.Join(opts.Dir, "etcd")}
	EnableFeatureGates(env.controlPlane)
	for flag, value := range opts.APIServerFlags {
		env.controlPlane.ControlPlane.GetAPIServer().Configure().Set(flag, value)
	}
	if env.Config, err = env.controlPlane.Start(); err != nil {
		return nil, fmt.Errorf("start control plane (kube-apiserver and etcd from %s): %w", opts.BinaryAssetsDir, err)
	}

	if env.Kubeconfig, err = writeKubeconfig(env.controlPlane, opts.Dir, "kubeconfig",
		envtest.User{Name: "developer", Groups: []string{"system:masters"}}); err != nil {
		return nil, err
	}

	if env.Mail, err = mailcatcher.Start(mailcatcher.Options{
		Addr: opts.SMTPAddr, Dir: filepath.Join(opts.Dir, "mail"), Log: opts.Log, ShowLinks: opts.ShowMailLinks,
	}); err != nil {
		return nil, err
	}
	env.AcceptURL = "http://" + opts.AcceptAddr
	env.ProbeURL = "http://" + opts.ProbeAddr

	if opts.ManagerBinary == "" {
		return env, nil
	}
	managerKubeconfig, err := writeKubeconfig(env.controlPlane, opts.Dir, "manager.kubeconfig", envtest.User{Name: ManagerUser})
	if err != nil {
		return nil, err
	}
	if err := grantManagerRBAC(ctx, env.Config, opts.RBACRole); err != nil {
		return nil, err
	}
	if err := createAll(ctx, env.Config, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ManagerNamespace}}); err != nil {
		return nil, err
	}
	leaderElection := []string{}
	if opts.LeaderElectionRole != "" {
		if opts.LeaderElectionNamespace == "" {
			opts.LeaderElectionNamespace = "default"
		}
		if err := grantLeaderElectionRBAC(ctx, env.Config, opts.LeaderElectionRole, opts.LeaderElectionNamespace); err != nil {
			return nil, err
		}
		leaderElection = append(leaderElection, "--leader-elect", "--leader-election-namespace="+opts.LeaderElectionNamespace)
	}
	shared := []string{
		"--kubeconfig=" + managerKubeconfig,
		"--smtp-url=" + env.Mail.URL(),
		"--mail-from=Store Team <no-reply@storeops.example>",
		"--public-url=" + env.AcceptURL,
		"--metrics-bind-address=0",
		"--bcrypt-cost=10",
		"--zap-encoder=console",
	}
	shared = append(shared, leaderElection...)
	// envtest picks a serving port even when it installs no webhooks: only a WebhookConfig says.
	if hook := env.controlPlane.WebhookInstallOptions; opts.WebhookConfig != "" && hook.LocalServingPort != 0 {
		env.webhooksEnabled = true
		shared = append(shared, "--webhook-port="+strconv.Itoa(hook.LocalServingPort), "--webhook-cert-path="+hook.LocalServingCertDir)
	} else {
		shared = append(shared, "--enable-webhooks=false")
	}
	env.replicaArgs = append(shared, opts.ManagerArgs...)
	env.primary = &ManagerProcess{
		AcceptURL: env.AcceptURL,
		ProbeURL:  env.ProbeURL,
		binary:    opts.ManagerBinary,
		// Its own addresses before ManagerArgs, so that those can still override them.
		args: append(append(shared[:len(shared):len(shared)],
			"--accept-bind-address="+opts.AcceptAddr, "--health-probe-bind-address="+opts.ProbeAddr), opts.ManagerArgs...),
		output: opts.ManagerOutput,
	}
	if opts.DeferManager {
		return env, nil
	}
	if err := env.StartManager(ctx); err != nil {
		return nil, err
	}
	return env, nil
}

// StartManager starts the manager process and returns once it answers its readiness probe. It
// is an error while a manager started here is still running.
func (e *Env) StartManager(ctx context.Context) error {
	if e.primary == nil {
		return errors.New("devenv: no manager binary was given")
	}
	if err := e.installAdmissionPolicy(ctx); err != nil {
		return err
	}
	if err := e.primary.Start(ctx); err != nil {
		return err
	}
	e.Manager = e.primary.Cmd
	return e.awaitAdmissionPolicy(ctx)
}

// StopManager ends the manager as Kubernetes would: SIGTERM, then SIGKILL after 15 s. It
// returns once the process is gone; without a running manager it does nothing.
func (e *Env) StopManager() {
	if e.primary != nil {
		e.primary.Stop()
	}
}

// KillManager ends the manager with SIGKILL, as the kernel's OOM killer or a node failure would:
// no deferred work, no lease release. It returns once the process is gone.
func (e *Env) KillManager() {
	if e.primary != nil {
		e.primary.Kill()
	}
}

// ManagerExited is closed when the manager process ends; it is nil (never ready) when no manager
// was started.
func (e *Env) ManagerExited() <-chan struct{} {
	if e.primary == nil {
		return nil
	}
	return e.primary.Exited()
}

// ManagerErr is how the manager process ended; valid once ManagerExited is closed.
func (e *Env) ManagerErr() error {
	if e.primary == nil {
		return nil
	}
	return e.primary.Err()
}

// StartReplica starts one more manager process with the same flags as the first (and args after
// them), on its own acceptance and probe addresses (no metrics, no pprof), and returns once it
// is ready. With --leader-elect the replicas share the work as they would in a Deployment.
// Replicas cannot share the webhook port, so an environment with webhooks has none.
func (e *Env) StartReplica(ctx context.Context, args ...string) (*ManagerProcess, error) {
	if e.primary == nil {
		return nil, errors.New("devenv: no manager binary was given")
	}
	if e.webhooksEnabled {
		return nil, errors.New("devenv: replicas cannot share the webhook port; start the environment without WebhookConfig")
	}
	acceptAddr, err := FreeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	probeAddr, err := FreeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	p := &ManagerProcess{
		AcceptURL: "http://" + acceptAddr,
		ProbeURL:  "http://" + probeAddr,
		binary:    e.primary.binary,
		args: append(append(e.replicaArgs[:len(e.replicaArgs):len(e.replicaArgs)],
			"--accept-bind-address="+acceptAddr, "--health-probe-bind-address="+probeAddr, "--metrics-bind-address=0",
			"--pprof-bind-address=0"), args...),
		output: e.primary.output,
	}
	e.replicas = append(e.replicas, p)
	if err := e.installAdmissionPolicy(ctx); err != nil {
		return p, err
	}
	if err := p.Start(ctx); err != nil {
		return p, err
	}
	return p, e.awaitAdmissionPolicy(ctx)
}

// StartAcceptOnly starts an acceptance-only process (--accept-only) as its own user, AcceptUser,
// with only the ClusterRole in rolePath (config/rbac/accept_role.yaml): the public server's own
// Deployment, beside the manager. It returns once the process is ready.
func (e *Env) StartAcceptOnly(ctx context.Context, rolePath string, args ...string) (*ManagerProcess, error) {
	if e.primary == nil {
		return nil, errors.New("devenv: no manager binary was given")
	}
	var role rbacv1.ClusterRole
	if err := readManifest(rolePath, &role); err != nil {
		return nil, err
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role.Name + "-binding"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: AcceptUser}},
	}
	if err := createAll(ctx, e.Config, &role, binding); err != nil {
		return nil, err
	}
	kubeconfig, err := writeKubeconfig(e.controlPlane, e.dir, "accept.kubeconfig", envtest.User{Name: AcceptUser})
	if err != nil {
		return nil, err
	}
	acceptAddr, err := FreeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	probeAddr, err := FreeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	// The manager's flags, less its identity, webhooks and leader election.
	var shared []string
	for _, arg := range e.replicaArgs {
		if strings.HasPrefix(arg, "--kubeconfig=") || strings.HasPrefix(arg, "--webhook-") || strings.HasPrefix(arg, "--leader-elect") ||
			arg == "--enable-webhooks=false" {
			continue
		}
		shared = append(shared, arg)
	}
	p := &ManagerProcess{
		AcceptURL: "http://" + acceptAddr,
		ProbeURL:  "http://" + probeAddr,
		binary:    e.primary.binary,
		args: append(append(shared, "--kubeconfig="+kubeconfig, "--accept-only", "--accept-bind-address="+acceptAddr,
			"--health-probe-bind-address="+probeAddr, "--metrics-bind-address=0"), args...),
		output: e.primary.output,
	}
	e.replicas = append(e.replicas, p)
	return p, p.Start(ctx)
}

// ShardGroup is the group of the shard processes' users (StartShard): bound to the manager's
// ClusterRole and leader-election Role as ManagerUser is.
const ShardGroup = "storeops:manager-shards"

// StartShard starts one more manager process as a user of its own, user (in ShardGroup, so with
// the manager's RBAC), with the manager's flags and then args (e.g. --shard=1/4), and returns once
// it is ready: a shard whose requests an audit log tells apart from the others'. Its acceptance
// server and probes get addresses of their own; it serves no metrics and no pprof.
func (e *Env) StartShard(ctx context.Context, user string, args ...string) (*ManagerProcess, error) {
	if e.primary == nil {
		return nil, errors.New("devenv: no manager binary was given")
	}
	kubeconfig, err := writeKubeconfig(e.controlPlane, e.dir, user+".kubeconfig", envtest.User{Name: user, Groups: []string{ShardGroup}})
	if err != nil {
		return nil, err
	}
	return e.StartReplica(ctx, append([]string{"--kubeconfig=" + kubeconfig}, args...)...)
}

// KillAPIServer stops kube-apiserver at once with SIGKILL (etcd keeps running), as a crash of the
// control plane would; StartAPIServer brings it back on the same address with the same
// certificates, so clients reconnect without being reconfigured. (A SIGTERM would do too, but
// kube-apiserver then spends up to its 60 s request timeout draining connections it no longer
// serves, which makes the outage's length the server's choice, not the test's.)
func (e *Env) KillAPIServer() error {
	apiServer := e.controlPlane.ControlPlane.GetAPIServer()
	pid, err := findProcess("kube-apiserver", "--cert-dir="+apiServer.CertDir)
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill kube-apiserver (pid %d): %w", pid, err)
	}
	// envtest's Stop sees the process gone, and forgets it so that Start can run it again.
	return apiServer.Stop()
}

// findProcess is the pid of the process running a binary named name with arg on its command line.
func findProcess(name, arg string) (int, error) {
	cmdlines, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		return 0, err
	}
	for _, path := range cmdlines {
		data, err := os.ReadFile(path) //nolint:gosec // /proc
		if err != nil {
			continue // gone meanwhile
		}
		args := strings.Split(string(data), "\x00")
		if filepath.Base(args[0]) == name && slices.Contains(args, arg) {
			return strconv.Atoi(filepath.Base(filepath.Dir(path)))
		}
	}
	return 0, fmt.Errorf("no %s process with %s", name, arg)
}

// EtcdURL is etcd's client URL (its gRPC gateway answers JSON there: the bench reads database
// sizes and stored bytes through it).
func (e *Env) EtcdURL() string {
	return e.controlPlane.ControlPlane.Etcd.URL.String()
}

// ControlPlanePIDs are the process IDs of kube-apiserver and etcd, for reading their memory.
func (e *Env) ControlPlanePIDs() (apiServer, etcd int, err error) {
	if apiServer, err = findProcess("kube-apiserver", "--cert-dir="+e.controlPlane.ControlPlane.GetAPIServer().CertDir); err != nil {
		return 0, 0, err
	}
	if etcd, err = findProcess("etcd", "--data-dir="+e.controlPlane.ControlPlane.Etcd.DataDir); err != nil {
		return 0, 0, err
	}
	return apiServer, etcd, nil
}

// StartAPIServer starts kube-apiserver again after KillAPIServer and returns once it is healthy.
func (e *Env) StartAPIServer() error {
	return e.controlPlane.ControlPlane.GetAPIServer().Start()
}

// ManagerProcess is one manager process: its flags, its addresses and how it ended.
type ManagerProcess struct {
	// AcceptURL and ProbeURL are this process's acceptance server and health probes.
	AcceptURL, ProbeURL string
	// Cmd is the running (or last) process.
	Cmd *exec.Cmd

	binary string
	args   []string
	output io.Writer
	exited chan struct{} // closed when the process ends
	err    error         // how it ended; read after exited is closed
}

// Start starts the process and returns once it answers its readiness probe. It is an error while
// the process is still running.
func (p *ManagerProcess) Start(ctx context.Context) error {
	if p.exited != nil {
		select {
		case <-p.exited:
		default:
			return errors.New("devenv: the manager is already running")
		}
	}
	p.Cmd = exec.Command(p.binary, p.args...)
	p.Cmd.Stdout = p.output
	p.Cmd.Stderr = p.output
	// As the Deployment's downward API does: the manager refuses to guess its namespace.
	p.Cmd.Env = append(os.Environ(), "POD_NAMESPACE="+ManagerNamespace)
	// If this process dies without cleaning up, the kernel stops the manager too (Linux).
	stopWithParent(p.Cmd)
	if err := p.Cmd.Start(); err != nil {
		return fmt.Errorf("start manager %s: %w", p.binary, err)
	}
	exited := make(chan struct{})
	p.exited = exited
	cmd := p.Cmd
	go func() {
		p.err = cmd.Wait()
		close(exited)
	}()
	return p.waitReady(ctx)
}

// Stop ends the process as Kubernetes would: SIGTERM, then SIGKILL after 15 s. It returns once
// the process is gone; without a running process it does nothing.
func (p *ManagerProcess) Stop() {
	if p.exited == nil {
		return
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		_ = p.Cmd.Process.Kill()
		<-p.exited
	}
}

// Kill ends the process with SIGKILL and returns once it is gone.
func (p *ManagerProcess) Kill() {
	if p.exited == nil {
		return
	}
	_ = p.Cmd.Process.Kill()
	<-p.exited
}

// Exited is closed when the process ends; nil before it was started.
func (p *ManagerProcess) Exited() <-chan struct{} { return p.exited }

// Err is how the process ended; valid once Exited is closed.
func (p *ManagerProcess) Err() error { return p.err }

// waitReady returns once the process answers its readiness probe.
func (p *ManagerProcess) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.ProbeURL+"/readyz", nil)
		if err != nil {
			return err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.exited:
			return fmt.Errorf("manager exited before it was ready: %v", p.err)
		case <-ctx.Done():
			return fmt.Errorf("manager not ready at %s/readyz: %w", p.ProbeURL, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Stop ends the managers (SIGTERM, then SIGKILL after 15 s), the mail catcher and the control
// plane, in that order. It is safe to call more than once.
func (e *Env) Stop() error {
	var errs []error
	e.StopManager()
	for _, r := range e.replicas {
		r.Stop()
	}
	if e.Mail != nil {
		errs = append(errs, e.Mail.Close())
		e.Mail = nil
	}
	if e.controlPlane != nil {
		errs = append(errs, e.controlPlane.Stop())
		e.controlPlane = nil
	}
	return errors.Join(errs...)
}

func writeKubeconfig(cp *envtest.Environment, dir, name string, user envtest.User) (string, error) {
	u, err := cp.AddUser(user, nil)
	if err != nil {
		return "", fmt.Errorf("add user %s: %w", user.Name, err)
	}
	data, err := u.KubeConfig()
	if err != nil {
		return "", err
	}
	path, err := filepath.Abs(filepath.Join(dir, name))
	if err != nil {
		return "", err
	}
	return path, os.WriteFile(path, data, 0o600)
}

// grantManagerRBAC binds the generated manager ClusterRole to ManagerUser and ShardGroup.
func grantManagerRBAC(ctx context.Context, cfg *rest.Config, rolePath string) error {
	if rolePath == "" {
		return errors.New("devenv: RBACRole is required when a manager is started")
	}
	var role rbacv1.ClusterRole
	if err := readManifest(rolePath, &role); err != nil {
		return err
	}
	binding := &rbacv1.ClusterRoleBinding{
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: ManagerUser},
			{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: ShardGroup}},
	}
	binding.Name = role.Name + "-binding"
	return createAll(ctx, cfg, &role, binding)
}

// grantLeaderElectionRBAC creates the leader election Role in namespace and binds it to
// ManagerUser and ShardGroup.
func grantLeaderElectionRBAC(ctx context.Context, cfg *rest.Config, rolePath, namespace string) error {
	var role rbacv1.Role
	if err := readManifest(rolePath, &role); err != nil {
		return err
	}
	role.Namespace = namespace
	binding := &rbacv1.RoleBinding{
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: ManagerUser},
			{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: ShardGroup}},
	}
	binding.Namespace, binding.Name = namespace, role.Name+"-binding"
	return createAll(ctx, cfg, &role, binding)
}

func readManifest(path string, into any) error {
	data, err := os.ReadFile(path) //nolint:gosec // a path from our own configuration
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := yaml.UnmarshalStrict(data, into); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}

func createAll(ctx context.Context, cfg *rest.Config, objs ...client.Object) error {
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		return err
	}
	for _, obj := range objs {
		if err := c.Create(ctx, obj); err != nil {
			return fmt.Errorf("create %T %s: %w", obj, obj.GetName(), err)
		}
	}
	return nil
}

// FreeLoopbackAddr returns 127.0.0.1:<port> for a port that was free a moment ago. The port is
// below the kernel's ephemeral range, so no outgoing connection (of the manager, kube-apiserver or
// the test) can take it as its source port before the server that asked for it binds it.
func FreeLoopbackAddr() (string, error) {
	low := ephemeralLow()
	for range 100 {
		port := 10000 + mathrand.IntN(max(low-10000, 1)) //nolint:gosec // a port number, not a secret
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue // in use
		}
		_ = l.Close()
		return "127.0.0.1:" + strconv.Itoa(port), nil
	}
	return "", errors.New("no free loopback port below the ephemeral range")
}

// ephemeralLow is the first port of the kernel's ephemeral range (32768 when it cannot be read).
func ephemeralLow() int {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 {
		return 32768
	}
	low, err := strconv.Atoi(fields[0])
	if err != nil || low <= 10000 {
		return 32768
	}
	return low
}

// BinaryAssetsDir finds the envtest binaries: $KUBEBUILDER_ASSETS when set (the Makefile sets it),
// else the newest version in setup-envtest's cache, where hack/envtest-from-source.sh puts them, so
// `go test` from an editor works after one `make setup-envtest`.
func BinaryAssetsDir() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	base := os.Getenv("XDG_DATA_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		base = filepath.Join(home, ".local", "share")
	}
	matches, _ := filepath.Glob(filepath.Join(base, "kubebuilder-envtest", "k8s", "*-linux-amd64", "kube-apiserver"))
	if len(matches) == 0 {
		return "", errors.New("no envtest binaries: run `make setup-envtest` or set KUBEBUILDER_ASSETS")
	}
	sort.Slice(matches, func(i, j int) bool { return versionLess(matches[i], matches[j]) })
	return filepath.Dir(matches[len(matches)-1]), nil
}

// versionLess orders .../k8s/1.37.2-linux-amd64/kube-apiserver paths by their version numerically.
func versionLess(a, b string) bool {
	parse := func(p string) [3]int {
		var v [3]int
		_, _ = fmt.Sscanf(filepath.Base(filepath.Dir(p)), "%d.%d.%d", &v[0], &v[1], &v[2])
		return v
	}
	va, vb := parse(a), parse(b)
	for i := range va {
		if va[i] != vb[i] {
			return va[i] < vb[i]
		}
	}
	return false
}

// FeatureGates are the kube-apiserver feature gates every control plane of the project runs
// with (make dev, the suites, the bench): ShardedListAndWatch (alpha since 1.36) serves the
// shardSelector of list and watch requests, which sharded managers (--shard) ask with.
const FeatureGates = "ShardedListAndWatch=true"

// EnableFeatureGates turns FeatureGates on in env's kube-apiserver.
func EnableFeatureGates(env *envtest.Environment) {
	env.ControlPlane.GetAPIServer().Configure().Set("feature-gates", FeatureGates)
}
