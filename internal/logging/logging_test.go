// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

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
