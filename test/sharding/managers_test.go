// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package sharding

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/config"
	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/internal/setup"
	"github.com/storeops/member-operator/internal/shard"
	"github.com/storeops/member-operator/test/devenv"
	"github.com/storeops/member-operator/test/testenv"
)

// The managers of the spec below, each a user of its own in the audit log.
const (
	shard0Leader  = "shard-0"
	shard0Standby = "shard-0-standby"
	shard1        = "shard-1"
	clusterShard  = "cluster"
	// leaseNamespace holds the shards' Leases (and the leader-election events about them).
	leaseNamespace = "default"
)

// running is a started manager and how to stop it.
type running struct {
	mgr  manager.Manager
	stop context.CancelFunc
	done chan error
}

// Two namespace shards (one with a standby) and the cluster-scoped one, on a kube-apiserver with
// ShardedListAndWatch and without: Stores in twenty namespaces all converge, every write of a shard is in
// its own range (the audit log, one user per manager), and killing shard 0's leader hands its
// range, and only it, to the standby.
func TestShardsSplitTheNamespaces(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane and four managers")
	}
	log.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	t.Run("with ShardedListAndWatch: the API server filters", func(t *testing.T) { shardsSplit(t, true) })
	t.Run("without it: each manager filters itself", func(t *testing.T) { shardsSplit(t, false) })
}

func shardsSplit(t *testing.T, gate bool) {
	g := NewWithT(t)
	ctx := context.Background()
	cp, sender, auditLog := startAudited(t, g, gate, shard0Leader, shard0Standby, shard1, clusterShard)

	ranges := map[string]shard.Range{
		shard0Leader: shard.Of(0, 2), shard0Standby: shard.Of(0, 2), shard1: shard.Of(1, 2), clusterShard: shard.Cluster,
	}
	start := func(user string) *running { return startShard(ctx, g, cp, sender, user, ranges[user]) }
	leader := start(shard0Leader)
	g.Eventually(leader.mgr.Elected()).WithTimeout(30 * time.Second).Should(BeClosed())
	standby, other, cluster := start(shard0Standby), start(shard1), start(clusterShard)
	defer func() {
		for _, r := range []*running{standby, other, cluster} {
			r.stop()
			g.Expect(<-r.done).To(Succeed())
		}
	}()
	g.Eventually(other.mgr.Elected()).WithTimeout(30 * time.Second).Should(BeClosed())
	g.Eventually(cluster.mgr.Elected()).WithTimeout(30 * time.Second).Should(BeClosed())
	g.Consistently(standby.mgr.Elected()).WithTimeout(time.Second).ShouldNot(BeClosed(), "shard 0 has its leader")

	namespaces := populate(ctx, g, cp.Client, 20)
	for _, ns := range namespaces {
		g.Expect(cp.Client.Create(ctx, member(ns, "staff"))).To(Succeed())
	}
	var in0, in1 []string
	for _, ns := range namespaces {
		if shard.Of(0, 2).Contains(ns) {
			in0 = append(in0, ns)
		} else {
			in1 = append(in1, ns)
		}
	}
	g.Expect(in0).NotTo(BeEmpty())
	g.Expect(in1).NotTo(BeEmpty())

	t.Log("every Store waits for its owner (the activation email is out) and every Member is Active")
	for _, ns := range namespaces {
		g.Eventually(func(g Gomega) {
			store := &membershipv1alpha1.Store{}
			g.Expect(cp.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop"}, store)).To(Succeed())
			ready := meta.FindStatusCondition(store.Status.Conditions, membershipv1alpha1.ConditionReady)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Reason).To(Equal(membershipv1alpha1.ReasonAwaitingOwnerActivation))
			g.Expect(active(ctx, g, cp.Client, ns, "staff")).To(BeTrue())
		}).WithTimeout(60*time.Second).Should(Succeed(), "namespace %s", ns)
	}

	t.Log("what shard 1 holds in its cache: its range with the gate, everything without")
	var cached membershipv1alpha1.StoreList
	g.Expect(other.mgr.GetCache().List(ctx, &cached)).To(Succeed())
	cachedNamespaces := make([]string, 0, len(cached.Items))
	for _, s := range cached.Items {
		cachedNamespaces = append(cachedNamespaces, s.Namespace)
	}
	if gate {
		g.Expect(cachedNamespaces).To(ConsistOf(in1), "the API server sent shard 1 its namespaces only")
	} else {
		g.Expect(cachedNamespaces).To(ConsistOf(namespaces), "the API server ignored the selector")
	}

	t.Log("killing shard 0's leader: the standby takes its range over")
	leader.stop()
	g.Expect(<-leader.done).To(Succeed())
	killed := time.Now()
	g.Eventually(standby.mgr.Elected()).WithTimeout(30 * time.Second).Should(BeClosed())
	for _, ns := range []string{in0[0], in1[0]} {
		g.Expect(cp.Client.Create(ctx, member(ns, "after"))).To(Succeed())
		g.Eventually(func(g Gomega) bool { return active(ctx, g, cp.Client, ns, "after") }).
			WithTimeout(60*time.Second).Should(BeTrue(), "namespace %s", ns)
	}

	all, err := devenv.ReadWrites(auditLog)
	g.Expect(err).NotTo(HaveOccurred())
	byUser := map[string]int{}
	for _, w := range all {
		user, ns := w.User.Username, w.ObjectRef.Namespace
		byUser[user]++
		if ns == "" || ns == testenv.AccountNamespace || ns == leaseNamespace {
			continue // cluster-scoped, the operator's namespace that every shard reads, leader-election events
		}
		g.Expect(ranges[user].Contains(ns)).To(BeTrue(), "%s wrote %s %s/%s outside its range %s",
			user, w.ObjectRef.Resource, ns, w.ObjectRef.Name, ranges[user])
		if user == shard0Leader {
			g.Expect(w.Received).To(BeTemporally("<", killed), "nothing after it stopped")
		}
	}
	g.Expect(byUser[shard0Leader]).To(BeNumerically(">", 0))
	g.Expect(byUser[shard1]).To(BeNumerically(">", 0))
	g.Expect(standbyWrote(all, in0[0])).To(BeTrue(), "the standby reconciled shard 0's new Member")
}

// startAudited starts a control plane whose audit log records the writes of users (each
// manager's own), with ShardedListAndWatch as gate says, and an SMTP server; both stop when t ends.
func startAudited(t *testing.T, g Gomega, gate bool, users ...string) (*testenv.ControlPlane, *mail.SMTPSender, string) {
	dir := t.TempDir()
	policy, auditLog := filepath.Join(dir, "audit-policy.yaml"), filepath.Join(dir, "audit.log")
	g.Expect(os.WriteFile(policy, []byte(devenv.WritesAuditPolicy(users...)), 0o600)).To(Succeed())
	cp, err := testenv.StartControlPlane(func(env *envtest.Environment) {
		env.ControlPlane.GetAPIServer().Configure().Set("audit-policy-file", policy).Set("audit-log-path", auditLog).
			Set("feature-gates", "ShardedListAndWatch="+strconv.FormatBool(gate))
	})
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { g.Expect(cp.Stop()).To(Succeed()) })
	catcher, sender, err := testenv.StartMail(io.Discard)
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = catcher.Close() })
	return cp, sender, auditLog
}

// startShard starts a manager for rng as user (a user of its own in the audit log), with leader
// election on short timings.
func startShard(ctx context.Context, g Gomega, cp *testenv.ControlPlane, sender *mail.SMTPSender, user string, rng shard.Range) *running {
	cfg, err := cp.AddUser(user)
	g.Expect(err).NotTo(HaveOccurred())
	opts := testenv.Settings("http://accept.example")
	opts.Shard = rng
	opts.LeaderElectionID = config.DefaultLeaderElectionID
	mgr, err := cp.NewOperatorAs(ctx, cfg, opts, setup.Parts{Mail: sender, MailDomain: sender.FromDomain(),
		TokenKey: bytes.Repeat([]byte("k"), 32)}, func(o *manager.Options) {
		o.LeaderElection, o.LeaderElectionNamespace, o.LeaderElectionReleaseOnCancel = true, leaseNamespace, true
		o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = ptr.To(4*time.Second), ptr.To(3*time.Second), ptr.To(200*time.Millisecond)
	})
	g.Expect(err).NotTo(HaveOccurred())
	runCtx, stop := context.WithCancel(ctx)
	r := &running{mgr: mgr, stop: stop, done: make(chan error, 1)}
	go func() { r.done <- mgr.Start(runCtx) }()
	return r
}

func standbyWrote(all []devenv.Write, ns string) bool {
	for _, w := range all {
		if w.User.Username == shard0Standby && w.ObjectRef.Namespace == ns && w.ObjectRef.Name == "after" {
			return true
		}
	}
	return false
}

func member(ns, name string) *membershipv1alpha1.Member {
	return &membershipv1alpha1.Member{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: membershipv1alpha1.MemberSpec{
			StoreRef: membershipv1alpha1.StoreReference{Name: "shop"},
			Email:    membershipv1alpha1.EmailAddress(name + "@example.com"), DisplayName: "Sam",
			Roles: []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff},
		},
	}
}

// active reports whether the Member is Active with its credential Secret.
func active(ctx context.Context, g Gomega, c client.Client, ns, name string) bool {
	m := &membershipv1alpha1.Member{}
	g.Expect(c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, m)).To(Succeed())
	if m.Status.Phase != membershipv1alpha1.MemberActive {
		return false
	}
	return c.Get(ctx, client.ObjectKey{Namespace: ns, Name: membershipv1alpha1.CredentialsSecretName(name)}, &corev1.Secret{}) == nil
}
