// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package devenv

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"time"
)

// WritesAuditPolicy is a kube-apiserver audit policy that records every write of users, and
// nothing else: who wrote which object, to tell managers (shards) apart.
func WritesAuditPolicy(users ...string) string {
	return `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  users: ["` + strings.Join(users, `", "`) + `"]
  verbs: ["create", "update", "patch", "delete", "deletecollection"]
- level: None
`
}

// Write is one write an audit log recorded.
type Write struct {
	User struct {
		Username string `json:"username"`
	} `json:"user"`
	Verb      string `json:"verb"`
	ObjectRef struct {
		Resource  string `json:"resource"`
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"objectRef"`
	ResponseStatus struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
	Received time.Time `json:"requestReceivedTimestamp"`
}

// ReadWrites reads the writes the API server carried out (2xx) from the audit log at path,
// leaving out Leases (leader election).
func ReadWrites(path string) ([]Write, error) {
	f, err := os.Open(path) //nolint:gosec // the caller's own audit log
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	var out []Write
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for scanner.Scan() {
		var w Write
		if err := json.Unmarshal(scanner.Bytes(), &w); err != nil {
			return nil, err
		}
		if w.ResponseStatus.Code >= 200 && w.ResponseStatus.Code < 300 && w.ObjectRef.Resource != "leases" {
			out = append(out, w)
		}
	}
	return out, scanner.Err()
}
