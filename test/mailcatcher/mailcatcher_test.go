// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package mailcatcher_test

import (
	"context"
	"net/smtp"
	"os"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/storeops/member-operator/test/mailcatcher"
)

func send(t *testing.T, addr, from, to, subject string) {
	t.Helper()
	msg := "From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject + "\r\n\r\nHello.\r\n"
	if err := smtp.SendMail(addr, nil, from, []string{to}, []byte(msg)); err != nil {
		t.Fatalf("send: %v", err)
	}
}

func TestCatcherKeepsAndSavesMessages(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	var log strings.Builder
	c, err := mailcatcher.Start(mailcatcher.Options{Dir: dir, Log: &log})
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { g.Expect(c.Close()).To(Succeed()) }()

	send(t, c.Addr(), "no-reply@example.com", "dave@example.com", "=?UTF-8?Q?Welkom_bij_Acme_=E2=80=93_winkel?=")
	send(t, c.Addr(), "no-reply@example.com", "erin@example.com", "Second")

	msgs := c.Messages()
	g.Expect(msgs).To(HaveLen(2))
	g.Expect(msgs[0].From).To(Equal("no-reply@example.com"))
	g.Expect(msgs[0].To).To(Equal([]string{"dave@example.com"}))
	g.Expect(msgs[0].Subject()).To(Equal("Welkom bij Acme – winkel"), "encoded words are decoded")

	saved, err := os.ReadFile(msgs[1].Path)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(saved)).To(ContainSubstring("Subject: Second"))
	entries, err := os.ReadDir(dir)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(entries).To(HaveLen(2))

	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	g.Expect(lines).To(HaveLen(2), "one line per email")
	g.Expect(lines[1]).To(ContainSubstring(`erin@example.com: "Second"`))
}

func TestWaitForReturnsOnArrivalAndHonoursContext(t *testing.T) {
	g := NewWithT(t)
	c, err := mailcatcher.Start(mailcatcher.Options{})
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = c.Close() }()

	got := make(chan mailcatcher.Message, 1)
	go func() {
		m, err := c.WaitFor(context.Background(), func(m mailcatcher.Message) bool { return m.To[0] == "late@example.com" })
		if err == nil {
			got <- m
		}
	}()
	send(t, c.Addr(), "a@example.com", "other@example.com", "not this one")
	send(t, c.Addr(), "a@example.com", "late@example.com", "this one")
	g.Eventually(got).WithTimeout(10 * time.Second).Should(Receive(WithTransform(mailcatcher.Message.Subject, Equal("this one"))))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.WaitFor(ctx, func(mailcatcher.Message) bool { return false })
	g.Expect(err).To(MatchError(context.Canceled))
}

func TestSuspendRefusesConnectionsAndResumeServesOnTheSameAddress(t *testing.T) {
	g := NewWithT(t)
	c, err := mailcatcher.Start(mailcatcher.Options{})
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = c.Close() }()
	addr := c.Addr()
	send(t, addr, "a@example.com", "before@example.com", "before")

	g.Expect(c.Suspend()).To(Succeed())
	g.Expect(c.Suspend()).To(Succeed(), "suspending twice is harmless")
	err = smtp.SendMail(addr, nil, "a@example.com", []string{"during@example.com"}, []byte("Subject: during\r\n\r\nx\r\n"))
	g.Expect(err).To(MatchError(ContainSubstring("connection refused")))

	g.Expect(c.Resume()).To(Succeed())
	g.Expect(c.Resume()).To(Succeed(), "resuming a running catcher is harmless")
	g.Expect(c.Addr()).To(Equal(addr))
	send(t, addr, "a@example.com", "after@example.com", "after")
	subjects := make([]string, 0, 2)
	for _, m := range c.Messages() {
		subjects = append(subjects, m.Subject())
	}
	g.Expect(subjects).To(Equal([]string{"before", "after"}), "what arrived before the outage is kept")
}
