// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"k8s.io/utils/clock"

	"github.com/storeops/member-operator/internal/setup"
	"github.com/storeops/member-operator/test/devenv"
	"github.com/storeops/member-operator/test/mailcatcher"
)

// Options configure Start; the zero value is a complete operator with real time and no webhooks.
type Options struct {
	// Webhooks installs and serves the validating webhooks; the operator then acts as the
	// control plane's admin and Env.Client too, so use NewUserClient for requests as a person.
	Webhooks bool
	// ExclusiveMembership is the operator's --exclusive-membership.
	ExclusiveMembership bool
	// Clock is the operator's clock (a fake one moves invitations to expiry); real time if nil.
	Clock clock.PassiveClock
	// MailLog receives one line per email received; nil discards them.
	MailLog io.Writer
}

// Env is a running operator for integration tests: a control plane with the CRDs, the three
// controllers and the acceptance server in one manager, and a real SMTP server keeping every
// email. Env.Client (from ControlPlane) is an admin client that reads and writes directly.
type Env struct {
	// ControlPlane is the kube-apiserver and etcd; its Client reads and writes directly.
	*ControlPlane
	// Mailbox holds every email the operator sent.
	Mailbox *Mailbox
	// AcceptURL is the acceptance server's base URL (and the base of the links in emails).
	AcceptURL string

	cancel  context.CancelFunc
	stopped chan error
}

// Start starts everything Options ask for and returns when the acceptance server answers. Call
// Stop when done (for example in AfterSuite).
func Start(ctx context.Context, opts Options) (_ *Env, err error) {
	var planeOpts []Option
	if opts.Webhooks {
		planeOpts = append(planeOpts, WithWebhooks())
	}
	cp, err := StartControlPlane(planeOpts...)
	if err != nil {
		return nil, err
	}
	env := &Env{ControlPlane: cp, stopped: make(chan error, 1)}
	defer func() {
		if err != nil {
			err = errors.Join(err, env.Stop())
		}
	}()
	log := opts.MailLog
	if log == nil {
		log = io.Discard
	}
	catcher, sender, err := StartMail(log)
	if err != nil {
		return nil, err
	}
	env.Mailbox = &Mailbox{catcher: catcher}
	addr, err := devenv.FreeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	env.AcceptURL = "http://" + addr
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	tokenKey := make([]byte, 32)
	if _, err := rand.Read(tokenKey); err != nil {
		return nil, err
	}

	runCtx, cancel := context.WithCancel(ctx)
	env.cancel = cancel
	settings := Settings(env.AcceptURL)
	settings.AcceptBindAddress = addr
	settings.EnableWebhooks = opts.Webhooks
	settings.ExclusiveMembership = opts.ExclusiveMembership
	mgr, err := cp.NewOperator(runCtx, settings, setup.Parts{
		Mail: sender, MailDomain: sender.FromDomain(), TokenKey: tokenKey, Clock: opts.Clock,
	})
	if err != nil {
		return nil, err
	}
	go func() { env.stopped <- mgr.Start(runCtx) }()
	if err := waitForHealthz(ctx, env.AcceptURL, env.stopped); err != nil {
		return nil, err
	}
	return env, nil
}

// Stop stops the manager, the SMTP server and the control plane; safe to call more than once.
func (e *Env) Stop() error {
	var errs []error
	if e.cancel != nil {
		e.cancel()
		e.cancel = nil
		select {
		case err := <-e.stopped:
			errs = append(errs, err)
		case <-time.After(30 * time.Second):
			errs = append(errs, errors.New("testenv: the manager did not stop within 30s"))
		}
	}
	if e.Mailbox != nil {
		errs = append(errs, e.Mailbox.catcher.Close())
		e.Mailbox = nil
	}
	if e.ControlPlane != nil {
		errs = append(errs, e.ControlPlane.Stop())
		e.ControlPlane = nil
	}
	return errors.Join(errs...)
}

func waitForHealthz(ctx context.Context, base string, stopped <-chan error) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
		if err != nil {
			return err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-stopped:
			return fmt.Errorf("testenv: the manager stopped before it served: %w", err)
		case <-ctx.Done():
			return fmt.Errorf("testenv: the acceptance server did not answer at %s: %w", base, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Mailbox is every email the operator sent, received over real SMTP.
type Mailbox struct{ catcher *mailcatcher.Catcher }

// Messages returns every email received so far, oldest first.
func (m *Mailbox) Messages() []mailcatcher.Message { return m.catcher.Messages() }

// WaitFor waits for an email to address whose subject contains subject ("" for any).
func (m *Mailbox) WaitFor(ctx context.Context, address, subject string) (mailcatcher.Message, error) {
	return m.catcher.WaitFor(ctx, func(msg mailcatcher.Message) bool {
		return len(msg.To) == 1 && strings.EqualFold(msg.To[0], address) && strings.Contains(msg.Subject(), subject)
	})
}

// InvitationLink waits for the first invitation email to address and returns its link.
func (m *Mailbox) InvitationLink(ctx context.Context, address string) (string, error) {
	msg, err := m.catcher.WaitFor(ctx, func(msg mailcatcher.Message) bool {
		if len(msg.To) != 1 || !strings.EqualFold(msg.To[0], address) {
			return false
		}
		body, err := msg.Body()
		return err == nil && body.Link("/invitations/accept?token=") != ""
	})
	if err != nil {
		return "", err
	}
	body, err := msg.Body()
	if err != nil {
		return "", err
	}
	return body.Link("/invitations/accept?token="), nil
}

// AcceptInvitation accepts the invitation behind link through the acceptance API, as the
// invitee's browser would, with password; it returns the Member's name.
func (e *Env) AcceptInvitation(ctx context.Context, link, password string) (string, error) {
	u, err := url.Parse(link)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(map[string]string{"token": u.Query().Get("token"), "password": password})
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.AcceptURL+"/api/v1/invitations/accept", bytes.NewReader(payload))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("testenv: accepting the invitation answered %d: %s", resp.StatusCode, body)
	}
	var out struct {
		Member string `json:"member"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return "", err
	}
	return out.Member, nil
}
