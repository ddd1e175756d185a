// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package plugin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/plugin"
	"github.com/storeops/member-operator/test/leakcheck"
	"github.com/storeops/member-operator/test/testenv"
)

// The plugin runs in-process, as `kubectl store` would, against the whole operator on a real
// control plane (test/testenv), with its own kubeconfig.
func TestKubectlStore(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a control plane")
	}
	g := NewWithT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	env, err := testenv.Start(ctx, testenv.Options{})
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { g.Expect(env.Stop()).To(Succeed()) })
	leakcheck.Cleanup(t, env.Config, env.Client, env.Mailbox.Messages, nil)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	g.Expect(env.WriteKubeconfig("platform-engineer", kubeconfig)).To(Succeed())

	run := func(args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		cmd := plugin.NewCommand(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		cmd.SetArgs(append([]string{"--kubeconfig", kubeconfig, "-n", "default"}, args...))
		err := cmd.ExecuteContext(ctx)
		if err != nil {
			errOut.WriteString(err.Error())
		}
		return out.String(), errOut.String(), plugin.ExitCode(err)
	}
	table := func(out string) (header []string, rows [][]string) {
		lines := strings.Split(strings.TrimSpace(out), "\n")
		for i, line := range lines {
			if i == 0 {
				header = strings.Fields(line)
				continue
			}
			rows = append(rows, strings.Fields(line))
		}
		return header, rows
	}
	member := func(name string) func(Gomega) *membershipv1alpha1.Member {
		return func(g Gomega) *membershipv1alpha1.Member {
			m := &membershipv1alpha1.Member{}
			g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: name}, m)).To(Succeed())
			return m
		}
	}

	g.Expect(env.Client.Create(ctx, &membershipv1alpha1.Store{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "acme"},
		Spec:       membershipv1alpha1.StoreSpec{DisplayName: "Acme", Owner: membershipv1alpha1.StoreOwner{Email: "owner@example.com"}},
	})).To(Succeed())
	g.Expect(env.Client.Create(ctx, &membershipv1alpha1.Member{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "bob"},
		Spec: membershipv1alpha1.MemberSpec{StoreRef: membershipv1alpha1.StoreReference{Name: "acme"}, Email: "bob@example.com",
			Roles: []membershipv1alpha1.Role{membershipv1alpha1.RoleOperations}, TwoFactor: membershipv1alpha1.TwoFactorSpec{Required: true}},
	})).To(Succeed())
	g.Eventually(member("bob")).WithTimeout(30 * time.Second).Should(HaveField("Status.Phase", membershipv1alpha1.MemberActive))

	t.Run("invite", func(t *testing.T) {
		g := NewWithT(t)
		out, errOut, code := run("invite", "acme", "dave@example.com", "--role", "admin", "--role", "finance", "--name", "invite-dave")
		g.Expect(code).To(Equal(plugin.ExitOK), errOut)
		g.Expect(out).To(ContainSubstring("invitation.membership.storeops.io/invite-dave created"))
		_, errOut, code = run("invite", "nostore", "x@example.com")
		g.Expect(code).To(Equal(plugin.ExitNotFound), "an unknown store: exit 3")
		g.Expect(errOut).To(ContainSubstring(`"nostore" not found`))
		_, errOut, code = run("invite", "acme", "Eve <eve@example.com>")
		g.Expect(code).To(Equal(plugin.ExitFailed))
		g.Expect(errOut).To(ContainSubstring("spec.email"), "the API server's message names the field")
		_, _, code = run("invite", "acme")
		g.Expect(code).To(Equal(plugin.ExitUsage))
	})

	t.Run("invitations", func(t *testing.T) {
		g := NewWithT(t)
		g.Eventually(func(g Gomega) [][]string {
			out, errOut, code := run("invitations", "acme")
			g.Expect(code).To(Equal(plugin.ExitOK), errOut)
			header, rows := table(out)
			g.Expect(header).To(Equal([]string{"NAME", "EMAIL", "ROLES", "PHASE", "EXPIRES"}))
			return rows
		}).WithTimeout(30 * time.Second).Should(ContainElement(HaveExactElements("invite-dave", "dave@example.com", "admin,finance", "Sent",
			MatchRegexp(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`))))
		out, _, code := run("invitations", "acme", "-o", "json")
		g.Expect(code).To(Equal(plugin.ExitOK))
		var list membershipv1alpha1.InvitationList
		g.Expect(json.Unmarshal([]byte(out), &list)).To(Succeed())
		g.Expect(list.Kind).To(Equal("InvitationList"))
		g.Expect(list.Items).To(ContainElement(HaveField("Name", "invite-dave")))
		out, _, code = run("invitations", "acme", "-o", "yaml")
		g.Expect(code).To(Equal(plugin.ExitOK))
		g.Expect(yaml.Unmarshal([]byte(out), &list)).To(Succeed())
		g.Expect(list.Items).To(ContainElement(HaveField("Name", "invite-dave")))
		_, _, code = run("invitations", "acme", "-o", "xml")
		g.Expect(code).To(Equal(plugin.ExitUsage))
		_, _, code = run("invitations", "nostore")
		g.Expect(code).To(Equal(plugin.ExitNotFound))
	})

	t.Run("resend", func(t *testing.T) {
		g := NewWithT(t)
		_, errOut, code := run("resend", "invite-dave")
		g.Expect(code).To(Equal(plugin.ExitOK), errOut)
		g.Eventually(func(g Gomega) int32 {
			inv := &membershipv1alpha1.Invitation{}
			g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "invite-dave"}, inv)).To(Succeed())
			return inv.Status.Resends
		}).WithTimeout(30 * time.Second).Should(Equal(int32(1)))
		_, _, code = run("resend", "invite-nobody")
		g.Expect(code).To(Equal(plugin.ExitNotFound))
	})

	t.Run("members", func(t *testing.T) {
		g := NewWithT(t)
		g.Eventually(func(g Gomega) [][]string {
			out, errOut, code := run("members", "acme")
			g.Expect(code).To(Equal(plugin.ExitOK), errOut)
			header, rows := table(out)
			g.Expect(header).To(Equal([]string{"NAME", "EMAIL", "ROLES", "PHASE", "2FA", "JOINED"}))
			return rows
		}).WithTimeout(30 * time.Second).Should(ContainElements(
			HaveExactElements("acme-owner", "owner@example.com", "owner", "Pending", "on", "-"),
			HaveExactElements("bob", "bob@example.com", "operations", "Active", "on", MatchRegexp(`^\d{4}-`))))
		out, _, code := run("members", "acme", "-o", "json")
		g.Expect(code).To(Equal(plugin.ExitOK))
		var list membershipv1alpha1.MemberList
		g.Expect(json.Unmarshal([]byte(out), &list)).To(Succeed())
		g.Expect(list.Items).To(ContainElement(HaveField("Name", "bob")))
		_, errOut, code := run("members", "nostore")
		g.Expect(code).To(Equal(plugin.ExitNotFound), "an unknown store: exit 3")
		g.Expect(errOut).To(ContainSubstring(`"nostore" not found`))
	})

	t.Run("kubectl's output formats on every listing", func(t *testing.T) {
		g := NewWithT(t)
		out, errOut, code := run("members", "acme", "-o", "name")
		g.Expect(code).To(Equal(plugin.ExitOK), errOut)
		g.Expect(strings.Fields(out)).To(ContainElement("member.membership.storeops.io/bob"))
		out, errOut, code = run("invitations", "acme", "-o", "jsonpath={.items[*].spec.email}")
		g.Expect(code).To(Equal(plugin.ExitOK), errOut)
		g.Expect(out).To(ContainSubstring("dave@example.com"))
		out, errOut, code = run("members", "acme", "-o", "wide")
		g.Expect(code).To(Equal(plugin.ExitOK), errOut)
		header, rows := table(out)
		g.Expect(header).To(Equal([]string{"NAME", "EMAIL", "ROLES", "PHASE", "2FA", "JOINED", "DISABLED", "CREDENTIALS", "INVITATION", "AGE"}))
		g.Expect(rows).To(ContainElement(ContainElements("bob", "false", "bob-credentials")))
		out, errOut, code = run("invitations", "acme", "-o", "wide")
		g.Expect(code).To(Equal(plugin.ExitOK), errOut)
		header, _ = table(out)
		g.Expect(header).To(ContainElements("SENT", "ATTEMPTS", "RESENDS", "MEMBER", "AGE"))
		out, errOut, code = run("status", "acme", "-o", "yaml")
		g.Expect(code).To(Equal(plugin.ExitOK), errOut)
		var store membershipv1alpha1.Store
		g.Expect(yaml.Unmarshal([]byte(out), &store)).To(Succeed())
		g.Expect(store.Kind).To(Equal("Store"))
		g.Expect(store.Spec.Owner.Email).To(Equal(membershipv1alpha1.EmailAddress("owner@example.com")))
		_, _, code = run("members", "acme", "-o", "xml")
		g.Expect(code).To(Equal(plugin.ExitUsage))
	})

	t.Run("--dry-run on every write", func(t *testing.T) {
		g := NewWithT(t)
		for _, mode := range []string{"server", "client"} {
			out, errOut, code := run("invite", "acme", "erin@example.com", "--name", "invite-erin", "--dry-run="+mode)
			g.Expect(code).To(Equal(plugin.ExitOK), errOut)
			g.Expect(out).To(ContainSubstring("invitation.membership.storeops.io/invite-erin created ("))
			for _, args := range [][]string{{"disable", "bob"}, {"remove", "bob"}, {"reset-password", "bob"}, {"reset-2fa", "bob"},
				{"resend", "invite-dave"}, {"transfer-owner", "acme", "zed@example.com"}, {"enable", "bob"}} {
				out, errOut, code := run(append(args, "--dry-run="+mode)...)
				g.Expect(code).To(Equal(plugin.ExitOK), "%v: %s", args, errOut)
				g.Expect(out).To(ContainSubstring("dry run)"), "%v", args)
			}
		}
		_, errOut, code := run("invite", "acme", "Eve <eve@example.com>", "--dry-run=server")
		g.Expect(code).To(Equal(plugin.ExitFailed), "the server's dry run validates")
		g.Expect(errOut).To(ContainSubstring("spec.email"))
		_, _, code = run("disable", "nobody", "--dry-run=client")
		g.Expect(code).To(Equal(plugin.ExitNotFound), "a client dry run still reads what it would change")
		_, _, code = run("disable", "bob", "--dry-run=maybe")
		g.Expect(code).To(Equal(plugin.ExitUsage))

		g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "invite-erin"}, &membershipv1alpha1.Invitation{})).
			NotTo(Succeed(), "nothing was created")
		bob := member("bob")(g)
		g.Expect(bob.Spec.Disabled).To(BeFalse(), "nothing was changed")
		g.Expect(bob.DeletionTimestamp).To(BeNil(), "nothing was deleted")
		g.Expect(bob.Annotations).NotTo(HaveKey(membershipv1alpha1.ResetPasswordAnnotation))
		store := &membershipv1alpha1.Store{}
		g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "acme"}, store)).To(Succeed())
		g.Expect(store.Spec.Owner.Email).To(Equal(membershipv1alpha1.EmailAddress("owner@example.com")))
	})

	t.Run("version, usage and completion as a kubectl plugin", func(t *testing.T) {
		g := NewWithT(t)
		out, _, code := run("version")
		g.Expect(code).To(Equal(plugin.ExitOK))
		g.Expect(out).To(HavePrefix("kubectl-store "))
		out, _, code = run("--version")
		g.Expect(code).To(Equal(plugin.ExitOK))
		g.Expect(out).To(HavePrefix("kubectl-store "))
		out, _, code = run("--help")
		g.Expect(code).To(Equal(plugin.ExitOK))
		g.Expect(out).To(ContainSubstring("kubectl store [command]"))
		out, _, code = run("__complete", "members", "")
		g.Expect(code).To(Equal(plugin.ExitOK))
		g.Expect(strings.Fields(out)).To(ContainElement("acme"))
		out, _, _ = run("__complete", "disable", "b")
		g.Expect(strings.Fields(out)).To(ContainElement("bob"))
		g.Expect(strings.Fields(out)).NotTo(ContainElement("acme-owner"), "only names starting with what was typed")
		out, _, _ = run("__complete", "resend", "")
		g.Expect(strings.Fields(out)).To(ContainElement("invite-dave"))

		// kubectl_complete-store as kubectl runs it, with kubectl-store on the PATH.
		bin := t.TempDir()
		build := exec.Command("go", "build", "-o", filepath.Join(bin, "kubectl-store"), "../../cmd/kubectl-store")
		built, err := build.CombinedOutput()
		g.Expect(err).NotTo(HaveOccurred(), string(built))
		script := exec.Command("../../cmd/kubectl-store/kubectl_complete-store", "--kubeconfig", kubeconfig, "-n", "default", "members", "ac")
		script.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
		completed, err := script.Output()
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(strings.Fields(string(completed))).To(ContainElement("acme"))
	})

	t.Run("disable and enable", func(t *testing.T) {
		g := NewWithT(t)
		_, errOut, code := run("disable", "bob")
		g.Expect(code).To(Equal(plugin.ExitOK), errOut)
		g.Eventually(member("bob")).WithTimeout(30 * time.Second).Should(HaveField("Status.Phase", membershipv1alpha1.MemberDisabled))
		_, errOut, code = run("enable", "bob")
		g.Expect(code).To(Equal(plugin.ExitOK), errOut)
		g.Eventually(member("bob")).WithTimeout(30 * time.Second).Should(HaveField("Status.Phase", membershipv1alpha1.MemberActive))
		_, _, code = run("disable", "nobody")
		g.Expect(code).To(Equal(plugin.ExitNotFound))
	})

	t.Run("reset-password and reset-2fa", func(t *testing.T) {
		g := NewWithT(t)
		_, errOut, code := run("reset-password", "bob")
		g.Expect(code).To(Equal(plugin.ExitOK), errOut)
		_, err := env.Mailbox.WaitFor(ctx, "bob@example.com", "Reset your password for Acme")
		g.Expect(err).NotTo(HaveOccurred())
		_, errOut, code = run("reset-2fa", "bob")
		g.Expect(code).To(Equal(plugin.ExitOK), errOut)
		_, err = env.Mailbox.WaitFor(ctx, "bob@example.com", "Set up two-factor authentication again for Acme")
		g.Expect(err).NotTo(HaveOccurred())
		g.Eventually(member("bob")).Should(And(
			HaveField("Status.ObservedResetPassword", Not(BeEmpty())), HaveField("Status.ObservedResetTwoFactor", Not(BeEmpty()))))
	})

	t.Run("transfer-owner and status", func(t *testing.T) {
		g := NewWithT(t)
		out, errOut, code := run("status", "acme")
		g.Expect(code).To(Equal(plugin.ExitOK), errOut)
		g.Expect(out).To(And(ContainSubstring("Owner:"), ContainSubstring("owner@example.com"), ContainSubstring("Ready:"),
			ContainSubstring("AwaitingOwnerActivation"), MatchRegexp(`Members:\s+1`)))
		_, errOut, code = run("transfer-owner", "acme", "olga@example.com")
		g.Expect(code).To(Equal(plugin.ExitOK), errOut)
		store := &membershipv1alpha1.Store{}
		g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "acme"}, store)).To(Succeed())
		g.Expect(store.Spec.Owner.Email).To(Equal(membershipv1alpha1.EmailAddress("olga@example.com")))
		_, _, code = run("status", "nostore")
		g.Expect(code).To(Equal(plugin.ExitNotFound))
	})

	t.Run("remove", func(t *testing.T) {
		g := NewWithT(t)
		out, errOut, code := run("remove", "bob")
		g.Expect(code).To(Equal(plugin.ExitOK), errOut)
		g.Expect(out).To(ContainSubstring("bob removed"))
		g.Eventually(func() bool {
			return client.IgnoreNotFound(env.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "bob"}, &membershipv1alpha1.Member{})) == nil &&
				env.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "bob"}, &membershipv1alpha1.Member{}) != nil
		}).WithTimeout(30 * time.Second).Should(BeTrue())
		_, _, code = run("remove", "bob")
		g.Expect(code).To(Equal(plugin.ExitNotFound))
		_, _, code = run("frobnicate")
		g.Expect(code).To(Equal(plugin.ExitUsage), "an unknown subcommand")
	})
}
