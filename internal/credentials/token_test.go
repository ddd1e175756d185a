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
	g.Expect(tok.ID).To(HaveLen(16))
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
		good.ID[:15] + "." + good.Secret,
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
