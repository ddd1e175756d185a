// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package version

import (
	"runtime/debug"
	"testing"

	. "github.com/onsi/gomega"
)

func TestResolve(t *testing.T) {
	withBuild := func(mainVersion string, settings ...debug.BuildSetting) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) {
			return &debug.BuildInfo{Main: debug.Module{Version: mainVersion}, Settings: settings}, true
		}
	}
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	rev := debug.BuildSetting{Key: "vcs.revision", Value: "0123abc"}

	for _, tc := range []struct {
		name, linkedVersion, linkedRevision string
		read                                func() (*debug.BuildInfo, bool)
		wantVersion, wantRevision           string
	}{
		{"ldflags win", "v0.1.0", "feedbeef", withBuild("v9.9.9", rev), "v0.1.0", "feedbeef"},
		{"go install of a tagged module", "", "", withBuild("v0.2.0", rev), "v0.2.0", "0123abc"},
		{"plain go build in a checkout", "", "", withBuild("(devel)", rev), "devel", "0123abc"},
		{"nothing known", "", "", none, "devel", "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			info := resolve(tc.linkedVersion, tc.linkedRevision, tc.read)
			g.Expect(info.Version).To(Equal(tc.wantVersion))
			g.Expect(info.Revision).To(Equal(tc.wantRevision))
			g.Expect(info.String()).To(HavePrefix(tc.wantVersion + " (revision " + tc.wantRevision))
		})
	}
}
