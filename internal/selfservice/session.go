// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package selfservice

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// The account page's session: a cookie the server signs (HMAC-SHA256 with a key derived from the
// token key every replica shares, so any replica accepts it) that names the person by email and
// carries a fingerprint of their password hash, so a changed password ends every session at its
// next request. It is HttpOnly, Secure, SameSite=Strict and host-only (the __Host- prefix);
// it ends after SessionIdle without a request and after SessionLifetime in any case, and when
// the person has no Active membership left. Nothing secret is in it: the fingerprint is a hash
// of a hash.

// SessionCookie is the name of the account page's session cookie.
const SessionCookie = "__Host-storeops-session"

// Default session limits.
const (
	DefaultSessionIdle     = 30 * time.Minute
	DefaultSessionLifetime = 12 * time.Hour
)

// session is what the cookie says.
type session struct {
	Email       string `json:"e"`
	Fingerprint string `json:"f"`
	Issued      int64  `json:"i"`
	Seen        int64  `json:"s"`
}

// fingerprint ties a session to the password it was opened with.
func fingerprint(acct *account) string {
	sum := sha256.Sum256(append([]byte("session/"), acct.credentials.Data[membershipv1alpha1.CredentialPasswordHash]...))
	return hex.EncodeToString(sum[:16])
}

func (s *Service) sign(payload []byte) []byte {
	mac := hmac.New(sha256.New, s.SessionKey)
	mac.Write(payload)
	return mac.Sum(nil)
}

// setSession writes the cookie for sess.
func (s *Service) setSession(w http.ResponseWriter, sess session) {
	if len(s.SessionKey) < 32 {
		return // no key to sign with: no sessions (readSession refuses them all)
	}
	payload, _ := json.Marshal(sess) // plain strings and numbers: cannot fail
	value := base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(s.sign(payload))
	dropSessionCookie(w)
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: value, Path: "/", HttpOnly: true, Secure: true,
		SameSite: http.SameSiteStrictMode, MaxAge: int(s.sessionIdle().Seconds())})
}

// dropSessionCookie takes back a session cookie this answer already set (the idle renewal at the
// start of a request whose password change then opens a new session): one answer sets it once.
func dropSessionCookie(w http.ResponseWriter) {
	header := w.Header()
	kept := header.Values("Set-Cookie")[:0:0]
	for _, c := range header.Values("Set-Cookie") {
		if !strings.HasPrefix(c, SessionCookie+"=") {
			kept = append(kept, c)
		}
	}
	header.Del("Set-Cookie")
	for _, c := range kept {
		header.Add("Set-Cookie", c)
	}
}

// clearSession tells the browser to forget the cookie.
func clearSession(w http.ResponseWriter) {
	dropSessionCookie(w)
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: true,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

func (s *Service) sessionIdle() time.Duration {
	if s.SessionIdle > 0 {
		return s.SessionIdle
	}
	return DefaultSessionIdle
}

func (s *Service) sessionLifetime() time.Duration {
	if s.SessionLifetime > 0 {
		return s.SessionLifetime
	}
	return DefaultSessionLifetime
}

// readSession is the request's session when its signature holds and it has not run out; false
// otherwise (no cookie, forged, idle too long, too old).
func (s *Service) readSession(r *http.Request) (session, bool) {
	if len(s.SessionKey) < 32 {
		return session{}, false
	}
	cookie, err := r.Cookie(SessionCookie)
	if err != nil || len(cookie.Value) > 1024 {
		return session{}, false
	}
	encoded, signature, ok := strings.Cut(cookie.Value, ".")
	if !ok {
		return session{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(encoded)
	if err != nil {
		return session{}, false
	}
	mac, err := base64.RawURLEncoding.DecodeString(signature)
	if err != nil || !hmac.Equal(mac, s.sign(payload)) {
		return session{}, false
	}
	var sess session
	if json.Unmarshal(payload, &sess) != nil {
		return session{}, false
	}
	now := s.Clock.Now()
	if now.Sub(time.Unix(sess.Seen, 0)) >= s.sessionIdle() || now.Sub(time.Unix(sess.Issued, 0)) >= s.sessionLifetime() {
		return session{}, false
	}
	return sess, true
}

// signedIn resolves the request's session to the person's login, renewing the cookie's idle time;
// nil (and the cookie cleared) when there is none, or the password changed since, or the person
// has no Active membership left.
func (s *Service) signedIn(ctx context.Context, w http.ResponseWriter, r *http.Request) (*account, error) {
	sess, ok := s.readSession(r)
	if !ok {
		if _, err := r.Cookie(SessionCookie); err == nil {
			clearSession(w)
		}
		return nil, nil
	}
	acct, err := s.findAccount(ctx, "", sess.Email)
	if err != nil {
		return nil, err
	}
	if acct == nil || !hmac.Equal([]byte(fingerprint(acct)), []byte(sess.Fingerprint)) {
		clearSession(w)
		return nil, nil
	}
	sess.Seen = s.Clock.Now().Unix()
	s.setSession(w, sess)
	return acct, nil
}

// openSession starts a session for the person who just signed in.
func (s *Service) openSession(w http.ResponseWriter, acct *account) {
	now := s.Clock.Now().Unix()
	s.setSession(w, session{Email: string(acct.member.Spec.Email), Fingerprint: fingerprint(acct), Issued: now, Seen: now})
}
