// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"

	"rsc.io/qr"
)

//go:embed templates static
var assets embed.FS

// Static serves the pages' stylesheet and images (mounted at /static/).
func Static() http.Handler {
	static, _ := fs.Sub(assets, "static")
	return http.StripPrefix("/static/", http.FileServerFS(static))
}

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"t":     func(string) string { return "" }, // replaced per request with the page's locale
	"tf":    func(string, ...any) string { return "" },
	"field": newFieldView,
}).ParseFS(assets, "templates/page.html"))

// FieldView is one labelled input of a form (the "account-field" template): its name (also its
// id), the Texts keys of its label and hint, its type and autocomplete, and the page's errors.
type FieldView struct {
	Name, Label, Type, Autocomplete, Hint string
	Errors                                map[string]string
}

// newFieldView is the template's "field" function.
func newFieldView(page *PageData, name, label, kind, autocomplete, hint string) FieldView {
	return FieldView{Name: name, Label: label, Type: kind, Autocomplete: autocomplete, Hint: hint, Errors: page.Errors}
}

// APIError is the JSON API's answer to a failed request.
type APIError struct {
	// Error is the outcome, e.g. "bad-input", "unknown-token".
	Error string `json:"error"`
	// Field and Code name the refused field and rule of a 400.
	Field   string `json:"field,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
}

// StatusOf is the HTTP status of each outcome.
var StatusOf = map[Outcome]int{
	OutcomeAccepted:      http.StatusCreated,
	OutcomeBadInput:      http.StatusBadRequest,
	OutcomeUnknownToken:  http.StatusNotFound,
	OutcomeAlreadyUsed:   http.StatusConflict,
	OutcomeNoLongerValid: http.StatusGone,
	OutcomeRateLimited:   http.StatusTooManyRequests,
	OutcomeInternalError: http.StatusInternalServerError,
	OutcomeChanged:       http.StatusOK,
	OutcomeUnauthorized:  http.StatusUnauthorized,
	OutcomeBusy:          http.StatusServiceUnavailable,
	OutcomeNoSeat:        http.StatusConflict,
	OutcomeFromGit:       http.StatusConflict,
}

// WriteJSON answers v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Render executes the page template with Texts of locale.
func Render(w http.ResponseWriter, status int, data *PageData) {
	t, err := pageTemplate.Clone()
	if err == nil {
		t = t.Funcs(template.FuncMap{
			"t":  func(key string) string { return Texts[data.Locale][key] },
			"tf": func(key string, args ...any) string { return fmt.Sprintf(Texts[data.Locale][key], args...) },
		})
	}
	var buf bytes.Buffer
	if err == nil {
		err = t.ExecuteTemplate(&buf, "page", data)
	}
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// RenderProblem answers the page saying, in locale, why a link or request cannot be used.
func RenderProblem(w http.ResponseWriter, locale string, outcome Outcome) {
	Render(w, StatusOf[outcome], &PageData{
		Locale: locale, Base: RootFromPage, Kind: KindProblem, Title: Texts[locale]["problem.title"],
		Problem: Texts[locale]["problem."+string(outcome)],
	})
}

// QRSVG draws the QR code of text as an inline SVG: generated here, so the page needs no
// script and no external image.
func QRSVG(text string) (template.HTML, error) {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return "", err
	}
	const quiet = 4
	size := code.Size + 2*quiet
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-label="QR code" shape-rendering="crispEdges">`, size, size)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, size, size)
	for y := range code.Size {
		for x := range code.Size {
			if code.Black(x, y) {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String()), nil //nolint:gosec // built from numbers only
}

// RootFromPage leads from a page (/invitations/accept) back to the server's root, so the pages
// work behind a proxy that serves them under a path prefix.
const RootFromPage = "../"

// KindProblem is the page kind saying why a link or request cannot be used.
const KindProblem = "problem"

// PageData fills templates/page.html.
type PageData struct {
	Locale string
	// Base leads from the page's path back to the server's root (for the stylesheet), so the
	// pages work behind a proxy that serves them under a prefix.
	Base  string
	Kind  string // form, success or problem
	Title string

	// The forms. Store is the self-service forms' store reference.
	Token, Email, Intro, Expires, DisplayName, Store string
	Roles                                            []string
	TwoFactor                                        bool
	Errors                                           map[string]string
	// SignIn: the invitee already has an account, so the form asks for its password (and
	// TOTPCode for the 2FA code when the account has a key) instead of a new one.
	SignIn, TOTPCode bool
	// Decline: the form page offers "this is not for me" (member invitations).
	Decline bool

	// The success page.
	Body       string
	TOTPSecret string
	QR         template.HTML

	// The one-button page (KindButton): where its form posts (relative to the page) and the
	// button's text.
	Action, Submit string

	// Invitation is the link token of the invitation a person signing in to join came from
	// (forgot, reset and done pages): the forms carry it, the done page leads back to it.
	Invitation string

	// The problem page; on the account pages, what went wrong.
	Problem string

	// The account page.
	Account *AccountView
}

// Page kinds of the account page (/account).
const (
	KindAccountSignIn = "account-signin"
	KindAccount       = "account"
)

// AccountView is what the account page shows of the signed-in person: their memberships only.
type AccountView struct {
	Memberships []MembershipView
	// HasAccount: the person has an Account, whose display name and phone and 2FA the page changes.
	HasAccount                    bool
	DisplayName, Phone, LoginName string
	// TwoFactorOn: the person has a 2FA key; TwoFactorRequired: a membership requires one, so it
	// cannot be turned off.
	TwoFactorOn, TwoFactorRequired bool
	// Enrol is a key being turned on, shown once with its QR code.
	Enrol *EnrolView
}

// EnrolView is a 2FA key being turned on: the key, its QR code, and the signed value the
// confirming form carries.
type EnrolView struct {
	Key       string
	QR        template.HTML
	Enrolment string
}

// MembershipView is one store of the person.
type MembershipView struct {
	// Index numbers the memberships on the page (element ids); ID is "namespace/member", what the
	// preferences form posts.
	Index       int
	ID, Store   string
	Roles       []string
	Preferences []PreferenceView
}

// PreferenceView is one email preference of a membership: the store's default (in words) and
// the person's choice: "inherit", "on" or "off".
type PreferenceView struct {
	Name, Default, Choice string
}

// KindDone is the page saying a link did what it was for (a password set, an email change
// confirmed or stopped, a transfer stopped).
const KindDone = "reset-done"

// ButtonPage is the one-button page of a link that acts only on its POST, in locale: its Texts are
// prefix+".title", ".submit" and ".intro" (formatted with args); the form posts to action.
func ButtonPage(locale, raw, prefix, action string, args ...any) *PageData {
	t := Texts[locale]
	return &PageData{Locale: locale, Base: RootFromPage, Kind: KindButton, Title: t[prefix+".title"], Token: raw,
		Action: action, Submit: t[prefix+".submit"], Body: fmt.Sprintf(t[prefix+".intro"], args...)}
}

// DonePage says, in locale, that a link did what it was for: prefix+".done.title" and
// ".done.body" (formatted with args).
func DonePage(locale, prefix string, args ...any) *PageData {
	t := Texts[locale]
	return &PageData{Locale: locale, Base: RootFromPage, Kind: KindDone, Title: t[prefix+".done.title"],
		Body: fmt.Sprintf(t[prefix+".done.body"], args...)}
}

// KindButton is a page with one button that posts the link's token: a link that changes
// something acts only on that POST, so a mail scanner following it spends nothing.
const KindButton = "button"

// DecodeJSON reads a JSON object with exactly the documented fields, or answers 415/400.
func DecodeJSON(w http.ResponseWriter, r *http.Request, into any, fields string) bool {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		WriteJSON(w, http.StatusUnsupportedMediaType, APIError{Error: "unsupported-media-type", Message: "send application/json"})
		return false
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		WriteJSON(w, http.StatusBadRequest, APIError{Error: string(OutcomeBadInput), Message: "body: must be a JSON object with the fields " + fields})
		return false
	}
	return true
}

// RequestLocale is the page language for a request with no store yet: ?lang=, else the first
// supported language in Accept-Language, else English.
func RequestLocale(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); Texts[l] != nil {
		return l
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if Texts[base] != nil {
			return base
		}
	}
	return "en"
}

// busy answers 503 with Retry-After: the server is saturated with password work, not broken.
// Messages are the JSON API's explanations of the outcomes every audience shares.
var Messages = map[Outcome]string{
	OutcomeRateLimited:   "too many requests; try again later",
	OutcomeInternalError: "internal error; try again later",
	OutcomeBusy:          "the server is busy checking passwords; try again in a few seconds",
}

// Busy answers 503 with Retry-After: the server is saturated with password work, not broken.
func Busy(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "5")
	if strings.HasPrefix(r.URL.Path, "/api/") {
		WriteJSON(w, http.StatusServiceUnavailable, APIError{Error: string(OutcomeBusy), Message: Messages[OutcomeBusy]})
		return
	}
	RenderProblem(w, RequestLocale(r), OutcomeBusy)
}
