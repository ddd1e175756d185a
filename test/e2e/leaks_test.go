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

package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/storeops/member-operator/test/logcapture"
)

// managerLog keeps everything the manager process wrote, for the secret-leak search.
var managerLog = &logcapture.Buffer{}

var linkToken = regexp.MustCompile(`[?&]token=([^&\s"'<>]+)`)

// issuedSecrets is every secret the run has issued that still exists or was emailed: the data
// values of the operator's Secrets (passwords, bcrypt hashes, TOTP secrets and URIs, token
// hashes) and the tokens of every link in every email, with their secret halves.
func issuedSecrets() []string {
	GinkgoHelper()
	out, _, err := kubectl(env.Kubeconfig, "", "get", "secrets", "-A", "-l", "app.kubernetes.io/managed-by=member-operator", "-o", "json")
	Expect(err).NotTo(HaveOccurred())
	var list struct {
		Items []struct {
			Data map[string][]byte `json:"data"`
		} `json:"items"`
	}
	Expect(json.Unmarshal([]byte(out), &list)).To(Succeed())
	var secrets []string
	for _, s := range list.Items {
		for key, value := range s.Data {
			if v := string(value); len(v) >= 8 && key != "username" && key != "roles" && key != "permissions" {
				secrets = append(secrets, v)
			}
		}
	}
	for _, m := range env.Mail.Messages() {
		body, err := m.Body()
		Expect(err).NotTo(HaveOccurred())
		for _, match := range linkToken.FindAllStringSubmatch(body.Text, -1) {
			token, err := url.QueryUnescape(match[1])
			Expect(err).NotTo(HaveOccurred())
			secrets = append(secrets, token)
			if _, secret, ok := strings.Cut(token, "."); ok && len(secret) >= 8 {
				secrets = append(secrets, secret)
			}
		}
	}
	return secrets
}

// expectNoLeaks searches the manager's whole log, every event and every Store, Member and
// Invitation (status included) for every issued secret.
func expectNoLeaks() {
	GinkgoHelper()
	secrets := issuedSecrets()
	Expect(secrets).NotTo(BeEmpty(), "the run issued credentials and links")
	events, _, err := kubectl(env.Kubeconfig, "", "get", "events", "-A", "-o", "json")
	Expect(err).NotTo(HaveOccurred())
	objects, _, err := kubectl(env.Kubeconfig, "", "get", "stores,members,invitations", "-A", "-o", "json")
	Expect(err).NotTo(HaveOccurred())
	haystacks := map[string]string{"manager log": managerLog.String(), "events": events, "objects": objects}
	leaks := 0
	for where, text := range haystacks {
		Expect(text).NotTo(BeEmpty(), where)
		for _, secret := range secrets {
			if strings.Contains(text, secret) {
				leaks++
				_, _ = fmt.Fprintf(GinkgoWriter, "LEAK: a secret of %d characters appears in the %s\n", len(secret), where)
			}
		}
	}
	AddReportEntry("secret-leak search", fmt.Sprintf("%d secrets searched in the manager log (%d bytes), %d bytes of events "+
		"and %d bytes of objects: %d found", len(secrets), len(haystacks["manager log"]), len(events), len(objects), leaks))
	Expect(leaks).To(BeZero(), "no password, hash, TOTP secret or link token in logs, events or status")
}
