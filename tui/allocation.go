package tui

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/strata-dc/strata/master/mesos"
)

// The dashboard computes allocation itself from the live tasks and
// outstanding offers rather than from the snapshot's allocated_resources,
// which the stream's deltas never update. Like Mesos, "allocated" counts
// offered resources too: they are the framework's until it answers.

// scalarNames are the resources shown as bars everywhere.
var scalarNames = []string{"cpus", "mem", "disk"}

// quantities is a name → amount map of scalar resources.
type quantities map[string]float64

func quantitiesOf(rs mesos.Resources) quantities {
	q := quantities{}
	q.addResources(rs)
	return q
}

// addResources adds rs's scalars without allocating: Totals runs over
// every task.
func (q quantities) addResources(rs mesos.Resources) {
	for i := range rs {
		if r := &rs[i]; r.Scalar != nil {
			q[r.Name] += r.Scalar.Float64()
		}
	}
}

func (q quantities) add(o quantities) {
	for k, v := range o {
		q[k] += v
	}
}

// totals is the cluster's resources at one Version.
type totals struct {
	total, used, offered quantities
	agents, agentsUp     int
	perAgentUsed         map[mesos.AgentID]quantities
	perAgentOffered      map[mesos.AgentID]quantities
	perAgentTasks        map[mesos.AgentID]int
	perRole              map[string]quantities // allocated (used+offered) by role
	perFrameworkUsed     map[mesos.FrameworkID]quantities
	perFrameworkTasks    map[mesos.FrameworkID]int
	liveTasks            int
	taskStates           map[mesos.TaskState]int
}

// share is allocated (used+offered) over total for one resource.
func (t totals) share(name string) float64 {
	if t.total[name] <= 0 {
		return 0
	}
	return (t.used[name] + t.offered[name]) / t.total[name]
}

// Totals computes (once per Version) the cluster-wide and per-object
// allocation.
func (c *Cluster) Totals() totals {
	if c.totalsAt == c.Version && c.agentTotals.total != nil {
		return c.agentTotals
	}
	t := totals{total: quantities{}, used: quantities{}, offered: quantities{},
		perAgentUsed: map[mesos.AgentID]quantities{}, perAgentOffered: map[mesos.AgentID]quantities{},
		perAgentTasks: map[mesos.AgentID]int{}, perRole: map[string]quantities{},
		perFrameworkUsed: map[mesos.FrameworkID]quantities{}, perFrameworkTasks: map[mesos.FrameworkID]int{},
		taskStates: map[mesos.TaskState]int{}}
	for _, a := range c.Agents {
		t.agents++
		if a.Active {
			t.agentsUp++
		}
		if a.AgentInfo != nil {
			t.total.add(quantitiesOf(a.TotalResources))
		}
	}
	for _, tk := range c.Tasks {
		t.taskStates[tk.State]++
		if tk.State.IsTerminal() {
			continue
		}
		t.liveTasks++
		t.used.addResources(tk.Resources)
		bucket(t.perAgentUsed, tk.AgentID).addResources(tk.Resources)
		bucket(t.perFrameworkUsed, tk.FrameworkID).addResources(tk.Resources)
		t.perAgentTasks[tk.AgentID]++
		t.perFrameworkTasks[tk.FrameworkID]++
		bucket(t.perRole, c.roleOf(tk.Resources, tk.FrameworkID)).addResources(tk.Resources)
	}
	for _, o := range c.Offers {
		q := quantitiesOf(o.Offer.Resources)
		t.offered.add(q)
		addTo(t.perAgentOffered, o.Offer.AgentID, q)
		role := ""
		if o.Offer.AllocationInfo != nil {
			role = o.Offer.AllocationInfo.Role
		}
		if role == "" {
			role = c.roleOf(o.Offer.Resources, o.Offer.FrameworkID)
		}
		addTo(t.perRole, role, q)
	}
	c.agentTotals, c.totalsAt = t, c.Version
	return t
}

func addTo[K comparable](m map[K]quantities, k K, q quantities) { bucket(m, k).add(q) }

// bucket returns m[k], creating it.
func bucket[K comparable](m map[K]quantities, k K) quantities {
	cur := m[k]
	if cur == nil {
		cur = quantities{}
		m[k] = cur
	}
	return cur
}

// roleOf is the role resources are allocated to: their allocation_info,
// else the framework's first role.
func (c *Cluster) roleOf(rs mesos.Resources, fw mesos.FrameworkID) string {
	for _, r := range rs {
		if r.AllocationInfo != nil && r.AllocationInfo.Role != "" {
			return r.AllocationInfo.Role
		}
	}
	f := c.Frameworks[fw]
	if f == nil {
		f = c.Completed[fw]
	}
	if f != nil && f.FrameworkInfo != nil {
		if roles := f.FrameworkInfo.GetRoles(); len(roles) > 0 {
			return roles[0]
		}
	}
	return mesos.DefaultRole
}

// RoleRow is one role as the Roles and Quota views show it.
type RoleRow struct {
	Name       string
	Weight     float64
	Frameworks int
	Allocated  quantities
	// Share is DRF's dominant share: the largest allocated/total over the
	// resources; Weighted divides it by the weight, which is what the
	// allocator compares.
	Share, Weighted float64
	Dominant        string
	Quota           *mesos.QuotaConfig
}

// RoleRows merges GET_ROLES, quota, and live allocation into one row per
// role. A role's allocation includes its subroles', as quota consumption
// does.
func (c *Cluster) RoleRows() []RoleRow {
	t := c.Totals()
	rows := map[string]*RoleRow{}
	get := func(name string) *RoleRow {
		r := rows[name]
		if r == nil {
			r = &RoleRow{Name: name, Weight: 1, Allocated: quantities{}}
			rows[name] = r
		}
		return r
	}
	for _, r := range c.Roles {
		row := get(r.Name)
		if r.Weight > 0 {
			row.Weight = r.Weight
		}
		row.Frameworks = len(r.Frameworks)
	}
	for i := range c.Quota {
		get(c.Quota[i].Role).Quota = &c.Quota[i]
	}
	// Frameworks subscribed since GET_ROLES was read still show their
	// roles.
	for _, f := range c.Frameworks {
		if f.FrameworkInfo == nil {
			continue
		}
		for _, role := range f.FrameworkInfo.GetRoles() {
			if _, known := rows[role]; !known {
				get(role).Frameworks++
			}
		}
	}
	for name := range t.perRole {
		get(name)
	}
	for _, row := range rows {
		for role, q := range t.perRole {
			if mesos.IsRoleInSubtree(role, row.Name) {
				row.Allocated.add(q)
			}
		}
		for _, name := range scalarNames {
			if t.total[name] <= 0 {
				continue
			}
			if s := row.Allocated[name] / t.total[name]; s > row.Share {
				row.Share, row.Dominant = s, name
			}
		}
		row.Weighted = row.Share / row.Weight
	}
	out := make([]RoleRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// formatting helpers shared by the views.

func itoa(n int) string { return strconv.Itoa(n) }

// num shows a quantity without a needless fraction.
func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

// amount shows a quantity in its resource's unit: megabytes for mem and
// disk as binary sizes, plain numbers otherwise.
func amount(name string, v float64) string {
	if name == "mem" || name == "disk" {
		return sizeMB(v)
	}
	return num(v)
}

func sizeMB(mb float64) string {
	units := []string{"M", "G", "T", "P"}
	i := 0
	for math.Abs(mb) >= 1024 && i < len(units)-1 {
		mb /= 1024
		i++
	}
	if mb == math.Trunc(mb) || i == 0 {
		return strconv.FormatFloat(math.Round(mb), 'f', -1, 64) + units[i]
	}
	return strconv.FormatFloat(mb, 'f', 1, 64) + units[i]
}

// resourceLine shows the scalars of rs: "cpus:1 mem:128M".
func resourceLine(rs mesos.Resources) string {
	q := quantitiesOf(rs)
	var b strings.Builder
	for _, name := range scalarNames {
		if v, ok := q[name]; ok {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(name + ":" + amount(name, v))
		}
	}
	return b.String()
}

// quotaLine shows a quota map: "cpus:2 mem:1G".
func quotaLine(m map[string]mesos.Scalar) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k + ":" + amount(k, m[k].Float64()))
	}
	return b.String()
}
