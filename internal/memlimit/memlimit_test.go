// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package memlimit

import (
	"testing"

	. "github.com/onsi/gomega"
)

func TestSoftLimit(t *testing.T) {
	cases := []struct {
		name, memoryMax string
		want            int64
	}{
		{"the Deployment's 256Mi", "268435456\n", 214748364},
		{"unlimited", "max\n", 0},
		{"empty", "", 0},
		{"garbage", "lots", 0},
		{"zero", "0", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(SoftLimit(tc.memoryMax)).To(Equal(tc.want))
		})
	}
}

func TestGCPercent(t *testing.T) {
	for _, tc := range []struct {
		name, env string
		want      int
	}{
		{"GOGC unset: the manager's", "", GCPercent},
		{"blank counts as unset", "  ", GCPercent},
		{"GOGC set: the runtime already read it", "100", 0},
		{"GOGC=off is a decision too", "off", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(gcPercent(tc.env)).To(Equal(tc.want))
		})
	}
}
