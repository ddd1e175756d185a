// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// DefaultTimeout bounds one SMTP conversation when the caller's context does not end sooner.
const DefaultTimeout = 30 * time.Second

// SMTPConfig configures an SMTPSender.
type SMTPConfig struct {
	// URL is smtp://[user@]host[:port] (STARTTLS required, port 587 by default) or
	// smtps://[user@]host[:port] (implicit TLS, port 465 by default). For a local catcher without
	// TLS, add ?tls=none (plain text) or ?tls=opportunistic (STARTTLS when offered): both only
	// for a loopback host, unless AllowInsecure (and never with a password).
	URL string
	// Password, when set, replaces the password in URL (it comes from $SMTP_PASSWORD).
	Password string
	// From is the From header, e.g. "Store Team <no-reply@example.com>".
	From string
	// Timeout bounds one conversation; DefaultTimeout when zero.
	Timeout time.Duration
	// TLSConfig overrides the TLS settings (tests use it to trust their own CA); by default the
	// system roots verify the server's name.
	TLSConfig *tls.Config
	// AllowInsecure lets tls=none or tls=opportunistic reach a host that is not loopback
	// (--smtp-allow-insecure). Without it such a URL is refused: the emails carry links that
	// are credentials, and plain text (or a STARTTLS an attacker can strip) exposes them.
	AllowInsecure bool
}

// TLS policies of an SMTP endpoint.
const (
	TLSMandatory     = "mandatory"
	TLSOpportunistic = "opportunistic"
	TLSNone          = "none"
)

// SMTPEndpoint is a parsed SMTP URL.
type SMTPEndpoint struct {
	Host        string
	Port        int
	ImplicitTLS bool
	TLSPolicy   string // TLSMandatory, TLSOpportunistic or TLSNone
	Username    string
	Password    string
}

// ParseSMTPURL parses and checks an SMTP URL (see SMTPConfig.URL). Its errors never contain the
// password.
func ParseSMTPURL(raw string) (SMTPEndpoint, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return SMTPEndpoint{}, errors.New("not a valid URL (expected smtp://user@host:587 or smtps://user@host:465)")
	}
	redacted := u.Redacted()
	var ep SMTPEndpoint
	switch u.Scheme {
	case "smtp":
		ep.Port, ep.TLSPolicy = 587, TLSMandatory
	case "smtps":
		ep.Port, ep.ImplicitTLS, ep.TLSPolicy = 465, true, TLSMandatory
	default:
		return SMTPEndpoint{}, fmt.Errorf("%s: scheme must be smtp (STARTTLS) or smtps (implicit TLS), not %q", redacted, u.Scheme)
	}
	ep.Host = u.Hostname()
	if ep.Host == "" {
		return SMTPEndpoint{}, fmt.Errorf("%s: a host is required", redacted)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return SMTPEndpoint{}, fmt.Errorf("%s: port must be 1-65535", redacted)
		}
		ep.Port = n
	}
	if u.User != nil {
		ep.Username = u.User.Username()
		ep.Password, _ = u.User.Password()
	}
	for key := range u.Query() {
		if key != "tls" {
			return SMTPEndpoint{}, fmt.Errorf("%s: unknown parameter %q (only tls=none|opportunistic)", redacted, key)
		}
	}
	switch policy := u.Query().Get("tls"); policy {
	case "":
	case TLSNone, TLSOpportunistic:
		if ep.ImplicitTLS {
			return SMTPEndpoint{}, fmt.Errorf("%s: tls=%s contradicts smtps (implicit TLS)", redacted, policy)
		}
		ep.TLSPolicy = policy
	default:
		return SMTPEndpoint{}, fmt.Errorf("%s: tls must be none or opportunistic, not %q", redacted, policy)
	}
	return ep, nil
}

// CheckTransport refuses an endpoint that would carry mail in plain text over a network: tls=none
// or tls=opportunistic to a host that is not loopback, unless allowInsecure. A password never goes
// out unencrypted to such a host, allowed or not. The errors name the host, never the password.
func (ep SMTPEndpoint) CheckTransport(allowInsecure bool) error {
	if ep.TLSPolicy == TLSMandatory || isLoopback(ep.Host) {
		return nil
	}
	if ep.Password != "" {
		return fmt.Errorf("tls=%s would send the SMTP password unencrypted to %s", ep.TLSPolicy, ep.Host)
	}
	if !allowInsecure {
		return fmt.Errorf("tls=%s would send invitation and reset links (credentials) unencrypted to %s, "+
			"which is not loopback; use STARTTLS or smtps, or accept the risk with --smtp-allow-insecure", ep.TLSPolicy, ep.Host)
	}
	return nil
}

// SMTPSender sends over SMTP with go-mail, one connection per message.
type SMTPSender struct {
	endpoint SMTPEndpoint
	from     string
	timeout  time.Duration
	tls      *tls.Config
}

var _ Sender = &SMTPSender{}

// NewSMTPSender checks cfg and returns a sender. It does not connect: a relay that is down at start
// shows up as delivery failures, retried, not as a crash loop.
func NewSMTPSender(cfg SMTPConfig) (*SMTPSender, error) {
	ep, err := ParseSMTPURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("smtp url: %w", err)
	}
	if cfg.Password != "" {
		ep.Password = cfg.Password
	}
	if ep.Password != "" && ep.Username == "" {
		return nil, errors.New("smtp url: a password was given but no user name")
	}
	if err := ep.CheckTransport(cfg.AllowInsecure); err != nil {
		return nil, fmt.Errorf("smtp url: %w", err)
	}
	if _, err := mail.ParseAddress(cfg.From); err != nil {
		return nil, fmt.Errorf("mail from %q: %w", cfg.From, err)
	}
	s := &SMTPSender{endpoint: ep, from: cfg.From, timeout: cfg.Timeout, tls: cfg.TLSConfig}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	if s.tls == nil {
		s.tls = &tls.Config{ServerName: ep.Host, MinVersion: tls.VersionTLS12}
	}
	return s, nil
}

// FromDomain is the domain of the From address, used in Message-IDs.
func (s *SMTPSender) FromDomain() string {
	addr, err := mail.ParseAddress(s.from)
	if err != nil {
		return "localhost"
	}
	return addr.Address[strings.LastIndex(addr.Address, "@")+1:]
}

// Send delivers msg and returns once the server accepted it.
func (s *SMTPSender) Send(ctx context.Context, msg Message) error {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := m.From(s.from); err != nil {
		return fmt.Errorf("from address: %w", err)
	}
	if err := m.To(msg.To); err != nil {
		return fmt.Errorf("recipient %q: %w", msg.To, err)
	}
	m.Subject(oneLine(msg.Subject))
	if msg.MessageID != "" {
		m.SetMessageIDWithValue(msg.MessageID)
	}
	m.SetDate()
	m.SetBodyString(gomail.TypeTextPlain, msg.Text)
	if msg.HTML != "" {
		m.AddAlternativeString(gomail.TypeTextHTML, msg.HTML)
	}

	// go-mail applies the context while dialling only; every later read waits up to its own
	// timeout. Shorten that timeout to the context's deadline so a relay that accepts the
	// connection and then says nothing cannot hold a reconcile past it.
	timeout := s.timeout
	if deadline, ok := ctx.Deadline(); ok {
		if left := time.Until(deadline); left < timeout {
			timeout = max(left, time.Millisecond)
		}
	}
	ep := s.endpoint
	opts := []gomail.Option{
		gomail.WithPort(ep.Port),
		gomail.WithTimeout(timeout),
		gomail.WithTLSConfig(s.tls),
	}
	switch {
	case ep.ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case ep.TLSPolicy == TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case ep.TLSPolicy == TLSOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if ep.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(ep.Username), gomail.WithPassword(ep.Password))
	}
	client, err := gomail.NewClient(ep.Host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client for %s:%d: %w", ep.Host, ep.Port, err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := client.DialAndSendWithContext(ctx, m); err != nil {
		return fmt.Errorf("send to %s via %s:%d: %s", msg.To, ep.Host, ep.Port, redact(err.Error(), ep.Password))
	}
	return nil
}

// redact removes password from s: an SMTP server may echo what it was sent.
func redact(s, password string) string {
	if password == "" {
		return s
	}
	return strings.ReplaceAll(s, password, "xxxxx")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
