// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package devenv

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
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

// AuditFiles are the files of the audit log at path, oldest first: kube-apiserver rotates it
// every 100 MB (its --audit-log-maxsize default), keeping the older part as
// <name>-<timestamp>.<ext> beside it.
func AuditFiles(path string) ([]string, error) {
	ext := filepath.Ext(path)
	rotated, err := filepath.Glob(strings.TrimSuffix(path, ext) + "-*" + ext)
	if err != nil {
		return nil, err
	}
	sort.Strings(rotated) // the timestamps sort as they happened
	return append(rotated, path), nil
}

// ReadWrites reads the writes the API server carried out (2xx) from the audit log at path, its
// rotated parts included, leaving out Leases (leader election).
func ReadWrites(path string) ([]Write, error) {
	files, err := AuditFiles(path)
	if err != nil {
		return nil, err
	}
	var out []Write
	for _, file := range files {
		if err := ScanAudit(file, func(line []byte) error {
			var w Write
			if err := json.Unmarshal(line, &w); err != nil {
				return err
			}
			if w.ResponseStatus.Code >= 200 && w.ResponseStatus.Code < 300 && w.ObjectRef.Resource != "leases" {
				out = append(out, w)
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ScanAudit hands each line (event) of one audit log file to fn.
func ScanAudit(file string, fn func(line []byte) error) error {
	f, err := os.Open(file) //nolint:gosec // the caller's own audit log
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for scanner.Scan() {
		if err := fn(scanner.Bytes()); err != nil {
			return err
		}
	}
	return scanner.Err()
}
