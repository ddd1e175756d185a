// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package credentials

import (
	"bytes"
	"crypto/rand"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

func TestGeneratePassword(t *testing.T) {
	g := NewWithT(t)
	a, err := GeneratePassword(rand.Reader, GeneratedPasswordLength)
	g.Expect(err).NotTo(HaveOccurred())
	b, err := GeneratePassword(rand.Reader, GeneratedPasswordLength)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(a).To(HaveLen(24))
	g.Expect(a).NotTo(Equal(b))
	for _, c := range a {
		g.Expect(passwordAlphabet).To(ContainSubstring(string(c)))
	}

	_, err = GeneratePassword(rand.Reader, 19)
	g.Expect(err).To(MatchError(ContainSubstring("at least 20")))

	_, err = GeneratePassword(bytes.NewReader([]byte{1, 2, 3}), 20)
	g.Expect(err).To(MatchError(ContainSubstring("read randomness")), "a short read is an error, not a short password")
}

func TestRandIndexRejectsBiasedBytes(t *testing.T) {
	g := NewWithT(t)
	// With 56 symbols, bytes 224..255 would favour the first 32 symbols: they are skipped.
	k, err := randIndex(bytes.NewReader([]byte{255, 224, 57}), 56)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(k).To(Equal(1))
}

func TestHashPassword(t *testing.T) {
	cases := []struct {
		name     string
		password string
		cost     int
		wantErr  string
	}{
		{name: "ok", password: "correct horse battery staple", cost: 10},
		{name: "cost below the floor", password: "correct horse battery staple", cost: 9, wantErr: "below the minimum 10"},
		{name: "72 bytes is the bcrypt limit", password: strings.Repeat("p", 72), cost: 10},
		{name: "73 bytes would be truncated", password: strings.Repeat("p", 73), cost: 10, wantErr: "longer than 72 bytes"},
		{name: "empty", password: "", cost: 10, wantErr: "empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			hash, err := HashPassword(tc.password, tc.cost)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				g.Expect(err.Error()).NotTo(ContainSubstring(tc.password+"x"), "no password in errors")
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(string(hash)).To(HavePrefix("$2a$10$"))
			g.Expect(VerifyPassword(hash, tc.password)).To(BeTrue())
			g.Expect(VerifyPassword(hash, tc.password+"!")).To(BeFalse())
		})
	}
}

func TestTOTP(t *testing.T) {
	g := NewWithT(t)
	enrolment, err := NewTOTP(rand.Reader, "Acme Shop", "bob@example.com")
	g.Expect(err).NotTo(HaveOccurred())

	u, err := url.Parse(enrolment.URI)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(u.Scheme).To(Equal("otpauth"))
	g.Expect(u.Host).To(Equal("totp"))
	g.Expect(u.Path).To(Equal("/Acme Shop:bob@example.com"))
	g.Expect(u.Query().Get("secret")).To(Equal(enrolment.Secret))
	g.Expect(u.Query().Get("issuer")).To(Equal("Acme Shop"))
	g.Expect(u.RawQuery).To(ContainSubstring("issuer=Acme%20Shop"))
	key, err := otp.NewKeyFromURL(enrolment.URI)
	g.Expect(err).NotTo(HaveOccurred(), "an otpauth library reads it back")
	g.Expect(key.Secret()).To(Equal(enrolment.Secret))
	g.Expect(key.Period()).To(Equal(uint64(30)))

	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	code, err := totp.GenerateCode(enrolment.Secret, now)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ValidateTOTP(enrolment.Secret, code, now)).To(BeTrue())
	g.Expect(ValidateTOTP(enrolment.Secret, code, now.Add(30*time.Second))).To(BeTrue(), "one period of skew")
	g.Expect(ValidateTOTP(enrolment.Secret, code, now.Add(2*time.Minute))).To(BeFalse(), "stale code")
	g.Expect(ValidateTOTP(enrolment.Secret, "000000x", now)).To(BeFalse())

	g.Expect(TOTPURI("Acme Shop", "bob@example.com", enrolment.Secret)).To(Equal(enrolment.URI),
		"the URI can be rebuilt from the secret")
	rebuilt, err := url.Parse(TOTPURI("Acme Shop", "bob+new@example.com", enrolment.Secret))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rebuilt.Path).To(Equal("/Acme Shop:bob+new@example.com"))

	other, err := NewTOTP(rand.Reader, "Acme Shop", "bob@example.com")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(other.Secret).NotTo(Equal(enrolment.Secret))
}

func TestMatchTOTPNamesTheStepAndAStepIsUsedOnce(t *testing.T) {
	g := NewWithT(t)
	enrolment, err := NewTOTP(rand.Reader, "Acme Shop", "bob@example.com")
	g.Expect(err).NotTo(HaveOccurred())
	now := time.Date(2026, 12, 1, 12, 0, 10, 0, time.UTC)
	code, err := totp.GenerateCode(enrolment.Secret, now)
	g.Expect(err).NotTo(HaveOccurred())
	step, ok := MatchTOTP(enrolment.Secret, code, now)
	g.Expect(ok).To(BeTrue())
	g.Expect(step).To(Equal(now.Unix() / 30))
	later, ok := MatchTOTP(enrolment.Secret, code, now.Add(30*time.Second))
	g.Expect(ok).To(BeTrue(), "one step of skew")
	g.Expect(later).To(Equal(step), "the same code is the same step, whenever it is presented")
	_, ok = MatchTOTP(enrolment.Secret, code, now.Add(2*time.Minute))
	g.Expect(ok).To(BeFalse())
	_, ok = MatchTOTP(enrolment.Secret, "12345", now)
	g.Expect(ok).To(BeFalse())

	for _, tc := range []struct {
		step     int64
		lastUsed string
		fresh    bool
	}{
		{step, "", true},
		{step, strconv.FormatInt(step-1, 10), true},
		{step, strconv.FormatInt(step, 10), false},
		{step, strconv.FormatInt(step+1, 10), false},
		{step, "garbled", true},
	} {
		g.Expect(TOTPStepFresh(tc.step, tc.lastUsed)).To(Equal(tc.fresh), "last used %q", tc.lastUsed)
	}
}
