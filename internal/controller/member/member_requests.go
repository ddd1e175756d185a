// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package member

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	accounts "github.com/storeops/member-operator/internal/account"
	"github.com/storeops/member-operator/internal/credrequest"
)

// Credential requests (internal/credrequest): the password a person chose for a login of its
// own, at activation, through self-service or by accepting an ownership transfer, reaches the
// credential Secret through this controller, its one writer.

// Why a request for a Member whose password is not its own login's is refused.
const (
	refusedJoined = "the Member's password is its person's Account's: a change goes to the Account"
	refusedGit    = "the Member's password is declared in Git (spec.passwordSecretRef): change it there"
)

// foldRequests applies the waiting requests to data, the content of a login of its own (exists:
// it has one, or a retained copy). A Member that projects an Account, or whose password Git
// declares, takes none: the server refuses those changes too, and this is where that holds.
func (r *Reconciler) foldRequests(member *membershipv1alpha1.Member, person *accounts.Person, data map[string][]byte,
	exists bool, requests []corev1.Secret) credrequest.Folded {
	why := ""
	switch {
	case person != nil:
		why = refusedJoined
	case member.Spec.PasswordSecretRef != nil:
		why = refusedGit
	default:
		return credrequest.Fold(data, exists, requests)
	}
	folded := credrequest.Folded{Refused: map[string]string{}}
	for i := range requests {
		folded.Refused[requests[i].Labels[membershipv1alpha1.CredentialRequestLabel]] = why
	}
	return folded
}

// refusedRequests tells, on the Member, of each request it dropped and why.
func (r *Reconciler) refusedRequests(member *membershipv1alpha1.Member, folded credrequest.Folded) {
	kinds := make([]string, 0, len(folded.Refused))
	for kind := range folded.Refused {
		kinds = append(kinds, kind)
	}
	slices.Sort(kinds)
	for _, kind := range kinds {
		r.Recorder.Eventf(member, nil, corev1.EventTypeWarning, EventCredentialRequestRefused, "IssueCredentials",
			"A password chosen through %s was not applied: %s", chosenThrough([]string{kind}), folded.Refused[kind])
	}
}

// chosenThrough names where the passwords of kinds were chosen, for events.
func chosenThrough(kinds []string) string {
	names := make([]string, 0, len(kinds))
	for _, kind := range kinds {
		switch kind {
		case membershipv1alpha1.CredentialRequestActivation:
			names = append(names, "the acceptance page")
		case membershipv1alpha1.CredentialRequestPassword:
			names = append(names, "self-service")
		case membershipv1alpha1.CredentialRequestTransfer:
			names = append(names, "the ownership transfer")
		default:
			names = append(names, kind)
		}
	}
	return strings.Join(names, " and ")
}
