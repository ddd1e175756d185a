// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package credentials

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Token sizes: the ID locates the token's Secret (through a label index) without scanning; the
// secret is 256 random bits and is never stored, only its SHA-256. The ID is lowercase hex so
// that it is a valid label value (base64url may begin or end with "-" or "_", which labels refuse).
const (
	tokenIDBytes     = 12
	tokenSecretBytes = 32
)

// ErrMalformedToken is returned for a token that cannot have been issued by NewToken.
var ErrMalformedToken = errors.New("malformed token")

// Token is a single-use link token: "<id>.<secret>" in URLs.
type Token struct {
	// ID is public: it names which stored hash to compare with.
	ID string
	// Secret is the part only the recipient of the email has.
	Secret string
}

// NewToken draws a token from random (crypto/rand.Reader, or a keyed deterministic stream when
// the same token must be rebuilt for a retried email).
func NewToken(random io.Reader) (Token, error) {
	id := make([]byte, tokenIDBytes)
	secret := make([]byte, tokenSecretBytes)
	if _, err := io.ReadFull(random, id); err != nil {
		return Token{}, fmt.Errorf("read randomness: %w", err)
	}
	if _, err := io.ReadFull(random, secret); err != nil {
		return Token{}, fmt.Errorf("read randomness: %w", err)
	}
	return Token{ID: hex.EncodeToString(id), Secret: base64.RawURLEncoding.EncodeToString(secret)}, nil
}

// KeyedStream is a deterministic byte stream for NewToken: HMAC-SHA256(key, counter || context),
// block after block. The same key and context (e.g. an Invitation's UID and send round) give the
// same token, so a retried email carries the same link; without the key the token cannot be
// derived from anything stored in the cluster. key must hold at least 32 random bytes.
func KeyedStream(key []byte, context ...string) (io.Reader, error) {
	if len(key) < 32 {
		return nil, fmt.Errorf("token key has %d bytes; at least 32 are needed", len(key))
	}
	return &keyedStream{key: key, context: strings.Join(context, "\x00")}, nil
}

type keyedStream struct {
	key     []byte
	context string
	counter uint32
	buf     []byte
}

func (s *keyedStream) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(s.buf) == 0 {
			mac := hmac.New(sha256.New, s.key)
			var ctr [4]byte
			binary.BigEndian.PutUint32(ctr[:], s.counter)
			s.counter++
			mac.Write(ctr[:])
			mac.Write([]byte(s.context))
			s.buf = mac.Sum(nil)
		}
		c := copy(p[n:], s.buf)
		s.buf = s.buf[c:]
		n += c
	}
	return n, nil
}

// String is the token as it appears in a link.
func (t Token) String() string { return t.ID + "." + t.Secret }

// ParseToken splits a link token and checks its shape; it says nothing about whether the token
// is known. Its error never repeats the input.
func ParseToken(raw string) (Token, error) {
	id, secret, ok := strings.Cut(raw, ".")
	enc := base64.RawURLEncoding
	if !ok || len(id) != 2*tokenIDBytes || enc.DecodedLen(len(secret)) != tokenSecretBytes {
		return Token{}, ErrMalformedToken
	}
	if _, err := hex.DecodeString(id); err != nil || strings.ToLower(id) != id {
		return Token{}, ErrMalformedToken
	}
	if _, err := enc.DecodeString(secret); err != nil {
		return Token{}, ErrMalformedToken
	}
	return Token{ID: id, Secret: secret}, nil
}

// HashTokenSecret is what is stored for a token: the hex SHA-256 of its secret. A fast hash is
// enough here (unlike passwords): the secret has 256 random bits, so there is nothing to guess.
func HashTokenSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// TokenMatches compares a presented secret with a stored hash in constant time.
func TokenMatches(storedHash, secret string) bool {
	return subtle.ConstantTimeCompare([]byte(storedHash), []byte(HashTokenSecret(secret))) == 1
}

// InvitationToken is the link token of an invitation's send round, derived from key (see
// KeyedStream): the controller rebuilds it for a retried email, and the acceptance server rebuilds
// the IDs of every round to find an invitation by a presented token's ID.
func InvitationToken(key []byte, invitationUID string, round int32) (Token, error) {
	stream, err := KeyedStream(key, "invitation", invitationUID, strconv.Itoa(int(round)))
	if err != nil {
		return Token{}, err
	}
	return NewToken(stream)
}

// SecretMatches compares a presented token secret with an expected one in constant time.
func SecretMatches(expected, presented string) bool {
	return subtle.ConstantTimeCompare([]byte(expected), []byte(presented)) == 1
}
