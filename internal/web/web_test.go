// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestPasswordPolicy(t *testing.T) {
	for _, tc := range []struct {
		name, password, confirmation string
		confirm                      bool
		wantField, wantCode          string
	}{
		{"good", "correct horse battery", "correct horse battery", true, "", ""},
		{"good without confirmation (JSON)", "correct horse battery", "", false, "", ""},
		{"11 bytes", "abcdefghijk", "abcdefghijk", true, "password", "too-short"},
		{"12 bytes", "abcdefghijkl", "abcdefghijkl", true, "", ""},
		{"72 bytes", strings.Repeat("x", 72), strings.Repeat("x", 72), true, "", ""},
		{"73 bytes", strings.Repeat("x", 73), strings.Repeat("x", 73), true, "password", "too-long"},
		{"12 runes but more bytes is fine", "パスワード一二三四五六七", "パスワード一二三四五六七", true, "", ""},
		{"contains the local part, any case", "my-DAVE.SMITH-password", "my-DAVE.SMITH-password", true, "password", "contains-email"},
		{"mismatch", "correct horse battery", "correct horse battery!", true, "passwordConfirmation", "mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			fe := CheckPassword(tc.password, tc.confirmation, tc.confirm, "dave.smith@example.com")
			if tc.wantField == "" {
				g.Expect(fe).To(BeNil())
				return
			}
			g.Expect(fe).NotTo(BeNil())
			g.Expect(fe.Field).To(Equal(tc.wantField))
			g.Expect(fe.Code).To(Equal(tc.wantCode))
			g.Expect(fe.Message).To(HavePrefix(tc.wantField+":"), "the message names the field")
			g.Expect(fe.Message).NotTo(ContainSubstring(tc.password), "never echoes the password")
		})
	}
}

func TestDisplayName(t *testing.T) {
	g := NewWithT(t)
	g.Expect(CheckDisplayName("")).To(BeNil())
	g.Expect(CheckDisplayName("Dave <b>Smith</b>")).To(BeNil(), "shown escaped, so allowed")
	g.Expect(CheckDisplayName("Dave\nBcc: x")).NotTo(BeNil())
	g.Expect(CheckDisplayName(strings.Repeat("あ", 100))).To(BeNil())
	g.Expect(CheckDisplayName(strings.Repeat("あ", 101))).NotTo(BeNil())
}

func TestEveryLocaleHasEveryText(t *testing.T) {
	g := NewWithT(t)
	for locale, m := range Texts {
		g.Expect(m).To(HaveLen(len(Texts["en"])), locale)
		for key := range Texts["en"] {
			g.Expect(m).To(HaveKey(key), locale)
		}
	}
}

func TestKeyedLimiterRefusesOverTheBurstAndRefills(t *testing.T) {
	g := NewWithT(t)
	l := NewKeyedLimiter(1, 3, 10)
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for range 3 {
		g.Expect(l.Allow("a", now)).To(BeTrue())
	}
	g.Expect(l.Allow("a", now)).To(BeFalse())
	g.Expect(l.Allow("b", now)).To(BeTrue(), "another key has its own bucket")
	g.Expect(l.Allow("a", now.Add(time.Second))).To(BeTrue(), "refilled at the rate")
	g.Expect(l.Allow("a", now.Add(time.Second))).To(BeFalse())
}

// A flood of distinct keys evicts the least recently used ones: memory stays bounded and a new
// key is never refused because the table is full.
func TestKeyedLimiterEvictsTheLeastRecentlyUsedWhenFull(t *testing.T) {
	g := NewWithT(t)
	l := NewKeyedLimiter(0.001, 2, 3)
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	g.Expect(l.Allow("busy", now)).To(BeTrue())
	g.Expect(l.Allow("busy", now)).To(BeTrue())
	g.Expect(l.Allow("busy", now)).To(BeFalse(), "busy is over its limit")
	for i := range 1000 {
		g.Expect(l.Allow(fmt.Sprintf("flood-%d", i), now)).To(BeTrue(), "a full table refuses nobody")
		g.Expect(l.Len()).To(BeNumerically("<=", 3))
	}
	g.Expect(l.Allow("legit", now)).To(BeTrue())
	g.Expect(l.Allow("busy", now)).To(BeTrue(), "busy was evicted and starts again full")

	recent := NewKeyedLimiter(0.001, 1, 2)
	g.Expect(recent.Allow("kept", now)).To(BeTrue())
	g.Expect(recent.Allow("other", now)).To(BeTrue())
	g.Expect(recent.Allow("kept", now)).To(BeFalse(), "touching kept makes it the most recently used")
	g.Expect(recent.Allow("third", now)).To(BeTrue(), "evicts other, not kept")
	g.Expect(recent.Allow("kept", now)).To(BeFalse(), "kept's spent bucket is still there")
}

// A failure budget is reserved before the costly check and given back on success: concurrent
// attempts cannot all pass, and successes cost nothing.
func TestKeyedLimiterReservesAndRefunds(t *testing.T) {
	g := NewWithT(t)
	l := NewKeyedLimiter(0.001, 5, 10)
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	var granted atomic.Int32
	var wg sync.WaitGroup
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, ok := l.Reserve("account", now); ok {
				granted.Add(1)
			}
		}()
	}
	wg.Wait()
	g.Expect(granted.Load()).To(BeEquivalentTo(5), "200 at once: only the burst gets through")

	fresh := NewKeyedLimiter(0.001, 2, 10)
	for range 10 {
		refund, ok := fresh.Reserve("account", now)
		g.Expect(ok).To(BeTrue(), "every success is refunded")
		refund()
	}
	_, ok := fresh.Reserve("account", now)
	g.Expect(ok).To(BeTrue())
	_, ok = fresh.Reserve("account", now)
	g.Expect(ok).To(BeTrue())
	_, ok = fresh.Reserve("account", now)
	g.Expect(ok).To(BeFalse(), "failures (not refunded) spend the budget")
}

func TestClientKeyBucketsIPv6ByItsSlash64(t *testing.T) {
	g := NewWithT(t)
	g.Expect(ClientKey(netip.MustParseAddr("2001:db8:1:2:aaaa::1"))).To(Equal("2001:db8:1:2::/64"))
	g.Expect(ClientKey(netip.MustParseAddr("2001:db8:1:2:ffff:ffff:ffff:ffff"))).To(Equal("2001:db8:1:2::/64"),
		"every address of one /64 is one client")
	g.Expect(ClientKey(netip.MustParseAddr("2001:db8:1:3::1"))).To(Equal("2001:db8:1:3::/64"))
	g.Expect(ClientKey(netip.MustParseAddr("203.0.113.7"))).To(Equal("203.0.113.7"))
	g.Expect(ClientKey(netip.MustParseAddr("::ffff:203.0.113.7"))).To(Equal("203.0.113.7"), "IPv4-mapped is IPv4")
}

func TestClientAddressTrustsOnlyConfiguredProxies(t *testing.T) {
	ingress := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, tc := range []struct {
		name, remote, forwarded string
		trusted                 []netip.Prefix
		want                    string
	}{
		{"direct", "203.0.113.7:5000", "", nil, "203.0.113.7"},
		{"forged header from an untrusted peer", "203.0.113.7:5000", "198.51.100.1", ingress, "203.0.113.7"},
		{"no proxies configured", "10.1.2.3:5000", "198.51.100.1", nil, "10.1.2.3"},
		{"through the ingress", "10.1.2.3:5000", "198.51.100.1", ingress, "198.51.100.1"},
		{"a client-supplied hop before the real one is ignored", "10.1.2.3:5000", "1.1.1.1, 198.51.100.1", ingress, "198.51.100.1"},
		{"two trusted hops", "10.1.2.3:5000", "198.51.100.1, 10.9.9.9", ingress, "198.51.100.1"},
		{"garbled header", "10.1.2.3:5000", "not-an-ip", ingress, "10.1.2.3"},
		{"IPv6 peer", "[2001:db8::1]:5000", "", ingress, "2001:db8::/64"},
		{"IPv6 client through the ingress", "10.1.2.3:5000", "2001:db8:7:7::42", ingress, "2001:db8:7:7::/64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.remote
			if tc.forwarded != "" {
				r.Header.Set("X-Forwarded-For", tc.forwarded)
			}
			g.Expect(ClientAddress(r, tc.trusted)).To(Equal(tc.want))
		})
	}
}
