// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package devenv

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// installAdmissionPolicy creates the objects of Options.AdmissionPolicy (config/policy: the
// MutatingAdmissionPolicy that gives new Members their finalizer, and its binding), as installing
// the operator does. It runs before the first manager process starts, so a benchmark's floor,
// measured before that, runs without it. Creating them again is not an error.
func (e *Env) installAdmissionPolicy(ctx context.Context) error {
	if e.admissionPolicy == "" || e.admissionPolicyInstalled {
		return nil
	}
	objs, err := readAdmissionPolicy(e.admissionPolicy)
	if err != nil {
		return err
	}
	c, err := client.New(e.Config, client.Options{})
	if err != nil {
		return err
	}
	for _, obj := range objs {
		if err := c.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create %T %s: %w", obj, obj.GetName(), err)
		}
	}
	e.admissionPolicyInstalled = true
	return nil
}

// awaitAdmissionPolicy returns once kube-apiserver applies the policy (it loads policies through
// an informer of its own, a moment after they are created): a server-side dry run of a new
// Member comes back with the finalizer. It runs once a manager is ready, since the dry run also
// passes the validating webhooks that manager serves.
func (e *Env) awaitAdmissionPolicy(ctx context.Context) error {
	if e.admissionPolicy == "" || e.admissionPolicyEffective {
		return nil
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := membershipv1alpha1.AddToScheme(scheme); err != nil {
		return err
	}
	c, err := client.New(e.Config, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var last error
	for {
		probe := &membershipv1alpha1.Member{
			ObjectMeta: metav1.ObjectMeta{Namespace: ManagerNamespace, Name: "admission-policy-probe"},
			Spec: membershipv1alpha1.MemberSpec{
				StoreRef: membershipv1alpha1.StoreReference{Name: "admission-policy-probe"},
				Email:    "admission-policy-probe@storeops.example",
				Roles:    []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff},
			},
		}
		last = c.Create(ctx, probe, client.DryRunAll)
		if last == nil && slices.Contains(probe.Finalizers, membershipv1alpha1.MemberFinalizer) {
			e.admissionPolicyEffective = true
			return nil
		}
		select {
		case <-ctx.Done():
			if last == nil {
				last = errors.New("a new Member was admitted without the finalizer")
			}
			return fmt.Errorf("the admission policy of %s is not in effect: %w", e.admissionPolicy, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// readAdmissionPolicy reads the policies and bindings of path, strictly: a field this API
// version does not know fails here, as it would at kubectl apply.
func readAdmissionPolicy(path string) ([]client.Object, error) {
	data, err := os.ReadFile(path) //nolint:gosec // a path from our own configuration
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var objs []client.Object
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		var kind metav1.TypeMeta
		if err := utilyaml.Unmarshal(doc, &kind); err != nil {
			return nil, fmt.Errorf("parse %s: %w", path, err)
		}
		var obj client.Object
		switch kind.Kind {
		case "":
			continue // only comments
		case "MutatingAdmissionPolicy":
			obj = &admissionregistrationv1.MutatingAdmissionPolicy{}
		case "MutatingAdmissionPolicyBinding":
			obj = &admissionregistrationv1.MutatingAdmissionPolicyBinding{}
		default:
			return nil, fmt.Errorf("%s: unexpected kind %q", path, kind.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			return nil, fmt.Errorf("parse %s: %w", path, err)
		}
		objs = append(objs, obj)
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("%s holds no admission policy", path)
	}
	return objs, nil
}
