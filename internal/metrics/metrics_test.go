// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package metrics

import (
	"context"
	"errors"
	"testing"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
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

// The members gauge follows the informer's deliveries: adds, phase changes, deletions (a
// tombstone too) and a relist's updates of unchanged objects, and says nothing before the
// cache has synced.
func TestMembersGaugeFollowsTheInformer(t *testing.T) {
	g := NewWithT(t)
	member := func(namespace, name string, phase membershipv1alpha1.MemberPhase) *membershipv1alpha1.Member {
		m := &membershipv1alpha1.Member{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
		m.Status.Phase = phase
		return m
	}
	synced := false
	gauge := newMembersGauge(func() bool { return synced })
	expect := func(want string) {
		t.Helper()
		g.Expect(testutil.CollectAndCompare(gauge, strings.NewReader(
			"# HELP member_operator_members "+`Members by namespace and phase (Pending, Active, Disabled, Conflict, ...), as the manager's cache holds them.`+
				"\n# TYPE member_operator_members gauge\n"+want), "member_operator_members")).To(Succeed())
	}

	registry := prometheus.NewPedanticRegistry()
	g.Expect(registry.Register(gauge)).To(Succeed())
	_, err := registry.Gather()
	g.Expect(err).To(MatchError(ContainSubstring("has not synced")), "before the cache synced: no partial counts")
	ann, bob := member("shop", "ann", ""), member("shop", "bob", membershipv1alpha1.MemberActive)
	gauge.OnAdd(ann, true)
	gauge.OnAdd(bob, true)
	gauge.OnAdd(member("outlet", "cy", membershipv1alpha1.MemberActive), true)
	gauge.OnAdd(&membershipv1alpha1.Store{}, false) // not a Member: ignored
	synced = true
	expect(`member_operator_members{namespace="outlet",phase="Active"} 1
member_operator_members{namespace="shop",phase="Active"} 1
member_operator_members{namespace="shop",phase="Pending"} 1
`)

	active := ann.DeepCopy()
	active.Status.Phase = membershipv1alpha1.MemberActive
	gauge.OnUpdate(ann, active)
	gauge.OnUpdate(bob, bob.DeepCopy()) // a relist: unchanged
	expect(`member_operator_members{namespace="outlet",phase="Active"} 1
member_operator_members{namespace="shop",phase="Active"} 2
`)

	gauge.OnDelete(active)
	gauge.OnDelete(toolscache.DeletedFinalStateUnknown{Key: "outlet/cy", Obj: member("outlet", "cy", membershipv1alpha1.MemberActive)})
	expect(`member_operator_members{namespace="shop",phase="Active"} 1
`)
}
