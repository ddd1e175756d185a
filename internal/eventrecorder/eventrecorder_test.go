// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package eventrecorder

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	clocktesting "k8s.io/utils/clock/testing"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// fakeSink records what the Recorder writes; failures, when set, answer the next writes.
type fakeSink struct {
	created  []*eventsv1.Event
	patched  []string // namespace/name=count
	failures []error
}

func (f *fakeSink) fail() error {
	if len(f.failures) == 0 {
		return nil
	}
	err := f.failures[0]
	f.failures = f.failures[1:]
	return err
}

func (f *fakeSink) Create(_ context.Context, event *eventsv1.Event) error {
	if err := f.fail(); err != nil {
		return err
	}
	f.created = append(f.created, event)
	return nil
}

func (f *fakeSink) PatchSeries(_ context.Context, namespace, name string, series eventsv1.EventSeries) error {
	if err := f.fail(); err != nil {
		return err
	}
	f.patched = append(f.patched, fmt.Sprintf("%s/%s=%d", namespace, name, series.Count))
	return nil
}

func scheme(t *testing.T) *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := membershipv1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

func member(name string) *membershipv1alpha1.Member {
	return &membershipv1alpha1.Member{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, UID: types.UID("uid-" + name)}}
}

// drain records every queued Event, as the worker would.
func drain(r *Recorder) {
	for {
		select {
		case e := <-r.queue:
			r.record(context.Background(), e)
		default:
			return
		}
	}
}

func TestTheQueueIsBoundedAndDropsWhatDoesNotFit(t *testing.T) {
	g := NewWithT(t)
	dropped := 0
	sink := &fakeSink{}
	r := New(Options{Sink: sink, Scheme: scheme(t), Queue: 3, Dropped: func() { dropped++ }, Clock: clocktesting.NewFakeClock(time.Now())})
	rec := r.For("membership.storeops.io/member-controller")
	for i := range 5 {
		rec.Eventf(member("m"+string(rune('a'+i))), nil, corev1.EventTypeNormal, "CredentialsIssued", "IssueCredentials", "issued")
	}
	g.Expect(r.queue).To(HaveLen(3), "no more wait than the queue holds")
	g.Expect(dropped).To(Equal(2), "the rest is dropped and counted, never blocking the controller")
	drain(r)
	g.Expect(sink.created).To(HaveLen(3))
}

func TestRepeatsWithinTheWindowAreOneSeries(t *testing.T) {
	g := NewWithT(t)
	clock := clocktesting.NewFakeClock(time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC))
	sink := &fakeSink{}
	r := New(Options{Sink: sink, Scheme: scheme(t), Clock: clock})
	rec := r.For("membership.storeops.io/member-controller")
	warn := func() {
		rec.Eventf(member("ann"), nil, corev1.EventTypeWarning, "DeliveryFailed", "Deliver", "SMTP refused: %s", "421")
		drain(r)
	}
	warn()
	clock.Step(time.Minute)
	warn()
	clock.Step(time.Minute)
	warn()
	g.Expect(sink.created).To(HaveLen(1))
	name := sink.created[0].Name
	g.Expect(sink.patched).To(Equal([]string{"shop/" + name + "=2", "shop/" + name + "=3"}))

	rec.Eventf(member("ann"), nil, corev1.EventTypeWarning, "DeliveryFailed", "Deliver", "SMTP refused: %s", "554")
	drain(r)
	g.Expect(sink.created).To(HaveLen(2), "a different note is another Event")

	clock.Step(7 * time.Minute)
	warn()
	g.Expect(sink.created).To(HaveLen(3), "past the window, a repeat starts a new Event")

	sink.failures = []error{apierrors.NewNotFound(schema.GroupResource{Group: "events.k8s.io", Resource: "events"}, "gone")}
	clock.Step(time.Second)
	warn()
	g.Expect(sink.created).To(HaveLen(4), "an Event deleted meanwhile (expired) is created again")
}

func TestTheSeriesMemoryIsBoundedAndForgetsTheLeastRecent(t *testing.T) {
	g := NewWithT(t)
	sink := &fakeSink{}
	r := New(Options{Sink: sink, Scheme: scheme(t), Series: 2, Clock: clocktesting.NewFakeClock(time.Now())})
	rec := r.For("membership.storeops.io/member-controller")
	for _, name := range []string{"a", "b", "c", "a"} {
		rec.Eventf(member(name), nil, corev1.EventTypeNormal, "CredentialsIssued", "IssueCredentials", "issued")
		drain(r)
	}
	g.Expect(r.series.Len()).To(Equal(2))
	g.Expect(sink.created).To(HaveLen(4), "a, forgotten for c, is created again rather than patched")
	g.Expect(sink.patched).To(BeEmpty())
}

func TestFailuresAreRetriedAFewTimesAndRefusalsNot(t *testing.T) {
	retryDelay = time.Millisecond
	t.Cleanup(func() { retryDelay = 500 * time.Millisecond })
	unavailable := apierrors.NewServiceUnavailable("etcd is down")
	for _, tc := range []struct {
		name     string
		failures []error
		created  int
		left     int
	}{
		{"two failures, then written", []error{unavailable, errors.New("connection reset")}, 1, 0},
		{"given up after three tries", []error{unavailable, unavailable, unavailable, unavailable}, 0, 1},
		{"forbidden is not retried", []error{apierrors.NewForbidden(schema.GroupResource{Resource: "events"}, "x", errors.New("rbac"))}, 0, 0},
		{"a namespace being deleted is not retried",
			[]error{apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, "shop"), unavailable}, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			sink := &fakeSink{failures: tc.failures}
			r := New(Options{Sink: sink, Scheme: scheme(t), Clock: clocktesting.NewFakeClock(time.Now())})
			r.For("membership.storeops.io/member-controller").Eventf(member("ann"), nil, corev1.EventTypeNormal, "CredentialsIssued", "IssueCredentials", "issued")
			drain(r)
			g.Expect(sink.created).To(HaveLen(tc.created))
			g.Expect(sink.failures).To(HaveLen(tc.left), "failures not consumed: tries not made")
		})
	}
}

func TestTheEventIsOneTheEventsAPIAccepts(t *testing.T) {
	g := NewWithT(t)
	now := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	sink := &fakeSink{}
	r := New(Options{Sink: sink, Scheme: scheme(t), Clock: clocktesting.NewFakeClock(now)})
	r.hostname = strings.Repeat("h", 200)
	rec := r.For("membership.storeops.io/account-controller")

	acct := &membershipv1alpha1.Account{ObjectMeta: metav1.ObjectMeta{Name: strings.Repeat("a", 253)}}
	rec.Eventf(acct, member("ann"), corev1.EventTypeNormal, "MemberJoined", "Members", "%s", "nn"+strings.Repeat("名", 700))
	rec.Eventf(member("ann"), nil, "Unknown", "Odd", "Odd", "never recorded")
	drain(r)

	g.Expect(sink.created).To(HaveLen(1), "an Event of neither Normal nor Warning type is not recorded")
	e := sink.created[0]
	g.Expect(e.Namespace).To(Equal(metav1.NamespaceDefault), "a cluster-scoped object's Events live in default")
	g.Expect(len(e.Name)).To(BeNumerically("<=", 253), "a name at the limit takes a hash")
	g.Expect(len(e.Note)).To(And(BeNumerically("<=", maxNote), BeNumerically(">", maxNote-3)), "cut at the limit")
	g.Expect(utf8.ValidString(e.Note)).To(BeTrue(), "and never inside a character")
	g.Expect(e.ReportingInstance).To(HaveLen(maxReportingInstance))
	g.Expect(e.ReportingController).To(Equal("membership.storeops.io/account-controller"))
	g.Expect(e.Regarding.Kind).To(Equal("Account"))
	g.Expect(e.Related).To(HaveField("Name", "ann"))
	g.Expect(e.EventTime.Time).To(Equal(now))
}
