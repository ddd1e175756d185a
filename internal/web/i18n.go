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

package web

import membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"

// Page Texts per locale. Keys are used by templates/page.html through {{t "key"}}; a test checks
// every locale has every key.
//
//nolint:goconst,gosec // a translation table: its keys repeat per locale, and "password" entries are labels
var Texts = map[string]map[string]string{
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
		"problem.busy":             "We are busy right now. Try again in a few seconds.",
		"problem.no-seat":          "The store has no seat left for this invitation. Ask the store's owner to make room or raise its member limit.",
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
		"problem.busy":             "Het is nu erg druk. Probeer het over een paar seconden opnieuw.",
		"problem.no-seat":          "De winkel heeft geen plaats meer voor deze uitnodiging. Vraag de eigenaar van de winkel om ruimte te maken of de limiet te verhogen.",
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
		"problem.busy":             "ただいま混み合っています。数秒後にもう一度お試しください。",
		"problem.no-seat":          "このストアにはこの招待のための空きがありません。ストアのオーナーに、空きを作るか上限を引き上げるよう依頼してください。",
	},
}

// accountTexts are the self-service pages' Texts, merged into Texts.
//
//nolint:goconst,gosec,misspell // a translation table: keys repeat per locale, "password" entries are labels, and Dutch is not misspelt English
var accountTexts = map[string]map[string]string{
	"en": {
		"forgot.title":                   "Forgot your password?",
		"forgot.intro":                   "Enter your store and the email you log in with. If they belong to an account, we email it a link to choose a new password.",
		"forgot.store":                   "Store",
		"forgot.store.hint":              "The store's name as your platform knows it, e.g. acme-shop (or namespace/name).",
		"forgot.email":                   "Email",
		"forgot.submit":                  "Email me a link",
		"forgot.sent":                    "If the store and email belong to an account, a link to reset its password is on its way. It works once, for a limited time. Check your inbox and spam folder.",
		"reset.title":                    "Choose a new password for %s",
		"reset.intro":                    "Your current password keeps working until you save a new one here.",
		"reset.password":                 "New password",
		"reset.submit":                   "Save new password",
		"reset.done.title":               "Your password was changed",
		"reset.done.body":                "You can now log in to the admin panel of %s with %s and your new password.",
		"reset.problem.unknown-token":    "We do not know this reset link. Check that you copied the whole link from the email, or ask for a new one.",
		"reset.problem.already-accepted": "This reset link was already used. Ask for a new one if you still need it.",
		"reset.problem.no-longer-valid":  "This reset link has expired or is no longer valid. Ask for a new one.",
		"enrol.title":                    "Set up two-factor authentication for %s",
		"enrol.intro":                    "Your two-factor authentication was reset. Show your new key once, with nobody looking, and add it to your authenticator app.",
		"enrol.submit":                   "Show my new key",
		"enrol.done.title":               "Your new two-factor key",
		"enrol.done.body":                "Add this key to your authenticator app. From now on, log in to %s as %s with its codes.",
		"email.title":                    "Confirm your new login email",
		"email.intro":                    "Log in to %s with %s instead of %s from now on?",
		"email.submit":                   "Confirm new email",
		"email.done.title":               "Your login email was changed",
		"email.done.body":                "From now on, log in to %s with %s.",
		"email.problem.conflict":         "This address can no longer become your login email: it belongs to another account now, or your account is managed by your platform team.",
		"email.cancel.title":             "Stop the change of your login email",
		"email.cancel.intro":             "Keep logging in to %s with %s, and stop the change to %s?",
		"email.cancel.submit":            "Stop this change",
		"email.cancel.done.title":        "The change was stopped",
		"email.cancel.done.body":         "You keep logging in with %s. If you did not ask for the change, change your password now: someone knows it.",
		"transfer.cancel.title":          "Stop the hand-over of your store",
		"transfer.cancel.intro":          "Stop handing %s over to %s? You remain its owner.",
		"transfer.cancel.submit":         "Stop the hand-over",
		"transfer.cancel.done.title":     "The hand-over was stopped",
		"transfer.cancel.done.body":      "You remain the owner of %s. Tell your platform team that someone changed the store's owner in its configuration.",
	},
	"nl": {
		"forgot.title":                   "Wachtwoord vergeten?",
		"forgot.intro":                   "Vul je winkel in en het e-mailadres waarmee je inlogt. Horen ze bij een account, dan mailen we een link om een nieuw wachtwoord te kiezen.",
		"forgot.store":                   "Winkel",
		"forgot.store.hint":              "De naam van de winkel zoals je platform hem kent, bijvoorbeeld acme-shop (of namespace/naam).",
		"forgot.email":                   "E-mailadres",
		"forgot.submit":                  "Mail mij een link",
		"forgot.sent":                    "Horen de winkel en het e-mailadres bij een account, dan is een link om het wachtwoord opnieuw in te stellen onderweg. Hij werkt één keer, een beperkte tijd. Kijk ook in je spammap.",
		"reset.title":                    "Kies een nieuw wachtwoord voor %s",
		"reset.intro":                    "Je huidige wachtwoord blijft werken tot je hier een nieuw opslaat.",
		"reset.password":                 "Nieuw wachtwoord",
		"reset.submit":                   "Nieuw wachtwoord opslaan",
		"reset.done.title":               "Je wachtwoord is gewijzigd",
		"reset.done.body":                "Je kunt nu inloggen in het beheerpaneel van %s met %s en je nieuwe wachtwoord.",
		"reset.problem.unknown-token":    "We kennen deze link niet. Controleer of je de hele link uit de e-mail hebt gekopieerd, of vraag een nieuwe aan.",
		"reset.problem.already-accepted": "Deze link is al gebruikt. Vraag een nieuwe aan als je die nog nodig hebt.",
		"reset.problem.no-longer-valid":  "Deze link is verlopen of niet meer geldig. Vraag een nieuwe aan.",
		"enrol.title":                    "Stel tweestapsverificatie in voor %s",
		"enrol.intro":                    "Je tweestapsverificatie is opnieuw ingesteld. Toon je nieuwe sleutel één keer, zonder meekijkers, en voeg hem toe aan je authenticator-app.",
		"enrol.submit":                   "Toon mijn nieuwe sleutel",
		"enrol.done.title":               "Je nieuwe sleutel voor tweestapsverificatie",
		"enrol.done.body":                "Voeg deze sleutel toe aan je authenticator-app. Log voortaan in bij %s als %s met de codes daaruit.",
		"email.title":                    "Bevestig je nieuwe inlogadres",
		"email.intro":                    "Voortaan bij %s inloggen met %s in plaats van %s?",
		"email.submit":                   "Nieuw e-mailadres bevestigen",
		"email.done.title":               "Je inlogadres is gewijzigd",
		"email.done.body":                "Log voortaan bij %s in met %s.",
		"email.problem.conflict":         "Dit adres kan niet meer je inlogadres worden: het hoort nu bij een ander account, of je account wordt door je platformteam beheerd.",
		"email.cancel.title":             "De wijziging van je inlogadres stoppen",
		"email.cancel.intro":             "Blijf je bij %s inloggen met %s, en stop je de wijziging naar %s?",
		"email.cancel.submit":            "Deze wijziging stoppen",
		"email.cancel.done.title":        "De wijziging is gestopt",
		"email.cancel.done.body":         "Je blijft inloggen met %s. Heb je niet om de wijziging gevraagd? Wijzig dan nu je wachtwoord: iemand anders kent het.",
		"transfer.cancel.title":          "De overdracht van je winkel stoppen",
		"transfer.cancel.intro":          "De overdracht van %s aan %s stoppen? Je blijft eigenaar.",
		"transfer.cancel.submit":         "De overdracht stoppen",
		"transfer.cancel.done.title":     "De overdracht is gestopt",
		"transfer.cancel.done.body":      "Je blijft eigenaar van %s. Laat je platformteam weten dat iemand de eigenaar van de winkel in de configuratie heeft gewijzigd.",
	},
	"ja": {
		"forgot.title":                   "パスワードをお忘れですか？",
		"forgot.intro":                   "ストアとログインに使うメールアドレスを入力してください。アカウントが見つかった場合、新しいパスワードを設定するリンクをメールでお送りします。",
		"forgot.store":                   "ストア",
		"forgot.store.hint":              "プラットフォーム上のストア名（例: acme-shop、または namespace/name）。",
		"forgot.email":                   "メールアドレス",
		"forgot.submit":                  "リンクを送信",
		"forgot.sent":                    "ストアとメールアドレスがアカウントに一致する場合、パスワード再設定のリンクを送信しました。リンクは一度だけ、一定時間有効です。迷惑メールフォルダもご確認ください。",
		"reset.title":                    "%s の新しいパスワードを設定",
		"reset.intro":                    "ここで新しいパスワードを保存するまで、現在のパスワードは有効です。",
		"reset.password":                 "新しいパスワード",
		"reset.submit":                   "新しいパスワードを保存",
		"reset.done.title":               "パスワードを変更しました",
		"reset.done.body":                "%s の管理画面に %s と新しいパスワードでログインできます。",
		"reset.problem.unknown-token":    "この再設定リンクは見つかりません。メールのリンクをすべてコピーしたか確認するか、新しいリンクを依頼してください。",
		"reset.problem.already-accepted": "この再設定リンクはすでに使用されています。必要な場合は新しいリンクを依頼してください。",
		"reset.problem.no-longer-valid":  "この再設定リンクは期限切れか、無効になりました。新しいリンクを依頼してください。",
		"enrol.title":                    "%s の二段階認証を設定",
		"enrol.intro":                    "二段階認証がリセットされました。周りに人がいないことを確認して新しいキーを一度だけ表示し、認証アプリに追加してください。",
		"enrol.submit":                   "新しいキーを表示",
		"enrol.done.title":               "新しい二段階認証キー",
		"enrol.done.body":                "このキーを認証アプリに追加してください。今後は %s に %s としてそのコードでログインします。",
		"email.title":                    "新しいログインメールアドレスの確認",
		"email.intro":                    "今後 %s へのログインに %s を使い、%s は使わなくなります。よろしいですか？",
		"email.submit":                   "新しいメールアドレスを確認",
		"email.done.title":               "ログインメールアドレスを変更しました",
		"email.done.body":                "今後は %s に %s でログインしてください。",
		"email.problem.conflict":         "このアドレスはログインメールアドレスにできなくなりました。別のアカウントで使われているか、アカウントがプラットフォームチームによって管理されています。",
		"email.cancel.title":             "ログインメールアドレスの変更を中止",
		"email.cancel.intro":             "%s へのログインに引き続き %s を使い、%s への変更を中止しますか？",
		"email.cancel.submit":            "この変更を中止",
		"email.cancel.done.title":        "変更を中止しました",
		"email.cancel.done.body":         "引き続き %s でログインします。変更を依頼していない場合は、すぐにパスワードを変更してください。他の人に知られています。",
		"transfer.cancel.title":          "ストアの引き継ぎを中止",
		"transfer.cancel.intro":          "%s の %s への引き継ぎを中止しますか？あなたはオーナーのままです。",
		"transfer.cancel.submit":         "引き継ぎを中止",
		"transfer.cancel.done.title":     "引き継ぎを中止しました",
		"transfer.cancel.done.body":      "あなたは引き続き %s のオーナーです。誰かがストアの設定でオーナーを変更したことを、プラットフォームチームに伝えてください。",
	},
}

func init() {
	for locale, entries := range accountTexts {
		for k, v := range entries {
			Texts[locale][k] = v
		}
	}
}

func LocaleOf(store *membershipv1alpha1.Store) string {
	if store != nil {
		if _, ok := Texts[string(store.Spec.Locale)]; ok {
			return string(store.Spec.Locale)
		}
	}
	return "en"
}
