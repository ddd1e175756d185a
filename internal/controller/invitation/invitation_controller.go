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

// Package invitation holds the Invitation controller.
package invitation

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// Reconciler reconciles Invitation objects.
type Reconciler struct {
	client.Client
	Scheme *runtime.Scheme
}

// +kubebuilder:rbac:groups=membership.storeops.io,resources=invitations,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=membership.storeops.io,resources=invitations/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=membership.storeops.io,resources=invitations/finalizers,verbs=update

// Reconcile brings one Invitation towards its spec. The foundation registers the controller so that the
// manager, RBAC and watches are in place; the behaviour arrives with the invitation issue.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var obj membershipv1alpha1.Invitation
	if err := r.Get(ctx, req.NamespacedName, &obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	logf.FromContext(ctx).V(1).Info("observed", "generation", obj.Generation)
	return ctrl.Result{}, nil
}

// SetupWithManager registers the controller with the manager.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&membershipv1alpha1.Invitation{}).
		Named("invitation").
		Complete(r)
}
