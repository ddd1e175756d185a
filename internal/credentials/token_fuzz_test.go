// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package credentials

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParseToken feeds link tokens as they arrive from the internet (query strings, JSON bodies)
// to the parser: it must never panic, accept only the exact shape (a lowercase hex ID, a dot, an
// unpadded base64url secret of the right length), give back exactly what it was given, and never
// repeat the input in its error.
func FuzzParseToken(f *testing.F) {
	valid, err := NewToken(bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{valid.String(), "", ".", valid.ID + ".", "." + valid.Secret,
		strings.ToUpper(valid.ID) + "." + valid.Secret, valid.String() + "=", valid.String() + ".x",
		valid.ID + "." + strings.ReplaceAll(valid.Secret, "A", "+"), "\x00" + valid.String(), "ü." + valid.Secret} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := ParseToken(raw)
		if err != nil {
			if len(raw) > 8 && strings.Contains(err.Error(), raw) {
				t.Fatalf("the error repeats the input: %v", err)
			}
			return
		}
		if tok.String() != raw {
			t.Fatalf("accepted %q as %q", raw, tok.String())
		}
		if len(tok.ID) != 2*tokenIDBytes || strings.ToLower(tok.ID) != tok.ID || strings.ContainsAny(tok.Secret, "+/=.") {
			t.Fatalf("accepted a token of the wrong shape: %q", raw)
		}
		again, err := ParseToken(tok.String())
		if err != nil || again != tok {
			t.Fatalf("not stable: %q -> %v, %v", raw, again, err)
		}
	})
}
