// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package progress is how a reconcile ends, for every controller: where the object stands for
// GitOps tools (the kstatus conditions Reconciling and Stalled, and Ready settled to agree with
// them) and which result and error it returns (Outcome).
package progress

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// Progress is where an object stands for GitOps tools that read kstatus conditions (Flux waits
// on them; Argo CD's check, config/argocd/health.lua, reads them the same way).
type Progress int

const (
	// Current: the object is where the operator can take it; waiting on a person (an invitee, an
	// owner) is current, not in progress, so a GitOps sync does not wait days for them.
	Current Progress = iota
	// Reconciling: the operator is working on it and expects to finish on its own.
	Reconciling
	// Stalled: it cannot go on without someone changing something.
	Stalled
)

// Set keeps the kstatus conditions Reconciling and Stalled in step with progress: the one
// that applies is True with reason and message, the other is removed (as kstatus expects absent
// conditions rather than False ones).
//
// It also settles Ready's status, so that every GitOps tool reads one answer: Ready is False
// exactly while Reconciling or Stalled is True. kstatus (Flux) reads a Ready=False without either
// as "in progress" and would wait on it; an object that waits on a person (an owner who has not
// activated, an invitee who has not clicked), is disabled as its spec asks, or has finished
// (Expired, Revoked) has nothing left for the operator to do, so it is Ready=True, and its reason
// (AwaitingOwnerActivation, Disabled, Expired, ...) says which. The reason and message the
// controller chose are kept.
//
// stored are the conditions as the API server has them (the reconcile's starting point): a
// condition whose status ends where it was stored keeps its lastTransitionTime, however the
// steps of this reconcile set it on the way (a step may say Ready=False that is settled to True
// here). Otherwise a converged object would get a new time, and a status write, every reconcile.
func Set(conditions *[]metav1.Condition, stored []metav1.Condition, generation int64, progress Progress, reason, message string) {
	defer func() { keepTransitionTimes(*conditions, stored) }()
	defer settleReady(conditions, generation, progress, reason, message)
	set := func(conditionType string) {
		meta.SetStatusCondition(conditions, metav1.Condition{
			Type: conditionType, Status: metav1.ConditionTrue, Reason: reason, Message: message, ObservedGeneration: generation,
		})
	}
	switch progress {
	case Reconciling:
		set(membershipv1alpha1.ConditionReconciling)
		meta.RemoveStatusCondition(conditions, membershipv1alpha1.ConditionStalled)
	case Stalled:
		set(membershipv1alpha1.ConditionStalled)
		meta.RemoveStatusCondition(conditions, membershipv1alpha1.ConditionReconciling)
	default:
		meta.RemoveStatusCondition(conditions, membershipv1alpha1.ConditionReconciling)
		meta.RemoveStatusCondition(conditions, membershipv1alpha1.ConditionStalled)
	}
}

// settleReady makes Ready's status agree with progress (see Set).
func settleReady(conditions *[]metav1.Condition, generation int64, progress Progress, reason, message string) {
	ready := meta.FindStatusCondition(*conditions, membershipv1alpha1.ConditionReady)
	want := metav1.ConditionTrue
	if progress != Current {
		want = metav1.ConditionFalse
	}
	switch {
	case ready == nil && progress == Current:
		return // nothing has said what Ready is yet; kstatus reads no Ready as current
	case ready == nil:
		meta.SetStatusCondition(conditions, metav1.Condition{Type: membershipv1alpha1.ConditionReady, Status: want,
			Reason: reason, Message: message, ObservedGeneration: generation})
	case ready.Status != want:
		changed := *ready
		changed.Status = want
		changed.LastTransitionTime = metav1.Time{} // now: the status changes
		if progress != Current && reason != "" {
			changed.Reason, changed.Message = reason, message
		}
		meta.SetStatusCondition(conditions, changed)
	}
}

// keepTransitionTimes gives each condition whose status equals its stored one the stored
// lastTransitionTime: the time says when the status last changed on the API server.
func keepTransitionTimes(conditions, stored []metav1.Condition) {
	for i := range conditions {
		if old := meta.FindStatusCondition(stored, conditions[i].Type); old != nil && old.Status == conditions[i].Status {
			conditions[i].LastTransitionTime = old.LastTransitionTime
		}
	}
}
