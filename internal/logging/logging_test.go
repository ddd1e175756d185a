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

package logging

import (
	"bytes"
	"testing"

	. "github.com/onsi/gomega"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

func TestWithoutBodiesDropsBodyDumpsOnly(t *testing.T) {
	g := NewWithT(t)
	var out bytes.Buffer
	core := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewDevelopmentEncoderConfig()), zapcore.AddSync(&out), zapcore.Level(-10))
	log := zap.New(WithoutBodies(core)).With(zap.String("controller", "member"))

	log.Info("Request Body", zap.String("body", "password=hunter2hunter2"))
	log.Info("Response Body", zap.String("body", "password-hash=$2a$10$abc"))
	log.Info("Reconcile successful")

	g.Expect(out.String()).NotTo(ContainSubstring("hunter2hunter2"))
	g.Expect(out.String()).NotTo(ContainSubstring("$2a$10$abc"))
	g.Expect(out.String()).To(ContainSubstring("Reconcile successful"))
	g.Expect(out.String()).To(ContainSubstring(`"controller":"member"`), "fields added with With still apply")
}
