// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// The Dockerfile copies the repository through .dockerignore: everything `go build ./cmd/main.go`
// and `go run ./hack/image` read (the packages they import and every //go:embed directory) must
// get through. A pattern that matches one of them fails here, as `**` did for the templates.
func TestDockerignoreKeepsTheBuildInputs(t *testing.T) {
	g := NewWithT(t)
	root, err := filepath.Abs("../..")
	g.Expect(err).NotTo(HaveOccurred())
	patterns := dockerignore(t, filepath.Join(root, ".dockerignore"))

	list := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}|{{join .EmbedFiles \",\"}}{{end}}",
		"./cmd", "./hack/image")
	list.Dir = root
	out, err := list.Output()
	g.Expect(err).NotTo(HaveOccurred(), "go list: %s", errOutput(err))
	var inputs []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		dir, embeds, _ := strings.Cut(line, "|")
		rel, err := filepath.Rel(root, dir)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue // a module dependency: downloaded in the image, not copied
		}
		inputs = append(inputs, filepath.ToSlash(filepath.Join(rel, "x.go")))
		for _, e := range strings.Split(embeds, ",") {
			if e != "" {
				inputs = append(inputs, filepath.ToSlash(filepath.Join(rel, e)))
			}
		}
	}
	inputs = append(inputs, "go.mod", "go.sum")
	g.Expect(inputs).To(ContainElements("internal/mail/templates/layout.tmpl", "cmd/x.go"), "go list found the embedded files")
	for _, in := range inputs {
		for _, p := range patterns {
			g.Expect(p.MatchString(in)).To(BeFalse(), ".dockerignore pattern %q keeps %s out of the image build", p, in)
		}
	}
}

// dockerignore reads the file's patterns as Docker does for a deny list: a path is excluded when
// a pattern matches it or one of its parent directories. Negations (!) are refused: this file is
// a deny list on purpose.
func dockerignore(t *testing.T, path string) []*regexp.Regexp {
	f, err := os.Open(path) // #nosec G304 -- the repository's own file
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var out []*regexp.Regexp
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "!") {
			t.Fatalf(".dockerignore: %q re-includes; keep it a deny list", line)
		}
		re := regexp.QuoteMeta(strings.TrimPrefix(strings.TrimSuffix(line, "/"), "/"))
		re = strings.ReplaceAll(re, `\*\*/`, `(.*/)?`)
		re = strings.ReplaceAll(re, `\*\*`, `.*`)
		re = strings.ReplaceAll(re, `\*`, `[^/]*`)
		re = strings.ReplaceAll(re, `\?`, `[^/]`)
		out = append(out, regexp.MustCompile("^"+re+"(/.*)?$"))
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func errOutput(err error) string {
	if exit, ok := err.(*exec.ExitError); ok {
		return string(exit.Stderr)
	}
	return ""
}
