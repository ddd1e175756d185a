// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/storeops/member-operator/test/devenv"
)

// The figures the bench reads from the manager: its Prometheus endpoint (devenv.ScrapeMetrics:
// client request counts, reconciles, Go heap), /proc (resident memory), its log (when the controllers start their workers)
// and the API server's audit log (which Secret lists and watches it made).

// procStatus reads VmRSS and VmHWM (peak resident set) of a process, in bytes.
func procStatus(pid int) (rss, peak uint64, err error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		field, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch field {
		case "VmRSS":
			rss = kb * 1024
		case "VmHWM":
			peak = kb * 1024
		}
	}
	return rss, peak, nil
}

// heapSampler polls the manager's Go heap (go_memstats_heap_inuse_bytes) and keeps the largest.
type heapSampler struct {
	mu   sync.Mutex
	peak float64
	stop chan struct{}
	done chan struct{}
}

func sampleHeap(ctx context.Context, metricsURL string, every time.Duration) *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		for {
			if samples, err := devenv.ScrapeMetrics(ctx, metricsURL); err == nil {
				h.mu.Lock()
				h.peak = max(h.peak, samples["go_memstats_heap_inuse_bytes"])
				h.mu.Unlock()
			}
			select {
			case <-h.stop:
				return
			case <-ctx.Done():
				return
			case <-time.After(every):
			}
		}
	}()
	return h
}

// Stop ends the sampling and returns the largest heap seen.
func (h *heapSampler) Stop() float64 {
	close(h.stop)
	<-h.done
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.peak
}

// logWatch copies the manager's log to a file and notes when each controller starts its workers,
// which controller-runtime does once that controller's caches have synced.
type logWatch struct {
	out io.Writer

	mu      sync.Mutex
	partial []byte
	started map[string]time.Time // controller -> when "Starting workers" was logged
}

func newLogWatch(out io.Writer) *logWatch {
	return &logWatch{out: out, started: map[string]time.Time{}}
}

func (w *logWatch) Write(p []byte) (int, error) {
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := string(w.partial[:i])
		w.partial = w.partial[i+1:]
		if !strings.Contains(line, "Starting workers") {
			continue
		}
		for _, name := range controllerNames {
			if strings.Contains(line, `"controller": "`+name+`"`) || strings.Contains(line, `"controller":"`+name+`"`) {
				w.started[name] = now
			}
		}
	}
	return w.out.Write(p)
}

// reset forgets what was seen, before a (re)start.
func (w *logWatch) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.started = map[string]time.Time{}
}

// allStarted returns when the last controller started its workers, once all have.
func (w *logWatch) allStarted() (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var last time.Time
	for _, name := range controllerNames {
		t, ok := w.started[name]
		if !ok {
			return time.Time{}, false
		}
		if t.After(last) {
			last = t
		}
	}
	return last, true
}

var controllerNames = []string{"store", "member", "invitation"}

// auditPolicy records the manager's reads of Secrets and all its writes, nothing else.
func auditPolicy(user string) string {
	return `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  users: ["` + user + `"]
  verbs: ["get", "list", "watch"]
  resources:
  - group: ""
    resources: ["secrets"]
- level: Metadata
  users: ["` + user + `"]
  verbs: ["create", "update", "patch", "delete", "deletecollection"]
- level: None
`
}

// auditRecord is what the bench reads of an audit event.
type auditRecord struct {
	AuditID    string `json:"auditID"`
	Verb       string `json:"verb"`
	RequestURI string `json:"requestURI"`
	ObjectRef  struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
	} `json:"objectRef"`
	RequestReceivedTimestamp time.Time `json:"requestReceivedTimestamp"`
	ResponseStatus           struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
}

// succeeded: the API server carried the write out (a conflict, say, changed nothing).
func (r auditRecord) succeeded() bool {
	return r.ResponseStatus.Code >= 200 && r.ResponseStatus.Code < 300
}

// audited summarises the manager's requests in the audit log: its lists and watches of Secrets
// with and without the operator's label selector, its single Secret GETs, and its writes.
type audited struct {
	ListWatchSelected   int
	ListWatchUnselected []string // request URIs
	Gets                int
	writes              []auditRecord
}

func readAudit(path, labelSelector string) (audited, error) {
	var out audited
	files, err := devenv.AuditFiles(path) // a long run's log is rotated at 100 MB
	if err != nil {
		return out, err
	}
	seen := map[string]bool{}
	for _, file := range files {
		if err := devenv.ScanAudit(file, func(line []byte) error {
			var event auditRecord
			if err := json.Unmarshal(line, &event); err != nil {
				return err
			}
			if seen[event.AuditID] {
				return nil // a watch is logged when it starts and when it ends
			}
			seen[event.AuditID] = true
			switch event.Verb {
			case "get":
				out.Gets++
			case "list", "watch":
				if strings.Contains(event.RequestURI, "labelSelector="+labelSelector) {
					out.ListWatchSelected++
				} else {
					out.ListWatchUnselected = append(out.ListWatchUnselected, event.RequestURI)
				}
			default:
				out.writes = append(out.writes, event)
			}
			return nil
		}); err != nil {
			return out, err
		}
	}
	return out, nil
}

// writesSince counts the writes received at or after t, by verb and resource.
func (a audited) writesSince(t time.Time) (int, string) {
	n, counts := a.writesBetween(t, time.Time{})
	return n, describeWrites(counts)
}

// writesBetween counts the writes received in [from, to) (to zero: no end), by "verb
// resource[/subresource]".
func (a audited) writesBetween(from, to time.Time) (int, map[string]int) {
	return a.writesWhere(from, to, func(auditRecord) bool { return true })
}

// writesWhere counts the writes received in [from, to) (to zero: no end) that keep accepts, by
// "verb resource[/subresource]".
func (a audited) writesWhere(from, to time.Time, keep func(auditRecord) bool) (int, map[string]int) {
	counts := map[string]int{}
	n := 0
	for _, w := range a.writes {
		if w.RequestReceivedTimestamp.Before(from) || (!to.IsZero() && !w.RequestReceivedTimestamp.Before(to)) || !keep(w) {
			continue
		}
		n++
		what := w.Verb + " " + w.ObjectRef.Resource
		if w.ObjectRef.Subresource != "" {
			what += "/" + w.ObjectRef.Subresource
		}
		counts[what]++
	}
	return n, counts
}

// describeWrites lists counts as "verb resource ×n", sorted.
func describeWrites(counts map[string]int) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, counts[k]))
	}
	return strings.Join(parts, ", ")
}

// httpClient has no overall timeout: a CPU profile takes as long as it was asked to.
var httpClient = &http.Client{}

func newGet(ctx context.Context, url string) (*http.Request, error) {
	return http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
}

// peakWatch follows one manager process while it works: its resident set (/proc), its Go heap
// (its metrics) and, whenever the resident set passes its last profiled high by profileStep, a
// heap profile from its pprof endpoint. The profile kept is the one taken nearest the peak:
// VmHWM says how high a process went, not what it held there.
type peakWatch struct {
	mu       sync.Mutex
	peakHeap float64
	profiled uint64 // the resident set when the kept profile was taken; 0 before one
	stop     chan struct{}
	done     chan struct{}
}

// profileStep is how far the resident set must rise past the last profile's before another is
// taken: a profile costs the process a walk of its heap's samples, so not one per poll.
const profileStep = 4 * mib

func watchPeak(ctx context.Context, pid int, metricsURL, pprofURL, profilePath string) *peakWatch {
	w := &peakWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			if samples, err := devenv.ScrapeMetrics(ctx, metricsURL); err == nil {
				w.mu.Lock()
				w.peakHeap = max(w.peakHeap, samples["go_memstats_heap_inuse_bytes"])
				w.mu.Unlock()
			}
			if rss, _, err := procStatus(pid); err == nil && rss >= w.profiledAt()+profileStep {
				// Into a temporary file first: a profile cut short must not replace a whole one.
				if download(ctx, pprofURL+"/debug/pprof/heap", profilePath+".part") == nil &&
					os.Rename(profilePath+".part", profilePath) == nil {
					w.mu.Lock()
					w.profiled = rss
					w.mu.Unlock()
				}
			}
			select {
			case <-w.stop:
				return
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}()
	return w
}

func (w *peakWatch) profiledAt() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.profiled
}

// Stop ends the watch and returns the largest Go heap in use seen and the resident set at which
// the kept profile was taken (0: none was).
func (w *peakWatch) Stop() (peakHeap float64, profiledAt uint64) {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.peakHeap, w.profiled
}
