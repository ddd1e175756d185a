// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package member

import (
	"context"
	"errors"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/mail"
)

func removedMember() *membershipv1alpha1.Member {
	deleted := metav1.NewTime(time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC))
	m := &membershipv1alpha1.Member{}
	m.Name, m.Namespace, m.UID, m.DeletionTimestamp = "bob", "shops", "uid-42", &deleted
	m.Spec = membershipv1alpha1.MemberSpec{
		StoreRef: membershipv1alpha1.StoreReference{Name: "acme"}, Email: "bob@example.com", DisplayName: "Bob",
		Roles: []membershipv1alpha1.Role{membershipv1alpha1.RoleStaff},
	}
	return m
}

func reconcilerWith(sender mail.Sender, objs ...runtime.Object) *Reconciler {
	scheme := runtime.NewScheme()
	_ = membershipv1alpha1.AddToScheme(scheme)
	return &Reconciler{
		Client: fake.NewClientBuilder().WithScheme(scheme).WithRuntimeObjects(objs...).Build(),
		Mail:   sender, MailDomain: "storeops.example",
	}
}

func TestRemovalNoticeUsesTheStoresLanguageAndAStableMessageID(t *testing.T) {
	g := NewWithT(t)
	store := &membershipv1alpha1.Store{}
	store.Name, store.Namespace = "acme", "shops"
	store.Spec.DisplayName, store.Spec.Locale = "Acme Winkel", membershipv1alpha1.LocaleDutch
	sender := &mail.FakeSender{}

	r := reconcilerWith(sender, store)
	g.Expect(r.sendRemovalNotice(context.Background(), removedMember())).To(Succeed())
	g.Expect(r.sendRemovalNotice(context.Background(), removedMember())).To(Succeed(), "a retry")

	sent := sender.Sent()
	g.Expect(sent).To(HaveLen(2))
	g.Expect(sent[0].To).To(Equal("bob@example.com"))
	g.Expect(sent[0].Subject).To(Equal("Je toegang tot Acme Winkel is ingetrokken"))
	g.Expect(sent[0].Text).To(ContainSubstring("5 maart 2026"))
	g.Expect(sent[0].MessageID).To(Equal("uid-42.access-removed@storeops.example"))
	g.Expect(sent[1].MessageID).To(Equal(sent[0].MessageID), "a retry reuses the Message-ID")
}

func TestRemovalNoticeWithoutTheStoreFallsBackToEnglishAndTheStoreRef(t *testing.T) {
	g := NewWithT(t)
	sender := &mail.FakeSender{}
	g.Expect(reconcilerWith(sender).sendRemovalNotice(context.Background(), removedMember())).To(Succeed())
	g.Expect(sender.Sent()).To(HaveLen(1))
	g.Expect(sender.Sent()[0].Subject).To(Equal("Your access to acme was removed"))
}

func TestRemovalNoticeReportsTheSendersError(t *testing.T) {
	g := NewWithT(t)
	sender := &mail.FakeSender{Err: errors.New("451 try again later")}
	err := reconcilerWith(sender).sendRemovalNotice(context.Background(), removedMember())
	g.Expect(err).To(MatchError("451 try again later"))
	g.Expect(sender.Sent()).To(BeEmpty())
}
