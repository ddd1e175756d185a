// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package mailcatcher is a real SMTP server that keeps every message it receives, for `make dev`
// and for tests: the operator sends over SMTP exactly as it would to a production relay, and the
// catcher stores each message in memory and, when asked, as an .eml file a mail client can open.
package mailcatcher

import (
	"bytes"
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// MaxMessageBytes bounds one message; larger ones are refused with an SMTP error.
const MaxMessageBytes = 10 << 20

// Message is one received email.
type Message struct {
	// From is the envelope sender (MAIL FROM).
	From string
	// To are the envelope recipients (RCPT TO).
	To []string
	// Data is the raw message as received: headers and body.
	Data []byte
	// Received is when the message was accepted.
	Received time.Time
	// Path is the .eml file the message was saved to, when the catcher has a directory.
	Path string
}

// Header parses the message's headers.
func (m Message) Header() (mail.Header, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return nil, err
	}
	return msg.Header, nil
}

// Subject is the decoded Subject header, or "" when it cannot be read.
func (m Message) Subject() string {
	h, err := m.Header()
	if err != nil {
		return ""
	}
	var dec mime.WordDecoder
	s, err := dec.DecodeHeader(h.Get("Subject"))
	if err != nil {
		return h.Get("Subject")
	}
	return s
}

// Options configure a Catcher.
type Options struct {
	// Addr is the address to listen on; "127.0.0.1:0" picks a free port.
	Addr string
	// Dir, when set, receives one .eml file per message.
	Dir string
	// Log, when set, receives one line per message.
	Log io.Writer
	// Username and Password, when set, are required through SMTP AUTH PLAIN.
	Username, Password string
	// TLSConfig, when set, enables STARTTLS (or implicit TLS with ImplicitTLS).
	TLSConfig   *tls.Config
	ImplicitTLS bool
	// ShowLinks adds the links of each message's text part to its Log line, so a developer
	// running `make dev` can follow an invitation link from the terminal, as from an inbox.
	ShowLinks bool
}

// Catcher is a running SMTP server that keeps what it receives. It can be taken down and brought
// back on the same address (Suspend, Resume), as an SMTP relay's outage.
type Catcher struct {
	opts Options
	addr string // the resolved listening address, kept across Suspend and Resume

	mu       sync.Mutex
	server   *smtp.Server  // nil while suspended
	listener net.Listener  // nil while suspended
	done     chan struct{} // closed when the current server's Serve returns
	messages []Message
	changed  chan struct{} // closed and replaced whenever a message arrives
}

// Start listens on opts.Addr and serves SMTP until Close.
func Start(opts Options) (*Catcher, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.ImplicitTLS && opts.TLSConfig == nil {
		return nil, errors.New("ImplicitTLS needs a TLSConfig")
	}
	if opts.Dir != "" {
		if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
			return nil, fmt.Errorf("mail directory: %w", err)
		}
	}
	c := &Catcher{opts: opts, addr: opts.Addr, changed: make(chan struct{})}
	if err := c.serve(); err != nil {
		return nil, err
	}
	return c, nil
}

// serve listens on c.addr and serves until the server is closed. Called with c.mu not held.
func (c *Catcher) serve() error {
	l, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listen for SMTP on %s: %w", c.addr, err)
	}
	if c.opts.ImplicitTLS {
		l = tls.NewListener(l, c.opts.TLSConfig)
	}
	server := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{catcher: c}, nil
	}))
	server.Domain = "mailcatcher.local"
	server.MaxMessageBytes = MaxMessageBytes
	server.MaxRecipients = 50
	server.ReadTimeout = time.Minute
	server.WriteTimeout = time.Minute
	if !c.opts.ImplicitTLS {
		server.TLSConfig = c.opts.TLSConfig // go-smtp offers STARTTLS when set
	}
	// Without TLS the catcher is a local test fixture: allow AUTH over plain text there.
	server.AllowInsecureAuth = c.opts.TLSConfig == nil
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = server.Serve(l)
	}()
	c.mu.Lock()
	c.server, c.listener, c.done, c.addr = server, l, done, l.Addr().String()
	c.mu.Unlock()
	return nil
}

// Suspend takes the server down as an outage would: the listener closes (new connections are
// refused) and open sessions are cut. Messages received so far are kept. Suspending a suspended
// catcher does nothing.
func (c *Catcher) Suspend() error {
	c.mu.Lock()
	server, l, done := c.server, c.listener, c.done
	c.server, c.listener = nil, nil
	c.mu.Unlock()
	if server == nil {
		return nil
	}
	err := server.Close()
	// go-smtp closes only the listeners Serve has registered; one closed right after Start may not
	// be yet, so close ours too or Serve would accept forever.
	_ = l.Close()
	<-done
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Resume serves again on the same address after Suspend; it does nothing while serving.
func (c *Catcher) Resume() error {
	c.mu.Lock()
	serving := c.server != nil
	c.mu.Unlock()
	if serving {
		return nil
	}
	return c.serve()
}

// Addr is the address the catcher listens on, such as 127.0.0.1:41234.
func (c *Catcher) Addr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addr
}

// URL is an SMTP URL for the catcher, suitable for the operator's --smtp-url: smtps:// with
// implicit TLS, smtp:// with STARTTLS, or smtp://...?tls=none without TLS. It carries the user
// name, not the password.
func (c *Catcher) URL() string {
	user := ""
	if c.opts.Username != "" {
		user = url.User(c.opts.Username).String() + "@"
	}
	switch {
	case c.opts.ImplicitTLS:
		return "smtps://" + user + c.Addr()
	case c.opts.TLSConfig != nil:
		return "smtp://" + user + c.Addr()
	default:
		return "smtp://" + user + c.Addr() + "?tls=none"
	}
}

// Close stops the server and waits for it to finish.
func (c *Catcher) Close() error { return c.Suspend() }

// Messages returns a copy of every message received so far, oldest first.
func (c *Catcher) Messages() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Message(nil), c.messages...)
}

// WaitFor blocks until a received message satisfies match, and returns the first that does.
func (c *Catcher) WaitFor(ctx context.Context, match func(Message) bool) (Message, error) {
	for {
		c.mu.Lock()
		for _, m := range c.messages {
			if match(m) {
				c.mu.Unlock()
				return m, nil
			}
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return Message{}, fmt.Errorf("waiting for an email: %w", ctx.Err())
		}
	}
}

func (c *Catcher) deliver(m Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.opts.Dir != "" {
		name := fmt.Sprintf("%s-%04d.eml", m.Received.UTC().Format("20060102T150405.000000000Z"), len(c.messages)+1)
		m.Path = filepath.Join(c.opts.Dir, name)
		if err := os.WriteFile(m.Path, m.Data, 0o600); err != nil {
			return fmt.Errorf("save message: %w", err)
		}
	}
	c.messages = append(c.messages, m)
	close(c.changed)
	c.changed = make(chan struct{})
	if c.opts.Log != nil {
		line := fmt.Sprintf("mail: %s -> %s: %q", m.From, strings.Join(m.To, ", "), m.Subject())
		if m.Path != "" {
			line += " saved as " + m.Path
		}
		if c.opts.ShowLinks {
			if body, err := m.Body(); err == nil {
				for _, link := range linkPattern.FindAllString(body.Text, -1) {
					line += "\n      link: " + link
				}
			}
		}
		_, _ = fmt.Fprintln(c.opts.Log, line)
	}
	return nil
}

// session collects one SMTP transaction.
type session struct {
	catcher       *Catcher
	authenticated bool
	from          string
	to            []string
}

var _ smtp.AuthSession = &session{}

func (s *session) AuthMechanisms() []string {
	if s.catcher.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, username, password string) error {
		if subtle.ConstantTimeCompare([]byte(username), []byte(s.catcher.opts.Username)) != 1 ||
			subtle.ConstantTimeCompare([]byte(password), []byte(s.catcher.opts.Password)) != 1 {
			return smtp.ErrAuthFailed
		}
		s.authenticated = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.catcher.opts.Username != "" && !s.authenticated {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	return s.catcher.deliver(Message{From: s.from, To: s.to, Data: data, Received: time.Now()})
}

func (s *session) Reset() {
	s.from = ""
	s.to = nil
}

func (s *session) Logout() error { return nil }
