// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/shard"
	"github.com/storeops/member-operator/test/devenv"
)

// The scale-out row: scaleOutMembers Members in scaleOutNamespaces namespaces, converged by
// scaleOutShards namespace shards and the cluster shard (docs/scale-out.md), each process a user of
// its own; against one unsharded manager converging a shard's share alone; and the same shards on
// an API server without ShardedListAndWatch. Passwords are imported as bcrypt hashes
// (spec.passwordSecretRef, key password-hash), so the row measures the operator, not bcrypt.

// scaleOutScenario names the scale-out scenario.
const scaleOutScenario = "scale-out"

// importedPassword is the one password every scale-out Member imports, as its bcrypt hash.
const importedPassword = "scale-out-imported-password"

// shardRun is what one run of the scale-out scenario measured, per process.
type shardRun struct {
	users    []string
	peakRSS  map[string]uint64
	read     map[string]uint64 // bytes the process read (/proc/<pid>/io rchar): the API server's responses, mostly
	elapsed  time.Duration
	outside  int // writes of a namespace shard outside its range
	twice    int // objects written by two shards
	byShards map[string]int
	// Per process: the largest Go heap in use seen, and the heap profile taken nearest its peak
	// resident set (the path, and that resident set).
	peakHeap   map[string]float64
	profile    map[string]string
	profiledAt map[string]uint64
	// When the Members were Active: Accounts made, Members joined to one, requests waiting.
	accounts, joined, requests int
}

// accountBacklog counts the Accounts, the Members joined to one, and the account requests waiting
// in the operator's namespace (-1 each when they cannot be listed).
func (b *bench) accountBacklog(ctx context.Context) (accounts, joined, requests int) {
	var accts membershipv1alpha1.AccountList
	var members membershipv1alpha1.MemberList
	var pending metav1.PartialObjectMetadataList
	pending.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
	if b.c.List(ctx, &accts) != nil || b.c.List(ctx, &members) != nil ||
		b.c.List(ctx, &pending, client.InNamespace(devenv.ManagerNamespace), client.HasLabels{membershipv1alpha1.AccountRequestLabel}) != nil {
		return -1, -1, -1
	}
	for i := range members.Items {
		if members.Items[i].Status.Account != "" {
			joined++
		}
	}
	return len(accts.Items), joined, len(pending.Items)
}

func (b *bench) scaleOut(ctx context.Context) error {
	o := b.o
	share := o.scaleOutMembers / o.scaleOutShards
	one, err := b.scaleOutRun(ctx, share, 0, true)
	if err != nil {
		return fmt.Errorf("one manager: %w", err)
	}
	on, err := b.scaleOutRun(ctx, o.scaleOutMembers, o.scaleOutShards, true)
	if err != nil {
		return fmt.Errorf("shards, gate on: %w", err)
	}
	off, err := b.scaleOutRun(ctx, o.scaleOutMembers, o.scaleOutShards, false)
	if err != nil {
		return fmt.Errorf("shards, gate off: %w", err)
	}
	single := float64(one.peakRSS[one.users[0]])
	largest, largestUser, rss, read, readOff := 0.0, "", []string{}, []string{}, []string{}
	heaps := []string{}
	for _, user := range on.users {
		heaps = append(heaps, fmt.Sprintf("%s %.0f", user, on.peakHeap[user]/mib))
		if user == clusterShardUser {
			continue
		}
		if float64(on.peakRSS[user]) > largest {
			largest, largestUser = float64(on.peakRSS[user]), user
		}
		rss = append(rss, fmt.Sprintf("%.0f", float64(on.peakRSS[user])/mib))
		read = append(read, fmt.Sprintf("%.0f", float64(on.read[user])/mib))
		readOff = append(readOff, fmt.Sprintf("%.0f", float64(off.read[user])/mib))
	}
	ratio := largest / single
	b.notes = append(b.notes, fmt.Sprintf("Scale-out, peak Go heap in use (MiB): one manager %.0f; gate on: %s.",
		one.peakHeap[one.users[0]]/mib, strings.Join(heaps, ", ")))
	b.peakProfile(one, one.users[0], "one manager holding a shard's share")
	b.peakProfile(on, largestUser, "the largest namespace shard, gate on")
	b.rows = append(b.rows, row{
		scenario: fmt.Sprintf("Scale-out: %d shards sharing %d Members in %d namespaces (passwords imported as hashes; ShardedListAndWatch on)",
			o.scaleOutShards, o.scaleOutMembers, o.scaleOutNamespaces),
		operator: fmt.Sprintf("peak RSS per shard %s MiB (the cluster shard, every namespace's cache: %.0f MiB); Members Active in %s "+
			"(then %d Accounts, %d Members joined, %d account requests waiting)",
			strings.Join(rss, " / "), float64(on.peakRSS[clusterShardUser])/mib, seconds3(on.elapsed), on.accounts, on.joined, on.requests),
		floor: fmt.Sprintf("one manager holding %d: %.0f MiB, Members Active in %s (then %d Accounts, %d requests waiting)",
			share, single/mib, seconds3(one.elapsed), one.accounts, one.requests),
		figure: fmt.Sprintf("largest shard / one manager %.2f", ratio), target: "≤ 1.2", met: ratio <= 1.2,
	})
	b.rows = append(b.rows, row{
		scenario: "Scale-out: who wrote what (kube-apiserver audit log, one user per shard)",
		operator: fmt.Sprintf("writes by shard %s; gate off: %s", describeWrites(on.byShards), describeWrites(off.byShards)),
		floor:    "—",
		figure: fmt.Sprintf("%d writes outside a shard's range, %d objects written by two shards", on.outside+off.outside,
			on.twice+off.twice),
		target: "0, 0", met: on.outside+off.outside == 0 && on.twice+off.twice == 0 && len(on.byShards) > 0,
	})
	b.rows = append(b.rows, row{
		scenario: "Scale-out without ShardedListAndWatch: the same shards filtering on their own",
		operator: fmt.Sprintf("MiB read per shard, gate on %s; gate off %s", strings.Join(read, " / "), strings.Join(readOff, " / ")),
		floor:    "—",
		figure:   fmt.Sprintf("peak RSS per shard gate off: %s MiB", rssOf(off)),
		target:   "none set (a comparison)",
		met:      true,
	})
	return nil
}

// peakProfile adds to the results the heap profile a scale-out run took of user nearest its peak.
func (b *bench) peakProfile(run shardRun, user, what string) {
	if run.profiledAt[user] == 0 {
		b.notes = append(b.notes, fmt.Sprintf("Scale-out: no heap profile of %s (%s) was taken.", user, what))
		return
	}
	b.profiles = append(b.profiles, fmt.Sprintf("Heap profile (in use) of %s, %s, taken at RSS %.0f MiB (peak %.0f MiB) (%s)\n%s",
		user, what, float64(run.profiledAt[user])/mib, float64(run.peakRSS[user])/mib, run.profile[user],
		pprofTop(b.o.manager, run.profile[user], "-sample_index=inuse_space")))
}

// clusterShardUser is the cluster shard's user in the scale-out runs.
const clusterShardUser = "shard-cluster"

func rssOf(r shardRun) string {
	out := []string{}
	for _, user := range r.users {
		if user != clusterShardUser {
			out = append(out, fmt.Sprintf("%.0f", float64(r.peakRSS[user])/mib))
		}
	}
	return strings.Join(out, " / ")
}

// balancedNamespaces are count namespace names that the shards' equal ranges split evenly:
// names that differ in many characters, taken in order, each kept while its shard has room. A
// hash split of 200 random names puts about 60 in one of four ranges and 40 in another (seen:
// 39/43/58/60); the row compares a shard holding its share with one manager holding that share,
// so it sets the share exactly, and measures the operator rather than the luck of the hash.
// (Platforms balance the same way, with ranges chosen by their namespaces' hashes:
// docs/scale-out.md.)
func balancedNamespaces(count, shards int) []string {
	room := make([]int, shards)
	for i := range room {
		room[i] = count / shards
		if i < count%shards {
			room[i]++
		}
	}
	names := make([]string, 0, count)
	for i := 0; len(names) < count; i++ {
		name := fmt.Sprintf("so-%x", sha256.Sum256([]byte(strconv.Itoa(i))))[:11]
		for s := range shards {
			if shard.Of(s, shards).Contains(name) && room[s] > 0 {
				room[s]--
				names = append(names, name)
			}
		}
	}
	return names
}

// scaleOutRun converges members Members on a fresh control plane with the gate as asked, by
// shards namespace shards and the cluster shard (or, with shards 0, one unsharded manager).
func (b *bench) scaleOutRun(ctx context.Context, members, shards int, gate bool) (shardRun, error) {
	o := b.o
	fmt.Printf("scale-out: %d Members, %d shards, ShardedListAndWatch=%t, on a fresh control plane...\n", members, shards, gate)
	run := shardRun{peakRSS: map[string]uint64{}, read: map[string]uint64{}, byShards: map[string]int{},
		peakHeap: map[string]float64{}, profile: map[string]string{}, profiledAt: map[string]uint64{}}
	ranges := map[string]shard.Range{}
	if shards == 0 {
		run.users = []string{"manager-alone"}
		ranges["manager-alone"] = shard.Whole
	}
	for i := range shards {
		user := fmt.Sprintf("shard-%d", i)
		run.users = append(run.users, user)
		ranges[user] = shard.Of(i, shards)
	}
	if shards > 0 {
		run.users = append(run.users, clusterShardUser)
		ranges[clusterShardUser] = shard.Cluster
	}
	dir := filepath.Join(b.o.dir, fmt.Sprintf("scale-out-%d-%d-%t", members, shards, gate))
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return run, err
	}
	policy, auditLog := filepath.Join(dir, "audit-policy.yaml"), filepath.Join(dir, "audit.log")
	if err := os.WriteFile(policy, []byte(devenv.WritesAuditPolicy(run.users...)), 0o600); err != nil {
		return run, err
	}
	_ = os.Remove(auditLog)
	if b.env != nil {
		if err := b.env.Stop(); err != nil {
			return run, err
		}
	}
	saved := b.envOptions.APIServerFlags
	b.envOptions.APIServerFlags = map[string]string{"audit-policy-file": policy, "audit-log-path": auditLog,
		"feature-gates": "ShardedListAndWatch=" + strconv.FormatBool(gate)}
	err := b.startEnv(ctx)
	b.envOptions.APIServerFlags = saved
	if err != nil {
		return run, err
	}

	if err := b.scaleOutObjects(ctx, members, max(1, o.scaleOutNamespaces*members/o.scaleOutMembers)); err != nil {
		return run, err
	}

	fmt.Printf("scale-out: starting %s...\n", strings.Join(run.users, ", "))
	start := time.Now()
	procs, watches := map[string]*devenv.ManagerProcess{}, map[string]*peakWatch{}
	defer func() {
		for _, w := range watches {
			w.Stop()
		}
	}()
	for _, user := range run.users {
		// Each process serves metrics and pprof on addresses of its own (after StartShard's "0"s,
		// so these count): the watch reads its heap and profiles it near its peak.
		metricsAddr, err := devenv.FreeLoopbackAddr()
		if err != nil {
			return run, err
		}
		pprofAddr, err := devenv.FreeLoopbackAddr()
		if err != nil {
			return run, err
		}
		args := []string{"--metrics-bind-address=" + metricsAddr, "--pprof-bind-address=" + pprofAddr}
		switch r := ranges[user]; {
		case r.ClusterOnly:
			args = append(args, "--shard=cluster")
		case r.Namespaced():
			args = append(args, fmt.Sprintf("--shard=%d/%d", r.Index, r.Count), "--accept-bind-address=0")
		}
		p, err := b.env.StartShard(ctx, user, args...)
		if err != nil {
			return run, fmt.Errorf("%s: %w", user, err)
		}
		procs[user] = p
		run.profile[user] = filepath.Join(dir, "heap-peak-"+user+".pprof")
		watches[user] = watchPeak(ctx, p.Cmd.Process.Pid, "http://"+metricsAddr, "http://"+pprofAddr, run.profile[user])
	}
	err = waitFor(ctx, 60*time.Minute, 5*time.Second, "all Members Active", func(ctx context.Context) (bool, error) {
		var list membershipv1alpha1.MemberList
		if err := b.c.List(ctx, &list); err != nil {
			return false, err
		}
		active := 0
		for i := range list.Items {
			if list.Items[i].Status.Phase == membershipv1alpha1.MemberActive {
				active++
			}
		}
		return active >= members, nil
	})
	run.elapsed = time.Since(start)
	// The Members are Active with logins of their own first; their Accounts follow, made one by
	// one by the Account controller from the Members' requests. Say how far that got.
	run.accounts, run.joined, run.requests = b.accountBacklog(ctx)
	for user, p := range procs {
		run.peakHeap[user], run.profiledAt[user] = watches[user].Stop()
		delete(watches, user)
		if _, peak, err := procStatus(p.Cmd.Process.Pid); err == nil {
			run.peakRSS[user] = peak
		}
		run.read[user] = readBytes(p.Cmd.Process.Pid)
		p.Stop()
	}
	if err != nil {
		return run, err
	}
	fmt.Printf("scale-out: converged in %s; then %d Accounts, %d Members joined to one, %d account requests waiting\n",
		run.elapsed.Round(time.Second), run.accounts, run.joined, run.requests)

	return run, run.judgeWrites(auditLog, ranges)
}

// scaleOutObjects creates namespaces namespaces, each with a Store and the Secret its Members
// import their password from (a bcrypt hash), and members Members spread over them.
func (b *bench) scaleOutObjects(ctx context.Context, members, namespaces int) error {
	hash, err := credentials.HashPassword(importedPassword, credentials.MinBcryptCost)
	if err != nil {
		return err
	}
	names := balancedNamespaces(namespaces, max(1, b.o.scaleOutShards))
	if err := parallel(ctx, namespaces, b.o.creators, func(ctx context.Context, i int) error {
		ns := names[i]
		if err := ensureNamespace(ctx, b.c, ns); err != nil {
			return err
		}
		if err := b.c.Create(ctx, newStore(ns, 0, 0)); err != nil {
			return err
		}
		return b.c.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "imported",
				Labels: map[string]string{membershipv1alpha1.PasswordSourceLabel: "true"}},
			Data: map[string][]byte{"password-hash": hash},
		})
	}); err != nil {
		return err
	}
	return createAll(ctx, b.c, members, 2*b.o.creators, func(i int) (*membershipv1alpha1.Member, error) {
		m := newMember(names[i%namespaces], i, 1)
		m.Spec.PasswordSecretRef = &membershipv1alpha1.SecretKeyReference{Name: "imported", Key: "password-hash"}
		return m, nil
	}, nil)
}

// judgeWrites counts, from the audit log, the writes of each shard, those of a namespace shard
// outside its range, and the objects two namespace shards wrote.
func (run *shardRun) judgeWrites(auditLog string, ranges map[string]shard.Range) error {
	writes, err := devenv.ReadWrites(auditLog)
	if err != nil {
		return err
	}
	writers := map[string]map[string]bool{} // object -> namespace shards that wrote it
	for _, w := range writes {
		user, ns := w.User.Username, w.ObjectRef.Namespace
		run.byShards[user]++
		if ns == "" || ns == devenv.ManagerNamespace || ns == "default" || !ranges[user].Namespaced() {
			continue // cluster-scoped, the operator's namespace, leader election; the cluster shard
		}
		if !ranges[user].Contains(ns) {
			run.outside++
		}
		object := w.ObjectRef.Resource + "/" + ns + "/" + w.ObjectRef.Name
		if writers[object] == nil {
			writers[object] = map[string]bool{}
		}
		writers[object][user] = true
	}
	for _, by := range writers {
		if len(by) > 1 {
			run.twice++
		}
	}
	return nil
}

// readBytes is rchar of /proc/<pid>/io: every byte the process read (sockets, mostly); 0 when
// unreadable.
func readBytes(pid int) uint64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/io")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if value, ok := strings.CutPrefix(line, "rchar: "); ok {
			n, _ := strconv.ParseUint(strings.TrimSpace(value), 10, 64)
			return n
		}
	}
	return 0
}
