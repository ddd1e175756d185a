// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package webhook

import (
	"context"
	"errors"
	"fmt"
	"slices"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/invitationpolicy"
	"github.com/storeops/member-operator/internal/seats"
)

var (
	memberKind     = schema.GroupKind{Group: membershipv1alpha1.GroupVersion.Group, Kind: "Member"}
	invitationKind = schema.GroupKind{Group: membershipv1alpha1.GroupVersion.Group, Kind: "Invitation"}
)

// OperatorIdentity asks the API server who cfg authenticates as (a SelfSubjectReview): the
// operator's own username, the only one the webhooks let manage the owner role. It needs no RBAC.
func OperatorIdentity(ctx context.Context, cfg *rest.Config) (string, error) {
	clientset, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return "", err
	}
	review, err := clientset.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("find the operator's own identity (SelfSubjectReview): %w", err)
	}
	if review.Status.UserInfo.Username == "" {
		return "", errors.New("find the operator's own identity: the API server returned no username")
	}
	return review.Status.UserInfo.Username, nil
}

// Setup registers the Member and Invitation validating webhooks on mgr. reader is the manager's
// cache (with the indexes of index.Setup); operator is OperatorIdentity's answer, and
// alsoOperator names the operator's other identities (the acceptance-only Deployment's
// ServiceAccount), which write the owner Member too.
func Setup(mgr ctrl.Manager, operator string, exclusive bool, alsoOperator ...string) error {
	if operator == "" {
		return errors.New("webhooks: the operator's identity is required")
	}
	operators := append([]string{operator}, alsoOperator...)
	members := &MemberValidator{Reader: mgr.GetClient(), Operators: operators, ExclusiveMembership: exclusive, Clock: clock.RealClock{}}
	if err := ctrl.NewWebhookManagedBy(mgr, &membershipv1alpha1.Member{}).WithValidator(members).Complete(); err != nil {
		return err
	}
	invitations := &InvitationValidator{Reader: mgr.GetClient(), Operators: operators, ExclusiveMembership: exclusive, Clock: clock.RealClock{}}
	if err := ctrl.NewWebhookManagedBy(mgr, &membershipv1alpha1.Invitation{}).WithValidator(invitations).Complete(); err != nil {
		return err
	}
	return ctrl.NewWebhookManagedBy(mgr, &membershipv1alpha1.Account{}).WithValidator(&AccountValidator{Operator: operator}).Complete()
}

// +kubebuilder:webhook:path=/validate-membership-storeops-io-v1alpha1-member,mutating=false,failurePolicy=fail,sideEffects=None,groups=membership.storeops.io,resources=members,verbs=create;update;delete,versions=v1alpha1,name=vmember-v1alpha1.membership.storeops.io,admissionReviewVersions=v1

// MemberValidator guards the owner role on Members, and refuses at apply time a Member past its
// Store's memberLimit or (with --exclusive-membership) with another Store's address.
type MemberValidator struct {
	Reader              client.Reader
	Operators           []string
	ExclusiveMembership bool
	Clock               clock.PassiveClock
}

var _ admission.Validator[*membershipv1alpha1.Member] = &MemberValidator{}

// ValidateCreate implements admission.Validator.
func (v *MemberValidator) ValidateCreate(ctx context.Context, obj *membershipv1alpha1.Member) (admission.Warnings, error) {
	errs := ValidateMember(Create, v.byOperator(ctx), nil, obj, nil)
	if len(errs) == 0 && !membershipv1alpha1.HasOwnerRole(obj.Spec.Roles) {
		store, err := getStore(ctx, v.Reader, obj.Namespace, obj.Spec.StoreRef.Name)
		if err != nil {
			return nil, err
		}
		if store != nil {
			// It is being created now: every Member and Invitation already stored came before it.
			candidate := obj.DeepCopy()
			candidate.CreationTimestamp.Time = v.Clock.Now()
			reason, message, err := seats.Check(ctx, v.Reader, candidate, store, v.ExclusiveMembership)
			if err != nil {
				return nil, err
			}
			errs = append(errs, InvitationRefusal(reason, message)...)
		}
	}
	return nil, asInvalid(memberKind, obj.Name, errs)
}

// ValidateUpdate implements admission.Validator.
func (v *MemberValidator) ValidateUpdate(ctx context.Context, old, obj *membershipv1alpha1.Member) (admission.Warnings, error) {
	return nil, asInvalid(memberKind, obj.Name, ValidateMember(Update, v.byOperator(ctx), old, obj, nil))
}

// ValidateDelete implements admission.Validator.
func (v *MemberValidator) ValidateDelete(ctx context.Context, obj *membershipv1alpha1.Member) (admission.Warnings, error) {
	if !membershipv1alpha1.HasOwnerRole(obj.Spec.Roles) || v.byOperator(ctx) {
		return nil, nil
	}
	store, err := getStore(ctx, v.Reader, obj.Namespace, obj.Spec.StoreRef.Name)
	if err != nil {
		return nil, err
	}
	return nil, asInvalid(memberKind, obj.Name, ValidateMember(Delete, false, obj, nil, store))
}

func (v *MemberValidator) byOperator(ctx context.Context) bool {
	return slices.Contains(v.Operators, requester(ctx))
}

// +kubebuilder:webhook:path=/validate-membership-storeops-io-v1alpha1-invitation,mutating=false,failurePolicy=fail,sideEffects=None,groups=membership.storeops.io,resources=invitations,verbs=create;update,versions=v1alpha1,name=vinvitation-v1alpha1.membership.storeops.io,admissionReviewVersions=v1

// InvitationValidator refuses at apply time what the invitation controller would refuse: the
// owner role, an address that is already a Member, one past the member limit, and (with
// --exclusive-membership) an address of another Store.
type InvitationValidator struct {
	Reader              client.Reader
	Operators           []string
	ExclusiveMembership bool
	Clock               clock.PassiveClock
}

var _ admission.Validator[*membershipv1alpha1.Invitation] = &InvitationValidator{}

// ValidateCreate implements admission.Validator.
func (v *InvitationValidator) ValidateCreate(ctx context.Context, obj *membershipv1alpha1.Invitation) (admission.Warnings, error) {
	errs := ValidateInvitationRoles(Create, slices.Contains(v.Operators, requester(ctx)), nil, obj)
	if len(errs) == 0 && !membershipv1alpha1.HasOwnerRole(obj.Spec.Roles) {
		store, err := getStore(ctx, v.Reader, obj.Namespace, obj.Spec.StoreRef.Name)
		if err != nil {
			return nil, err
		}
		// It is being created now: every invitation already stored came before it.
		candidate := obj.DeepCopy()
		candidate.CreationTimestamp.Time = v.Clock.Now()
		reason, message, err := invitationpolicy.Check(ctx, v.Reader, candidate, store, v.ExclusiveMembership)
		if err != nil {
			return nil, err
		}
		errs = append(errs, InvitationRefusal(reason, message)...)
	}
	return nil, asInvalid(invitationKind, obj.Name, errs)
}

// ValidateUpdate implements admission.Validator.
func (v *InvitationValidator) ValidateUpdate(ctx context.Context, old, obj *membershipv1alpha1.Invitation) (admission.Warnings, error) {
	if equalRoles(old, obj) {
		return nil, nil // the operator's own status-adjacent writes (finalizers, annotations) pass
	}
	return nil, asInvalid(invitationKind, obj.Name,
		ValidateInvitationRoles(Update, slices.Contains(v.Operators, requester(ctx)), old, obj))
}

// ValidateDelete implements admission.Validator; deleting an Invitation revokes it, always allowed.
func (v *InvitationValidator) ValidateDelete(context.Context, *membershipv1alpha1.Invitation) (admission.Warnings, error) {
	return nil, nil
}

func equalRoles(a, b *membershipv1alpha1.Invitation) bool {
	if len(a.Spec.Roles) != len(b.Spec.Roles) {
		return false
	}
	for i := range a.Spec.Roles {
		if a.Spec.Roles[i] != b.Spec.Roles[i] {
			return false
		}
	}
	return true
}

// requester is the username of the admission request in ctx ("" when there is none).
func requester(ctx context.Context) string {
	req, err := admission.RequestFromContext(ctx)
	if err != nil {
		return ""
	}
	return req.UserInfo.Username
}

func getStore(ctx context.Context, reader client.Reader, namespace, name string) (*membershipv1alpha1.Store, error) {
	store := &membershipv1alpha1.Store{}
	if err := reader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, store); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return store, nil
}

// asInvalid is the 422 Invalid error kubectl prints as `The Member "x" is invalid: spec.roles:
// Forbidden: ...`; nil for no errors.
func asInvalid(kind schema.GroupKind, name string, errs field.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(kind, name, errs)
}
