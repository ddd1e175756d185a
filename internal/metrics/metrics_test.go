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

package metrics

import (
	"context"
	"errors"
	"testing"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/internal/version"
)

func TestMeasuredSenderCountsByKindAndOutcome(t *testing.T) {
	g := NewWithT(t)
	fake := &mail.FakeSender{}
	sender := MeasuredSender{Sender: fake}
	sent := func() float64 { return testutil.ToFloat64(EmailsSent.WithLabelValues("password-reset", "sent")) }
	failed := func() float64 { return testutil.ToFloat64(EmailsSent.WithLabelValues("password-reset", "failed")) }
	before, beforeFailed := sent(), failed()
	observations := func() int { return testutil.CollectAndCount(EmailSendDuration) }

	msg := mail.Message{To: "a@example.com", Content: mail.Content{Kind: mail.KindPasswordReset, Subject: "s"}}
	g.Expect(sender.Send(context.Background(), msg)).To(Succeed())
	g.Expect(sent()).To(Equal(before + 1))
	g.Expect(observations()).To(BeNumerically(">=", 1))

	fake.Err = errors.New("relay down")
	g.Expect(sender.Send(context.Background(), msg)).To(MatchError("relay down"))
	g.Expect(failed()).To(Equal(beforeFailed + 1))
	g.Expect(sent()).To(Equal(before+1), "a failure is not counted as sent")
	g.Expect(fake.Sent()).To(HaveLen(1))
}

func TestBuildInfoNamesTheRunningBuild(t *testing.T) {
	g := NewWithT(t)
	info := version.Get()
	g.Expect(testutil.ToFloat64(BuildInfo.WithLabelValues(info.Version, info.Revision, info.GoVersion))).To(Equal(1.0))
}
