// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"

	v1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
)

// Kind names an email the operator sends; its templates are templates/<kind>/<locale>.tmpl, each
// defining "subject", "text" and "content" (the HTML body inside templates/layout.tmpl).
type Kind string

// The kinds of email. Later issues add password and email changes.
const (
	// KindAccessRemoved tells a person that their access to a store was removed.
	KindAccessRemoved Kind = "access-removed"
	// KindAccessExpired tells a person that their access ended at spec.accessExpiresAt
	// (AccessRemovedData, RemovedAt being that instant).
	KindAccessExpired Kind = "access-expired"
	// KindMemberJoined tells a store's notification address that an invitee joined.
	KindMemberJoined Kind = "member-joined"
	// KindInvitationDeclined tells a store's notification address that an invitee declined.
	KindInvitationDeclined Kind = "invitation-declined"
	// KindInvitation invites a person to join a store ("You have been invited to manage ...").
	KindInvitation Kind = "invitation"
	// KindOwnerActivation asks a new Store's owner to set their password (InvitationData).
	KindOwnerActivation Kind = "owner-activation"
	// KindOwnerTransfer asks the address a Store is being handed to to accept ownership
	// (InvitationData).
	KindOwnerTransfer Kind = "owner-transfer"
	// KindPasswordReset carries a single-use link to choose a new password.
	KindPasswordReset Kind = "password-reset"
	// KindPasswordChanged tells a member their password was changed.
	KindPasswordChanged Kind = "password-changed"
	// KindTwoFactorReset carries a single-use link to enrol a new TOTP secret.
	KindTwoFactorReset Kind = "two-factor-reset"
	// KindEmailChangeConfirm asks a Member to confirm a new login email, at that address.
	KindEmailChangeConfirm Kind = "email-change-confirm"
	// KindEmailChangeRequested tells the current address, at the moment a change is asked for,
	// to which address and how to stop it (CancelURL).
	KindEmailChangeRequested Kind = "email-change-requested"
	// KindEmailChanged tells the previous address that the login email changed.
	KindEmailChanged Kind = "email-changed"
	// KindOwnershipTransferStarted tells the current owner, as soon as a transfer starts, to whom
	// the store is being handed and how to stop it (OwnershipTransferData.CancelURL).
	KindOwnershipTransferStarted Kind = "ownership-transfer-started"
	// KindOwnershipTransferred tells the previous owner that the store was handed over and their
	// owner credentials no longer work.
	KindOwnershipTransferred Kind = "ownership-transferred"
)

// Locales are the languages every email exists in; the first is the fallback.
var Locales = []string{"en", "nl", "ja"}

// Kinds lists every kind, so a test can check each exists in each locale.
var Kinds = []Kind{KindAccessRemoved, KindAccessExpired, KindInvitation, KindInvitationDeclined, KindMemberJoined, KindOwnerActivation, KindOwnerTransfer,
	KindOwnershipTransferStarted, KindOwnershipTransferred, KindPasswordReset, KindPasswordChanged, KindTwoFactorReset, KindEmailChangeConfirm,
	KindEmailChangeRequested, KindEmailChanged}

//go:embed templates
var templateFS embed.FS

// AccessRemovedData fills the access-removed email.
type AccessRemovedData struct {
	StoreName  string
	MemberName string
	Email      string
	RemovedAt  time.Time
}

// InvitationData fills the invitation email.
type InvitationData struct {
	StoreName string
	// InvitedBy is who sent it; empty means "the store's team".
	InvitedBy string
	Email     string
	// Roles are role names (owner, admin, ...), shown in plain words.
	Roles []string
	// Message is the inviter's note, shown as plain text.
	Message   string
	AcceptURL string
	// DeclineURL, when set, is the "this is not for me" link (member invitations).
	DeclineURL string
	ExpiresAt  time.Time
	// ActivateBy, for an owner's activation, is the Store's activation deadline (zero: none).
	ActivateBy time.Time
}

// InvitationDeclinedData fills the invitation-declined email.
type InvitationDeclinedData struct {
	StoreName  string
	Email      string
	Roles      []string
	DeclinedAt time.Time
}

// MemberJoinedData fills the member-joined email.
type MemberJoinedData struct {
	StoreName  string
	MemberName string
	Email      string
	Roles      []string
	InvitedBy  string
	JoinedAt   time.Time
}

// OwnershipTransferredData fills the ownership-transferred email.
type OwnershipTransferredData struct {
	StoreName string
	// MemberName is the previous owner's display name, Email their (old) login address.
	MemberName    string
	Email         string
	NewOwnerEmail string
	TransferredAt time.Time
}

// OwnershipTransferData fills the ownership-transfer-started email.
type OwnershipTransferData struct {
	StoreName string
	// MemberName is the current owner's display name, Email their login address.
	MemberName    string
	Email         string
	NewOwnerEmail string
	// CancelURL stops the transfer until it is accepted; ExpiresAt is when the link ends at most.
	CancelURL string
	ExpiresAt time.Time
}

// PasswordResetData fills the password-reset email.
type PasswordResetData struct {
	StoreName  string
	MemberName string
	Email      string
	ResetURL   string
	ExpiresAt  time.Time
	// ByAdministrator: the reset was asked for by an administrator, not through the forgot page.
	ByAdministrator bool
}

// TwoFactorResetData fills the two-factor-reset email.
type TwoFactorResetData struct {
	StoreName  string
	MemberName string
	Email      string
	EnrolURL   string
	ExpiresAt  time.Time
}

// EmailChangeData fills the email-change-confirm and email-changed emails.
type EmailChangeData struct {
	StoreName  string
	MemberName string
	OldEmail   string
	NewEmail   string
	// ConfirmURL and ExpiresAt: the confirmation's link (email-change-confirm) and how long it,
	// and the cancel link, work.
	ConfirmURL string
	ExpiresAt  time.Time
	// CancelURL stops the change until it is confirmed (email-change-requested).
	CancelURL string
	// ChangedAt: when the change took effect (email-changed).
	ChangedAt time.Time
}

// PasswordChangedData fills the password-changed email.
type PasswordChangedData struct {
	StoreName  string
	MemberName string
	Email      string
	ChangedAt  time.Time
}

// roleWords says what each role means, in each language, for people who do not know the matrix.
var roleWords = map[string]map[string]string{
	"en": {
		string(v1alpha1.RoleOwner): "Owner (everything, including billing and ownership)", string(v1alpha1.RoleAdmin): "Administrator (everything except billing and ownership)",
		string(v1alpha1.RoleOperations): "Operations (orders and products)", string(v1alpha1.RoleFinance): "Finance (invoices; the rest read-only)",
		string(v1alpha1.RoleStaff): "Staff (products, orders, shipping and store settings)",
	},
	"nl": {
		string(v1alpha1.RoleOwner): "Eigenaar (alles, ook facturering en eigendom)", string(v1alpha1.RoleAdmin): "Beheerder (alles behalve facturering en eigendom)",
		string(v1alpha1.RoleOperations): "Operations (bestellingen en producten)", string(v1alpha1.RoleFinance): "Financiën (facturen; de rest alleen lezen)",
		string(v1alpha1.RoleStaff): "Medewerker (producten, bestellingen, verzending en winkelinstellingen)",
	},
	"ja": {
		string(v1alpha1.RoleOwner): "オーナー（請求と所有権を含むすべて）", string(v1alpha1.RoleAdmin): "管理者（請求と所有権以外のすべて）",
		string(v1alpha1.RoleOperations): "オペレーション（注文と商品）", string(v1alpha1.RoleFinance): "経理（請求書、その他は閲覧のみ）",
		string(v1alpha1.RoleStaff): "スタッフ（商品、注文、配送、ストア設定）",
	},
}

// Render produces the email of kind in locale (falling back to English for an unknown locale)
// from data. Values are escaped for HTML; the subject is one line whatever the data holds.
func Render(kind Kind, locale string, data any) (Content, error) {
	if !knownLocale(locale) {
		locale = Locales[0]
	}
	file := fmt.Sprintf("templates/%s/%s.tmpl", kind, locale)
	funcs := map[string]any{
		"date":     func(t time.Time) string { return FormatDate(locale, t) },
		"datetime": func(t time.Time) string { return FormatDateTime(locale, t) },
		"role":     func(r string) string { return RoleWords(locale, r) },
	}

	text, err := texttemplate.New(string(kind)).Funcs(funcs).ParseFS(templateFS, file)
	if err != nil {
		return Content{}, fmt.Errorf("email %s/%s: %w", kind, locale, err)
	}
	html, err := htmltemplate.New(string(kind)).Funcs(funcs).ParseFS(templateFS, "templates/layout.tmpl", file)
	if err != nil {
		return Content{}, fmt.Errorf("email %s/%s: %w", kind, locale, err)
	}
	var subject, body, page bytes.Buffer
	if err := text.ExecuteTemplate(&subject, "subject", data); err != nil {
		return Content{}, fmt.Errorf("email %s/%s subject: %w", kind, locale, err)
	}
	if err := text.ExecuteTemplate(&body, "text", data); err != nil {
		return Content{}, fmt.Errorf("email %s/%s text: %w", kind, locale, err)
	}
	if err := html.ExecuteTemplate(&page, "layout", struct {
		Locale string
		Data   any
	}{locale, data}); err != nil {
		return Content{}, fmt.Errorf("email %s/%s html: %w", kind, locale, err)
	}
	return Content{Kind: kind, Subject: oneLine(subject.String()), Text: strings.TrimSpace(body.String()) + "\n", HTML: page.String()}, nil
}

func knownLocale(locale string) bool {
	for _, l := range Locales {
		if l == locale {
			return true
		}
	}
	return false
}

// oneLine turns every control character (CR and LF included) into a space, so no value can add a
// header line, and trims the result.
func oneLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
}

var dutchMonths = [...]string{"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
	"september", "oktober", "november", "december"}

// RoleWords says what a role means in locale, for people who do not know the matrix; the
// acceptance pages use the same words as the emails.
func RoleWords(locale, role string) string {
	if words, ok := roleWords[locale][role]; ok {
		return words
	}
	if words, ok := roleWords[Locales[0]][role]; ok {
		return words
	}
	return role
}

// FormatDateTime writes a date and a time (in UTC, said so) as people of locale write them: for
// links that live an hour, the date alone says too little.
func FormatDateTime(locale string, t time.Time) string {
	return FormatDate(locale, t) + " " + t.UTC().Format("15:04") + " UTC"
}

// FormatDate writes a date (in UTC) as people of locale write it.
func FormatDate(locale string, t time.Time) string {
	t = t.UTC()
	switch locale {
	case "nl":
		return fmt.Sprintf("%d %s %d", t.Day(), dutchMonths[t.Month()-1], t.Year())
	case "ja":
		return fmt.Sprintf("%d年%d月%d日", t.Year(), int(t.Month()), t.Day())
	default:
		return t.Format("2 January 2006")
	}
}
