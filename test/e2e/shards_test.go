// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/config"
	"github.com/storeops/member-operator/internal/shard"
	"github.com/storeops/member-operator/test/devenv"
)

// The built manager as shards (docs/scale-out.md), on a control plane of its own with
// ShardedListAndWatch: two namespace shards, a standby of the first, and the cluster shard, each
// process a user of its own in the audit log.
var _ = Describe("shards", Ordered, func() {
	const leader, standby, second, cluster = "shard-0", "shard-0-standby", "shard-1", "cluster-shard"
	ranges := map[string]shard.Range{leader: shard.Of(0, 2), standby: shard.Of(0, 2), second: shard.Of(1, 2), cluster: shard.Cluster}
	var (
		sharded  *devenv.Env
		c        client.Client
		auditLog string
		procs    = map[string]*devenv.ManagerProcess{}
	)

	BeforeAll(func() {
		dir := GinkgoT().TempDir()
		policy := filepath.Join(dir, "audit-policy.yaml")
		auditLog = filepath.Join(dir, "audit.log")
		Expect(os.WriteFile(policy, []byte(devenv.WritesAuditPolicy(leader, standby, second, cluster)), 0o600)).To(Succeed())
		var err error
		sharded, err = devenv.Start(ctx, devenv.Options{
			Dir:                dir,
			CRDDir:             filepath.Join(rootDir, "config", "crd", "bases"),
			RBACRole:           filepath.Join(rootDir, "config", "rbac", "role.yaml"),
			LeaderElectionRole: filepath.Join(rootDir, "config", "rbac", "leader_election_role.yaml"),
			ManagerBinary:      managerBinary,
			DeferManager:       true,
			ManagerOutput:      GinkgoWriter,
			APIServerFlags:     map[string]string{"audit-policy-file": policy, "audit-log-path": auditLog},
		})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(sharded.Stop()).To(Succeed()) })
		scheme := runtime.NewScheme()
		Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
		Expect(membershipv1alpha1.AddToScheme(scheme)).To(Succeed())
		c, err = client.New(sharded.Config, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
	})

	start := func(user string) {
		GinkgoHelper()
		args := []string{"--shard=cluster"}
		if r := ranges[user]; !r.ClusterOnly {
			args = []string{fmt.Sprintf("--shard=%d/%d", r.Index, r.Count), "--accept-bind-address=0"}
		}
		p, err := sharded.StartShard(ctx, user, args...)
		Expect(err).NotTo(HaveOccurred())
		procs[user] = p
	}
	holder := func(r shard.Range) func() string {
		return func() string {
			lease := &coordinationv1.Lease{}
			err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: r.LeaseName(config.DefaultLeaderElectionID)}, lease)
			if err != nil || lease.Spec.HolderIdentity == nil {
				return ""
			}
			return *lease.Spec.HolderIdentity
		}
	}
	activeWithCredentials := func(ns, name string) func(Gomega) {
		return func(g Gomega) {
			m := &membershipv1alpha1.Member{}
			g.Expect(c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, m)).To(Succeed())
			g.Expect(m.Status.Phase).To(Equal(membershipv1alpha1.MemberActive))
			key := client.ObjectKey{Namespace: ns, Name: membershipv1alpha1.CredentialsSecretName(name)}
			g.Expect(c.Get(ctx, key, &corev1.Secret{})).To(Succeed())
		}
	}
	staff := func(ns, name string) *membershipv1alpha1.Member {
		return &membershipv1alpha1.Member{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: membershipv1alpha1.MemberSpec{StoreRef: membershipv1alpha1.StoreReference{Name: "shop"},
				Email: membershipv1alpha1.EmailAddress(name + "@example.com"), DisplayName: "Sam",
				Roles: []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff}},
		}
	}

	It("converges Stores in twenty namespaces, each written by its own shard, and hands a dead leader's range to its standby", func() {
		By("starting shard 0 and waiting for its Lease, then its standby, shard 1 and the cluster shard")
		start(leader)
		Eventually(holder(ranges[leader])).WithTimeout(time.Minute).ShouldNot(BeEmpty())
		first := holder(ranges[leader])()
		for _, user := range []string{standby, second, cluster} {
			start(user)
		}
		Eventually(holder(ranges[second])).WithTimeout(time.Minute).ShouldNot(BeEmpty())
		Eventually(holder(shard.Cluster)).WithTimeout(time.Minute).ShouldNot(BeEmpty())

		By("creating twenty namespaces, each with a Store and a Member")
		const count = 20
		namespaces := make([]string, 0, count)
		var inFirst, inSecond []string
		for i := range count {
			ns := fmt.Sprintf("shop-%x", sha256.Sum256([]byte(strconv.Itoa(i))))[:13]
			Expect(c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
			Expect(c.Create(ctx, &membershipv1alpha1.Store{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"},
				Spec: membershipv1alpha1.StoreSpec{DisplayName: "Shop", Owner: membershipv1alpha1.StoreOwner{
					Email: "owner@example.com", DisplayName: "Owner"}}})).To(Succeed())
			Expect(c.Create(ctx, staff(ns, "staff"))).To(Succeed())
			namespaces = append(namespaces, ns)
			if ranges[leader].Contains(ns) {
				inFirst = append(inFirst, ns)
			} else {
				inSecond = append(inSecond, ns)
			}
		}
		Expect(inFirst).NotTo(BeEmpty())
		Expect(inSecond).NotTo(BeEmpty())
		for _, ns := range namespaces {
			Eventually(func(g Gomega) {
				store := &membershipv1alpha1.Store{}
				g.Expect(c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop"}, store)).To(Succeed())
				ready := meta.FindStatusCondition(store.Status.Conditions, membershipv1alpha1.ConditionReady)
				g.Expect(ready).NotTo(BeNil())
				g.Expect(ready.Reason).To(Equal(membershipv1alpha1.ReasonAwaitingOwnerActivation))
				activeWithCredentials(ns, "staff")(g)
			}).WithTimeout(2*time.Minute).Should(Succeed(), "namespace %s", ns)
		}

		By("killing shard 0's leader (SIGKILL: its Lease is not released) and adding a Member on each side")
		procs[leader].Kill()
		killed := time.Now()
		Eventually(holder(ranges[leader])).WithTimeout(time.Minute).ShouldNot(Or(BeEmpty(), Equal(first)))
		for _, ns := range []string{inFirst[0], inSecond[0]} {
			Expect(c.Create(ctx, staff(ns, "after"))).To(Succeed())
			Eventually(activeWithCredentials(ns, "after")).WithTimeout(2*time.Minute).Should(Succeed(), "namespace %s", ns)
		}

		By("reading the audit log: every shard wrote inside its range only")
		writes, err := devenv.ReadWrites(auditLog)
		Expect(err).NotTo(HaveOccurred())
		byUser := map[string]int{}
		standbyTookOver := false
		for _, w := range writes {
			user, ns := w.User.Username, w.ObjectRef.Namespace
			byUser[user]++
			if ns == "" || ns == devenv.ManagerNamespace || ns == "default" {
				continue // cluster-scoped, the operator's namespace, leader-election events
			}
			Expect(ranges[user].Contains(ns)).To(BeTrue(), "%s wrote %s %s/%s outside %s", user, w.ObjectRef.Resource, ns,
				w.ObjectRef.Name, ranges[user])
			if user == leader {
				Expect(w.Received).To(BeTemporally("<", killed))
			}
			standbyTookOver = standbyTookOver || user == standby && ns == inFirst[0] && w.ObjectRef.Name == "after"
		}
		Expect(byUser[leader]).To(BeNumerically(">", 0))
		Expect(byUser[second]).To(BeNumerically(">", 0))
		Expect(standbyTookOver).To(BeTrue(), "the standby reconciled the new Member of shard 0's range")
	})
})
