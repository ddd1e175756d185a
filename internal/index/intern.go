// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package index

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// internedStrings bounds the table of shared strings. What is interned repeats across objects
// (namespaces, label keys, Store names, roles, permissions, condition types and reasons), a few
// hundred values in a large cluster; the bound only keeps a cluster with unusual values (ten
// thousand Stores in one namespace) from growing the table without end. A full table starts
// again empty: strings already shared stay shared, new ones are shared from then on.
const internedStrings = 8192

// Interner makes equal strings of cached objects share one copy. Every decoded object carries its
// own copy of each string; with 10,000 Members and their Secrets the repeated ones (the namespace,
// label keys, the Store's name, roles and permissions, condition types and reasons, data keys)
// were about 0.6 KiB per Member. Strings are immutable, so sharing them changes nothing a reader
// of the cache can see. Safe for concurrent use (every informer transforms on its own goroutine).
type Interner struct {
	mu      sync.Mutex
	strings map[string]string
}

// NewInterner returns an empty Interner.
func NewInterner() *Interner { return &Interner{strings: map[string]string{}} }

// String returns the shared copy of s.
func (in *Interner) String(s string) string {
	if s == "" {
		return s
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if shared, ok := in.strings[s]; ok {
		return shared
	}
	if len(in.strings) >= internedStrings {
		in.strings = make(map[string]string, internedStrings)
	}
	in.strings[s] = s
	return s
}

// internAll interns every element of values in place (strings, or a string type such as Role).
func internAll[S ~string](in *Interner, values []S) {
	for i := range values {
		values[i] = S(in.String(string(values[i])))
	}
}

// Transform interns the repeated strings of obj in place and returns it; objects of other kinds
// have their metadata interned. It is a cache.TransformFunc.
func (in *Interner) Transform(obj any) (any, error) {
	switch o := obj.(type) {
	case *corev1.Secret:
		in.meta(&o.ObjectMeta)
		o.Type = corev1.SecretType(in.String(string(o.Type)))
		o.Data = in.dataKeys(o.Data)
	case *membershipv1alpha1.Member:
		in.meta(&o.ObjectMeta)
		o.Spec.StoreRef.Name = in.String(o.Spec.StoreRef.Name)
		o.Spec.Type = membershipv1alpha1.MemberType(in.String(string(o.Spec.Type)))
		internAll(in, o.Spec.Roles)
		o.Status.Phase = membershipv1alpha1.MemberPhase(in.String(string(o.Status.Phase)))
		internAll(in, o.Status.Permissions)
		in.conditions(o.Status.Conditions)
	case *membershipv1alpha1.Invitation:
		in.meta(&o.ObjectMeta)
		o.Spec.StoreRef.Name = in.String(o.Spec.StoreRef.Name)
		o.Status.Phase = membershipv1alpha1.InvitationPhase(in.String(string(o.Status.Phase)))
		in.conditions(o.Status.Conditions)
	case *membershipv1alpha1.Account:
		in.meta(&o.ObjectMeta)
		for i := range o.Status.Members {
			m := &o.Status.Members[i]
			m.Namespace, m.Store = in.String(m.Namespace), in.String(m.Store)
		}
		if src := o.Status.PasswordSource; src != nil {
			src.Namespace, src.Secret, src.Key = in.String(src.Namespace), in.String(src.Secret), in.String(src.Key)
		}
		in.conditions(o.Status.Conditions)
	case toolscache.DeletedFinalStateUnknown:
		return obj, nil // a tombstone: its object was transformed when it was stored
	case metav1.ObjectMetaAccessor: // Stores: their metadata
		if om, ok := o.GetObjectMeta().(*metav1.ObjectMeta); ok {
			in.meta(om)
		}
	}
	return obj, nil
}

// meta interns the namespace, finalizers, label and annotation keys, the values of the labels
// many objects share, and the owner's API version and kind. Names, UIDs and resource versions are
// each object's own and are left alone.
func (in *Interner) meta(om *metav1.ObjectMeta) {
	om.Namespace = in.String(om.Namespace)
	internAll(in, om.Finalizers)
	if len(om.Labels) > 0 {
		labels := make(map[string]string, len(om.Labels))
		for k, v := range om.Labels {
			if sharedLabelValues[k] {
				v = in.String(v)
			}
			labels[in.String(k)] = v
		}
		om.Labels = labels
	}
	if len(om.Annotations) > 0 {
		annotations := make(map[string]string, len(om.Annotations))
		for k, v := range om.Annotations {
			annotations[in.String(k)] = v
		}
		om.Annotations = annotations
	}
	for i := range om.OwnerReferences {
		om.OwnerReferences[i].APIVersion = in.String(om.OwnerReferences[i].APIVersion)
		om.OwnerReferences[i].Kind = in.String(om.OwnerReferences[i].Kind)
	}
}

// sharedLabelValues are the labels whose values many objects share (the rest name one object).
var sharedLabelValues = map[string]bool{
	membershipv1alpha1.ManagedByLabel:         true,
	membershipv1alpha1.StoreLabel:             true,
	membershipv1alpha1.CredentialRequestLabel: true,
}

func (in *Interner) dataKeys(data map[string][]byte) map[string][]byte {
	if len(data) == 0 {
		return data
	}
	out := make(map[string][]byte, len(data))
	for k, v := range data {
		out[in.String(k)] = v
	}
	return out
}

func (in *Interner) conditions(conditions []metav1.Condition) {
	for i := range conditions {
		c := &conditions[i]
		c.Type = in.String(c.Type)
		c.Status = metav1.ConditionStatus(in.String(string(c.Status)))
		c.Reason = in.String(c.Reason)
	}
}
