// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"fmt"
	"maps"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// badInput is one invalid or hostile manifest: applied with the real kubectl over an existing,
// valid object of the same name, it must be refused with a message naming field.
type badInput struct {
	name  string
	yaml  string
	field string
}

const corpusNamespace = "corpus"

func corpusStore(spec string) string {
	return "apiVersion: membership.storeops.io/v1alpha1\nkind: Store\nmetadata: {name: corpus-shop}\nspec:\n" + spec
}

func corpusMember(spec string) string {
	return "apiVersion: membership.storeops.io/v1alpha1\nkind: Member\nmetadata: {name: corpus-bob}\nspec:\n" + spec
}

func corpusInvitation(spec string) string {
	return "apiVersion: membership.storeops.io/v1alpha1\nkind: Invitation\nmetadata: {name: corpus-dave}\nspec:\n" + spec
}

const (
	storeOK      = "  displayName: Corpus Shop\n  owner: {email: owner@corpus.example.com}\n"
	memberRef    = "  storeRef: {name: corpus-shop}\n"
	memberOK     = memberRef + "  email: bob@corpus.example.com\n  roles: [staff]\n"
	invitationOK = memberRef + "  email: dave@corpus.example.com\n  roles: [staff]\n"
)

// badInputs is the corpus: malformed and look-alike emails, unknown and duplicate roles, owner-role
// attempts, oversized fields, wrong types, other namespaces, control characters, HTML and header
// injection.
//
//nolint:lll // one manifest per line: the corpus reads as a table
var badInputs = []badInput{
	// Members: email.
	{"member: not an email", corpusMember(memberRef + "  email: not-an-email\n  roles: [staff]\n"), "spec.email"},
	{"member: email with a display name", corpusMember(memberRef + "  email: 'Bob <bob@corpus.example.com>'\n  roles: [staff]\n"), "spec.email"},
	{"member: email header injection", corpusMember(memberRef + "  email: \"bob@corpus.example.com\\r\\nBcc: eve@evil.example\"\n  roles: [staff]\n"), "spec.email"},
	{"member: look-alike Cyrillic email", corpusMember(memberRef + "  email: bоb@corpus.example.com\n  roles: [staff]\n"), "spec.email"},
	{"member: email without a domain dot", corpusMember(memberRef + "  email: bob@localhost\n  roles: [staff]\n"), "spec.email"},
	{"member: email with two @", corpusMember(memberRef + "  email: bob@@corpus.example.com\n  roles: [staff]\n"), "spec.email"},
	{"member: email of 300 characters", corpusMember(memberRef + "  email: " + strings.Repeat("b", 290) + "@x.example\n  roles: [staff]\n"), "spec.email"},
	{"member: email as a number", corpusMember(memberRef + "  email: 42\n  roles: [staff]\n"), "spec.email"},
	{"member: no email", corpusMember(memberRef + "  roles: [staff]\n"), "spec.email"},
	// Members: roles.
	{"member: unknown role", corpusMember(memberRef + "  email: bob@corpus.example.com\n  roles: [superuser]\n"), "spec.roles"},
	{"member: duplicate roles", corpusMember(memberRef + "  email: bob@corpus.example.com\n  roles: [admin, finance, admin]\n"), "spec.roles"},
	{"member: no roles", corpusMember(memberRef + "  email: bob@corpus.example.com\n  roles: []\n"), "spec.roles"},
	{"member: roles as a string", corpusMember(memberRef + "  email: bob@corpus.example.com\n  roles: staff\n"), "spec.roles"},
	{"member: role in capitals", corpusMember(memberRef + "  email: bob@corpus.example.com\n  roles: [Admin]\n"), "spec.roles"},
	{"member: the owner role", corpusMember(memberRef + "  email: bob@corpus.example.com\n  roles: [owner]\n"), "spec.roles"},
	{"member: the owner role beside another", corpusMember(memberRef + "  email: bob@corpus.example.com\n  roles: [staff, owner]\n"), "spec.roles"},
	// Members: other fields.
	{"member: storeRef to another namespace", corpusMember("  storeRef: {name: corpus-shop, namespace: kube-system}\n  email: bob@corpus.example.com\n  roles: [staff]\n"), "spec.storeRef"},
	{"member: no storeRef", corpusMember("  email: bob@corpus.example.com\n  roles: [staff]\n"), "spec.storeRef"},
	{"member: storeRef name with a slash", corpusMember("  storeRef: {name: ../other}\n  email: bob@corpus.example.com\n  roles: [staff]\n"), "spec.storeRef.name"},
	{"member: display name with a newline", corpusMember(memberOK + "  displayName: \"Bob\\nBcc: eve@evil.example\"\n"), "spec.displayName"},
	{"member: display name with an escape sequence", corpusMember(memberOK + "  displayName: \"Bob\\u001b[31m\"\n"), "spec.displayName"},
	{"member: display name of 101 characters", corpusMember(memberOK + "  displayName: " + strings.Repeat("b", 101) + "\n"), "spec.displayName"},
	{"member: malformed phone", corpusMember(memberOK + "  phone: call me maybe\n"), "spec.phone"},
	{"member: disabled as a string", corpusMember(memberOK + "  disabled: \"yes\"\n"), "spec.disabled"},
	{"member: passwordSecretRef without a key", corpusMember(memberOK + "  passwordSecretRef: {name: pw}\n"), "spec.passwordSecretRef"},
	{"member: accessExpiresAt that is not a date", corpusMember(memberOK + "  accessExpiresAt: next tuesday\n"), "spec.accessExpiresAt"},
	{"member: accessExpiresAt on the owner", corpusMember(memberRef + "  email: owner@corpus.example.com\n  roles: [owner]\n  accessExpiresAt: \"2027-01-01T00:00:00Z\"\n"), "accessExpiresAt"},
	{"member: email preference with a bad name", corpusMember(memberOK + "  emailPreferences: {\"<script>\": true}\n"), "spec.emailPreferences"},
	{"member: unknown field", corpusMember(memberOK + "  isAdmin: true\n"), "isAdmin"},
	// Stores.
	{"store: no displayName", corpusStore("  owner: {email: owner@corpus.example.com}\n"), "spec.displayName"},
	{"store: empty displayName", corpusStore("  displayName: \"\"\n  owner: {email: owner@corpus.example.com}\n"), "spec.displayName"},
	{"store: displayName with a newline", corpusStore("  displayName: \"Shop\\r\\nSubject: you won\"\n  owner: {email: owner@corpus.example.com}\n"), "spec.displayName"},
	{"store: owner email malformed", corpusStore("  displayName: Corpus Shop\n  owner: {email: owner-at-corpus}\n"), "spec.owner.email"},
	{"store: invitationTTL of 30s", corpusStore(storeOK + "  invitationTTL: 30s\n"), "spec.invitationTTL"},
	{"store: invitationTTL in days", corpusStore(storeOK + "  invitationTTL: 7d\n"), "spec.invitationTTL"},
	{"store: invitationTTL above 720h", corpusStore(storeOK + "  invitationTTL: 10000h\n"), "spec.invitationTTL"},
	{"store: unknown locale", corpusStore(storeOK + "  locale: xx\n"), "spec.locale"},
	{"store: negative memberLimit", corpusStore(storeOK + "  memberLimit: -1\n"), "spec.memberLimit"},
	{"store: memberLimit as a string", corpusStore(storeOK + "  memberLimit: ten\n"), "spec.memberLimit"},
	{"store: notification email with a display name", corpusStore(storeOK + "  notificationEmail: 'Ops <ops@corpus.example.com>'\n"), "spec.notificationEmail"},
	// Invitations.
	{"invitation: malformed email", corpusInvitation(memberRef + "  email: dave@example\n  roles: [staff]\n"), "spec.email"},
	{"invitation: email header injection", corpusInvitation(memberRef + "  email: \"dave@corpus.example.com\\nCc: eve@evil.example\"\n  roles: [staff]\n"), "spec.email"},
	{"invitation: the owner role", corpusInvitation(memberRef + "  email: dave@corpus.example.com\n  roles: [owner]\n"), "spec.roles"},
	{"invitation: unknown role", corpusInvitation(memberRef + "  email: dave@corpus.example.com\n  roles: [root]\n"), "spec.roles"},
	{"invitation: message of 1,001 characters", corpusInvitation(invitationOK + "  message: " + strings.Repeat("x", 1001) + "\n"), "spec.message"},
	{"invitation: invitedBy with a NUL", corpusInvitation(invitationOK + "  invitedBy: \"Alice\\u0000\"\n"), "spec.invitedBy"},
	{"invitation: invitedBy with a newline", corpusInvitation(invitationOK + "  invitedBy: \"Alice\\nBcc: eve@evil.example\"\n"), "spec.invitedBy"},
	{"invitation: storeRef to another namespace", corpusInvitation("  storeRef: {name: corpus-shop, namespace: default}\n  email: dave@corpus.example.com\n  roles: [staff]\n"), "spec.storeRef"},
	{"invitation: readdressed after creation", corpusInvitation(memberRef + "  email: eve@corpus.example.com\n  roles: [staff]\n"), "spec.email"},
}

// corpusState is what people stored in the corpus namespace, by kind and name: generation, labels,
// annotations (kubectl's last-applied configuration among them) and spec. A refused apply must
// change none of it. (Status is the controllers' and may move.)
func corpusState() map[string]string {
	GinkgoHelper()
	out, _, err := kubectl(env.Kubeconfig, "", "get", "-n", corpusNamespace, "stores,members,invitations", "-o",
		`jsonpath={range .items[*]}{.kind}/{.metadata.name} {.metadata.generation} {.metadata.labels} {.metadata.annotations} {.spec}{"\n"}{end}`)
	Expect(err).NotTo(HaveOccurred())
	state := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		key, rest, _ := strings.Cut(line, " ")
		state[key] = rest
	}
	return state
}

var _ = Describe("a corpus of bad and hostile manifests, applied with the real kubectl", Ordered, func() {
	BeforeAll(func() {
		_, _, err := kubectl(env.Kubeconfig, "", "create", "namespace", corpusNamespace)
		Expect(err).NotTo(HaveOccurred())
		for _, valid := range []string{corpusStore(storeOK), corpusMember(memberOK), corpusInvitation(invitationOK)} {
			_, stderr, err := kubectl(env.Kubeconfig, valid, "apply", "-n", corpusNamespace, "-f", "-")
			Expect(err).NotTo(HaveOccurred(), stderr)
		}
		// Let the controllers settle, so that only a refused apply could change anything next.
		Eventually(func(g Gomega) {
			out, _, err := kubectl(env.Kubeconfig, "", "get", "-n", corpusNamespace, "invitation", "corpus-dave", "-o", "jsonpath={.status.phase}")
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(out).To(Equal("Sent"))
			out, _, err = kubectl(env.Kubeconfig, "", "get", "-n", corpusNamespace, "member", "corpus-bob", "-o", "jsonpath={.status.phase}")
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(out).To(Equal("Active"))
		}).WithTimeout(time.Minute).Should(Succeed())
		previous := corpusState()
		Eventually(func() bool {
			current := corpusState()
			settled := maps.Equal(current, previous)
			previous = current
			return settled
		}).WithTimeout(time.Minute).WithPolling(2*time.Second).Should(BeTrue(), "the corpus objects stop changing")
	})

	It(fmt.Sprintf("refuses each of the %d with a message naming the field, and changes nothing stored", len(badInputs)), func() {
		Expect(len(badInputs)).To(BeNumerically(">=", 40))
		before := corpusState()
		for _, bad := range badInputs {
			_, stderr, err := kubectl(env.Kubeconfig, bad.yaml, "apply", "-n", corpusNamespace, "-f", "-")
			Expect(err).To(HaveOccurred(), "%s: accepted", bad.name)
			Expect(stderr).To(ContainSubstring(bad.field), "%s: the message names the field", bad.name)
			_, _ = fmt.Fprintf(GinkgoWriter, "%s: %s", bad.name, stderr)
		}
		Expect(corpusState()).To(Equal(before), "no stored object changed")
		AddReportEntry("bad-input corpus", fmt.Sprintf("%d manifests refused, %d stored objects unchanged", len(badInputs), len(before)))
	})
})
