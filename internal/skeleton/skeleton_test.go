// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package skeleton

import (
	"context"
	"errors"
	"testing"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/progress"
)

const finalizer = "membership.storeops.io/test"

// countingClient is the fake API server with the status writes counted.
func countingClient(t *testing.T, statusWrites *int, objs ...client.Object) client.Client {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := membershipv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	return fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).
		WithStatusSubresource(&membershipv1alpha1.Store{}).
		WithInterceptorFuncs(interceptor.Funcs{
			SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch,
				opts ...client.SubResourcePatchOption) error {
				*statusWrites++
				return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
			},
		}).Build()
}

func store() *membershipv1alpha1.Store {
	return &membershipv1alpha1.Store{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "shop", Generation: 3}}
}

func kind(c client.Client, steps func(context.Context, *membershipv1alpha1.Store, *Status[*membershipv1alpha1.Store]) (ctrl.Result, error)) Kind[*membershipv1alpha1.Store] {
	return Kind[*membershipv1alpha1.Store]{
		Client: c, Finalizer: finalizer, Steps: steps,
		Delete: func(context.Context, *membershipv1alpha1.Store) (ctrl.Result, error) { return ctrl.Result{}, nil },
		Progress: func(s *membershipv1alpha1.Store) (progress.Progress, string, string) {
			if s.Status.Members == 0 {
				return progress.Stalled, "Empty", "no members"
			}
			return progress.Current, "", ""
		},
	}
}

func TestReconcileAddsTheFinalizerRunsTheStepsAndWritesStatusOnce(t *testing.T) {
	g := NewWithT(t)
	writes := 0
	c := countingClient(t, &writes, store())
	result, err := kind(c, func(_ context.Context, s *membershipv1alpha1.Store, _ *Status[*membershipv1alpha1.Store]) (ctrl.Result, error) {
		s.Status.Members = 2
		return ctrl.Result{}, nil
	}).Reconcile(context.Background(), client.ObjectKey{Namespace: "ns", Name: "shop"}, &membershipv1alpha1.Store{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(result).To(Equal(ctrl.Result{}))

	var got membershipv1alpha1.Store
	g.Expect(c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: "shop"}, &got)).To(Succeed())
	g.Expect(got.Finalizers).To(ConsistOf(finalizer))
	g.Expect(got.Status.Members).To(BeEquivalentTo(2))
	g.Expect(got.Status.ObservedGeneration).To(BeEquivalentTo(got.Generation), "observedGeneration on success")
	g.Expect(meta.FindStatusCondition(got.Status.Conditions, membershipv1alpha1.ConditionStalled)).To(BeNil())
	g.Expect(meta.FindStatusCondition(got.Status.Conditions, membershipv1alpha1.ConditionReconciling)).To(BeNil())
	g.Expect(writes).To(Equal(1), "one status write at the end")

	// A reconcile that changes nothing writes nothing.
	_, err = kind(c, func(_ context.Context, s *membershipv1alpha1.Store, _ *Status[*membershipv1alpha1.Store]) (ctrl.Result, error) {
		s.Status.Members = 2
		return ctrl.Result{}, nil
	}).Reconcile(context.Background(), client.ObjectKey{Namespace: "ns", Name: "shop"}, &membershipv1alpha1.Store{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(writes).To(Equal(1))
}

func TestReconcileAddsTheFinalizerOnlyWhereTheKindNeedsIt(t *testing.T) {
	g := NewWithT(t)
	writes := 0
	c := countingClient(t, &writes, store())
	k := kind(c, func(_ context.Context, s *membershipv1alpha1.Store, _ *Status[*membershipv1alpha1.Store]) (ctrl.Result, error) {
		s.Status.Members = 1
		return ctrl.Result{}, nil
	})
	needs := false
	k.NeedsFinalizer = func(*membershipv1alpha1.Store) bool { return needs }
	key := client.ObjectKey{Namespace: "ns", Name: "shop"}
	_, err := k.Reconcile(context.Background(), key, &membershipv1alpha1.Store{})
	g.Expect(err).NotTo(HaveOccurred())
	var got membershipv1alpha1.Store
	g.Expect(c.Get(context.Background(), key, &got)).To(Succeed())
	g.Expect(got.Finalizers).To(BeEmpty(), "an object that does not need it is spared the write")
	g.Expect(got.Status.Members).To(BeEquivalentTo(1), "the steps run all the same")

	needs = true
	_, err = k.Reconcile(context.Background(), key, &membershipv1alpha1.Store{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c.Get(context.Background(), key, &got)).To(Succeed())
	g.Expect(got.Finalizers).To(ConsistOf(finalizer))
}

func TestReconcileWritesWhatAFailedStepChangedButSettlesNothing(t *testing.T) {
	g := NewWithT(t)
	writes := 0
	c := countingClient(t, &writes, store())
	failure := errors.New("the SMTP server is down")
	_, err := kind(c, func(_ context.Context, s *membershipv1alpha1.Store, _ *Status[*membershipv1alpha1.Store]) (ctrl.Result, error) {
		s.Status.Members = 1
		return ctrl.Result{}, failure
	}).Reconcile(context.Background(), client.ObjectKey{Namespace: "ns", Name: "shop"}, &membershipv1alpha1.Store{})
	g.Expect(err).To(MatchError(failure))
	var got membershipv1alpha1.Store
	g.Expect(c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: "shop"}, &got)).To(Succeed())
	g.Expect(got.Status.Members).To(BeEquivalentTo(1))
	g.Expect(got.Status.ObservedGeneration).To(BeZero(), "observedGeneration only on success")
}

// Record before acting: the record is written onto the version read and no other (the API
// server refuses it with a conflict when that version is stale; the envtest suites show that
// end to end), and a step that cannot record does not act.
func TestRecordIsWrittenOntoTheVersionRead(t *testing.T) {
	g := NewWithT(t)
	var patches []string
	scheme := runtime.NewScheme()
	g.Expect(membershipv1alpha1.AddToScheme(scheme)).To(Succeed())
	refuse := false
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(store()).
		WithStatusSubresource(&membershipv1alpha1.Store{}).
		WithInterceptorFuncs(interceptor.Funcs{
			SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch,
				opts ...client.SubResourcePatchOption) error {
				data, err := patch.Data(obj)
				if err != nil {
					return err
				}
				patches = append(patches, string(data))
				if refuse {
					return apierrors.NewConflict(membershipv1alpha1.GroupVersion.WithResource("stores").GroupResource(), obj.GetName(),
						errors.New("the object has been modified"))
				}
				return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
			},
		}).Build()
	acted := 0
	var readVersion string
	step := func(ctx context.Context, s *membershipv1alpha1.Store, status *Status[*membershipv1alpha1.Store]) (ctrl.Result, error) {
		readVersion = s.ResourceVersion
		s.Status.Members = 1
		if err := status.Record(ctx, s); err != nil {
			status.Abandon()
			return ctrl.Result{}, err
		}
		acted++
		s.Status.Members = 2
		return ctrl.Result{}, nil
	}
	key := client.ObjectKey{Namespace: "ns", Name: "shop"}
	_, err := kind(c, step).Reconcile(context.Background(), key, &membershipv1alpha1.Store{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(acted).To(Equal(1))
	g.Expect(patches).To(HaveLen(2), "the record, then the rest at the end")
	g.Expect(patches[0]).To(ContainSubstring(`"resourceVersion":"` + readVersion + `"`))
	g.Expect(patches[1]).NotTo(ContainSubstring("resourceVersion"), "the final write is computed against the record")
	g.Expect(patches[1]).To(ContainSubstring(`"members":2`))

	refuse, patches = true, nil
	result, err := kind(c, step).Reconcile(context.Background(), key, &membershipv1alpha1.Store{})
	g.Expect(err).NotTo(HaveOccurred(), "a lost race is no failure")
	g.Expect(result.RequeueAfter).To(Equal(progress.ConflictRetry), "it runs again from fresh data")
	g.Expect(acted).To(Equal(1), "no act without its record")
	g.Expect(patches).To(HaveLen(1), "an abandoned status is not written from the stale version")
}

func TestSettleWritesTheKstatusConditionsOfTheProgress(t *testing.T) {
	g := NewWithT(t)
	writes := 0
	c := countingClient(t, &writes, store())
	_, err := kind(c, func(context.Context, *membershipv1alpha1.Store, *Status[*membershipv1alpha1.Store]) (ctrl.Result, error) {
		return ctrl.Result{}, nil
	}).Reconcile(context.Background(), client.ObjectKey{Namespace: "ns", Name: "shop"}, &membershipv1alpha1.Store{})
	g.Expect(err).NotTo(HaveOccurred())
	var got membershipv1alpha1.Store
	g.Expect(c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: "shop"}, &got)).To(Succeed())
	g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, membershipv1alpha1.ConditionStalled)).To(BeTrue())
	g.Expect(meta.FindStatusCondition(got.Status.Conditions, membershipv1alpha1.ConditionReady)).To(
		HaveField("Reason", "Empty"))
}

// The final write from a stale read: a cache that has not yet seen the controller's own previous
// write (here, status.ownerMember set and the members counted) hands the steps an older version.
// A merge patch from it would carry only what differs from that older status and leave the rest
// of the newer write in place: a mix no reconcile decided. The write is made onto the version
// read instead, refused, and the reconcile runs again from fresh data.
func TestTheFinalWriteFromAStaleReadIsRefused(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	key := client.ObjectKey{Namespace: "ns", Name: "shop"}
	scheme := runtime.NewScheme()
	g.Expect(membershipv1alpha1.AddToScheme(scheme)).To(Succeed())
	initial := store()
	initial.Finalizers = []string{finalizer}
	var stale *membershipv1alpha1.Store // what a lagging cache returns; nil: the API server's
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(initial).
		WithStatusSubresource(&membershipv1alpha1.Store{}).
		WithInterceptorFuncs(interceptor.Funcs{
			Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
				if s, ok := obj.(*membershipv1alpha1.Store); ok && stale != nil {
					stale.DeepCopyInto(s)
					return nil
				}
				return c.Get(ctx, key, obj, opts...)
			},
		}).Build()
	var read membershipv1alpha1.Store
	g.Expect(c.Get(ctx, key, &read)).To(Succeed())

	// The previous reconcile's write, which the cache has not delivered yet.
	newer := read.DeepCopy()
	newer.Status.OwnerMember, newer.Status.Members = "alice", 1
	g.Expect(c.Status().Update(ctx, newer)).To(Succeed())
	stale = &read

	// The steps decide from the older version: no owner (ownerMember stays empty), two members.
	result, err := kind(c, func(_ context.Context, s *membershipv1alpha1.Store, _ *Status[*membershipv1alpha1.Store]) (ctrl.Result, error) {
		s.Status.Members = 2
		return ctrl.Result{}, nil
	}).Reconcile(ctx, key, &membershipv1alpha1.Store{})
	g.Expect(err).NotTo(HaveOccurred(), "a lost race is no failure")
	g.Expect(result.RequeueAfter).To(Equal(progress.ConflictRetry), "it runs again from fresh data")

	stale = nil
	var got membershipv1alpha1.Store
	g.Expect(c.Get(ctx, key, &got)).To(Succeed())
	g.Expect(got.Status.OwnerMember).To(Equal("alice"))
	g.Expect(got.Status.Members).To(BeEquivalentTo(1), "nothing of the stale reconcile's status is written")

	// From fresh data, the same steps write their whole decision.
	_, err = kind(c, func(_ context.Context, s *membershipv1alpha1.Store, _ *Status[*membershipv1alpha1.Store]) (ctrl.Result, error) {
		s.Status.OwnerMember, s.Status.Members = "", 2
		return ctrl.Result{}, nil
	}).Reconcile(ctx, key, &membershipv1alpha1.Store{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c.Get(ctx, key, &got)).To(Succeed())
	g.Expect(got.Status.OwnerMember).To(BeEmpty())
	g.Expect(got.Status.Members).To(BeEquivalentTo(2))
}
