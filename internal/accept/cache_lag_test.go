// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package accept_test

import (
	"context"
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/accept"
)

// invitationsBeforeTheirStatus is the acceptance server's cache at the moment an email lands
// before the cache has seen the status write that recorded the link: every Invitation it lists
// has the status it had when created (none). Everything else reads through.
type invitationsBeforeTheirStatus struct{ client.Client }

func (c invitationsBeforeTheirStatus) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if err := c.Client.List(ctx, list, opts...); err != nil {
		return err
	}
	if invitations, ok := list.(*membershipv1alpha1.InvitationList); ok {
		for i := range invitations.Items {
			invitations.Items[i].Status = membershipv1alpha1.InvitationStatus{}
		}
	}
	return nil
}

var _ = Describe("a link used the moment its email arrives", func() {
	// Other teams' integration tests accept programmatically as soon as the email lands
	// (testenv.AcceptInvitation); the server's cache may not yet hold the status write that
	// recorded the link's hash, which the controller makes before it sends.
	It("is accepted although the server's cache has not yet seen the link's hash", func() {
		ns := newNamespace()
		createStore(ns, membershipv1alpha1.LocaleEnglish)
		inv, token := invite(ns, "invite-quick", "quick@example.com")
		server := startReplicaServer(func(s *accept.Server) {
			s.Client = invitationsBeforeTheirStatus{Client: s.Client}
		})
		password := "a long and careful passphrase"
		seen = append(seen, password)
		status, _, body := call(server, "/api/v1/invitations/accept", specClient, "",
			map[string]string{"token": token, "password": password, "displayName": "Quick"})
		Expect(status).To(Equal(http.StatusCreated), "%v", body)
		name, _ := body["member"].(string)
		expectMemberActive(ns, name, "quick@example.com", password)
		Eventually(func() string { return getInvitation(inv).Status.Member }).Should(Equal(name))
	})
})
