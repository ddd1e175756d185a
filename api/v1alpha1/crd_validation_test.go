// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package v1alpha1_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

const namespace = "default"

// object parses one manifest and applies edits ("spec.email" -> value; a nil value removes the
// field), so each table entry states only what makes it invalid.
func object(manifest string, edits ...any) *unstructured.Unstructured {
	GinkgoHelper()
	u := &unstructured.Unstructured{}
	Expect(yaml.Unmarshal([]byte(manifest), &u.Object)).To(Succeed())
	u.SetNamespace(namespace)
	for i := 0; i < len(edits); i += 2 {
		path := strings.Split(edits[i].(string), ".")
		if edits[i+1] == nil {
			unstructured.RemoveNestedField(u.Object, path...)
			continue
		}
		Expect(unstructured.SetNestedField(u.Object, edits[i+1], path...)).To(Succeed())
	}
	return u
}

const validStore = `
apiVersion: membership.storeops.io/v1alpha1
kind: Store
metadata: {name: shop}
spec:
  displayName: Shop
  owner: {email: owner@example.com}
`

const validMember = `
apiVersion: membership.storeops.io/v1alpha1
kind: Member
metadata: {name: bob}
spec:
  storeRef: {name: shop}
  email: bob@example.com
  roles: [staff]
`

const validIntegration = `
apiVersion: membership.storeops.io/v1alpha1
kind: Member
metadata: {name: erp}
spec:
  storeRef: {name: shop}
  type: Integration
  clientID: erp@shop.example.com
  roles: [operations]
`

const validInvitation = `
apiVersion: membership.storeops.io/v1alpha1
kind: Invitation
metadata: {name: invite-dave}
spec:
  storeRef: {name: shop}
  email: dave@example.com
  roles: [staff]
`

// expectRejected checks that err is the API server refusing the object with a message that names
// field and states the rule.
func expectRejected(err error, field, rule string) {
	GinkgoHelper()
	Expect(err).To(HaveOccurred())
	Expect(apierrors.IsInvalid(err) || apierrors.IsBadRequest(err)).To(BeTrue(), "want Invalid or BadRequest, got %v", err)
	Expect(err.Error()).To(ContainSubstring(field), "the message names the field")
	Expect(err.Error()).To(ContainSubstring(rule), "the message states the rule")
}

var _ = Describe("CRD validation", func() {
	DescribeTable("rejects invalid objects at create time with a message that names the field",
		func(obj *unstructured.Unstructured, field, rule string) {
			err := k8sClient.Create(ctx, obj, client.FieldValidation("Strict"))
			expectRejected(err, field, rule)
			stored := obj.DeepCopy()
			Expect(apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), stored))).To(BeTrue(),
				"nothing is stored")
		},
		Entry("member: not an email", object(validMember, "spec.email", "not-an-email"),
			"spec.email", "must be a bare email address"),
		Entry("member: an email with a display name", object(validMember, "spec.email", "Bob <bob@example.com>"),
			"spec.email", "no display name"),
		Entry("member: an email with a header injection", object(validMember, "spec.email", "bob@example.com\r\nBcc: eve@example.com"),
			"spec.email", "must be a bare email address"),
		Entry("member: non-ASCII email", object(validMember, "spec.email", "bób@example.com"),
			"spec.email", "must be a bare email address"),
		Entry("member: missing email", object(validMember, "spec.email", nil),
			"spec.email", "required for a person"),
		Entry("integration: an email", object(validIntegration, "spec.email", "erp@example.com"),
			"spec.email", "an integration (type Integration) has no email"),
		Entry("integration: 2FA", object(validIntegration, "spec.twoFactor", map[string]any{"required": true}),
			"spec.twoFactor.required", "without 2FA"),
		Entry("integration: the owner role", object(validIntegration, "spec.roles", []any{"owner"}),
			"spec.roles", "an integration cannot be the owner"),
		Entry("integration: a client ID with a space", object(validIntegration, "spec.clientID", "erp login"),
			"spec.clientID", "should match"),
		Entry("person: a client ID", object(validMember, "spec.clientID", "erp"),
			"spec.clientID", "only an integration (type Integration) has one"),
		Entry("member: unknown type", object(validMember, "spec.type", "Robot"),
			"spec.type", `Unsupported value: "Robot"`),
		Entry("member: unknown role", object(validMember, "spec.roles", []any{"superuser"}),
			"spec.roles[0]", `Unsupported value: "superuser"`),
		Entry("member: empty roles", object(validMember, "spec.roles", []any{}),
			"spec.roles", "should have at least 1 items"),
		Entry("member: missing roles", object(validMember, "spec.roles", nil),
			"spec.roles", "Required value"),
		Entry("member: duplicate roles", object(validMember, "spec.roles", []any{"admin", "finance", "admin"}),
			"spec.roles[2]", `Duplicate value: "admin"`),
		Entry("member: missing storeRef", object(validMember, "spec.storeRef", nil),
			"spec.storeRef", "Required value"),
		Entry("member: storeRef to another namespace", object(validMember, "spec.storeRef.namespace", "other"),
			"spec.storeRef.namespace", "unknown field"),
		Entry("member: malformed phone", object(validMember, "spec.phone", "call me maybe"),
			"spec.phone", "should match"),
		Entry("member: display name with a newline", object(validMember, "spec.displayName", "Bob\nBcc: eve@example.com"),
			"spec.displayName", "must not contain control characters"),
		Entry("member: display name too long", object(validMember, "spec.displayName", strings.Repeat("b", 101)),
			"spec.displayName", "may not be more than 100"),
		Entry("member: malformed email preference name", object(validMember, "spec.emailPreferences", map[string]any{"Not A Name": true}),
			"spec.emailPreferences", "preference names must be lower-case"),
		Entry("member: passwordSecretRef without key", object(validMember, "spec.passwordSecretRef", map[string]any{"name": "pw"}),
			"spec.passwordSecretRef.key", "Required value"),
		Entry("member: wrong type for disabled", object(validMember, "spec.disabled", "yes"),
			"spec.disabled", "must be of type boolean"),

		Entry("store: missing displayName", object(validStore, "spec.displayName", nil),
			"spec.displayName", "Required value"),
		Entry("store: empty displayName", object(validStore, "spec.displayName", ""),
			"spec.displayName", "should be at least 1 chars long"),
		Entry("store: missing owner email", object(validStore, "spec.owner.email", nil),
			"spec.owner.email", "Required value"),
		Entry("store: owner email with a display name", object(validStore, "spec.owner.email", "Alice <alice@example.com>"),
			"spec.owner.email", "must be a bare email address"),
		Entry("store: notification email malformed", object(validStore, "spec.notificationEmail", "ops at example.com"),
			"spec.notificationEmail", "must be a bare email address"),
		Entry("store: invitationTTL below 1m", object(validStore, "spec.invitationTTL", "30s"),
			"spec.invitationTTL", "must be a duration between 1m and 720h"),
		Entry("store: invitationTTL above 720h", object(validStore, "spec.invitationTTL", "721h"),
			"spec.invitationTTL", "must be a duration between 1m and 720h"),
		Entry("store: invitationTTL in days (not a Go duration)", object(validStore, "spec.invitationTTL", "7d"),
			"spec.invitationTTL", "must be a duration between 1m and 720h"),
		Entry("store: unknown locale", object(validStore, "spec.locale", "fr"),
			"spec.locale", `Unsupported value: "fr"`),
		Entry("store: negative memberLimit", object(validStore, "spec.memberLimit", int64(-1)),
			"spec.memberLimit", "should be greater than or equal to 0"),

		Entry("invitation: message too long", object(validInvitation, "spec.message", strings.Repeat("x", 1001)),
			"spec.message", "may not be more than 1000"),
		Entry("invitation: empty roles", object(validInvitation, "spec.roles", []any{}),
			"spec.roles", "should have at least 1 items"),
		Entry("invitation: malformed email", object(validInvitation, "spec.email", "dave@example"),
			"spec.email", "must be a bare email address"),
		Entry("invitation: invitedBy with control characters", object(validInvitation, "spec.invitedBy", "Alice\x00"),
			"spec.invitedBy", "must not contain control characters"),
	)

	DescribeTable("rejects changes to immutable fields and keeps the stored object",
		func(manifest, name, path string, value any, field, rule string) {
			obj := object(manifest, "metadata.name", name)
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			DeferCleanup(func() { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, obj))).To(Succeed()) })
			before := obj.DeepCopy()

			changed := obj.DeepCopy()
			Expect(unstructured.SetNestedField(changed.Object, value, strings.Split(path, ".")...)).To(Succeed())
			expectRejected(k8sClient.Update(ctx, changed), field, rule)

			after := obj.DeepCopy()
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), after)).To(Succeed())
			Expect(after.GetResourceVersion()).To(Equal(before.GetResourceVersion()), "nothing was written")
			Expect(after.Object["spec"]).To(Equal(before.Object["spec"]))
		},
		Entry("member: storeRef", validMember, "bob-moves", "spec.storeRef.name", "other-shop",
			"spec.storeRef", "is immutable: a Member cannot move to another Store"),
		Entry("member: type", validIntegration, "erp-becomes-person", "spec.type", "Person",
			"spec.type", "is immutable: delete the Member and create it as the other type"),
		Entry("invitation: storeRef", validInvitation, "invite-moves", "spec.storeRef.name", "other-shop",
			"spec.storeRef", "is immutable: an Invitation cannot move to another Store"),
		Entry("invitation: email", validInvitation, "invite-readdressed", "spec.email", "eve@example.com",
			"spec.email", "is immutable: create a new Invitation"),
	)

	It("allows the fields that may change: member email, roles and disabled", func() {
		obj := object(validMember, "metadata.name", "bob-changes")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		DeferCleanup(func() { Expect(k8sClient.Delete(ctx, obj)).To(Succeed()) })
		Expect(unstructured.SetNestedField(obj.Object, "bob+new@example.com", "spec", "email")).To(Succeed())
		Expect(unstructured.SetNestedStringSlice(obj.Object, []string{"admin", "finance"}, "spec", "roles")).To(Succeed())
		Expect(unstructured.SetNestedField(obj.Object, true, "spec", "disabled")).To(Succeed())
		Expect(k8sClient.Update(ctx, obj)).To(Succeed())
	})

	It("defaults locale, invitationTTL and disabled", func() {
		store := object(validStore, "metadata.name", "defaults")
		Expect(k8sClient.Create(ctx, store)).To(Succeed())
		DeferCleanup(func() { Expect(k8sClient.Delete(ctx, store)).To(Succeed()) })
		Expect(store.Object["spec"]).To(HaveKeyWithValue("locale", "en"))
		Expect(store.Object["spec"]).To(HaveKeyWithValue("invitationTTL", "168h"))

		member := object(validMember, "metadata.name", "defaults")
		Expect(k8sClient.Create(ctx, member)).To(Succeed())
		DeferCleanup(func() { Expect(k8sClient.Delete(ctx, member)).To(Succeed()) })
		Expect(member.Object["spec"]).To(HaveKeyWithValue("disabled", false))
		Expect(member.Object["spec"]).To(HaveKeyWithValue("type", "Person"), "a Member is a person unless it says otherwise")

		integration := object(validIntegration, "metadata.name", "defaults-erp")
		Expect(k8sClient.Create(ctx, integration)).To(Succeed(), "an integration needs no email")
		DeferCleanup(func() { Expect(k8sClient.Delete(ctx, integration)).To(Succeed()) })
	})

	It("accepts and rejects exactly the email addresses the Go rule does", func() {
		for i, tc := range emailCases {
			obj := object(validMember, "metadata.name", fmt.Sprintf("email-case-%d", i), "spec.email", tc.address)
			err := k8sClient.Create(ctx, obj)
			if tc.valid {
				Expect(err).NotTo(HaveOccurred(), "%q is valid", tc.address)
				Expect(k8sClient.Delete(ctx, obj)).To(Succeed())
			} else {
				expectRejected(err, "spec.email", "must be a bare email address")
			}
		}
	})

	It("accepts every manifest in config/samples/", func() {
		files, err := filepath.Glob("../../config/samples/*.yaml")
		Expect(err).NotTo(HaveOccurred())
		Expect(files).NotTo(BeEmpty())
		kinds := map[string]int{}
		for _, file := range files {
			for _, obj := range readManifests(file) {
				if obj.GetNamespace() == "" {
					obj.SetNamespace(namespace)
				}
				Expect(k8sClient.Create(ctx, obj, client.FieldValidation("Strict"))).To(Succeed(), "%s: %s", file, obj.GetName())
				kinds[obj.GetKind()]++
				DeferCleanup(func() { Expect(k8sClient.Delete(ctx, obj)).To(Succeed()) })
			}
		}
		Expect(kinds).To(HaveKey("Store"))
		Expect(kinds).To(HaveKey("Member"))
		Expect(kinds).To(HaveKey("Invitation"))
	})
})

// readManifests splits a multi-document YAML file into objects.
func readManifests(path string) []*unstructured.Unstructured {
	GinkgoHelper()
	data, err := os.ReadFile(path) //nolint:gosec // test fixture path
	Expect(err).NotTo(HaveOccurred())
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []*unstructured.Unstructured
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objs
		}
		Expect(err).NotTo(HaveOccurred())
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		u := &unstructured.Unstructured{}
		Expect(yaml.Unmarshal(doc, &u.Object)).To(Succeed(), path)
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
}
