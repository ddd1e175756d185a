// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package account

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

func request(kind, email string, created time.Time, data map[string]string) corev1.Secret {
	secret := corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: kind + created.Format("150405"), CreationTimestamp: metav1.NewTime(created),
			Labels:      map[string]string{membershipv1alpha1.AccountRequestLabel: kind},
			Annotations: map[string]string{membershipv1alpha1.EmailAnnotation: email},
		},
		Data: map[string][]byte{},
	}
	for k, v := range data {
		secret.Data[k] = []byte(v)
	}
	return secret
}

func TestApplyFoldsRequestsInOrder(t *testing.T) {
	start := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	acct := &membershipv1alpha1.Account{Spec: membershipv1alpha1.AccountSpec{Email: "ann@example.com"}}
	hash, totp := membershipv1alpha1.CredentialPasswordHash, membershipv1alpha1.CredentialTOTPSecret
	for _, tc := range []struct {
		name     string
		have     map[string]string
		requests []corev1.Secret
		want     map[string]string
		password bool
	}{
		{"the later password wins", nil, []corev1.Secret{
			request(membershipv1alpha1.AccountRequestPassword, "ann@example.com", start, map[string]string{hash: "first"}),
			request(membershipv1alpha1.AccountRequestPassword, "ann@example.com", start.Add(time.Second), map[string]string{hash: "second"}),
		}, map[string]string{hash: "second"}, true},
		{"a new password drops a generated one", map[string]string{hash: "old", membershipv1alpha1.CredentialPassword: "generated"}, []corev1.Secret{
			request(membershipv1alpha1.AccountRequestPassword, "ann@example.com", start, map[string]string{hash: "new"}),
		}, map[string]string{hash: "new"}, true},
		{"a key enrolled while joining is kept only when there is none", map[string]string{hash: "h", totp: "KEEP"}, []corev1.Secret{
			request(membershipv1alpha1.AccountRequestJoin, "ann@example.com", start, map[string]string{totp: "OTHER"}),
		}, map[string]string{hash: "h", totp: "KEEP"}, false},
		{"an administrator's 2FA reset replaces the key", map[string]string{hash: "h", totp: "OLD"}, []corev1.Secret{
			request(membershipv1alpha1.AccountRequestTwoFactor, "ann@example.com", start, map[string]string{totp: "NEW"}),
		}, map[string]string{hash: "h", totp: "NEW"}, false},
		{"a request for another address changes nothing", map[string]string{hash: "h"}, []corev1.Secret{
			request(membershipv1alpha1.AccountRequestPassword, "mallory@example.com", start, map[string]string{hash: "evil"}),
		}, map[string]string{hash: "h"}, false},
		{"an unknown kind changes nothing", map[string]string{hash: "h"}, []corev1.Secret{
			request("delete-everything", "ann@example.com", start, map[string]string{hash: "evil"}),
		}, map[string]string{hash: "h"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			data := map[string][]byte{}
			for k, v := range tc.have {
				data[k] = []byte(v)
			}
			r := &Reconciler{}
			ch := r.apply(t.Context(), acct, tc.requests, data, map[string]membershipv1alpha1.AccountMember{})
			got := map[string]string{}
			for k, v := range data {
				got[k] = string(v)
			}
			g.Expect(got).To(Equal(tc.want))
			g.Expect(ch.password).To(Equal(tc.password))
		})
	}
}

func TestJoinedBeforeOrdersByJoinTimeThenName(t *testing.T) {
	g := NewWithT(t)
	at := func(ns string, created, joined time.Time) *membershipv1alpha1.Member {
		m := &membershipv1alpha1.Member{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "m", CreationTimestamp: metav1.NewTime(created)}}
		if !joined.IsZero() {
			m.Status.JoinedAt = &metav1.Time{Time: joined}
		}
		return m
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g.Expect(joinedBefore(at("b", t0, t0), at("a", t0, t0.Add(time.Hour)))).To(BeTrue(), "joined earlier")
	g.Expect(joinedBefore(at("a", t0.Add(time.Hour), time.Time{}), at("b", t0, t0.Add(2*time.Hour)))).To(BeTrue(), "created earlier, never joined")
	g.Expect(joinedBefore(at("a", t0, t0), at("b", t0, t0))).To(BeTrue(), "the same instant: by name")
	g.Expect(joinedBefore(at("b", t0, t0), at("a", t0, t0))).To(BeFalse())
}

func TestSecretVersionAdvancesOnlyForward(t *testing.T) {
	for _, tc := range []struct {
		recorded, seen string
		want           bool
	}{
		{recorded: "", seen: "120", want: true},              // nothing recorded yet (an Account from before the field)
		{recorded: "120", seen: "135", want: true},           // the Secret was written since
		{recorded: "135", seen: "120"},                       // a cache behind this controller's own last write
		{recorded: "135", seen: "135"},                       // nothing new
		{recorded: "135", seen: ""},                          // no Secret version known
		{recorded: "opaque-a", seen: "opaque-b", want: true}, // not numbers: any other value is news
	} {
		g := NewWithT(t)
		g.Expect(secretVersionAdvances(tc.recorded, tc.seen)).To(Equal(tc.want), "recorded %q, seen %q", tc.recorded, tc.seen)
	}
}
