package master

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/strata-dc/strata/master/auth"
	"github.com/strata-dc/strata/master/mesos"
)

// This file decides, before a call reaches the state machine, whether its
// caller may make it: Mesos' authorization points, checked against the
// --acls rules with the principal the middleware authenticated. A refusal
// is a *auth.Denied (403 naming the rule) or auth.ErrUnauthenticated (401).

// principalMismatch is Mesos' refusal of a FrameworkInfo.principal that is
// not the authenticated one.
type principalMismatch struct {
	claimed, authenticated string
	call                   bool // a call for a framework, not a registration
}

func (e *principalMismatch) Error() string {
	if e.call {
		if e.authenticated == "" {
			return fmt.Sprintf("the framework registered as principal %q: its calls must authenticate as %q", e.claimed, e.claimed)
		}
		return fmt.Sprintf("the framework registered as principal %q; %q may not call for it", e.claimed, e.authenticated)
	}
	if e.authenticated == "" {
		return fmt.Sprintf("framework_info.principal: %q must authenticate to register under that principal", e.claimed)
	}
	return fmt.Sprintf("framework_info.principal: %q does not match the authenticated principal %q", e.claimed, e.authenticated)
}

// writeAuthError answers an authorization error.
func writeAuthError(w http.ResponseWriter, err error) {
	if pm, ok := err.(*principalMismatch); ok {
		if pm.authenticated == "" {
			auth.WriteError(w, fmt.Errorf("%w: %s", auth.ErrUnauthenticated, pm.Error()))
			return
		}
		writeError(w, http.StatusForbidden, pm.Error())
		return
	}
	auth.WriteError(w, err)
}

// authorizeScheduler checks a scheduler call: SUBSCRIBE and
// UPDATE_FRAMEWORK register in roles (register_frameworks); ACCEPT's
// operations launch as users (run_tasks), reserve and unreserve.
func (m *Master) authorizeScheduler(r *http.Request, c *mesos.Call) error {
	p := auth.PrincipalOf(r.Context())
	acls := m.sec.ACLs
	if c.Type != mesos.CallSubscribe {
		if err := m.sameFramework(p, c.FrameworkID); err != nil {
			return err
		}
	}
	switch c.Type {
	case mesos.CallSubscribe:
		if c.Subscribe != nil {
			return m.authorizeFramework(p, c.Subscribe.FrameworkInfo)
		}
	case mesos.CallUpdateFramework:
		if c.UpdateFramework != nil {
			return m.authorizeFramework(p, c.UpdateFramework.FrameworkInfo)
		}
	case mesos.CallAccept:
		if c.Accept == nil || acls == nil {
			return nil
		}
		fwUser := ""
		if fi := m.frameworkInfo(c.FrameworkID); fi != nil {
			fwUser = fi.User
		}
		for _, op := range c.Accept.Operations {
			if err := authorizeOperation(acls, p, fwUser, op); err != nil {
				return err
			}
		}
	}
	return nil
}

// sameFramework binds a framework's calls to the principal it registered
// as: once a framework registered under a principal that has credentials,
// every call for it must come from that principal, so its stream ID alone
// is no capability. A framework not yet in the published snapshot (just
// subscribed) is not checked.
func (m *Master) sameFramework(p string, id mesos.FrameworkID) error {
	fi := m.frameworkInfo(id)
	if fi == nil || fi.Principal == "" || fi.Principal == p {
		return nil
	}
	if !m.sec.Credentials.Has(fi.Principal) {
		return nil
	}
	return &principalMismatch{claimed: fi.Principal, authenticated: p, call: true}
}

// authorizeFramework checks a framework's registration. An authenticated
// framework's principal is filled in when it names none; naming another
// one is refused, and an anonymous caller may not claim a principal that
// has credentials.
func (m *Master) authorizeFramework(p string, fi *mesos.FrameworkInfo) error {
	if fi == nil {
		return nil
	}
	switch {
	case p != "" && fi.Principal == "":
		fi.Principal = p
	case p != "" && fi.Principal != p:
		return &principalMismatch{claimed: fi.Principal, authenticated: p}
	case p == "" && fi.Principal != "" && m.sec.Credentials.Has(fi.Principal):
		return &principalMismatch{claimed: fi.Principal}
	}
	roles := fi.Roles
	if len(roles) == 0 {
		role := fi.Role
		if role == "" {
			role = mesos.DefaultRole
		}
		roles = []string{role}
	}
	return m.sec.ACLs.Check(auth.RegisterFrameworks, p, roles...)
}

// authorizeOperation checks one offer operation of an ACCEPT.
func authorizeOperation(acls *auth.ACLs, p, fwUser string, op mesos.OfferOperation) error {
	taskUser := func(cmd *mesos.CommandInfo) string {
		if cmd != nil && cmd.User != "" {
			return cmd.User
		}
		return fwUser
	}
	switch op.Type {
	case mesos.OperationLaunch:
		if op.Launch == nil {
			return nil
		}
		for _, ti := range op.Launch.TaskInfos {
			cmd := ti.Command
			if cmd == nil && ti.Executor != nil {
				cmd = ti.Executor.Command
			}
			if err := acls.Check(auth.RunTasks, p, taskUser(cmd)); err != nil {
				return err
			}
		}
	case mesos.OperationLaunchGroup:
		if op.LaunchGroup == nil {
			return nil
		}
		if ex := op.LaunchGroup.Executor; ex != nil {
			if err := acls.Check(auth.RunTasks, p, taskUser(ex.Command)); err != nil {
				return err
			}
		}
		if g := op.LaunchGroup.TaskGroup; g != nil {
			for _, ti := range g.Tasks {
				if err := acls.Check(auth.RunTasks, p, taskUser(ti.Command)); err != nil {
					return err
				}
			}
		}
	case mesos.OperationReserve:
		if op.Reserve != nil {
			return acls.Check(auth.ReserveResources, p, reservationRoles(op.Reserve.Resources)...)
		}
	case mesos.OperationUnreserve:
		if op.Unreserve != nil {
			return acls.Check(auth.UnreserveResources, p, reserverPrincipals(op.Unreserve.Resources)...)
		}
	case mesos.OperationCreate:
		if op.Create != nil {
			return acls.Check(auth.CreateVolumes, p, reservationRoles(op.Create.Volumes)...)
		}
	case mesos.OperationDestroy:
		if op.Destroy != nil {
			return acls.Check(auth.DestroyVolumes, p, creatorPrincipals(op.Destroy.Volumes)...)
		}
	}
	return nil
}

// authorizeOperator checks an operator call.
func (m *Master) authorizeOperator(r *http.Request, c *mesos.OperatorCall) error {
	acls := m.sec.ACLs
	if acls == nil {
		return nil
	}
	p := auth.PrincipalOf(r.Context())
	switch c.Type {
	case mesos.OperatorUpdateQuota:
		if c.UpdateQuota != nil {
			var roles []string
			for _, q := range c.UpdateQuota.QuotaConfigs {
				roles = append(roles, q.Role)
			}
			return acls.Check(auth.UpdateQuotas, p, roles...)
		}
	case mesos.OperatorUpdateWeights:
		if c.UpdateWeights != nil {
			var roles []string
			for _, wi := range c.UpdateWeights.WeightInfos {
				roles = append(roles, wi.Role)
			}
			return acls.Check(auth.UpdateWeights, p, roles...)
		}
	case mesos.OperatorReserveResources:
		if c.ReserveResources != nil {
			return acls.Check(auth.ReserveResources, p, reservationRoles(c.ReserveResources.Resources)...)
		}
	case mesos.OperatorUnreserveResources:
		if c.UnreserveResources != nil {
			return acls.Check(auth.UnreserveResources, p, reserverPrincipals(c.UnreserveResources.Resources)...)
		}
	case mesos.OperatorCreateVolumes:
		if c.CreateVolumes != nil {
			return acls.Check(auth.CreateVolumes, p, reservationRoles(c.CreateVolumes.Volumes)...)
		}
	case mesos.OperatorDestroyVolumes:
		if c.DestroyVolumes != nil {
			return acls.Check(auth.DestroyVolumes, p, creatorPrincipals(c.DestroyVolumes.Volumes)...)
		}
	case mesos.OperatorDrainAgent:
		if c.DrainAgent != nil {
			return acls.Check(auth.DrainAgents, p, string(c.DrainAgent.AgentID))
		}
	case mesos.OperatorDeactivateAgent:
		if c.DeactivateAgent != nil {
			return acls.Check(auth.DeactivateAgents, p, string(c.DeactivateAgent.AgentID))
		}
	case mesos.OperatorReactivateAgent:
		if c.ReactivateAgent != nil {
			return acls.Check(auth.ReactivateAgents, p, string(c.ReactivateAgent.AgentID))
		}
	case mesos.OperatorMarkAgentGone:
		if c.MarkAgentGone != nil {
			return acls.Check(auth.MarkAgentsGone, p, string(c.MarkAgentGone.AgentID))
		}
	case mesos.OperatorTeardown:
		if c.Teardown != nil {
			owner := ""
			if fi := m.frameworkInfo(c.Teardown.FrameworkID); fi != nil {
				owner = fi.Principal
			}
			return acls.Check(auth.TeardownFrameworks, p, owner)
		}
	case mesos.OperatorGetFlags:
		return acls.Check(auth.ViewFlags, p)
	}
	return nil
}

// authorizeAgent checks an agent call: with --authenticate-agents every
// call must come from a principal, and SUBSCRIBE is register_agents.
func (m *Master) authorizeAgent(r *http.Request, c *mesos.AgentCall) error {
	p := auth.PrincipalOf(r.Context())
	if m.cfg.AuthenticateAgents && p == "" {
		return fmt.Errorf("%w: agents must present their credential (--authenticate-agents)", auth.ErrUnauthenticated)
	}
	if c.Type == mesos.AgentCallSubscribe {
		return m.sec.ACLs.Check(auth.RegisterAgents, p)
	}
	return nil
}

// frameworkInfo finds a framework in the published snapshot (nil when it
// is not known there yet).
func (m *Master) frameworkInfo(id mesos.FrameworkID) *mesos.FrameworkInfo {
	pub := m.snapshot.Load()
	if pub == nil || id == "" {
		return nil
	}
	for _, f := range pub.snap.State.GetFrameworks.Frameworks {
		if f.FrameworkInfo != nil && f.FrameworkInfo.ID == id {
			return f.FrameworkInfo
		}
	}
	return nil
}

// reservationRoles are the roles resources are (to be) reserved for.
func reservationRoles(rs mesos.Resources) []string {
	var out []string
	for _, r := range rs {
		if role := r.ReservationRole(); role != "" && !slices.Contains(out, role) {
			out = append(out, role)
		}
	}
	return out
}

// reserverPrincipals are the principals that made the reservations.
func reserverPrincipals(rs mesos.Resources) []string {
	var out []string
	for _, r := range rs {
		p := ""
		switch {
		case len(r.Reservations) > 0:
			p = r.Reservations[len(r.Reservations)-1].Principal
		case r.Reservation != nil:
			p = r.Reservation.Principal
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// creatorPrincipals are the principals that created persistent volumes.
func creatorPrincipals(rs mesos.Resources) []string {
	var out []string
	for _, r := range rs {
		p := ""
		if r.Disk != nil && r.Disk.Persistence != nil {
			p = r.Disk.Persistence.Principal
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}
