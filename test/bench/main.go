// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Command bench measures the operator on a local control plane (the envtest binaries), a real SMTP
// server and the real manager binary as a separate process, and prints a markdown table: the
// convergence of Members and the sending of Invitations against floors measured in the same run,
// the manager's memory beside many unrelated Secrets, its API writes when nothing changes, how late
// Invitations expire, and how long it takes to start. `make bench` runs it; docs/benchmarks.md
// keeps the latest table.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/config"
	"github.com/storeops/member-operator/test/devenv"
)

type options struct {
	dir, manager, out string
	managerArgs       string

	stores, members, creators        int
	largeStoreMembers                int
	invitations                      int
	memoryMembers, unrelated         int
	quietWindow                      time.Duration
	expiryInvitations                int
	expiryTTL                        time.Duration
	bcryptCost                       int
	memberWorkers, invitationWorkers int
	scenarios                        string
	scaleOutMembers, scaleOutShards  int
	scaleOutNamespaces               int
}

// invitationsScenario names the invitation throughput scenario.
const invitationsScenario = "invitations"

// scenarios, in the order they run.
var scenarioNames = []string{"convergence", "large-store", invitationsScenario, "expiry", "memory", scaleOutScenario}

func main() {
	var o options
	flag.StringVar(&o.dir, "dir", "bin/bench", "Directory for the control plane's data, the manager's log, profiles and results.")
	flag.StringVar(&o.manager, "manager", "bin/manager", "The manager binary.")
	flag.StringVar(&o.out, "out", "", "Also write the results (markdown) here; default <dir>/results.md.")
	flag.StringVar(&o.managerArgs, "manager-args", "", "Extra manager flags, space-separated (e.g. --member-concurrency=8).")
	flag.IntVar(&o.stores, "stores", 10, "Stores per scenario namespace.")
	flag.IntVar(&o.members, "members", 1000, "Members in the convergence scenario.")
	flag.IntVar(&o.largeStoreMembers, "large-store-members", 10000, "Members of the one Store in the large-store scenario.")
	flag.IntVar(&o.creators, "creators", 16, "Goroutines creating objects (the load generator, for operator and floor alike).")
	flag.IntVar(&o.invitations, "invitations", 500, "Invitations in the throughput scenario.")
	flag.IntVar(&o.memoryMembers, "memory-members", 10000, "Members present in the memory, quiescence and startup scenarios.")
	flag.IntVar(&o.unrelated, "unrelated-secrets", 20000, "Unrelated Secrets present in the memory scenario.")
	flag.DurationVar(&o.quietWindow, "quiet-window", time.Minute, "How long API writes are counted after a restart.")
	flag.IntVar(&o.expiryInvitations, "expiry-invitations", 100, "Invitations in the expiry scenario.")
	flag.DurationVar(&o.expiryTTL, "expiry-ttl", time.Minute, "The Store's invitationTTL in the expiry scenario (the API allows 1m at least).")
	flag.IntVar(&o.bcryptCost, "bcrypt-cost", config.MinBcryptCost, "bcrypt cost, for the manager and the floor.")
	flag.IntVar(&o.memberWorkers, "member-concurrency", config.DefaultMemberConcurrency,
		"The manager's --member-concurrency, and the floor's parallelism.")
	flag.IntVar(&o.invitationWorkers, "invitation-concurrency", config.DefaultInvitationConcurrency,
		"The manager's --invitation-concurrency, and the floor's parallelism.")
	flag.IntVar(&o.scaleOutMembers, "scale-out-members", 20000, "Members the shards of the scale-out scenario share.")
	flag.IntVar(&o.scaleOutShards, "scale-out-shards", 4, "Namespace shards in the scale-out scenario.")
	flag.IntVar(&o.scaleOutNamespaces, "scale-out-namespaces", 200, "Namespaces the scale-out scenario's Members are spread over.")
	flag.StringVar(&o.scenarios, "scenarios", strings.Join(scenarioNames, ","),
		"Comma-separated scenarios to run (memory includes quiescence and startup); the floors run with theirs.")
	flag.Parse()
	if o.out == "" {
		o.out = filepath.Join(o.dir, "results.md")
	}

	// envtest logs through controller-runtime's logger; the bench prints its own progress.
	ctrllog.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// bench is one run: the environment and the figures gathered so far.
type bench struct {
	o          options
	env        *devenv.Env
	envOptions devenv.Options
	c          client.WithWatch
	log        *logWatch
	metricsURL string
	pprofURL   string
	auditLog   string
	rows       []row
	profiles   []string
	notes      []string

	floorMembers, floorInvitations time.Duration
	// floorLargeStore is the convergence floor for largeStoreMembers in one Store.
	floorLargeStore time.Duration
	// clusterUsed: a scenario ran on the current control plane; startedOnce: the manager has
	// started at least once in this run.
	clusterUsed, startedOnce bool
}

// row is one line of the results table.
type row struct {
	scenario, operator, floor, figure, target string
	met                                       bool
	noTarget                                  bool
}

func run(ctx context.Context, o options) error {
	if err := os.MkdirAll(o.dir, 0o750); err != nil {
		return err
	}
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return err
	}
	b := &bench{o: o, auditLog: filepath.Join(dir, "audit.log")}
	policy := filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy(devenv.ManagerUser)), 0o600); err != nil {
		return err
	}
	_ = os.Remove(b.auditLog)
	managerLog, err := os.Create(filepath.Join(dir, "manager.log")) //nolint:gosec // the bench's own directory
	if err != nil {
		return err
	}
	defer func() { _ = managerLog.Close() }()
	b.log = newLogWatch(managerLog)

	metricsAddr, err := devenv.FreeLoopbackAddr()
	if err != nil {
		return err
	}
	pprofAddr, err := devenv.FreeLoopbackAddr()
	if err != nil {
		return err
	}
	b.metricsURL, b.pprofURL = "http://"+metricsAddr, "http://"+pprofAddr
	args := make([]string, 0, 8+len(strings.Fields(o.managerArgs)))
	args = append(args,
		"--metrics-bind-address="+metricsAddr, "--metrics-secure=false", "--pprof-bind-address="+pprofAddr,
		fmt.Sprintf("--bcrypt-cost=%d", o.bcryptCost),
		fmt.Sprintf("--member-concurrency=%d", o.memberWorkers),
		fmt.Sprintf("--invitation-concurrency=%d", o.invitationWorkers),
		"--zap-encoder=json",
	)
	args = append(args, strings.Fields(o.managerArgs)...)

	fmt.Println("Starting the control plane (etcd, kube-apiserver with an audit log of the manager's Secret reads) and the SMTP server...")
	b.envOptions = devenv.Options{
		Dir:      dir,
		CRDDir:   "config/crd/bases",
		RBACRole: "config/rbac/role.yaml",
		// Installed with the operator, right before its first phase (after the floor's).
		AdmissionPolicy: "config/policy/member_finalizer.yaml",
		ManagerBinary:   o.manager,
		ManagerArgs:     args,
		ManagerOutput:   b.log,
		DeferManager:    true,
		APIServerFlags:  map[string]string{"audit-policy-file": policy, "audit-log-path": b.auditLog},
	}
	if err := b.startEnv(ctx); err != nil {
		return err
	}
	defer func() { _ = b.env.Stop() }() // the environment running then: the memory scenario starts its own

	started := time.Now()
	wanted := map[string]bool{}
	for _, s := range strings.Split(o.scenarios, ",") {
		if !slices.Contains(scenarioNames, s) {
			return fmt.Errorf("--scenarios: unknown scenario %q (known: %s)", s, strings.Join(scenarioNames, ", "))
		}
		wanted[s] = true
	}
	for _, step := range []struct {
		name  string
		floor func(context.Context) error // measured right before the scenario, on a cluster of its own
		fn    func(context.Context) error
		run   bool
	}{
		{"convergence", b.floorOfConvergence, b.convergence, wanted["convergence"]},
		{"large store", b.floorOfLargeStore, b.largeStore, wanted["large-store"]},
		{invitationsScenario, b.floorOfInvitations, b.invitationThroughput, wanted[invitationsScenario]},
		{"expiry", nil, b.expiry, wanted["expiry"]},
		{"memory, startup and quiescence", nil, b.memoryStartupQuiescence, wanted["memory"]},
		// Last: it runs its own control planes and managers (shards), each a user of its own.
		{scaleOutScenario, nil, b.scaleOut, wanted[scaleOutScenario]},
	} {
		if !step.run {
			continue
		}
		fmt.Printf("\n== %s (%s into the run)\n", step.name, time.Since(started).Round(time.Second))
		if step.floor != nil {
			// A ratio row's floor and operator meet the same cluster: an empty one, each. Measured
			// once beside what earlier rows left (floors first on an empty cluster, operators later
			// beside 11,000 Members), the ratio charged the operator for the order of the rows.
			if err := b.freshCluster(ctx); err != nil {
				return err
			}
			if err := step.floor(ctx); err != nil {
				return fmt.Errorf("%s floor: %w", step.name, err)
			}
		}
		if step.name != scaleOutScenario && b.env.Manager == nil {
			firstStart, err := b.startManager(ctx)
			if err != nil {
				return err
			}
			if !b.startedOnce {
				b.notes = append(b.notes, fmt.Sprintf("First start, empty cluster: controllers started %s after the process.",
					firstStart.Round(time.Millisecond)))
				b.startedOnce = true
			}
		}
		b.clusterUsed = true
		if err := step.fn(ctx); err != nil {
			return fmt.Errorf("%s: %w", step.name, err)
		}
	}
	return b.report(time.Since(started))
}

// startEnv starts a control plane and SMTP server from b.envOptions, with no manager yet, and
// the bench's own client to it (never throttled: the load generator and the floors).
func (b *bench) startEnv(ctx context.Context) error {
	env, err := devenv.Start(ctx, b.envOptions)
	if err != nil {
		return err
	}
	b.env = env
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = -1, 0
	scheme := clientgoscheme.Scheme
	if err := membershipv1alpha1.AddToScheme(scheme); err != nil {
		return err
	}
	b.c, err = client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	return err
}

// freshCluster gives the next scenario an empty control plane: a new one (and no manager) when a
// scenario ran on the current one.
func (b *bench) freshCluster(ctx context.Context) error {
	if !b.clusterUsed {
		return nil
	}
	fmt.Println("starting a fresh control plane...")
	if err := b.env.Stop(); err != nil {
		return err
	}
	b.clusterUsed = false
	return b.startEnv(ctx)
}

func (b *bench) startManager(ctx context.Context) (time.Duration, error) {
	b.log.reset()
	start := time.Now()
	if err := b.env.StartManager(ctx); err != nil {
		return 0, err
	}
	var synced time.Time
	err := waitFor(ctx, 5*time.Minute, 20*time.Millisecond, "controllers started", func(context.Context) (bool, error) {
		var ok bool
		synced, ok = b.log.allStarted()
		return ok, nil
	})
	return synced.Sub(start), err
}

func (b *bench) report(total time.Duration) error {
	var sb strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&sb, "Machine: %s, %d CPUs (%s), %s; %s; %s. Run took %s.\n\n", host, runtime.NumCPU(), cpuModel(),
		memTotal(), runtime.Version(), apiServerVersion(b.env.Config), total.Round(time.Second))
	fmt.Fprintf(&sb, "Manager flags: %s", strings.Join(managerFlags(b.o), " "))
	if limit := os.Getenv("GOMEMLIMIT"); limit != "" {
		fmt.Fprintf(&sb, "; environment GOMEMLIMIT=%s", limit)
	}
	sb.WriteString("\n\n")
	sb.WriteString("| # | Scenario | Operator | Floor | Figure | Target | Met |\n|---|---|---|---|---|---|---|\n")
	for i, r := range b.rows {
		met := "no"
		switch {
		case r.noTarget:
			met = "—"
		case r.met:
			met = "yes"
		}
		fmt.Fprintf(&sb, "| %d | %s | %s | %s | %s | %s | %s |\n", i+1, r.scenario, r.operator, r.floor, r.figure, r.target, met)
	}
	if len(b.notes) > 0 {
		sb.WriteString("\n")
		for _, n := range b.notes {
			fmt.Fprintf(&sb, "- %s\n", n)
		}
	}
	for _, p := range b.profiles {
		fmt.Fprintf(&sb, "\n```\n%s```\n", p)
	}
	fmt.Println()
	fmt.Print(sb.String())
	if err := os.MkdirAll(filepath.Dir(b.o.out), 0o750); err != nil {
		return err
	}
	if err := os.WriteFile(b.o.out, []byte(sb.String()), 0o600); err != nil {
		return err
	}
	fmt.Printf("\nWritten to %s\n", b.o.out)
	for _, r := range b.rows {
		if !r.noTarget && !r.met {
			fmt.Println("Some targets were missed; docs/benchmarks.md says by how much and why.")
			break
		}
	}
	return nil
}

func managerFlags(o options) []string {
	return append([]string{fmt.Sprintf("--bcrypt-cost=%d", o.bcryptCost), fmt.Sprintf("--member-concurrency=%d", o.memberWorkers),
		fmt.Sprintf("--invitation-concurrency=%d", o.invitationWorkers)}, strings.Fields(o.managerArgs)...)
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return "unknown CPU"
}

func memTotal() string {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown memory"
	}
	var kb int
	_, _ = fmt.Sscanf(strings.SplitN(string(data), "\n", 2)[0], "MemTotal: %d kB", &kb)
	return fmt.Sprintf("%.0f GiB RAM", float64(kb)/1024/1024)
}

const unknownVersion = "kube-apiserver ?"

func apiServerVersion(cfg *rest.Config) string {
	c, err := rest.UnversionedRESTClientFor(withVersionDefaults(cfg))
	if err != nil {
		return unknownVersion
	}
	body, err := c.Get().AbsPath("/version").DoRaw(context.Background())
	if err != nil {
		return unknownVersion
	}
	if _, v, ok := strings.Cut(string(body), `"gitVersion": "`); ok {
		return "kube-apiserver " + strings.SplitN(v, `"`, 2)[0]
	}
	return unknownVersion
}

func withVersionDefaults(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.GroupVersion = &schema.GroupVersion{}
	c.NegotiatedSerializer = clientgoscheme.Codecs.WithoutConversion()
	return c
}

// pprofTop summarises a profile with `go tool pprof -top`.
func pprofTop(binary, profile string, extra ...string) string {
	args := append([]string{"tool", "pprof", "-top", "-nodecount=25"}, extra...)
	args = append(args, binary, profile)
	out, err := exec.Command("go", args...).CombinedOutput() //nolint:gosec // our own paths
	if err != nil {
		return fmt.Sprintf("go tool pprof %s: %v\n%s", profile, err, out)
	}
	return string(out)
}

// download saves url's body to path.
func download(ctx context.Context, url, path string) error {
	req, err := newGet(ctx, url)
	if err != nil {
		return err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(path) //nolint:gosec // our own path
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
