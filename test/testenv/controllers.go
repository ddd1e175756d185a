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

package testenv

import (
	"context"
	"crypto/rand"

	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/storeops/member-operator/internal/controller/invitation"
	"github.com/storeops/member-operator/internal/controller/member"
	"github.com/storeops/member-operator/internal/controller/store"
	"github.com/storeops/member-operator/internal/mail"
)

// Controllers wires the operator's three controllers into a test manager, as cmd/main.go does,
// with what a suite chooses injected.
type Controllers struct {
	Mail *mail.SMTPSender
	// TokenKey derives link tokens; the manager's indexes must use the same (NewManager).
	TokenKey []byte
	// PublicURL is the base of the links in invitation emails.
	PublicURL           string
	Clock               clock.PassiveClock
	ExclusiveMembership bool
}

// SetupWithManager registers the Store, Member and Invitation controllers on mgr.
func (c Controllers) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	if err := (&store.Reconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme(),
		Recorder: mgr.GetEventRecorder("membership.storeops.io/store-controller"),
		Clock:    c.Clock, Mail: c.Mail, MailDomain: c.Mail.FromDomain(), PublicURL: c.PublicURL, Random: rand.Reader,
	}).SetupWithManager(mgr); err != nil {
		return err
	}
	if err := (&member.Reconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme(),
		Recorder: mgr.GetEventRecorder("membership.storeops.io/member-controller"),
		Clock:    c.Clock, Mail: c.Mail, MailDomain: c.Mail.FromDomain(), Random: rand.Reader, BcryptCost: 10,
		PublicURL: c.PublicURL, ExclusiveMembership: c.ExclusiveMembership,
	}).SetupWithManager(ctx, mgr); err != nil {
		return err
	}
	return (&invitation.Reconciler{
		Client: mgr.GetClient(), Scheme: mgr.GetScheme(),
		Recorder: mgr.GetEventRecorder("membership.storeops.io/invitation-controller"),
		Clock:    c.Clock, Mail: c.Mail, MailDomain: c.Mail.FromDomain(), TokenKey: c.TokenKey,
		PublicURL: c.PublicURL, ExclusiveMembership: c.ExclusiveMembership,
	}).SetupWithManager(mgr)
}
