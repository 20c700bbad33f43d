package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/strata-dc/strata/master/mesos"
)

// Call sends any scheduler call but SUBSCRIBE (Run does that) to the master
// holding the subscription, with the subscription's Mesos-Stream-Id, and
// fills in framework_id when call leaves it empty. It returns nil when the
// master accepts the call (202): the effects arrive as events. A call made
// while not subscribed fails at once with ErrNotSubscribed; the master's
// refusals come back as *APIError.
func (s *Scheduler) Call(ctx context.Context, call *mesos.Call) error {
	if call == nil {
		return errors.New("scheduler call: nil")
	}
	what := "scheduler " + string(call.Type)
	if call.Type == mesos.CallSubscribe {
		return fmt.Errorf("%s: Run subscribes", what)
	}
	s.mu.Lock()
	sub, fwID := s.sub, s.info.ID
	s.mu.Unlock()
	if sub == nil {
		return fmt.Errorf("%s: %w", what, ErrNotSubscribed)
	}
	if call.FrameworkID == "" {
		c := *call
		c.FrameworkID = fwID
		call = &c
	}
	body, err := json.Marshal(call)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", what, err)
	}
	ctx, cancel := s.t.withTimeout(ctx)
	defer cancel()
	resp, final, err := s.t.send(ctx, request{
		method: http.MethodPost, url: endpoint(sub.master, schedulerPath),
		body: body, streamID: sub.streamID, follow: true,
	})
	if err != nil {
		return fmt.Errorf("%s at %s: %w", what, s.t.displayURL(final), err)
	}
	if resp.StatusCode/100 != 2 {
		return readAPIError(resp, what, s.t.displayURL(final), true)
	}
	drainClose(resp.Body)
	return nil
}

// Teardown removes the framework: the master kills its tasks and forgets
// it, and Run returns nil once the stream ends.
func (s *Scheduler) Teardown(ctx context.Context) error {
	// Mark first: the master may close the stream before the call returns,
	// and Run must not take that for a failure and resubscribe.
	s.mu.Lock()
	s.tornDown = true
	s.mu.Unlock()
	if err := s.Call(ctx, &mesos.Call{Type: mesos.CallTeardown}); err != nil {
		s.mu.Lock()
		s.tornDown = false
		s.mu.Unlock()
		return err
	}
	return nil
}

// Accept runs operations against offers (all on one agent); what they leave
// unused is declined with filters (nil: Mesos' default 5 s refusal).
func (s *Scheduler) Accept(ctx context.Context, offers []mesos.OfferID, ops []mesos.OfferOperation, filters *mesos.Filters) error {
	return s.Call(ctx, &mesos.Call{Type: mesos.CallAccept,
		Accept: &mesos.Accept{OfferIDs: offers, Operations: ops, Filters: filters}})
}

// Launch accepts offers to launch tasks, the common case of Accept.
func (s *Scheduler) Launch(ctx context.Context, offers []mesos.OfferID, tasks []mesos.TaskInfo, filters *mesos.Filters) error {
	return s.Accept(ctx, offers, []mesos.OfferOperation{LaunchOperation(tasks...)}, filters)
}

// LaunchOperation is the LAUNCH operation for tasks.
func LaunchOperation(tasks ...mesos.TaskInfo) mesos.OfferOperation {
	return mesos.OfferOperation{Type: mesos.OperationLaunch, Launch: &mesos.Launch{TaskInfos: tasks}}
}

// Decline returns offers unused; filters says how long not to re-offer
// their resources (nil: 5 s).
func (s *Scheduler) Decline(ctx context.Context, offers []mesos.OfferID, filters *mesos.Filters) error {
	return s.Call(ctx, &mesos.Call{Type: mesos.CallDecline,
		Decline: &mesos.Decline{OfferIDs: offers, Filters: filters}})
}

// AcceptInverseOffers agrees to give resources back for maintenance.
func (s *Scheduler) AcceptInverseOffers(ctx context.Context, ids []mesos.OfferID, filters *mesos.Filters) error {
	return s.Call(ctx, &mesos.Call{Type: mesos.CallAcceptInverseOffers,
		AcceptInverseOffers: &mesos.AcceptInverseOffers{InverseOfferIDs: ids, Filters: filters}})
}

// DeclineInverseOffers refuses to give resources back.
func (s *Scheduler) DeclineInverseOffers(ctx context.Context, ids []mesos.OfferID, filters *mesos.Filters) error {
	return s.Call(ctx, &mesos.Call{Type: mesos.CallDeclineInverseOffers,
		DeclineInverseOffers: &mesos.DeclineInverseOffers{InverseOfferIDs: ids, Filters: filters}})
}

// Revive clears decline filters and unsuppresses roles (all of the
// framework's roles when none are given).
func (s *Scheduler) Revive(ctx context.Context, roles ...string) error {
	if err := s.Call(ctx, &mesos.Call{Type: mesos.CallRevive, Revive: &mesos.Revive{Roles: roles}}); err != nil {
		return err
	}
	s.mu.Lock()
	if len(roles) == 0 {
		s.suppressed = nil
	} else {
		s.suppressed = slices.DeleteFunc(s.suppressed, func(r string) bool { return slices.Contains(roles, r) })
	}
	s.mu.Unlock()
	return nil
}

// Suppress stops offers for roles (all of the framework's roles when none
// are given) until Revive.
func (s *Scheduler) Suppress(ctx context.Context, roles ...string) error {
	if err := s.Call(ctx, &mesos.Call{Type: mesos.CallSuppress, Suppress: &mesos.Suppress{Roles: roles}}); err != nil {
		return err
	}
	s.mu.Lock()
	if len(roles) == 0 {
		roles = s.info.GetRoles()
	}
	s.suppressed = sortedRoles(append(slices.Clone(s.suppressed), roles...))
	s.mu.Unlock()
	return nil
}

// Kill kills a task; agent may be empty if unknown.
func (s *Scheduler) Kill(ctx context.Context, task mesos.TaskID, agent mesos.AgentID) error {
	return s.Call(ctx, &mesos.Call{Type: mesos.CallKill, Kill: &mesos.Kill{TaskID: task, AgentID: agent}})
}

// KillWithPolicy kills a task, overriding its kill policy (grace period).
func (s *Scheduler) KillWithPolicy(ctx context.Context, task mesos.TaskID, agent mesos.AgentID, policy *mesos.KillPolicy) error {
	return s.Call(ctx, &mesos.Call{Type: mesos.CallKill,
		Kill: &mesos.Kill{TaskID: task, AgentID: agent, KillPolicy: policy}})
}

// Shutdown stops a custom executor and its tasks.
func (s *Scheduler) Shutdown(ctx context.Context, executor mesos.ExecutorID, agent mesos.AgentID) error {
	return s.Call(ctx, &mesos.Call{Type: mesos.CallShutdown,
		Shutdown: &mesos.Shutdown{ExecutorID: executor, AgentID: agent}})
}

// Acknowledge confirms a status update so the master stops resending it.
// Only updates carrying a UUID need it; for others it does nothing. It is
// safe to call from the goroutine reading Events.
func (s *Scheduler) Acknowledge(ctx context.Context, status *mesos.TaskStatus) error {
	if status == nil || len(status.UUID) == 0 {
		return nil
	}
	return s.Call(ctx, &mesos.Call{Type: mesos.CallAcknowledge,
		Acknowledge: &mesos.Acknowledge{AgentID: status.AgentID, TaskID: status.TaskID, UUID: status.UUID}})
}

// Reconcile asks for the latest status of tasks: the named ones (explicit),
// or with none every task the master knows for the framework (implicit).
// Answers arrive as UPDATE events with reason REASON_RECONCILIATION.
func (s *Scheduler) Reconcile(ctx context.Context, tasks ...mesos.ReconcileTask) error {
	return s.Call(ctx, &mesos.Call{Type: mesos.CallReconcile, Reconcile: &mesos.Reconcile{Tasks: tasks}})
}

// Message sends opaque data to an executor.
func (s *Scheduler) Message(ctx context.Context, agent mesos.AgentID, executor mesos.ExecutorID, data []byte) error {
	return s.Call(ctx, &mesos.Call{Type: mesos.CallMessage,
		Message: &mesos.Message{AgentID: agent, ExecutorID: executor, Data: data}})
}

// Request passes resource requests to the allocator.
func (s *Scheduler) Request(ctx context.Context, requests ...mesos.ResourceRequest) error {
	return s.Call(ctx, &mesos.Call{Type: mesos.CallRequest, Request: &mesos.Request{Requests: requests}})
}

// UpdateFramework changes the framework's info (its ID is filled in) and
// suppressed roles; later resubscriptions use the new values.
func (s *Scheduler) UpdateFramework(ctx context.Context, info *mesos.FrameworkInfo, suppressedRoles []string) error {
	if info == nil {
		return errors.New("scheduler UPDATE_FRAMEWORK: nil framework info")
	}
	next, err := cloneFrameworkInfo(info)
	if err != nil {
		return fmt.Errorf("scheduler UPDATE_FRAMEWORK: %w", err)
	}
	s.mu.Lock()
	if next.ID == "" {
		next.ID = s.info.ID
	}
	s.mu.Unlock()
	err = s.Call(ctx, &mesos.Call{Type: mesos.CallUpdateFramework, FrameworkID: next.ID,
		UpdateFramework: &mesos.UpdateFramework{FrameworkInfo: next, SuppressedRoles: suppressedRoles}})
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.info = next
	s.suppressed = sortedRoles(suppressedRoles)
	s.mu.Unlock()
	return nil
}
