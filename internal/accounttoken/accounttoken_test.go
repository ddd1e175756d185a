// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package accounttoken

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

func TestExpiresAt(t *testing.T) {
	g := NewWithT(t)
	now := time.Date(2026, 12, 2, 9, 0, 0, 900_000_000, time.FixedZone("CET", 3600))
	g.Expect(ExpiresAt(now, 0)).To(Equal(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)), "an hour by default, in UTC, to the second")
	g.Expect(ExpiresAt(now, 15*time.Minute)).To(Equal(time.Date(2026, 12, 2, 8, 15, 0, 0, time.UTC)))
}

func TestExpiry(t *testing.T) {
	g := NewWithT(t)
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	secret := func(annotation string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{membershipv1alpha1.ExpiresAtAnnotation: annotation}}}
	}
	for _, tc := range []struct {
		annotation  string
		wantExpired bool
		wantLeft    time.Duration
	}{
		{"2026-12-02T09:30:00Z", false, 30 * time.Minute},
		{"2026-12-02T09:00:00Z", true, 0},
		{"2026-12-02T08:00:00Z", true, 0},
		{"", true, 0},
		{"next tuesday", true, 0},
	} {
		expired, left := Expiry(secret(tc.annotation), now)
		g.Expect(expired).To(Equal(tc.wantExpired), tc.annotation)
		g.Expect(left).To(Equal(tc.wantLeft), tc.annotation)
		g.Expect(HasExpired(secret(tc.annotation), now)).To(Equal(tc.wantExpired))
	}
}
