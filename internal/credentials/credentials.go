// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package credentials holds the pure functions behind a Member's credentials: random passwords,
// bcrypt hashes and TOTP secrets. Randomness comes in as an io.Reader (crypto/rand.Reader in the
// operator) and time as a value, so every function is deterministic under test.
package credentials

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/crypto/bcrypt"
)

// MinBcryptCost is the lowest bcrypt cost accepted: below it an offline attack on a leaked hash is
// cheap.
const MinBcryptCost = 10

// maxPasswordBytes is how much of a password bcrypt reads.
const maxPasswordBytes = 72

// GeneratedPasswordLength is the length of generated passwords: 24 characters from a 56-symbol
// alphabet is about 139 bits.
const GeneratedPasswordLength = 24

// passwordAlphabet leaves out look-alikes (0/O, 1/l/I) so a password read aloud or copied by hand
// survives.
const passwordAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// GeneratePassword returns n characters drawn uniformly from the alphabet using random.
func GeneratePassword(random io.Reader, n int) (string, error) {
	if n < 20 {
		return "", fmt.Errorf("generated passwords must have at least 20 characters, not %d", n)
	}
	out := make([]byte, n)
	for i := range out {
		k, err := randIndex(random, len(passwordAlphabet))
		if err != nil {
			return "", fmt.Errorf("read randomness: %w", err)
		}
		out[i] = passwordAlphabet[k]
	}
	return string(out), nil
}

// randIndex returns a uniform index below n (at most 256) from random, by rejection sampling over
// single bytes so that no symbol is more likely than another.
func randIndex(random io.Reader, n int) (int, error) {
	limit := 256 - 256%n
	var b [1]byte
	for {
		if _, err := io.ReadFull(random, b[:]); err != nil {
			return 0, err
		}
		if int(b[0]) < limit {
			return int(b[0]) % n, nil
		}
	}
}

// HashPassword returns the bcrypt hash of password at cost (at least MinBcryptCost). bcrypt reads
// at most 72 bytes, so longer passwords are refused instead of silently truncated.
func HashPassword(password string, cost int) ([]byte, error) {
	if cost < MinBcryptCost {
		return nil, fmt.Errorf("bcrypt cost %d is below the minimum %d", cost, MinBcryptCost)
	}
	if len(password) > maxPasswordBytes {
		return nil, errors.New("password is longer than 72 bytes, which bcrypt cannot hash")
	}
	if password == "" {
		return nil, errors.New("password is empty")
	}
	return bcrypt.GenerateFromPassword([]byte(password), cost)
}

// CheckImportedHash checks a bcrypt hash imported instead of a password (a Secret's
// password-hash key): it must parse as bcrypt, at a cost of at least MinBcryptCost. No bcrypt
// work is spent: only its header is read.
func CheckImportedHash(hash []byte) error {
	cost, err := bcrypt.Cost(hash)
	if err != nil {
		return errors.New("it is not a bcrypt hash ($2a$, $2b$ or $2y$)")
	}
	if cost < MinBcryptCost {
		return fmt.Errorf("its bcrypt cost is %d; at least %d is required", cost, MinBcryptCost)
	}
	return nil
}

// VerifyPassword reports whether password matches hash, in constant time. A password longer than
// bcrypt's 72 bytes never matches: bcrypt would compare only its first 72 bytes.
func VerifyPassword(hash []byte, password string) bool {
	if len(password) > maxPasswordBytes {
		return false
	}
	return bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
}

// TOTP is a time-based one-time password enrolment.
type TOTP struct {
	// Secret is the base32 shared secret.
	Secret string
	// URI is the otpauth:// URI an authenticator app scans (as a QR code).
	URI string
}

// NewTOTP generates a TOTP secret for account (the login email) at issuer (the store's name):
// SHA1, 6 digits, 30-second period, which every authenticator app supports.
func NewTOTP(random io.Reader, issuer, account string) (TOTP, error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		SecretSize:  20,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
		Rand:        random,
	})
	if err != nil {
		return TOTP{}, fmt.Errorf("generate TOTP secret: %w", err)
	}
	return TOTP{Secret: key.Secret(), URI: TOTPURI(issuer, account, key.Secret())}, nil
}

// TOTPURI is the otpauth:// URI of an existing secret, for account at issuer. It is a pure
// function of its arguments, so a URI can follow a changed login email or store name without a
// new secret.
func TOTPURI(issuer, account, secret string) string {
	v := url.Values{}
	v.Set("secret", secret)
	v.Set("issuer", issuer)
	v.Set("algorithm", "SHA1")
	v.Set("digits", "6")
	v.Set("period", "30")
	// Spaces as %20, not '+': some authenticator apps show a '+' literally.
	query := strings.ReplaceAll(v.Encode(), "+", "%20")
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + account, RawQuery: query}
	return u.String()
}

// totpPeriod is the TOTP time step in seconds, as every authenticator app uses.
const totpPeriod = 30

// ValidateTOTP reports whether code is valid for secret at now, allowing one period of clock skew
// either way.
func ValidateTOTP(secret, code string, now time.Time) bool {
	_, ok := MatchTOTP(secret, code, now)
	return ok
}

// MatchTOTP returns the time step (Unix seconds / 30) whose code for secret is code, allowing one
// step of clock skew either way; ok is false when none matches. The step is what makes a code
// single use: a caller records the last step used and refuses any step not after it.
func MatchTOTP(secret, code string, now time.Time) (step int64, ok bool) {
	if len(code) != int(otp.DigitsSix) {
		return 0, false
	}
	current := now.Unix() / totpPeriod
	for _, candidate := range []int64{current - 1, current, current + 1} {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(candidate*totpPeriod, 0).UTC(), totp.ValidateOpts{
			Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
		})
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return candidate, true
		}
	}
	return 0, false
}

// TOTPStepFresh reports whether a code of step may be accepted when lastUsed (empty when none)
// records the last step already accepted: only a later step may. A garbled record refuses
// nothing, so a broken annotation cannot lock anybody out.
func TOTPStepFresh(step int64, lastUsed string) bool {
	last, err := strconv.ParseInt(lastUsed, 10, 64)
	return err != nil || step > last
}
