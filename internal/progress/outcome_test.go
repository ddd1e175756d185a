// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package progress

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
)

func TestOutcome(t *testing.T) {
	conflict := apierrors.NewConflict(schema.GroupResource{Group: "membership.storeops.io", Resource: "members"}, "bob", errors.New("modified"))
	other := errors.New("connection refused")
	later := ctrl.Result{RequeueAfter: time.Hour}
	cases := []struct {
		name       string
		result     ctrl.Result
		err        error
		wantResult ctrl.Result
		wantErr    error
	}{
		{"success keeps its result", later, nil, later, nil},
		{"a conflict is retried quietly", later, conflict, ctrl.Result{RequeueAfter: ConflictRetry}, nil},
		{"a wrapped conflict too", ctrl.Result{}, fmt.Errorf("patch owner: %w", conflict), ctrl.Result{RequeueAfter: ConflictRetry}, nil},
		{"conflicts joined", ctrl.Result{}, errors.Join(conflict, conflict), ctrl.Result{RequeueAfter: ConflictRetry}, nil},
		{"a real error beside a conflict is reported", later, errors.Join(conflict, other), ctrl.Result{}, other},
		{"an error drops the result", later, other, ctrl.Result{}, other},
	}
	t.Run("cancelled while stopping", func(t *testing.T) {
		g := NewWithT(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		result, err := Outcome(ctx, later, fmt.Errorf("patch status: %w", context.Canceled))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(result).To(Equal(ctrl.Result{}))
		_, err = Outcome(context.Background(), later, fmt.Errorf("patch status: %w", context.Canceled))
		g.Expect(err).To(MatchError(context.Canceled), "not stopping: a cancellation from elsewhere is an error")
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			result, err := Outcome(context.Background(), tc.result, tc.err)
			g.Expect(result).To(Equal(tc.wantResult))
			if tc.wantErr == nil {
				g.Expect(err).NotTo(HaveOccurred())
			} else {
				g.Expect(err).To(MatchError(tc.wantErr))
			}
		})
	}
}
