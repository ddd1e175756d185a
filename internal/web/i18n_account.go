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

// accountPageTexts are the account page's texts (/account), merged into Texts.
//
//nolint:goconst,gosec // a translation table: its keys repeat per locale, and "password" entries are labels
var accountPageTexts = map[string]map[string]string{
	"en": {
		"account.signin.title":   "Sign in to your account",
		"account.signin.intro":   "See your stores and choose which emails each one sends you.",
		"account.email":          "Email",
		"account.signin.submit":  "Sign in",
		"account.title":          "Your account",
		"account.intro":          "Signed in as %s.",
		"account.stores":         "Your stores",
		"account.roles":          "Roles",
		"account.preferences":    "Emails from this store",
		"account.pref.inherit":   "Store default (%s)",
		"account.pref.on":        "On",
		"account.pref.off":       "Off",
		"account.pref.save":      "Save email preferences",
		"account.pref.saved":     "Your email preferences for %s are saved.",
		"account.pref.conflict":  "Your platform team manages this preference; it cannot be changed here.",
		"account.pref.none":      "This store sends no optional emails.",
		"account.signout":        "Sign out",
		"account.on":             "on",
		"account.off":            "off",
		"account.signin.expired": "Your session ended. Please sign in again.",
	},
	"nl": {
		"account.signin.title":   "Inloggen op je account",
		"account.signin.intro":   "Bekijk je winkels en kies welke e-mails elke winkel je stuurt.",
		"account.email":          "E-mailadres",
		"account.signin.submit":  "Inloggen",
		"account.title":          "Je account",
		"account.intro":          "Ingelogd als %s.",
		"account.stores":         "Je winkels",
		"account.roles":          "Rollen",
		"account.preferences":    "E-mails van deze winkel",
		"account.pref.inherit":   "Standaard van de winkel (%s)",
		"account.pref.on":        "Aan",
		"account.pref.off":       "Uit",
		"account.pref.save":      "E-mailvoorkeuren opslaan",
		"account.pref.saved":     "Je e-mailvoorkeuren voor %s zijn opgeslagen.",
		"account.pref.conflict":  "Je platformteam beheert deze voorkeur; je kunt hem hier niet wijzigen.",
		"account.pref.none":      "Deze winkel stuurt geen optionele e-mails.",
		"account.signout":        "Uitloggen",
		"account.on":             "aan",
		"account.off":            "uit",
		"account.signin.expired": "Je sessie is beëindigd. Log opnieuw in.",
	},
	"ja": {
		"account.signin.title":   "アカウントにログイン",
		"account.signin.intro":   "ストアの一覧と、各ストアから受け取るメールを設定できます。",
		"account.email":          "メールアドレス",
		"account.signin.submit":  "ログイン",
		"account.title":          "あなたのアカウント",
		"account.intro":          "%s でログインしています。",
		"account.stores":         "あなたのストア",
		"account.roles":          "ロール",
		"account.preferences":    "このストアからのメール",
		"account.pref.inherit":   "ストアの既定（%s）",
		"account.pref.on":        "受け取る",
		"account.pref.off":       "受け取らない",
		"account.pref.save":      "メール設定を保存",
		"account.pref.saved":     "%s のメール設定を保存しました。",
		"account.pref.conflict":  "この設定はプラットフォームチームが管理しているため、ここでは変更できません。",
		"account.pref.none":      "このストアから送られる任意のメールはありません。",
		"account.signout":        "ログアウト",
		"account.on":             "受け取る",
		"account.off":            "受け取らない",
		"account.signin.expired": "セッションが終了しました。もう一度ログインしてください。",
	},
}
