// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package mail_test

import (
	"context"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/storeops/member-operator/internal/mail"
	"github.com/storeops/member-operator/test/mailcatcher"
)

const from = "Store Team <no-reply@storeops.example>"

func message() mail.Message {
	return mail.Message{
		To:        "bob@example.com",
		MessageID: mail.MessageID("uid-1", "access-removed", "storeops.example"),
		Content:   mail.Content{Subject: "Je toegang tot Acme is ingetrokken", Text: "Hallo Bob\n", HTML: "<p>Hallo Bob</p>"},
	}
}

func TestSendsOverRealSMTP(t *testing.T) {
	serverTLS, roots, err := mailcatcher.SelfSignedTLS()
	if err != nil {
		t.Fatal(err)
	}
	clientTLS := &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	cases := []struct {
		name     string
		catcher  mailcatcher.Options
		password string
	}{
		{name: "plain, local catcher", catcher: mailcatcher.Options{}},
		{name: "STARTTLS with AUTH", catcher: mailcatcher.Options{TLSConfig: serverTLS, Username: "relay", Password: "hunter2hunter2"},
			password: "hunter2hunter2"},
		{name: "implicit TLS with AUTH", catcher: mailcatcher.Options{TLSConfig: serverTLS, ImplicitTLS: true, Username: "relay",
			Password: "hunter2hunter2"}, password: "hunter2hunter2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			catcher, err := mailcatcher.Start(tc.catcher)
			g.Expect(err).NotTo(HaveOccurred())
			defer func() { _ = catcher.Close() }()

			sender, err := mail.NewSMTPSender(mail.SMTPConfig{URL: catcher.URL(), Password: tc.password, From: from, TLSConfig: clientTLS})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(sender.Send(context.Background(), message())).To(Succeed())

			received := catcher.Messages()
			g.Expect(received).To(HaveLen(1))
			g.Expect(received[0].To).To(Equal([]string{"bob@example.com"}))
			g.Expect(received[0].From).To(Equal("no-reply@storeops.example"))
			g.Expect(received[0].Subject()).To(Equal("Je toegang tot Acme is ingetrokken"))
			h, err := received[0].Header()
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(h.Get("Message-Id")).To(Equal("<uid-1.access-removed@storeops.example>"))
			g.Expect(h.Get("Content-Type")).To(HavePrefix("multipart/alternative"))
			g.Expect(string(received[0].Data)).To(And(ContainSubstring("text/plain"), ContainSubstring("text/html")))
		})
	}
}

func TestFailuresAreErrorsWithoutThePassword(t *testing.T) {
	serverTLS, roots, err := mailcatcher.SelfSignedTLS()
	if err != nil {
		t.Fatal(err)
	}
	clientTLS := &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}

	t.Run("wrong password", func(t *testing.T) {
		g := NewWithT(t)
		catcher, err := mailcatcher.Start(mailcatcher.Options{TLSConfig: serverTLS, Username: "relay", Password: "right-password"})
		g.Expect(err).NotTo(HaveOccurred())
		defer func() { _ = catcher.Close() }()
		sender, err := mail.NewSMTPSender(mail.SMTPConfig{URL: catcher.URL(), Password: "wrong-password-xyz", From: from, TLSConfig: clientTLS})
		g.Expect(err).NotTo(HaveOccurred())
		err = sender.Send(context.Background(), message())
		g.Expect(err).To(HaveOccurred())
		g.Expect(err.Error()).NotTo(ContainSubstring("wrong-password-xyz"))
		g.Expect(catcher.Messages()).To(BeEmpty())
	})

	t.Run("STARTTLS required but not offered", func(t *testing.T) {
		g := NewWithT(t)
		catcher, err := mailcatcher.Start(mailcatcher.Options{})
		g.Expect(err).NotTo(HaveOccurred())
		defer func() { _ = catcher.Close() }()
		url := strings.TrimSuffix(catcher.URL(), "?tls=none")
		sender, err := mail.NewSMTPSender(mail.SMTPConfig{URL: url, From: from})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(sender.Send(context.Background(), message())).To(MatchError(ContainSubstring("STARTTLS")))
		g.Expect(catcher.Messages()).To(BeEmpty(), "nothing goes out unencrypted")
	})

	t.Run("server that never answers: the context deadline bounds the wait", func(t *testing.T) {
		g := NewWithT(t)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		g.Expect(err).NotTo(HaveOccurred())
		defer func() { _ = l.Close() }()
		go func() {
			for {
				conn, err := l.Accept()
				if err != nil {
					return
				}
				defer func() { _ = conn.Close() }() // hold it open, say nothing
			}
		}()
		sender, err := mail.NewSMTPSender(mail.SMTPConfig{URL: "smtp://" + l.Addr().String() + "?tls=none", From: from})
		g.Expect(err).NotTo(HaveOccurred())
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- sender.Send(ctx, message()) }()
		g.Eventually(done).WithTimeout(10 * time.Second).Should(Receive(HaveOccurred()))
	})

	t.Run("server down", func(t *testing.T) {
		g := NewWithT(t)
		catcher, err := mailcatcher.Start(mailcatcher.Options{})
		g.Expect(err).NotTo(HaveOccurred())
		url := catcher.URL()
		g.Expect(catcher.Close()).To(Succeed())
		sender, err := mail.NewSMTPSender(mail.SMTPConfig{URL: url, From: from})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(sender.Send(context.Background(), message())).To(MatchError(ContainSubstring("send to bob@example.com")))
	})
}

func TestParseSMTPURL(t *testing.T) {
	cases := []struct {
		url     string
		want    mail.SMTPEndpoint
		wantErr string
	}{
		{url: "smtp://relay:pw@mail.example.com", want: mail.SMTPEndpoint{Host: "mail.example.com", Port: 587,
			TLSPolicy: "mandatory", Username: "relay", Password: "pw"}},
		{url: "smtps://mail.example.com", want: mail.SMTPEndpoint{Host: "mail.example.com", Port: 465, ImplicitTLS: true,
			TLSPolicy: "mandatory"}},
		{url: "smtp://127.0.0.1:1025?tls=none", want: mail.SMTPEndpoint{Host: "127.0.0.1", Port: 1025, TLSPolicy: "none"}},
		{url: "smtp://mail.example.com:25?tls=opportunistic", want: mail.SMTPEndpoint{Host: "mail.example.com", Port: 25,
			TLSPolicy: "opportunistic"}},
		{url: "smtps://mail.example.com?tls=none", wantErr: "contradicts smtps"},
		{url: "smtp://mail.example.com?tls=maybe", wantErr: "tls must be none or opportunistic"},
		{url: "smtp://mail.example.com?debug=1", wantErr: `unknown parameter "debug"`},
		{url: "http://user:secret-pw@mail.example.com", wantErr: "scheme must be smtp"},
		{url: "smtp://user:secret-pw@:25", wantErr: "a host is required"},
		{url: "smtp://user:secret-pw@mail.example.com:0", wantErr: "port must be 1-65535"},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			g := NewWithT(t)
			got, err := mail.ParseSMTPURL(tc.url)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				g.Expect(err.Error()).NotTo(ContainSubstring("secret-pw"))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

func TestNewSMTPSenderRefusesUnsafeSettings(t *testing.T) {
	g := NewWithT(t)
	_, err := mail.NewSMTPSender(mail.SMTPConfig{URL: "smtp://relay@mail.example.com?tls=none", Password: "pw", From: from})
	g.Expect(err).To(MatchError(ContainSubstring("would send the SMTP password unencrypted")))
	_, err = mail.NewSMTPSender(mail.SMTPConfig{URL: "smtp://mail.example.com", Password: "pw", From: from})
	g.Expect(err).To(MatchError(ContainSubstring("no user name")))
	_, err = mail.NewSMTPSender(mail.SMTPConfig{URL: "smtp://mail.example.com", From: "not an address"})
	g.Expect(err).To(MatchError(ContainSubstring("mail from")))
	_, err = mail.NewSMTPSender(mail.SMTPConfig{URL: "smtp://relay@127.0.0.1:1025?tls=none", Password: "pw", From: from})
	g.Expect(err).NotTo(HaveOccurred(), "plain text to a loopback catcher is allowed")
}

// Links in emails are credentials: plain text or strippable STARTTLS to a host across a network
// is refused unless asked for by name, and never with a password.
func TestNewSMTPSenderRefusesPlaintextOverANetwork(t *testing.T) {
	for _, tc := range []struct {
		url, password string
		allowInsecure bool
		wantErr       string
	}{
		{url: "smtp://mail.example.com:25?tls=none", wantErr: "--smtp-allow-insecure"},
		{url: "smtp://mail.example.com:25?tls=opportunistic", wantErr: "--smtp-allow-insecure"},
		{url: "smtp://10.1.2.3:25?tls=none", wantErr: "unencrypted to 10.1.2.3"},
		{url: "smtp://mail.example.com:25?tls=none", allowInsecure: true},
		{url: "smtp://mail.example.com:25?tls=opportunistic", allowInsecure: true},
		{url: "smtp://relay@mail.example.com:25?tls=opportunistic", password: "pw", allowInsecure: true,
			wantErr: "would send the SMTP password unencrypted"},
		{url: "smtp://localhost:1025?tls=none"},
		{url: "smtp://[::1]:1025?tls=opportunistic"},
		{url: "smtp://mail.example.com:587"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			g := NewWithT(t)
			_, err := mail.NewSMTPSender(mail.SMTPConfig{URL: tc.url, Password: tc.password, From: from, AllowInsecure: tc.allowInsecure})
			if tc.wantErr == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
		})
	}
}
