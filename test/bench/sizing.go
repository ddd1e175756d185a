// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/rest"

	"github.com/storeops/member-operator/test/devenv"
)

// What the control plane holds for the operator's objects (docs/sizing.md): etcd's database in
// use after a compaction (history gone, so only the live objects count), the bytes etcd stores
// per kind of object, and kube-apiserver's and etcd's memory. Read through etcd's gRPC gateway
// (JSON over HTTP on its client URL) and kube-apiserver's /metrics: no etcd client library.

// controlPlaneSize is one reading of the control plane's size.
type controlPlaneSize struct {
	dbInUse, dbQuota      int64   // etcd's database in use after compaction, and its quota
	apiServerRSS, etcdRSS uint64  // resident memory
	apiServerHeap         float64 // kube-apiserver's go_memstats_heap_inuse_bytes
}

// etcdCall posts body (JSON) to etcd's gateway at path and decodes the answer into out.
func etcdCall(ctx context.Context, etcdURL, path string, body, out any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, etcdURL+path, bytes.NewReader(data))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("etcd %s: %s: %s", path, resp.Status, msg)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// etcdStatus is etcd's maintenance status; the gateway writes 64-bit integers as strings.
type etcdStatus struct {
	Header struct {
		Revision int64 `json:"revision,string"`
	} `json:"header"`
	DBSizeInUse int64 `json:"dbSizeInUse,string"`
	DBSizeQuota int64 `json:"dbSizeQuota,string"`
}

// measureControlPlane compacts etcd's history up to now (as kube-apiserver does every five
// minutes, so the reading does not depend on when its last compaction ran) and reads the sizes.
func (b *bench) measureControlPlane(ctx context.Context) (controlPlaneSize, error) {
	var out controlPlaneSize
	etcdURL := b.env.EtcdURL()
	var status etcdStatus
	if err := etcdCall(ctx, etcdURL, "/v3/maintenance/status", struct{}{}, &status); err != nil {
		return out, err
	}
	var compacted struct{}
	if err := etcdCall(ctx, etcdURL, "/v3/kv/compaction",
		map[string]any{"revision": strconv.FormatInt(status.Header.Revision, 10), "physical": true}, &compacted); err != nil {
		return out, err
	}
	if err := etcdCall(ctx, etcdURL, "/v3/maintenance/status", struct{}{}, &status); err != nil {
		return out, err
	}
	out.dbInUse, out.dbQuota = status.DBSizeInUse, status.DBSizeQuota

	apiServer, etcd, err := b.env.ControlPlanePIDs()
	if err != nil {
		return out, err
	}
	if out.apiServerRSS, _, err = procStatus(apiServer); err != nil {
		return out, err
	}
	if out.etcdRSS, _, err = procStatus(etcd); err != nil {
		return out, err
	}
	httpClient, err := rest.HTTPClientFor(b.env.Config)
	if err != nil {
		return out, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(b.env.Config.Host, "/")+"/metrics", nil)
	if err != nil {
		return out, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return out, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("kube-apiserver /metrics: %s", resp.Status)
	}
	samples, err := devenv.ParseMetrics(resp.Body)
	if err != nil {
		return out, err
	}
	out.apiServerHeap = samples.Sum("go_memstats_heap_inuse_bytes")
	return out, nil
}

// storedBytes is what etcd stores under prefix: the number of keys and their keys' and values'
// bytes (the objects as kube-apiserver encodes them: JSON for custom resources, protobuf for
// Secrets and Events).
func (b *bench) storedBytes(ctx context.Context, prefix string) (keys int, size int64, err error) {
	end := []byte(prefix)
	end[len(end)-1]++ // the first key after every key with the prefix
	var out struct {
		Kvs []struct {
			Key   []byte `json:"key"`
			Value []byte `json:"value"`
		} `json:"kvs"`
	}
	if err := etcdCall(ctx, b.env.EtcdURL(), "/v3/kv/range", map[string]any{
		"key": base64.StdEncoding.EncodeToString([]byte(prefix)), "range_end": base64.StdEncoding.EncodeToString(end),
	}, &out); err != nil {
		return 0, 0, err
	}
	for _, kv := range out.Kvs {
		size += int64(len(kv.Key) + len(kv.Value))
	}
	return len(out.Kvs), size, nil
}

// sizingRow turns two readings (before the memory scenario's Members, after they converged and
// the manager restarted) and the stored bytes of their objects into the sizing row and notes.
func (b *bench) sizingRow(ctx context.Context, namespace string, members int, before, after controlPlaneSize, managerHeap float64) error {
	perMember := func(delta float64) string { return fmt.Sprintf("%.1f KiB", delta/float64(members)/1024) }
	kinds := []struct{ what, prefix string }{
		{"Member", "/registry/membership.storeops.io/members/" + namespace + "/"},
		{"credential Secret", "/registry/secrets/" + namespace + "/"},
		{"events (kept 1 h)", "/registry/events/" + namespace + "/"},
	}
	stored := ""
	for _, k := range kinds {
		n, size, err := b.storedBytes(ctx, k.prefix)
		if err != nil {
			return err
		}
		if stored != "" {
			stored += ", "
		}
		stored += fmt.Sprintf("%s %s (%d objects, %.0f B each)", k.what, perMember(float64(size)), n, float64(size)/float64(max(n, 1)))
	}
	db := float64(after.dbInUse - before.dbInUse)
	b.rows = append(b.rows, row{
		scenario: fmt.Sprintf("Sizing: per Member of the %d in the memory scenario, with its credential Secret and events", members),
		operator: fmt.Sprintf("etcd database in use %s (stored: %s); kube-apiserver heap %s, RSS %s; etcd RSS %s; "+
			"manager heap in use (the whole process) %s",
			perMember(db), stored, perMember(after.apiServerHeap-before.apiServerHeap),
			perMember(float64(after.apiServerRSS)-float64(before.apiServerRSS)),
			perMember(float64(after.etcdRSS)-float64(before.etcdRSS)), perMember(managerHeap)),
		floor: "—", figure: perMember(db) + " in etcd", target: "none set", noTarget: true,
	})
	b.notes = append(b.notes, fmt.Sprintf("Sizing: etcd's database in use after compaction went from %.1f MiB to %.1f MiB "+
		"(quota %.0f MiB); kube-apiserver's heap in use from %.0f to %.0f MiB, RSS from %.0f to %.0f MiB; etcd's RSS from %.0f to %.0f MiB. "+
		"The 'before' reading already holds the unrelated Secrets.",
		float64(before.dbInUse)/mib, float64(after.dbInUse)/mib, float64(after.dbQuota)/mib,
		before.apiServerHeap/mib, after.apiServerHeap/mib, float64(before.apiServerRSS)/mib, float64(after.apiServerRSS)/mib,
		float64(before.etcdRSS)/mib, float64(after.etcdRSS)/mib))
	return nil
}
