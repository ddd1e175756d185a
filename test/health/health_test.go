// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package health

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// docs/gitops.md shows the Argo CD check people copy into argocd-cm: it must be the script the
// health tests run, line for line.
func TestDocsShowTheTestedArgoCDScript(t *testing.T) {
	g := NewWithT(t)
	script, err := os.ReadFile(ScriptPath())
	g.Expect(err).NotTo(HaveOccurred())
	doc, err := os.ReadFile(filepath.Join(filepath.Dir(ScriptPath()), "..", "..", "docs", "gitops.md"))
	g.Expect(err).NotTo(HaveOccurred())
	lines := strings.Split(strings.TrimRight(string(script), "\n"), "\n")
	indented := make([]string, 0, len(lines))
	for _, line := range lines {
		if line != "" {
			line = "    " + line
		}
		indented = append(indented, line)
	}
	g.Expect(string(doc)).To(ContainSubstring(strings.Join(indented, "\n")))
}
