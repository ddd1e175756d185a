// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package progress

import (
	"context"
	"errors"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// ConflictRetry is how soon a reconcile that lost an optimistic-lock race runs again. The watch
// event of the newer version usually brings the object back first.
const ConflictRetry = time.Second

// Outcome is the last word of every Reconcile, applied in a deferred call after the status write:
//   - a conflict (the cache was behind a newer version of something written) is no failure: it is
//     logged at debug level and retried, not reported with a stack trace and an error count, which
//     at a thousand objects would bury the errors that matter;
//   - an error because the manager is stopping (its context is canceled) is no failure either: the
//     next start reconciles everything again;
//   - with any other error the result is dropped, as controller-runtime ignores it then anyway
//     (and warns about it on every occurrence).
func Outcome(ctx context.Context, result ctrl.Result, err error) (ctrl.Result, error) {
	if err == nil {
		return result, nil
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		logf.FromContext(ctx).V(1).Info("stopping; the next start reconciles this again", "error", err.Error())
		return ctrl.Result{}, nil
	}
	if onlyConflicts(err) {
		logf.FromContext(ctx).V(1).Info("lost a race with a newer version; reconciling again", "error", err.Error())
		return ctrl.Result{RequeueAfter: ConflictRetry}, nil
	}
	return ctrl.Result{}, err
}

// onlyConflicts reports whether err, or every error joined in it, is a conflict.
func onlyConflicts(err error) bool {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs := joined.Unwrap()
		for _, e := range errs {
			if !onlyConflicts(e) {
				return false
			}
		}
		return len(errs) > 0
	}
	return apierrors.IsConflict(err)
}
