/*
Copyright 2026 The StoreOps Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

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
