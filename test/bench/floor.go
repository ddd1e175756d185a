// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	membershipv1alpha1 "github.com/storeops/member-operator/api/v1alpha1"
	"github.com/storeops/member-operator/internal/credentials"
	"github.com/storeops/member-operator/internal/mail"
)

// The floors: bare programs, run while the manager is stopped, that do only what a scenario
// cannot do without, with the parallelism the operator is given. The operator's time divided by
// its floor's is the figure; both run on the same control plane in the same run, so the noise of a
// shared machine falls on both.

// floorConvergence creates the Members as the operator scenario does and, on workers goroutines,
// does the least the operator must do for each: generate and bcrypt a password, create the
// credential Secret, write the Member's status.
func floorConvergence(ctx context.Context, c client.Client, namespace string,
	members, stores, creators, workers, cost int) (time.Duration, error) {
	if err := ensureNamespace(ctx, c, namespace); err != nil {
		return 0, err
	}
	created := make(chan *membershipv1alpha1.Member, members)
	start := time.Now()
	var createErr error
	go func() {
		defer close(created)
		createErr = createAll(ctx, c, members, creators, func(i int) (*membershipv1alpha1.Member, error) {
			return newMember(namespace, i, stores), nil
		}, created)
	}()
	err := drain(ctx, created, workers, func(ctx context.Context, m *membershipv1alpha1.Member) error {
		password, err := credentials.GeneratePassword(rand.Reader, credentials.GeneratedPasswordLength)
		if err != nil {
			return err
		}
		hash, err := credentials.HashPassword(password, cost)
		if err != nil {
			return err
		}
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: membershipv1alpha1.CredentialsSecretName(m.Name),
				Labels: map[string]string{membershipv1alpha1.ManagedByLabel: "bench-floor"}},
			Data: map[string][]byte{
				membershipv1alpha1.CredentialUsername:     []byte(m.Spec.Email),
				membershipv1alpha1.CredentialPassword:     []byte(password),
				membershipv1alpha1.CredentialPasswordHash: hash,
				membershipv1alpha1.CredentialRoles:        []byte("staff"),
			},
		}
		if err := c.Create(ctx, secret); err != nil {
			return err
		}
		base := m.DeepCopy()
		now := metav1.Now()
		m.Status.Phase = membershipv1alpha1.MemberActive
		m.Status.CredentialsSecret = secret.Name
		m.Status.JoinedAt = &now
		m.Status.ObservedGeneration = m.Generation
		meta.SetStatusCondition(&m.Status.Conditions, metav1.Condition{Type: membershipv1alpha1.ConditionReady,
			Status: metav1.ConditionTrue, Reason: membershipv1alpha1.ReasonActive, Message: "floor"})
		return c.Status().Patch(ctx, m, client.MergeFrom(base))
	})
	elapsed := time.Since(start)
	if createErr != nil {
		return 0, createErr
	}
	return elapsed, err
}

// floorTokenHash stands for a link's hash in the floor's status writes (the same size as the
// operator's).
var floorTokenHash = strings.Repeat("0", 64)

// floorInvitations creates the Invitations as the operator scenario does and, on workers
// goroutines, renders the same email, records the attempt in the status, hands the email to the
// same SMTP server and writes the result: two writes, as the operator makes.
func floorInvitations(ctx context.Context, c client.Client, sender mail.Sender, namespace string,
	invitations, stores, creators, workers int,
	received func(addresses map[string]bool) int) (time.Duration, error) {
	if err := ensureNamespace(ctx, c, namespace); err != nil {
		return 0, err
	}
	addresses := map[string]bool{}
	for i := range invitations {
		addresses[invitee(namespace, i)] = true
	}
	created := make(chan *membershipv1alpha1.Invitation, invitations)
	start := time.Now()
	var createErr error
	go func() {
		defer close(created)
		createErr = createAll(ctx, c, invitations, creators, func(i int) (*membershipv1alpha1.Invitation, error) {
			return newInvitation(namespace, i, stores), nil
		}, created)
	}()
	err := drain(ctx, created, workers, func(ctx context.Context, inv *membershipv1alpha1.Invitation) error {
		sentAt := metav1.NewTime(time.Now().Truncate(time.Second))
		expiresAt := metav1.NewTime(sentAt.Add(7 * 24 * time.Hour))
		content, err := mail.Render(mail.KindInvitation, "en", mail.InvitationData{
			StoreName: "Shop", InvitedBy: string(inv.Spec.InvitedBy), Email: string(inv.Spec.Email),
			Roles: []string{"staff"}, AcceptURL: "http://127.0.0.1/invitations/accept?token=floor", ExpiresAt: expiresAt.Time,
		})
		if err != nil {
			return err
		}
		// The same two writes as the operator: the attempt, with the link's hash, onto the version
		// read (an optimistic lock) before the send; the result after it.
		base := inv.DeepCopy()
		inv.Status.Phase = membershipv1alpha1.InvitationPending
		inv.Status.DeliveryAttempts = 1
		inv.Status.TokenHash = floorTokenHash
		if err := c.Status().Patch(ctx, inv, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
			return err
		}
		if err := sender.Send(ctx, mail.Message{To: string(inv.Spec.Email),
			MessageID: mail.MessageID(inv.UID, "invitation-0", "storeops.example"), Content: content}); err != nil {
			return err
		}
		base = inv.DeepCopy()
		inv.Status.Phase = membershipv1alpha1.InvitationSent
		inv.Status.SentAt, inv.Status.ExpiresAt = &sentAt, &expiresAt
		return c.Status().Patch(ctx, inv, client.MergeFrom(base))
	})
	if err == nil && createErr == nil {
		err = waitFor(ctx, time.Minute, 20*time.Millisecond, "floor emails received", func(context.Context) (bool, error) {
			return received(addresses) >= invitations, nil
		})
	}
	elapsed := time.Since(start)
	if createErr != nil {
		return 0, createErr
	}
	return elapsed, err
}

// drain runs fn for every item of in on workers goroutines; it returns the first error once in is
// closed and drained (a failed worker keeps draining so that the producer never blocks).
func drain[T any](ctx context.Context, in <-chan T, workers int, fn func(ctx context.Context, item T) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for range workers {
		wg.Go(func() {
			for item := range in {
				mu.Lock()
				failed := first != nil
				mu.Unlock()
				if failed {
					continue
				}
				if err := fn(ctx, item); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return first
}

// cleanFloor removes what a floor made. No controller ever saw these objects, so none has a
// finalizer and they go at once; the manager must not find them when it starts.
func cleanFloor(ctx context.Context, c client.Client, namespace string) error {
	for _, obj := range []client.Object{&membershipv1alpha1.Member{}, &membershipv1alpha1.Invitation{},
		&membershipv1alpha1.Store{}, &corev1.Secret{}} {
		if err := c.DeleteAllOf(ctx, obj, client.InNamespace(namespace)); err != nil {
			return fmt.Errorf("clean %s: %w", namespace, err)
		}
	}
	return waitFor(ctx, time.Minute, 200*time.Millisecond, "floor objects gone", func(ctx context.Context) (bool, error) {
		var members membershipv1alpha1.MemberList
		var invitations membershipv1alpha1.InvitationList
		if err := c.List(ctx, &members, client.InNamespace(namespace), client.Limit(1)); err != nil {
			return false, err
		}
		if err := c.List(ctx, &invitations, client.InNamespace(namespace), client.Limit(1)); err != nil {
			return false, err
		}
		return len(members.Items) == 0 && len(invitations.Items) == 0, nil
	})
}
