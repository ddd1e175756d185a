// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package architecture holds the layering rules of docs/developing.md as a test over the real
// import graph (go list): controllers share rules through packages below them, never by
// importing each other; the acceptance server, the webhooks and every other package import no
// controller; and only internal/setup, the one wiring function, puts them together.
package architecture

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

const module = "github.com/storeops/member-operator/"

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// packages lists every package of the module with its direct imports and all its dependencies
// (test files excluded: a test may reach anywhere).
func packages(t *testing.T) map[string]pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", "./...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("go list: %v: %s", err, exit.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	all := map[string]pkg{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		all[strings.TrimPrefix(p.ImportPath, module)] = p
	}
	return all
}

func ours(paths []string) []string {
	var out []string
	for _, p := range paths {
		if strings.HasPrefix(p, module) {
			out = append(out, strings.TrimPrefix(p, module))
		}
	}
	return out
}

func isController(p string) bool {
	return p == "internal/controller" || strings.HasPrefix(p, "internal/controller/")
}

func TestLayering(t *testing.T) {
	all := packages(t)
	if len(all) < 10 {
		t.Fatalf("go list found %d packages", len(all))
	}
	for name, p := range all {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			imports, deps := ours(p.Imports), ours(p.Deps)
			if isController(name) {
				for _, i := range imports {
					g.Expect(isController(i)).To(BeFalse(), "%s imports the controller %s: share the rule through a package below both", name, i)
				}
			}
			if strings.HasPrefix(name, "api/") {
				for _, i := range imports {
					g.Expect(i).NotTo(HavePrefix("internal/"), "the API imports %s", i)
				}
			}
			// Only the wiring (internal/setup) and what runs it (cmd/, test/) reach a controller:
			// the acceptance server, the webhooks, the shared rules, config and mail reach none.
			if strings.HasPrefix(name, "internal/") && !isController(name) && name != "internal/setup" {
				for _, d := range deps {
					g.Expect(isController(d)).To(BeFalse(), "%s depends on the controller %s", name, d)
				}
			}
			// The public server by audience: the web layer serves both and knows neither;
			// self-service does not reach into invitation acceptance.
			if name == "internal/web" {
				g.Expect(deps).NotTo(ContainElements("internal/accept"), "the web layer depends on invitation acceptance")
				g.Expect(deps).NotTo(ContainElements("internal/selfservice"), "the web layer depends on self-service")
			}
			if name == "internal/selfservice" {
				g.Expect(deps).NotTo(ContainElement("internal/accept"), "self-service depends on invitation acceptance")
			}
			// The importable libraries (pkg/) are for other programs: they bring along the API
			// and the shared credential rules, never the operator itself.
			if strings.HasPrefix(name, "pkg/") {
				for _, d := range deps {
					g.Expect(d == "api/v1alpha1" || d == "internal/credentials" || strings.HasPrefix(d, "pkg/")).To(BeTrue(),
						"the library %s depends on %s, a part of the operator", name, d)
				}
			}
			// One wiring function: nothing inside the operator builds on it.
			if strings.HasPrefix(name, "internal/") || strings.HasPrefix(name, "api/") {
				g.Expect(deps).NotTo(ContainElement("internal/setup"), "%s depends on the wiring", name)
			}
		})
	}
	// The rules above are only worth something if they see the packages they are about.
	NewWithT(t).Expect(all).To(And(HaveKey("internal/accept"), HaveKey("internal/webhook"), HaveKey("internal/controller/store"),
		HaveKey("internal/controller/invitation"), HaveKey("internal/controller/member"), HaveKey("api/v1alpha1"),
		HaveKey("internal/setup"), HaveKey("internal/config"), HaveKey("internal/web"), HaveKey("internal/selfservice"),
		HaveKey("pkg/login")))
}
