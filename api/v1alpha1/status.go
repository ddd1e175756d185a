// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// The status of every kind, reached alike (as Cluster API's condition getters and setters do), for
// the reconcile skeleton the controllers share and for tools that treat the kinds as one.

// StatusConditions are the Store's conditions, to be changed in place.
func (s *Store) StatusConditions() *[]metav1.Condition { return &s.Status.Conditions }

// SetObservedGeneration records the generation the Store's status describes.
func (s *Store) SetObservedGeneration(generation int64) { s.Status.ObservedGeneration = generation }

// StatusValue is the Store's status by value, to compare: it shares its slices and maps, so it is
// read, never changed.
func (s *Store) StatusValue() any { return s.Status }

// StatusConditions are the Member's conditions, to be changed in place.
func (m *Member) StatusConditions() *[]metav1.Condition { return &m.Status.Conditions }

// SetObservedGeneration records the generation the Member's status describes.
func (m *Member) SetObservedGeneration(generation int64) { m.Status.ObservedGeneration = generation }

// StatusValue is the Member's status by value, to compare: it shares its slices and maps, so it is
// read, never changed.
func (m *Member) StatusValue() any { return m.Status }

// StatusConditions are the Invitation's conditions, to be changed in place.
func (i *Invitation) StatusConditions() *[]metav1.Condition { return &i.Status.Conditions }

// SetObservedGeneration records the generation the Invitation's status describes.
func (i *Invitation) SetObservedGeneration(generation int64) {
	i.Status.ObservedGeneration = generation
}

// StatusValue is the Invitation's status by value, to compare: it shares its slices and maps, so it is
// read, never changed.
func (i *Invitation) StatusValue() any { return i.Status }
