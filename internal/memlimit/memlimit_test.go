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
