// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package faults injects the failures a production operator meets (an SMTP outage, SIGKILLed
// managers, a leader lost to a second replica, a kube-apiserver restart) into the real manager
// binary on a local control plane, and checks afterwards that no invitation and no access
// decision was lost, no email went out more than once except as a same-Message-ID retry, and no
// secret reached a log, event or status. docs/reliability.md reports its figures.
package faults

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/test/devenv"
	"github.com/storeops/member-operator/test/leakcheck"
	"github.com/storeops/member-operator/test/logcapture"
	"github.com/storeops/member-operator/test/mailcatcher"
)

var (
	ctx    context.Context
	cancel context.CancelFunc

	rootDir       string
	managerBinary string
	scheme        = runtime.NewScheme()
)

func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("faults: needs a control plane and builds the manager")
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "fault Suite")
}

var _ = BeforeSuite(func() {
	ctx, cancel = context.WithCancel(context.Background())
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(membershipv1alpha1.AddToScheme(scheme)).To(Succeed())
	var err error
	rootDir, err = filepath.Abs("../..")
	Expect(err).NotTo(HaveOccurred())

	By("building the manager")
	managerBinary = filepath.Join(GinkgoT().TempDir(), "manager")
	cmd := exec.Command("go", "build", "-o", managerBinary, "./cmd")
	cmd.Dir = rootDir
	output, err := cmd.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), string(output))
})

var _ = AfterSuite(func() {
	if cancel != nil {
		cancel()
	}
})

// faultEnv is one scenario's control plane, mail catcher and manager, with what the leak search
// needs: the manager's whole log and the secrets seen before the scenario deleted any.
type faultEnv struct {
	*devenv.Env
	c         client.Client
	log       *logcapture.Buffer
	collector *leakcheck.Collector // every operator Secret seen, deleted ones too
	chosen    []string             // secrets the test itself chose (a password it typed)
}

// startEnv starts a fresh environment for one scenario, stopped when the spec ends. Webhooks are
// not installed: the manager is killed on purpose here, and a webhook with failurePolicy Fail
// would refuse the test's own writes while it is down.
func startEnv(opts devenv.Options) *faultEnv {
	GinkgoHelper()
	f := &faultEnv{log: &logcapture.Buffer{}}
	opts.Dir = GinkgoT().TempDir()
	opts.CRDDir = filepath.Join(rootDir, "config", "crd", "bases")
	opts.RBACRole = filepath.Join(rootDir, "config", "rbac", "role.yaml")
	opts.ManagerBinary = managerBinary
	opts.ManagerOutput = io.MultiWriter(GinkgoWriter, f.log)
	// Every verbosity the manager has, so that the leak search reads everything it could print.
	opts.ManagerArgs = append([]string{"--zap-log-level=10"}, opts.ManagerArgs...)
	var err error
	f.Env, err = devenv.Start(ctx, opts)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(f.Stop()).To(Succeed()) })
	f.c, err = client.New(f.Config, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	f.collector, err = leakcheck.Watch(ctx, f.Config)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(f.collector.Stop) // before f.Stop: kube-apiserver would wait for the watch
	return f
}

// createStore creates namespace ns and a Store named shop in it.
func (f *faultEnv) createStore(ns string) {
	GinkgoHelper()
	Expect(f.c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	store := &membershipv1alpha1.Store{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"},
		Spec: membershipv1alpha1.StoreSpec{
			DisplayName: "Fault Shop",
			Owner:       membershipv1alpha1.StoreOwner{Email: membershipv1alpha1.EmailAddress("owner@" + ns + ".example"), DisplayName: "Owner"},
		},
	}
	Expect(f.c.Create(ctx, store)).To(Succeed())
}

func invitee(ns string, i int) string { return fmt.Sprintf("invitee-%03d@%s.example", i, ns) }

func newInvitation(ns string, i int) *membershipv1alpha1.Invitation {
	return &membershipv1alpha1.Invitation{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("inv-%03d", i)},
		Spec: membershipv1alpha1.InvitationSpec{
			StoreRef:  membershipv1alpha1.StoreReference{Name: "shop"},
			Email:     membershipv1alpha1.EmailAddress(invitee(ns, i)),
			Roles:     []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff},
			InvitedBy: "Owner",
		},
	}
}

// createInvitations creates invitations first..first+n-1, one every interval (0: at once).
func (f *faultEnv) createInvitations(ns string, first, n int, interval time.Duration) {
	GinkgoHelper()
	for i := first; i < first+n; i++ {
		Expect(f.c.Create(ctx, newInvitation(ns, i))).To(Succeed())
		if interval > 0 {
			time.Sleep(interval)
		}
	}
}

// invitationPhases counts the test's invitations in ns (not the owner's activation) by phase, and
// sums their delivery attempts.
func (f *faultEnv) invitationPhases(ns string) (phases map[membershipv1alpha1.InvitationPhase]int, attempts int) {
	GinkgoHelper()
	var list membershipv1alpha1.InvitationList
	Expect(f.c.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
	phases = map[membershipv1alpha1.InvitationPhase]int{}
	for _, inv := range list.Items {
		if !strings.HasPrefix(inv.Name, "inv-") {
			continue
		}
		phases[inv.Status.Phase]++
		attempts += int(inv.Status.DeliveryAttempts)
	}
	return phases, attempts
}

// The event parts of the operator's Message-IDs (<uid>.<event>@<domain>) that the scenarios count:
// the first round of an invitation, and the email to a removed Member.
const (
	invitationEvent    = ".invitation-0@"
	accessRemovedEvent = ".access-removed@"
)

// census is who received which email: recipient -> Message-ID -> copies, for one event.
type census map[string]map[string]int

func takeCensus(messages []mailcatcher.Message, event string) census {
	GinkgoHelper()
	c := census{}
	for _, m := range messages {
		h, err := m.Header()
		Expect(err).NotTo(HaveOccurred())
		id := h.Get("Message-Id")
		if !strings.Contains(id, event) {
			continue
		}
		for _, to := range m.To {
			if c[to] == nil {
				c[to] = map[string]int{}
			}
			c[to][id]++
		}
	}
	return c
}

// missing are the recipients in want that have not received the email.
func (c census) missing(want []string) []string {
	var out []string
	for _, to := range want {
		if len(c[to]) == 0 {
			out = append(out, to)
		}
	}
	return out
}

// expectOncePerRecipient checks that every recipient of want received exactly one Message-ID,
// at most twice (a retry after a crash between the send and its record), and returns how many
// copies were duplicates.
func (c census) expectOncePerRecipient(want []string) (duplicates int) {
	GinkgoHelper()
	for _, to := range want {
		Expect(c[to]).To(HaveLen(1), "%s: one email, with one Message-ID", to)
		for id, copies := range c[to] {
			Expect(copies).To(BeNumerically("<=", 2), "%s: %d copies of %s", to, copies, id)
			duplicates += copies - 1
		}
	}
	return duplicates
}

func invitees(ns string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = invitee(ns, i)
	}
	return out
}

// expectNoLeaks searches the manager's log, every event and every object for every secret the
// scenario issued (deleted ones too) and every link it emailed.
func (f *faultEnv) expectNoLeaks() {
	GinkgoHelper()
	report, err := f.collector.Search(ctx, f.c, f.Mail.Messages(), map[string]string{"manager log": f.log.String()}, f.chosen...)
	Expect(err).NotTo(HaveOccurred())
	AddReportEntry("secret-leak search", report.String())
	_, _ = fmt.Fprintln(os.Stdout, "FIGURE: secret-leak search: "+report.String())
	Expect(report.Leaks).To(BeEmpty())
}

// leaseNamespace holds the leader election Lease (devenv's default).
const leaseNamespace = "default"

// leaseHolder is who holds the manager's leader election Lease, "" when nobody.
func (f *faultEnv) leaseHolder() string {
	var lease coordinationv1.Lease
	err := f.c.Get(ctx, client.ObjectKey{Namespace: leaseNamespace, Name: "member-operator.membership.storeops.io"}, &lease)
	if err != nil || lease.Spec.HolderIdentity == nil {
		return ""
	}
	return *lease.Spec.HolderIdentity
}

// report collects a scenario's figures, printed as one report entry.
type report struct {
	mu    sync.Mutex
	lines []string
}

func (r *report) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	line := fmt.Sprintf(format, args...)
	r.lines = append(r.lines, line)
	// Straight to the test's output, so that `go test -v` (make test-faults) prints the figures
	// without the manager's log, which goes to GinkgoWriter and shows only for a failure.
	_, _ = fmt.Fprintln(os.Stdout, "FIGURE: "+line)
}

func (r *report) entry(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	AddReportEntry(name, strings.Join(r.lines, "\n"))
}
