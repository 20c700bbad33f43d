package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// The Events view: the operator stream as it arrives, newest first,
// filterable like every list (`/task_updated`, `/!offer`). `p` pauses it,
// so a line can be read while the cluster is busy.

func eventsView() *viewSpec {
	return &viewSpec{
		name: "events", title: "Events", defaultSort: 0, sortDesc: true, ageing: true,
		cols: []column{
			{Title: "#", Width: 5, Right: true},
			{Title: "TIME", Width: 8},
			{Title: "TYPE", Width: 17},
			{Title: "DETAIL", Width: 20, Flex: 1},
		},
		build: buildEvents,
	}
}

func buildEvents(c *Cluster, _ time.Time) []row {
	rows := make([]row, 0, len(c.Events))
	for i := range c.Events {
		e := &c.Events[i]
		rows = append(rows, row{
			id: itoa(int(e.Seq)),
			cells: []cell{
				number(itoa(int(e.Seq)), float64(e.Seq)), txt(e.At.Format("15:04:05")),
				toned(string(e.Event.Type), eventTone(e.Event)), txt(eventDetail(c, e.Event)),
			},
			obj: e.Event,
		})
	}
	return rows
}

func eventTone(ev *mesos.OperatorEvent) Tone {
	switch ev.Type {
	case mesos.OperatorEventSubscribed:
		return ToneAccent
	case mesos.OperatorEventTaskUpdated:
		if ev.TaskUpdated != nil {
			return stateTone(ev.TaskUpdated.State)
		}
	case mesos.OperatorEventAgentRemoved, mesos.OperatorEventFrameworkRemoved, mesos.OperatorEventOfferRescinded:
		return ToneBad
	case mesos.OperatorEventOfferDeclined:
		return ToneWarn
	case mesos.OperatorEventOfferAccepted, mesos.OperatorEventAgentAdded, mesos.OperatorEventFrameworkAdded:
		return ToneGood
	}
	return ToneInfo
}

// eventDetail says what an event is about in one line.
func eventDetail(c *Cluster, ev *mesos.OperatorEvent) string {
	switch ev.Type {
	case mesos.OperatorEventSubscribed:
		if s := ev.Subscribed; s != nil && s.GetState != nil {
			var a, f, t int
			if g := s.GetState.GetAgents; g != nil {
				a = len(g.Agents)
			}
			if g := s.GetState.GetFrameworks; g != nil {
				f = len(g.Frameworks)
			}
			if g := s.GetState.GetTasks; g != nil {
				t = len(g.Tasks)
			}
			return fmt.Sprintf("snapshot: %d agents, %d frameworks, %d tasks", a, f, t)
		}
	case mesos.OperatorEventTaskAdded:
		if e := ev.TaskAdded; e != nil && e.Task != nil {
			return fmt.Sprintf("%s (%s) on %s: %s", e.Task.TaskID, e.Task.Name, c.AgentHost(e.Task.AgentID), shortState(e.Task.State))
		}
	case mesos.OperatorEventTaskUpdated:
		if e := ev.TaskUpdated; e != nil && e.Status != nil {
			s := fmt.Sprintf("%s: %s", e.Status.TaskID, shortState(e.State))
			if e.Status.Reason != "" {
				s += " " + string(e.Status.Reason)
			}
			if e.Status.Message != "" {
				s += ": " + e.Status.Message
			}
			return s
		}
	case mesos.OperatorEventAgentAdded:
		if e := ev.AgentAdded; e != nil && e.Agent != nil && e.Agent.AgentInfo != nil {
			return fmt.Sprintf("%s %s %s", e.Agent.AgentInfo.Hostname, e.Agent.AgentInfo.ID, resourceLine(e.Agent.TotalResources))
		}
	case mesos.OperatorEventAgentRemoved:
		if e := ev.AgentRemoved; e != nil {
			return string(e.AgentID)
		}
	case mesos.OperatorEventFrameworkAdded, mesos.OperatorEventFrameworkUpdated:
		f := ev.FrameworkAdded
		if f == nil && ev.FrameworkUpdated != nil {
			f = (*mesos.FrameworkAdded)(ev.FrameworkUpdated)
		}
		if f != nil && f.Framework != nil && f.Framework.FrameworkInfo != nil {
			i := f.Framework.FrameworkInfo
			return fmt.Sprintf("%s %s roles %s", i.Name, i.ID, strings.Join(i.GetRoles(), ","))
		}
	case mesos.OperatorEventFrameworkRemoved:
		if e := ev.FrameworkRemoved; e != nil && e.FrameworkInfo != nil {
			return fmt.Sprintf("%s %s", e.FrameworkInfo.Name, e.FrameworkInfo.ID)
		}
	case mesos.OperatorEventOfferSent:
		if e := ev.OfferSent; e != nil && e.Offer != nil {
			return fmt.Sprintf("%s → %s on %s: %s", e.Offer.ID, fwName(c, e.Offer.FrameworkID), c.AgentHost(e.Offer.AgentID), resourceLine(e.Offer.Resources))
		}
	case mesos.OperatorEventOfferAccepted:
		if e := ev.OfferAccepted; e != nil {
			return fmt.Sprintf("%s on %s: %s %s", fwName(c, e.FrameworkID), c.AgentHost(e.AgentID), resourceLine(e.Resources), acceptedDetail(e))
		}
	case mesos.OperatorEventOfferDeclined:
		if e := ev.OfferDeclined; e != nil {
			return fmt.Sprintf("%s on %s: %s %s", fwName(c, e.FrameworkID), c.AgentHost(e.AgentID), resourceLine(e.Resources), refuseDetail(e.RefuseSeconds))
		}
	case mesos.OperatorEventOfferRescinded:
		if e := ev.OfferRescinded; e != nil {
			return fmt.Sprintf("%s from %s: %s", e.OfferID, fwName(c, e.FrameworkID), e.Reason)
		}
	}
	return ""
}

func fwName(c *Cluster, id mesos.FrameworkID) string {
	if n := c.FrameworkName(id); n != "" {
		return n
	}
	return string(id)
}
