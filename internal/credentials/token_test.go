// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package credentials

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

func TestTokenRoundTrip(t *testing.T) {
	g := NewWithT(t)
	tok, err := NewToken(rand.Reader)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(tok.ID).To(MatchRegexp(`^[0-9a-f]{24}$`), "lowercase hex: a valid label value")
	g.Expect(tok.Secret).To(HaveLen(43), "256 bits")

	parsed, err := ParseToken(tok.String())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(parsed).To(Equal(tok))

	hash := HashTokenSecret(tok.Secret)
	g.Expect(hash).To(HaveLen(64))
	g.Expect(hash).NotTo(ContainSubstring(tok.Secret))
	g.Expect(TokenMatches(hash, tok.Secret)).To(BeTrue())

	other, err := NewToken(rand.Reader)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(TokenMatches(hash, other.Secret)).To(BeFalse(), "a rotated token does not match the old hash")
	g.Expect(other.ID).NotTo(Equal(tok.ID))
}

func TestNewTokenIsDeterministicForADeterministicSource(t *testing.T) {
	g := NewWithT(t)
	stream := bytes.Repeat([]byte{7}, 44)
	a, err := NewToken(bytes.NewReader(stream))
	g.Expect(err).NotTo(HaveOccurred())
	b, err := NewToken(bytes.NewReader(stream))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(a).To(Equal(b))
	_, err = NewToken(bytes.NewReader(stream[:20]))
	g.Expect(err).To(MatchError(ContainSubstring("read randomness")))
}

func TestParseTokenRefusesMalformedTokens(t *testing.T) {
	good, err := NewToken(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{
		"",
		"no-dot",
		good.ID,
		good.ID + ".",
		"." + good.Secret,
		good.ID + "." + good.Secret + "x",
		good.ID[:23] + "." + good.Secret,
		strings.Repeat("A", 24) + "." + good.Secret, // upper-case hex
		good.ID + "." + strings.Repeat("!", 43),
		good.ID + "." + good.Secret + ".extra",
	} {
		t.Run(raw, func(t *testing.T) {
			g := NewWithT(t)
			_, err := ParseToken(raw)
			g.Expect(err).To(MatchError(ErrMalformedToken))
		})
	}
}

func TestKeyedStreamGivesTheSameTokenForTheSameKeyAndContextOnly(t *testing.T) {
	g := NewWithT(t)
	key := bytes.Repeat([]byte{42}, 32)
	token := func(key []byte, context ...string) Token {
		stream, err := KeyedStream(key, context...)
		g.Expect(err).NotTo(HaveOccurred())
		tok, err := NewToken(stream)
		g.Expect(err).NotTo(HaveOccurred())
		return tok
	}
	first := token(key, "uid-1", "round-1")
	g.Expect(token(key, "uid-1", "round-1")).To(Equal(first), "a retry rebuilds the same link")
	g.Expect(token(key, "uid-1", "round-2")).NotTo(Equal(first), "a resend rotates it")
	g.Expect(token(key, "uid-2", "round-1")).NotTo(Equal(first))
	g.Expect(token(key, "uid-1round-1")).NotTo(Equal(first), "context parts are separated")
	g.Expect(token(bytes.Repeat([]byte{43}, 32), "uid-1", "round-1")).NotTo(Equal(first), "another key, another token")

	_, err := KeyedStream(key[:31], "uid-1")
	g.Expect(err).To(MatchError(ContainSubstring("at least 32")))

	// The stream spans HMAC blocks without repeating: 44 bytes need two.
	stream, err := KeyedStream(key, "x")
	g.Expect(err).NotTo(HaveOccurred())
	buf := make([]byte, 64)
	_, err = stream.Read(buf)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(buf[:32]).NotTo(Equal(buf[32:]))
}
