/*
Copyright 2026 The StoreOps Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

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
