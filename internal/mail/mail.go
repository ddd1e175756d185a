// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package mail renders the operator's emails from embedded templates, in each store's language,
// and sends them. Senders sit behind the Sender interface: SMTPSender in the operator, a FakeSender
// in unit tests.
package mail

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/types"
)

// Message is a rendered email to one recipient.
type Message struct {
	// To is the recipient's bare address.
	To string
	// MessageID identifies the message (without angle brackets). It is derived from the object and
	// the event (see MessageID), so a retry after a crash sends the same ID and receiving systems
	// can drop the duplicate.
	MessageID string
	Content
}

// Content is what a template renders: subject, plain text and HTML alternatives.
type Content struct {
	// Kind is the template it was rendered from (counted in the emails metric; not sent).
	Kind    Kind
	Subject string
	Text    string
	HTML    string
}

// Sender delivers messages. Send returns only when the SMTP server accepted the message, or with
// the reason it did not; errors never contain credentials.
type Sender interface {
	Send(ctx context.Context, msg Message) error
}

// MessageID derives a Message-ID from the UID of the object an email is about and the event that
// caused it (e.g. "access-removed"), at domain (the sender's domain).
func MessageID(uid types.UID, event, domain string) string {
	return fmt.Sprintf("%s.%s@%s", uid, event, strings.ToLower(domain))
}
