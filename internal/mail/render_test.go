// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package mail

import (
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

var removedAt = time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)

var sampleData = map[Kind]any{
	KindAccessRemoved:      AccessRemovedData{StoreName: "Acme", Email: "bob@example.com", RemovedAt: removedAt},
	KindInvitationDeclined: InvitationDeclinedData{StoreName: "Acme", Email: "bob@example.com", Roles: []string{"staff"}, DeclinedAt: removedAt},
	KindAccessExpired:      AccessRemovedData{StoreName: "Acme", Email: "bob@example.com", RemovedAt: removedAt},
	KindInvitation: InvitationData{StoreName: "Acme", InvitedBy: "Alice", Email: "dave@example.com",
		Roles: []string{"staff", "finance"}, Message: "Welcome!", AcceptURL: "https://members.example.com/invitations/accept?token=abc.def",
		ExpiresAt: removedAt},
	KindMemberJoined: MemberJoinedData{StoreName: "Acme", MemberName: "Dave", Email: "dave@example.com",
		Roles: []string{"staff"}, InvitedBy: "Alice", JoinedAt: removedAt},
	KindOwnerActivation: InvitationData{StoreName: "Acme", Email: "olivia@example.com", Roles: []string{"owner"},
		AcceptURL: "https://members.example.com/invitations/accept?token=abc.def", ExpiresAt: removedAt},
	KindOwnerTransfer: InvitationData{StoreName: "Acme", InvitedBy: "Olivia", Email: "nina@example.com", Roles: []string{"owner"},
		AcceptURL: "https://members.example.com/invitations/accept?token=abc.def", ExpiresAt: removedAt},
	KindPasswordReset: PasswordResetData{StoreName: "Acme", MemberName: "Dave", Email: "dave@example.com",
		ResetURL: "https://members.example.com/password/reset?token=abc.def", ExpiresAt: removedAt},
	KindTwoFactorReset: TwoFactorResetData{StoreName: "Acme", Email: "dave@example.com",
		EnrolURL: "https://members.example.com/2fa/enrol?token=abc.def", ExpiresAt: removedAt},
	KindEmailChangeConfirm: EmailChangeData{StoreName: "Acme", OldEmail: "dave@example.com", NewEmail: "d@example.org",
		ConfirmURL: "https://members.example.com/email/confirm?token=abc.def", ExpiresAt: removedAt},
	KindEmailChangeRequested: EmailChangeData{StoreName: "Acme", OldEmail: "dave@example.com", NewEmail: "d@example.org",
		CancelURL: "https://members.example.com/email/cancel?token=abc.def", ExpiresAt: removedAt},
	KindEmailChanged:    EmailChangeData{StoreName: "Acme", OldEmail: "dave@example.com", NewEmail: "d@example.org", ChangedAt: removedAt},
	KindPasswordChanged: PasswordChangedData{StoreName: "Acme", Email: "dave@example.com", ChangedAt: removedAt},
	KindOwnershipTransferStarted: OwnershipTransferData{StoreName: "Acme", MemberName: "Olivia", Email: "olivia@example.com",
		NewOwnerEmail: "nina@example.com", CancelURL: "https://members.example.com/transfer/cancel?token=abc.def", ExpiresAt: removedAt},
	KindOwnershipTransferred: OwnershipTransferredData{StoreName: "Acme", MemberName: "Olivia", Email: "olivia@example.com",
		NewOwnerEmail: "nina@example.com", TransferredAt: removedAt},
}

func TestEveryKindRendersInEveryLocale(t *testing.T) {
	for _, kind := range Kinds {
		for _, locale := range Locales {
			t.Run(string(kind)+"/"+locale, func(t *testing.T) {
				g := NewWithT(t)
				c, err := Render(kind, locale, sampleData[kind])
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(c.Subject).NotTo(BeEmpty())
				g.Expect(c.Text).To(ContainSubstring("Acme"))
				g.Expect(c.HTML).To(ContainSubstring(`<html lang="` + locale + `">`))
				for _, part := range []string{c.Subject, c.Text, c.HTML} {
					g.Expect(part).NotTo(ContainSubstring("<no value>"))
				}
			})
		}
	}
}

func TestAccessRemovedIsTranslated(t *testing.T) {
	cases := []struct {
		locale, subject, date string
	}{
		{"en", "Your access to Acme Shop was removed", "5 March 2026"},
		{"nl", "Je toegang tot Acme Shop is ingetrokken", "5 maart 2026"},
		{"ja", "Acme Shop へのアクセス権が削除されました", "2026年3月5日"},
		{"fr", "Your access to Acme Shop was removed", "5 March 2026"}, // unknown: English
	}
	for _, tc := range cases {
		t.Run(tc.locale, func(t *testing.T) {
			g := NewWithT(t)
			c, err := Render(KindAccessRemoved, tc.locale, AccessRemovedData{
				StoreName: "Acme Shop", MemberName: "Bob", Email: "bob@example.com", RemovedAt: removedAt,
			})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(c.Subject).To(Equal(tc.subject))
			g.Expect(c.Text).To(ContainSubstring(tc.date))
			g.Expect(c.HTML).To(ContainSubstring(tc.date))
			g.Expect(c.Text).To(ContainSubstring("Bob"))
		})
	}
}

func TestHostileValuesAreEscapedAndCannotAddHeaders(t *testing.T) {
	g := NewWithT(t)
	c, err := Render(KindAccessRemoved, "en", AccessRemovedData{
		StoreName:  "Evil\r\nBcc: victim@example.com <script>alert(1)</script>",
		MemberName: `<img src=x onerror="alert(1)">`,
		Email:      "bob@example.com",
		RemovedAt:  removedAt,
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c.Subject).NotTo(ContainSubstring("\n"))
	g.Expect(c.Subject).NotTo(ContainSubstring("\r"))
	g.Expect(c.HTML).NotTo(ContainSubstring("<script>"))
	g.Expect(c.HTML).NotTo(ContainSubstring("<img"))
	g.Expect(c.HTML).To(ContainSubstring("&lt;script&gt;"))
	g.Expect(strings.Count(c.Text, "<script>")).To(Equal(2), "plain text stays as written: it is never rendered as HTML")
}

func TestMemberWithoutNameIsGreetedByEmail(t *testing.T) {
	g := NewWithT(t)
	c, err := Render(KindAccessRemoved, "nl", AccessRemovedData{StoreName: "Acme", Email: "bob@example.com", RemovedAt: removedAt})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c.Text).To(HavePrefix("Hallo bob@example.com,"))
}

func TestMessageID(t *testing.T) {
	g := NewWithT(t)
	g.Expect(MessageID("8c5f-11", "access-removed", "Example.COM")).To(Equal("8c5f-11.access-removed@example.com"))
}

func TestInvitationIsTranslatedWithAJoinButtonRolesAndExpiry(t *testing.T) {
	cases := []struct {
		locale, subject, button, role, date string
	}{
		{"en", "You have been invited to manage Acme Shop", "Join store", "Staff (products, orders, shipping and store settings)", "5 March 2026"},
		{"nl", "Je bent uitgenodigd om Acme Shop te beheren", "Word lid van de winkel", "Medewerker (producten, bestellingen, verzending en winkelinstellingen)", "5 maart 2026"},
		{"ja", "Acme Shop の管理に招待されました", "ストアに参加", "スタッフ（商品、注文、配送、ストア設定）", "2026年3月5日"},
	}
	for _, tc := range cases {
		t.Run(tc.locale, func(t *testing.T) {
			g := NewWithT(t)
			data := sampleData[KindInvitation].(InvitationData)
			data.StoreName = "Acme Shop"
			c, err := Render(KindInvitation, tc.locale, data)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(c.Subject).To(Equal(tc.subject))
			g.Expect(c.HTML).To(ContainSubstring(`href="https://members.example.com/invitations/accept?token=abc.def"`))
			g.Expect(c.HTML).To(ContainSubstring(tc.button))
			g.Expect(c.Text).To(ContainSubstring("https://members.example.com/invitations/accept?token=abc.def"))
			for _, part := range []string{c.Text, c.HTML} {
				g.Expect(part).To(ContainSubstring(tc.role))
				g.Expect(part).To(ContainSubstring(tc.date))
				g.Expect(part).To(ContainSubstring("Alice"))
				g.Expect(part).To(ContainSubstring("Welcome!"))
			}
		})
	}
}

func TestInvitationEscapesHostileNamesAndMessages(t *testing.T) {
	g := NewWithT(t)
	c, err := Render(KindInvitation, "en", InvitationData{
		StoreName: "<script>alert(1)</script>", InvitedBy: "Mallory\r\nBcc: victim@example.com",
		Email: "dave@example.com", Roles: []string{"staff"}, Message: "hi\r\nBcc: victim@example.com\n<b>bold</b>",
		AcceptURL: "javascript:alert(1)", ExpiresAt: removedAt,
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c.Subject).NotTo(ContainSubstring("\n"))
	g.Expect(c.HTML).NotTo(ContainSubstring("<script>"))
	g.Expect(c.HTML).NotTo(ContainSubstring("<b>bold</b>"))
	g.Expect(c.HTML).NotTo(ContainSubstring("javascript:"), "html/template refuses unsafe URLs")
}

func TestMemberJoinedNamesThePersonAndTheirRoles(t *testing.T) {
	for _, tc := range []struct{ locale, subject, role string }{
		{"en", "Dave joined Acme", "Staff (products, orders, shipping and store settings)"},
		{"nl", "Dave is lid geworden van Acme", "Medewerker (producten, bestellingen, verzending en winkelinstellingen)"},
		{"ja", "Dave さんが Acme に参加しました", "スタッフ（商品、注文、配送、ストア設定）"},
	} {
		t.Run(tc.locale, func(t *testing.T) {
			g := NewWithT(t)
			c, err := Render(KindMemberJoined, tc.locale, sampleData[KindMemberJoined])
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(c.Subject).To(Equal(tc.subject))
			g.Expect(c.Text).To(And(ContainSubstring("dave@example.com"), ContainSubstring(tc.role), ContainSubstring("Alice")))
			g.Expect(c.HTML).To(ContainSubstring(tc.role))
		})
	}
}

func TestOwnerEmailsAreTranslatedAndCarryTheLink(t *testing.T) {
	for _, tc := range []struct {
		kind                  Kind
		locale, subject, text string
	}{
		{KindOwnerActivation, "en", "Activate your owner account for Acme", "Activate account"},
		{KindOwnerActivation, "nl", "Activeer je eigenaarsaccount voor Acme", "Account activeren"},
		{KindOwnerActivation, "ja", "Acme のオーナーアカウントを有効化してください", "アカウントを有効化"},
		{KindOwnerTransfer, "en", "You are invited to take over Acme as its owner", "Accept ownership"},
		{KindOwnerTransfer, "nl", "Je bent uitgenodigd om eigenaar van Acme te worden", "Eigendom accepteren"},
		{KindOwnerTransfer, "ja", "Acme のオーナーの引き継ぎに招待されました", "所有権を承諾"},
	} {
		t.Run(string(tc.kind)+"/"+tc.locale, func(t *testing.T) {
			g := NewWithT(t)
			c, err := Render(tc.kind, tc.locale, sampleData[tc.kind])
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(c.Subject).To(Equal(tc.subject))
			g.Expect(c.Text).To(ContainSubstring(tc.text + ": https://members.example.com/invitations/accept?token=abc.def"))
			g.Expect(c.HTML).To(ContainSubstring(`href="https://members.example.com/invitations/accept?token=abc.def"`))
		})
	}
}

func TestOwnershipTransferredNamesTheNewOwner(t *testing.T) {
	for _, tc := range []struct{ locale, subject, date string }{
		{"en", "You are no longer the owner of Acme", "5 March 2026"},
		{"nl", "Je bent niet langer eigenaar van Acme", "5 maart 2026"},
		{"ja", "Acme のオーナーではなくなりました", "2026年3月5日"},
	} {
		t.Run(tc.locale, func(t *testing.T) {
			g := NewWithT(t)
			c, err := Render(KindOwnershipTransferred, tc.locale, sampleData[KindOwnershipTransferred])
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(c.Subject).To(Equal(tc.subject))
			for _, part := range []string{c.Text, c.HTML} {
				g.Expect(part).To(And(ContainSubstring("nina@example.com"), ContainSubstring("olivia@example.com"), ContainSubstring(tc.date)))
			}
		})
	}
}

func TestPasswordEmailsSayWhenAndCarryTheLink(t *testing.T) {
	for _, tc := range []struct{ locale, resetSubject, changedSubject, when string }{
		{"en", "Reset your password for Acme", "Your password for Acme was changed", "5 March 2026 10:00 UTC"},
		{"nl", "Stel een nieuw wachtwoord in voor Acme", "Je wachtwoord voor Acme is gewijzigd", "5 maart 2026 10:00 UTC"},
		{"ja", "Acme のパスワード再設定", "Acme のパスワードが変更されました", "2026年3月5日 10:00 UTC"},
	} {
		t.Run(tc.locale, func(t *testing.T) {
			g := NewWithT(t)
			reset, err := Render(KindPasswordReset, tc.locale, sampleData[KindPasswordReset])
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(reset.Subject).To(Equal(tc.resetSubject))
			g.Expect(reset.Text).To(And(ContainSubstring("https://members.example.com/password/reset?token=abc.def"), ContainSubstring(tc.when)))
			g.Expect(reset.HTML).To(ContainSubstring(`href="https://members.example.com/password/reset?token=abc.def"`))
			byAdmin := sampleData[KindPasswordReset].(PasswordResetData)
			byAdmin.ByAdministrator = true
			admin, err := Render(KindPasswordReset, tc.locale, byAdmin)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(admin.Text).NotTo(Equal(reset.Text), "says who asked")
			changed, err := Render(KindPasswordChanged, tc.locale, sampleData[KindPasswordChanged])
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(changed.Subject).To(Equal(tc.changedSubject))
			g.Expect(changed.Text).To(And(ContainSubstring("dave@example.com"), ContainSubstring(tc.when)))
		})
	}
}

func TestOwnerActivationSaysTheDeadlineInTheStoresLanguageOnlyWhenThereIsOne(t *testing.T) {
	deadline := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct{ locale, line string }{
		{"en", "Please activate by 1 April 2026."},
		{"nl", "Activeer je account uiterlijk 1 april 2026."},
		{"ja", "2026年4月1日 までに有効化してください。"},
	}
	for _, tc := range cases {
		t.Run(tc.locale, func(t *testing.T) {
			g := NewWithT(t)
			data := sampleData[KindOwnerActivation].(InvitationData)
			without, err := Render(KindOwnerActivation, tc.locale, data)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(without.Text).NotTo(ContainSubstring(tc.line))
			data.ActivateBy = deadline
			with, err := Render(KindOwnerActivation, tc.locale, data)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(with.Text).To(ContainSubstring(tc.line))
			g.Expect(with.HTML).To(ContainSubstring(tc.line))
		})
	}
}
