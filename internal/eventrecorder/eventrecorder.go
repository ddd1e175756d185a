// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package eventrecorder records the operator's Kubernetes Events (events.k8s.io/v1) in bounded
// memory. client-go's broadcaster, behind controller-runtime's GetEventRecorder, keeps every
// Event it recorded for six to twelve minutes (to fold repeats into a series) and starts a
// goroutine per Event until the API server takes it: about 1 KiB per Member while 10,000 are
// issued credentials, and without bound while the API server is slow or down. Here a queue of
// fixed length waits for the API server (when it is full, an Event is dropped, counted and
// logged at debug level: an Event is a notice, never state), and a fixed number of recent
// Events are remembered for series, the least recently seen forgotten first.
package eventrecorder

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/tools/reference"
	"k8s.io/utils/clock"
	"k8s.io/utils/lru"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const (
	// DefaultQueue is how many Events may wait for the API server.
	DefaultQueue = 1000
	// DefaultSeries is how many recent Events are remembered to fold repeats into a series.
	DefaultSeries = 4096
	// seriesWindow: a repeat within it is counted in the earlier Event's series (client-go's
	// broadcaster uses the same six minutes).
	seriesWindow = 6 * time.Minute
	// maxNote and maxReportingInstance are the events API's limits.
	maxNote, maxReportingInstance = 1024, 128
	// tries per Event when the API server fails; backoff doubles from retryDelay.
	tries = 3
)

// retryDelay is the first backoff after a failed write (a variable for the unit tests).
var retryDelay = 500 * time.Millisecond

// Sink writes Events: the API server (Client), or a test's fake.
type Sink interface {
	Create(ctx context.Context, event *eventsv1.Event) error
	// PatchSeries sets the series of the Event namespace/name.
	PatchSeries(ctx context.Context, namespace, name string, series eventsv1.EventSeries) error
}

// Client is the Sink of a controller-runtime client.
type Client struct{ client.Client }

// Create creates the Event.
func (c Client) Create(ctx context.Context, event *eventsv1.Event) error {
	return c.Client.Create(ctx, event)
}

// PatchSeries merge-patches the Event's series.
func (c Client) PatchSeries(ctx context.Context, namespace, name string, series eventsv1.EventSeries) error {
	patch, err := json.Marshal(map[string]any{"series": series})
	if err != nil {
		return err
	}
	event := &eventsv1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	return c.Patch(ctx, event, client.RawPatch(types.MergePatchType, patch))
}

// Options configure a Recorder; zero values take the defaults.
type Options struct {
	Sink   Sink
	Scheme *runtime.Scheme
	Log    logr.Logger
	Clock  clock.PassiveClock
	// Queue bounds the Events waiting for the API server; Series the Events remembered for
	// series.
	Queue, Series int
	// Dropped is called for each Event dropped because the queue was full (a metric).
	Dropped func()
}

// Recorder records Events for every controller of one manager, through one worker. Add it to the
// manager (a Runnable on every replica, leader or not) and give each controller For(name).
type Recorder struct {
	opts     Options
	queue    chan *eventsv1.Event
	series   *lru.Cache // isomorphic key → *seen
	hostname string
}

// seen is what the Recorder keeps of a recorded Event: enough to extend its series.
type seen struct {
	namespace, name string
	count           int32
	last            time.Time
}

// New returns a Recorder; nothing is sent before Start.
func New(opts Options) *Recorder {
	if opts.Queue <= 0 {
		opts.Queue = DefaultQueue
	}
	if opts.Series <= 0 {
		opts.Series = DefaultSeries
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Dropped == nil {
		opts.Dropped = func() {}
	}
	hostname, _ := os.Hostname()
	return &Recorder{opts: opts, queue: make(chan *eventsv1.Event, opts.Queue), series: lru.New(opts.Series), hostname: hostname}
}

// For is the EventRecorder of one reporting controller.
func (r *Recorder) For(controller string) events.EventRecorder {
	instance := controller + "-" + r.hostname
	if len(instance) > maxReportingInstance {
		instance = instance[:maxReportingInstance]
	}
	return &reporter{recorder: r, controller: controller, instance: instance}
}

// NeedLeaderElection is false: the acceptance server and every replica report Events.
func (r *Recorder) NeedLeaderElection() bool { return false }

// Start sends queued Events until ctx ends; Events still queued then are not sent.
func (r *Recorder) Start(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case event := <-r.queue:
			r.record(ctx, event)
		}
	}
}

type reporter struct {
	recorder             *Recorder
	controller, instance string
}

// Eventf implements events.EventRecorder: it builds the Event at once (so the objects may change
// afterwards) and queues it, never blocking the caller.
func (p *reporter) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	r := p.recorder
	message := fmt.Sprintf(note, args...)
	log := r.opts.Log.WithValues("type", eventtype, "reason", reason, "action", action)
	regardingRef, err := reference.GetReference(r.opts.Scheme, regarding)
	if err != nil {
		log.Error(err, "Event not recorded: no reference to its object")
		return
	}
	log = log.WithValues("object", regardingRef.Namespace+"/"+regardingRef.Name, "kind", regardingRef.Kind)
	log.V(1).Info(message)
	var relatedRef *corev1.ObjectReference
	if related != nil {
		relatedRef, _ = reference.GetReference(r.opts.Scheme, related) // a related object is optional
	}
	if eventtype != corev1.EventTypeNormal && eventtype != corev1.EventTypeWarning {
		log.Error(nil, "Event not recorded: its type is neither Normal nor Warning")
		return
	}
	if len(message) > maxNote {
		message = strings.ToValidUTF8(message[:maxNote], "") // not half a character (a name in Japanese)
	}
	now := r.opts.Clock.Now()
	namespace := regardingRef.Namespace
	if namespace == "" {
		namespace = metav1.NamespaceDefault // where the events API keeps cluster-scoped objects' Events
	}
	event := &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: eventName(regardingRef.Name, now), Namespace: namespace},
		EventTime:           metav1.NewMicroTime(now),
		ReportingController: p.controller,
		ReportingInstance:   p.instance,
		Action:              action,
		Reason:              reason,
		Regarding:           *regardingRef,
		Related:             relatedRef,
		Note:                message,
		Type:                eventtype,
	}
	select {
	case r.queue <- event:
	default:
		r.opts.Dropped()
		log.V(1).Info("Event dropped: too many wait for the API server", "queue", cap(r.queue))
	}
}

// eventName is the regarding object's name and the time, as client-go names Events; a name the
// API would refuse (the object's name is already at the limit) takes a hash instead.
func eventName(object string, at time.Time) string {
	name := fmt.Sprintf("%s.%x", object, at.UnixNano())
	if len(validation.IsDNS1123Subdomain(name)) > 0 {
		sum := sha256.Sum256([]byte(name))
		name = fmt.Sprintf("%x", sum[:16])
	}
	return name
}

// isomorphic is the key of the Events that are one series: everything but the time.
func isomorphic(e *eventsv1.Event) [sha256.Size]byte {
	related := corev1.ObjectReference{}
	if e.Related != nil {
		related = *e.Related
	}
	return sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%s\x00%s\x00%s\x00%#v\x00%#v\x00%s",
		e.Type, e.Action, e.Reason, e.ReportingController, e.ReportingInstance, e.Regarding, related, e.Note))
}

// record writes one Event, retrying a few times while the API server fails, then gives it up
// (logged: a refusal such as a missing RBAC rule must be seen).
func (r *Recorder) record(ctx context.Context, event *eventsv1.Event) {
	err := r.write(ctx, event)
	for attempt, delay := 1, retryDelay; err != nil && retriable(err) && attempt < tries; attempt, delay = attempt+1, delay*2 {
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		err = r.write(ctx, event)
	}
	switch {
	case err == nil:
	case apierrors.IsNotFound(err) || apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		// The namespace is going, and with it what the Event was about.
		r.opts.Log.V(1).Info("Event not recorded: its namespace is being deleted", "reason", event.Reason,
			"object", event.Regarding.Namespace+"/"+event.Regarding.Name)
	default:
		r.opts.Log.Error(err, "Event not recorded", "reason", event.Reason,
			"object", event.Regarding.Namespace+"/"+event.Regarding.Name)
	}
}

// write extends the series of an isomorphic Event recorded within the window, or creates event.
func (r *Recorder) write(ctx context.Context, event *eventsv1.Event) error {
	key := isomorphic(event)
	now := event.EventTime.Time
	if earlier, ok := r.series.Get(key); ok {
		s := earlier.(*seen)
		if now.Sub(s.last) < seriesWindow {
			err := r.opts.Sink.PatchSeries(ctx, s.namespace, s.name, eventsv1.EventSeries{
				Count: s.count + 1, LastObservedTime: metav1.NewMicroTime(now),
			})
			if err == nil {
				s.count++
				s.last = now
				return nil
			}
			if !apierrors.IsNotFound(err) {
				return err
			}
		}
		r.series.Remove(key) // past the window, expired or deleted: a new Event starts a new series
	}
	if err := r.opts.Sink.Create(ctx, event); err != nil {
		return err
	}
	r.series.Add(key, &seen{namespace: event.Namespace, name: event.Name, count: 1, last: now})
	return nil
}

// retriable: what another try may change. A refused Event (invalid, forbidden, its namespace
// gone, or already created by a try whose answer was lost) stays refused.
func retriable(err error) bool {
	return !apierrors.IsAlreadyExists(err) && !apierrors.IsInvalid(err) && !apierrors.IsForbidden(err) && !apierrors.IsNotFound(err)
}
