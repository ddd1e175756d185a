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
