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
