// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package version tells which build is running: the version and revision set by the Makefile
// through ldflags (from `git describe`), else what the Go toolchain recorded in the binary.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set at link time by the Makefile and make release:
//
//	-X github.com/storeops/member-operator/internal/version.version=$(VERSION)
//	-X github.com/storeops/member-operator/internal/version.revision=$(REVISION)
var (
	version  = ""
	revision = ""
)

// Info is a build's identity.
type Info struct {
	// Version is the release (v0.1.0) or `git describe` output (v0.1.0-3-gabc1234-dirty); "devel"
	// for a plain `go build` outside a module version.
	Version string
	// Revision is the full git commit, "unknown" when neither ldflags nor the toolchain know it.
	Revision string
	// GoVersion and Platform are the toolchain's and the binary's GOOS/GOARCH.
	GoVersion string
	Platform  string
}

// Get returns the running binary's Info.
func Get() Info {
	return resolve(version, revision, debug.ReadBuildInfo)
}

// resolve prefers the linker's values and falls back to the build info the Go toolchain embeds
// (module version for `go install`, vcs.revision for a build in a git checkout).
func resolve(linkedVersion, linkedRevision string, read func() (*debug.BuildInfo, bool)) Info {
	info := Info{Version: linkedVersion, Revision: linkedRevision, GoVersion: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := read(); ok {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && info.Revision == "" {
				info.Revision = s.Value
			}
		}
	}
	if info.Version == "" {
		info.Version = "devel"
	}
	if info.Revision == "" {
		info.Revision = "unknown"
	}
	return info
}

// String is the one line `--version` prints.
func (i Info) String() string {
	return fmt.Sprintf("%s (revision %s, %s, %s)", i.Version, i.Revision, i.GoVersion, i.Platform)
}
