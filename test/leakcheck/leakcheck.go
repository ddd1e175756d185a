// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package leakcheck searches what a run wrote where people and tools read it (the manager's log,
// events, the operator's objects with their status) for the secrets the run issued: passwords,
// bcrypt hashes, TOTP secrets, token hashes and every link token that was emailed.
package leakcheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/test/mailcatcher"
)

// notSecretKeys are data keys of the operator's Secrets that hold public facts, not secrets.
var notSecretKeys = map[string]bool{"username": true, "roles": true, "permissions": true, "email-preferences": true, "login-type": true,
	"login-name": true}

// minLength: shorter values (a role name, a count) would match by accident.
const minLength = 8

var linkToken = regexp.MustCompile(`[?&]token=([^&\s"'<>]+)`)

// Secrets is a set of secret values; Add them as they are issued (Secrets are deleted with the
// Members they belong to, so a run collects them before it deletes).
type Secrets map[string]bool

// AddCluster adds the data values of every Secret the operator manages, in all namespaces.
func (s Secrets) AddCluster(ctx context.Context, c client.Reader) error {
	var list corev1.SecretList
	if err := c.List(ctx, &list, client.MatchingLabels{membershipv1alpha1.ManagedByLabel: membershipv1alpha1.ManagedByValue}); err != nil {
		return fmt.Errorf("list the operator's Secrets: %w", err)
	}
	for _, secret := range list.Items {
		s.addSecret(&secret)
	}
	return nil
}

func (s Secrets) addSecret(secret *corev1.Secret) {
	for key, value := range secret.Data {
		if len(value) >= minLength && !notSecretKeys[key] {
			s[string(value)] = true
		}
	}
}

// AddMail adds the token of every link in every message, and its secret half.
func (s Secrets) AddMail(messages []mailcatcher.Message) error {
	for _, m := range messages {
		body, err := m.Body()
		if err != nil {
			return err
		}
		for _, match := range linkToken.FindAllStringSubmatch(body.Text, -1) {
			token, err := url.QueryUnescape(match[1])
			if err != nil {
				return err
			}
			s[token] = true
			if _, secret, ok := strings.Cut(token, "."); ok && len(secret) >= minLength {
				s[secret] = true
			}
		}
	}
	return nil
}

// Collector keeps the data values of every operator Secret it has seen since Watch, including
// those deleted since (a deleted Member's password was issued all the same).
type Collector struct {
	mu      sync.Mutex
	secrets Secrets
	stop    context.CancelFunc
	done    chan struct{}
}

// Watch collects the operator's Secrets in all namespaces until Stop (or until ctx ends). Stop it
// before stopping kube-apiserver, which otherwise waits for the open watch to drain.
func Watch(ctx context.Context, cfg *rest.Config) (*Collector, error) {
	c, err := client.NewWithWatch(cfg, client.Options{})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	col := &Collector{secrets: Secrets{}, stop: cancel, done: make(chan struct{})}
	selector := client.MatchingLabels{membershipv1alpha1.ManagedByLabel: membershipv1alpha1.ManagedByValue}
	w, err := c.Watch(ctx, &corev1.SecretList{}, selector)
	if err != nil {
		cancel()
		return nil, err
	}
	go func() {
		defer close(col.done)
		for {
			for e := range w.ResultChan() {
				if secret, ok := e.Object.(*corev1.Secret); ok {
					col.add(secret)
				}
			}
			w.Stop()
			// The server ends watches now and then; start again (from now: a Secret made and
			// deleted in the gap would be missed, which the final AddCluster cannot make up).
			for {
				if ctx.Err() != nil {
					return
				}
				if w, err = c.Watch(ctx, &corev1.SecretList{}, selector); err == nil {
					break
				}
				time.Sleep(time.Second)
			}
		}
	}()
	return col, nil
}

// Stop ends the watch and returns once it is closed.
func (c *Collector) Stop() {
	c.stop()
	<-c.done
}

// Search looks for every secret collected, every one still stored, every emailed link token and
// extra in the given logs (name -> text) and in every event and object of the cluster.
func (c *Collector) Search(ctx context.Context, r client.Reader, mails []mailcatcher.Message, logs map[string]string,
	extra ...string) (Report, error) {
	secrets := c.Secrets()
	for _, e := range extra {
		secrets[e] = true
	}
	if err := secrets.AddCluster(ctx, r); err != nil {
		return Report{}, err
	}
	if err := secrets.AddMail(mails); err != nil {
		return Report{}, err
	}
	if len(secrets) == 0 {
		return Report{}, errors.New("no secret was issued: nothing to search for")
	}
	events, objects, err := ClusterText(ctx, r)
	if err != nil {
		return Report{}, err
	}
	haystacks := map[string]string{"events": events, "objects": objects}
	maps.Copy(haystacks, logs)
	return Search(secrets, haystacks), nil
}

func (c *Collector) add(secret *corev1.Secret) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.secrets.addSecret(secret)
}

// Secrets is a copy of what was collected so far.
func (c *Collector) Secrets() Secrets {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(Secrets, len(c.secrets))
	maps.Copy(out, c.secrets)
	return out
}

// Report is what Search found.
type Report struct {
	Secrets int            // how many secrets were searched for
	Bytes   map[string]int // the size of each haystack
	Leaks   []string       // "a secret of N characters in <where>", one per finding
}

func (r Report) String() string {
	names := make([]string, 0, len(r.Bytes))
	for name := range r.Bytes {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, name := range names {
		parts = append(parts, fmt.Sprintf("%s (%d bytes)", name, r.Bytes[name]))
	}
	return fmt.Sprintf("%d secrets searched in %s: %d found", r.Secrets, strings.Join(parts, ", "), len(r.Leaks))
}

// Search looks for every secret in every haystack. A finding names the haystack and the secret's
// length, never the secret.
func Search(secrets Secrets, haystacks map[string]string) Report {
	r := Report{Secrets: len(secrets), Bytes: map[string]int{}}
	for where, text := range haystacks {
		r.Bytes[where] = len(text)
		for secret := range secrets {
			if strings.Contains(text, secret) {
				r.Leaks = append(r.Leaks, fmt.Sprintf("a secret of %d characters in the %s", len(secret), where))
			}
		}
	}
	sort.Strings(r.Leaks)
	return r
}

// NewClient is a client for Secrets, events and the operator's kinds.
func NewClient(cfg *rest.Config) (client.Client, error) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, eventsv1.AddToScheme, membershipv1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			return nil, err
		}
	}
	return client.New(cfg, client.Options{Scheme: scheme})
}

// ClusterText is every event (core and events.k8s.io) and every Store, Member, Invitation and
// Account (status included), as JSON.
func ClusterText(ctx context.Context, c client.Reader) (events, objects string, err error) {
	var coreEvents corev1.EventList
	var newEvents eventsv1.EventList
	var stores membershipv1alpha1.StoreList
	var members membershipv1alpha1.MemberList
	var invitations membershipv1alpha1.InvitationList
	var accounts membershipv1alpha1.AccountList
	var eventText, objectText strings.Builder
	for _, step := range []struct {
		list client.ObjectList
		into *strings.Builder
	}{
		{&coreEvents, &eventText}, {&newEvents, &eventText},
		{&stores, &objectText}, {&members, &objectText}, {&invitations, &objectText}, {&accounts, &objectText},
	} {
		if err := c.List(ctx, step.list); err != nil {
			return "", "", err
		}
		data, err := json.Marshal(step.list)
		if err != nil {
			return "", "", err
		}
		step.into.Write(data)
		step.into.WriteByte('\n')
	}
	return eventText.String(), objectText.String(), nil
}

// Cleanup collects from now on and, when t ends, searches every event and object (and the logs
// logs returns, if any) for every secret the test issued, failing t on a finding. Call it after
// registering the cleanup that stops the control plane, so that it runs before that one.
func Cleanup(t testing.TB, cfg *rest.Config, r client.Reader, mails func() []mailcatcher.Message,
	logs func() map[string]string) {
	t.Helper()
	col, err := Watch(context.Background(), cfg)
	if err != nil {
		t.Fatalf("leak check: %v", err)
	}
	t.Cleanup(func() {
		defer col.Stop()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var haystacks map[string]string
		if logs != nil {
			haystacks = logs()
		}
		report, err := col.Search(ctx, r, mails(), haystacks)
		if err != nil {
			t.Errorf("leak check: %v", err)
			return
		}
		t.Log("secret-leak search: " + report.String())
		for _, leak := range report.Leaks {
			t.Errorf("leak: %s", leak)
		}
	})
}
