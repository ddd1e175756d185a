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

package accept

import membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"

// Page texts per locale. Keys are used by templates/page.html through {{t "key"}}; a test checks
// every locale has every key.
//
//nolint:goconst,gosec // a translation table: its keys repeat per locale, and "password" entries are labels
var texts = map[string]map[string]string{
	"en": {
		"title":                    "Join %s",
		"intro":                    "%s invited you (%s) to manage %s as:",
		"intro.team":               "The team of %s invited you (%s) to manage %s as:",
		"expires":                  "This invitation is valid until %s.",
		"displayName":              "Your name",
		"displayName.hint":         "Shown to the other members of the store. Optional.",
		"password":                 "Password",
		"password.hint":            "12 to 72 characters, not containing your email address.",
		"passwordConfirmation":     "Password again",
		"twoFactor.notice":         "This store requires two-factor authentication: after you join, you will scan a code with an authenticator app.",
		"submit":                   "Join store",
		"errors.summary":           "Please correct the marked fields.",
		"field.too-short":          "Use at least 12 characters.",
		"field.too-long":           "This is too long.",
		"field.contains-email":     "Do not use your email address in the password.",
		"field.mismatch":           "The two passwords are not the same.",
		"field.control-character":  "Use letters, digits and punctuation only.",
		"success.title":            "Welcome to %s",
		"success.body":             "Your account is ready. You can now log in to the admin panel of %s with %s and the password you chose.",
		"twoFactor.title":          "Set up two-factor authentication",
		"twoFactor.body":           "Scan this code with your authenticator app, or type the key below. It is shown only once.",
		"twoFactor.key":            "Key",
		"problem.title":            "This link cannot be used",
		"problem.unknown-token":    "We do not know this invitation link. Check that you copied the whole link from the email.",
		"problem.already-accepted": "This invitation has already been accepted. Log in with the password you chose.",
		"problem.no-longer-valid":  "This invitation has expired or was withdrawn. Ask the store for a new one.",
		"problem.rate-limited":     "Too many attempts. Wait a minute and try again.",
		"problem.bad-input":        "This link is not complete. Open the link from the email again.",
		"problem.internal-error":   "Something went wrong on our side. Try again in a few minutes.",
	},
	"nl": {
		"title":                    "Word lid van %s",
		"intro":                    "%s heeft je (%s) uitgenodigd om %s te beheren als:",
		"intro.team":               "Het team van %s heeft je (%s) uitgenodigd om %s te beheren als:",
		"expires":                  "Deze uitnodiging is geldig tot %s.",
		"displayName":              "Je naam",
		"displayName.hint":         "Zichtbaar voor de andere leden van de winkel. Optioneel.",
		"password":                 "Wachtwoord",
		"password.hint":            "12 tot 72 tekens, zonder je e-mailadres.",
		"passwordConfirmation":     "Wachtwoord nogmaals",
		"twoFactor.notice":         "Deze winkel vereist tweestapsverificatie: na het aanmelden scan je een code met een authenticator-app.",
		"submit":                   "Word lid",
		"errors.summary":           "Verbeter de gemarkeerde velden.",
		"field.too-short":          "Gebruik minstens 12 tekens.",
		"field.too-long":           "Dit is te lang.",
		"field.contains-email":     "Gebruik je e-mailadres niet in het wachtwoord.",
		"field.mismatch":           "De twee wachtwoorden zijn niet gelijk.",
		"field.control-character":  "Gebruik alleen letters, cijfers en leestekens.",
		"success.title":            "Welkom bij %s",
		"success.body":             "Je account is klaar. Je kunt nu inloggen in het beheerpaneel van %s met %s en het gekozen wachtwoord.",
		"twoFactor.title":          "Tweestapsverificatie instellen",
		"twoFactor.body":           "Scan deze code met je authenticator-app, of typ de sleutel hieronder over. Hij wordt maar één keer getoond.",
		"twoFactor.key":            "Sleutel",
		"problem.title":            "Deze link werkt niet",
		"problem.unknown-token":    "We kennen deze uitnodigingslink niet. Controleer of je de hele link uit de e-mail hebt gekopieerd.",
		"problem.already-accepted": "Deze uitnodiging is al aangenomen. Log in met het wachtwoord dat je hebt gekozen.",
		"problem.no-longer-valid":  "Deze uitnodiging is verlopen of ingetrokken. Vraag de winkel om een nieuwe.",
		"problem.rate-limited":     "Te veel pogingen. Wacht een minuut en probeer het opnieuw.",
		"problem.bad-input":        "Deze link is niet volledig. Open de link uit de e-mail opnieuw.",
		"problem.internal-error":   "Er ging bij ons iets mis. Probeer het over een paar minuten opnieuw.",
	},
	"ja": {
		"title":                    "%s に参加",
		"intro":                    "%s さんがあなた（%s）を %s の管理者として次の役割で招待しました：",
		"intro.team":               "%s のチームがあなた（%s）を %s の管理者として次の役割で招待しました：",
		"expires":                  "この招待の有効期限は%sです。",
		"displayName":              "お名前",
		"displayName.hint":         "ストアの他のメンバーに表示されます。任意。",
		"password":                 "パスワード",
		"password.hint":            "12〜72文字。メールアドレスを含めないでください。",
		"passwordConfirmation":     "パスワード（確認）",
		"twoFactor.notice":         "このストアでは二要素認証が必要です。参加後、認証アプリでコードを読み取ります。",
		"submit":                   "ストアに参加",
		"errors.summary":           "印の付いた項目を修正してください。",
		"field.too-short":          "12文字以上にしてください。",
		"field.too-long":           "長すぎます。",
		"field.contains-email":     "パスワードにメールアドレスを使わないでください。",
		"field.mismatch":           "2つのパスワードが一致しません。",
		"field.control-character":  "文字、数字、記号のみを使ってください。",
		"success.title":            "%s へようこそ",
		"success.body":             "アカウントの準備ができました。%s の管理画面に %s と選んだパスワードでログインできます。",
		"twoFactor.title":          "二要素認証の設定",
		"twoFactor.body":           "認証アプリでこのコードを読み取るか、下のキーを入力してください。表示は一度だけです。",
		"twoFactor.key":            "キー",
		"problem.title":            "このリンクは使用できません",
		"problem.unknown-token":    "この招待リンクは見つかりません。メールのリンクをすべてコピーしたか確認してください。",
		"problem.already-accepted": "この招待はすでに承諾されています。選んだパスワードでログインしてください。",
		"problem.no-longer-valid":  "この招待は期限切れか、取り消されました。ストアに新しい招待を依頼してください。",
		"problem.rate-limited":     "試行回数が多すぎます。1分ほど待ってから再度お試しください。",
		"problem.bad-input":        "このリンクは不完全です。メールのリンクをもう一度開いてください。",
		"problem.internal-error":   "問題が発生しました。数分後にもう一度お試しください。",
	},
}

func localeOf(store *membershipv1alpha1.Store) string {
	if store != nil {
		if _, ok := texts[string(store.Spec.Locale)]; ok {
			return string(store.Spec.Locale)
		}
	}
	return "en"
}
