// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package devenv

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Metrics are the samples of the manager's Prometheus endpoint, keyed as exposed:
// `name{label="value",...}`, or `name` for a sample without labels.
type Metrics map[string]float64

// ScrapeMetrics reads every sample of the Prometheus text endpoint at baseURL/metrics.
func ScrapeMetrics(ctx context.Context, baseURL string) (Metrics, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metrics: %s", resp.Status)
	}
	return ParseMetrics(resp.Body)
}

// ParseMetrics reads the samples of a Prometheus text exposition (kube-apiserver's /metrics, for
// instance, which the caller fetches with its own credentials).
func ParseMetrics(r io.Reader) (Metrics, error) {
	samples := Metrics{}
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for scanner.Scan() {
		line := scanner.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics: %q: %w", line, err)
		}
		samples[line[:i]] = v
	}
	return samples, scanner.Err()
}

// Sum adds up the samples of metric name whose labels contain every one of labels (each written
// as in the exposition, e.g. `method="POST"`).
func (m Metrics) Sum(name string, labels ...string) float64 {
	var total float64
	for key, v := range m {
		if key != name && !strings.HasPrefix(key, name+"{") {
			continue
		}
		matches := true
		for _, l := range labels {
			matches = matches && strings.Contains(key, l)
		}
		if matches {
			total += v
		}
	}
	return total
}

// APIWrites is the number of API requests that change something the manager has made since it
// started (client-go's rest_client_requests_total), in all and by HTTP method.
func (m Metrics) APIWrites() (total float64, byMethod map[string]float64) {
	byMethod = map[string]float64{}
	for _, method := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		byMethod[method] = m.Sum("rest_client_requests_total", `method="`+method+`"`)
		total += byMethod[method]
	}
	return total, byMethod
}
