// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package selfservice

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// passwordFromGit says why the person may not change acct's password themselves ("" when they
// may): Git declares it, through the governing spec.passwordSecretRef of their Account or the
// one of a login of its own. Git wins; a change made here would be undone at the Secret's next
// change, and until then would be a password the platform does not know.
func (s *Service) passwordFromGit(ctx context.Context, acct *account) (string, error) {
	if acct.joined != "" {
		joined := &membershipv1alpha1.Account{}
		if err := s.Client.Get(ctx, types.NamespacedName{Name: acct.joined}, joined); err != nil {
			return "", client.IgnoreNotFound(err)
		}
		if src := joined.Status.PasswordSource; src != nil {
			return fmt.Sprintf("the password of this account is declared in Git (Secret %q key %q in namespace %q, "+
				"a Member's spec.passwordSecretRef): change it there", src.Secret, src.Key, src.Namespace), nil
		}
		return "", nil
	}
	if ref := acct.member.Spec.PasswordSecretRef; ref != nil {
		return fmt.Sprintf("the password of this login is declared in Git (Secret %q key %q, Member %q's spec.passwordSecretRef): "+
			"change it there", ref.Name, ref.Key, acct.member.Name), nil
	}
	return "", nil
}
