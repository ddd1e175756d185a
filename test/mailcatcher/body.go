// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package mailcatcher

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
)

// Body is a message's decoded text and HTML alternatives.
type Body struct {
	Text string
	HTML string
}

// Body decodes the message's text/plain and text/html parts (multipart or not; quoted-printable,
// base64 or plain), as a mail client would show them.
func (m Message) Body() (Body, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return Body{}, err
	}
	var body Body
	err = collectParts(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, &body)
	return body, err
}

func collectParts(contentType, encoding string, r io.Reader, body *Body) error {
	if contentType == "" {
		contentType = "text/plain"
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("content type %q: %w", contentType, err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		parts := multipart.NewReader(r, params["boundary"])
		for {
			part, err := parts.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := collectParts(part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"), part, body); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	switch mediaType {
	case "text/plain":
		body.Text += string(data)
	case "text/html":
		body.HTML += string(data)
	}
	return nil
}

var linkPattern = regexp.MustCompile(`https?://[^\s"'<>]+`)

// Link returns the first link in the text part that contains path (e.g. "/invitations/accept"),
// or "" when there is none.
func (b Body) Link(path string) string {
	for _, link := range linkPattern.FindAllString(b.Text, -1) {
		if strings.Contains(link, path) {
			return link
		}
	}
	return ""
}
