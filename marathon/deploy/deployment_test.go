package deploy

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// cluster is a pure multi-app instance store for running whole deployments.
type cluster struct {
	insts map[string][]Instance
	seq   int
}

func (c *cluster) apply(pr Progress, now time.Time) {
	for _, ad := range pr.Decisions {
		list := c.insts[ad.Action.App]
		for _, id := range ad.Decision.Kill {
			for k := range list {
				if list[k].ID == id {
					list[k].Killing = true
				}
			}
		}
		for range ad.Decision.Launch {
			c.seq++
			list = append(list, Instance{ID: fmt.Sprintf("%s.%d", strings.TrimPrefix(ad.App.ID, "/"), c.seq), Version: ad.App.Version, State: Scheduled})
		}
		c.insts[ad.Action.App] = list
	}
}

// settle moves every instance all the way: killed ones vanish, launched
// ones run healthy.
func (c *cluster) settle(now time.Time) {
	for id, list := range c.insts {
		kept := list[:0]
		for _, i := range list {
			if i.Killing {
				continue
			}
			i.State, i.Healthy, i.Ready, i.StartedAt = Running, true, true, now
			kept = append(kept, i)
		}
		c.insts[id] = kept
	}
}

func TestDeploymentRunsStepsInOrder(t *testing.T) {
	from := RootState{Apps: []AppSpec{app("/old", 2, v1), app("/db", 1, v1)}}
	to := RootState{Apps: []AppSpec{app("/db", 2, v2), app("/web", 2, v2, "/db")}}
	p, err := Plan(from, to, PlanMeta{ID: "d", Version: t0})
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{insts: map[string][]Instance{}}
	for _, a := range from.Apps {
		for k := range a.Instances {
			c.insts[a.ID] = append(c.insts[a.ID], Instance{ID: fmt.Sprintf("%s-%d", a.ID, k), Version: a.Version, State: Running, Healthy: true})
		}
	}
	dep := NewDeployment(p)
	lookup := func(id string) []Instance { return slices.Clone(c.insts[id]) }
	now := t0
	var order []string
	var stepsDone []int
	for range 50 {
		now = now.Add(time.Second)
		pr := dep.Advance(lookup, now)
		stepsDone = append(stepsDone, pr.StepsDone...)
		if pr.Finished {
			break
		}
		for _, ad := range pr.Decisions {
			if ad.Decision.Launch > 0 {
				order = append(order, "launch "+ad.Action.App)
				if len(c.insts["/db"]) > 0 && ad.Action.App == "/web" {
					for _, i := range c.insts["/db"] {
						if !i.Version.Equal(v2) || i.State != Running {
							t.Fatalf("/web launched before /db finished: %+v", c.insts["/db"])
						}
					}
				}
			}
			if len(ad.Decision.Kill) > 0 {
				order = append(order, "kill "+ad.Action.App)
			}
		}
		if w := pr.Waiting(); len(w) == 0 {
			t.Fatalf("not finished yet nothing waiting: %+v", pr)
		}
		c.apply(pr, now)
		c.settle(now)
	}
	if dep.Step != len(p.Steps)+1 {
		t.Fatalf("deployment stopped at step %d of %d", dep.Step, len(p.Steps))
	}
	if !slices.Equal(stepsDone, []int{1, 2, 3, 4}) {
		t.Fatalf("steps done %v", stepsDone)
	}
	if want := []string{"kill /old", "launch /db", "kill /db", "launch /web"}; !slices.Equal(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	if len(c.insts["/old"]) != 0 || len(c.insts["/db"]) != 2 || len(c.insts["/web"]) != 2 {
		t.Fatalf("end state %+v", c.insts)
	}
	info := dep.Info(nil)
	if info.CurrentStep != 4 || info.TotalSteps != 4 {
		t.Fatalf("info %+v", info)
	}
}

func TestDeploymentEmptyPlanFinishesAtOnce(t *testing.T) {
	dep := NewDeployment(DeploymentPlan{ID: "e"})
	pr := dep.Advance(func(string) []Instance { return nil }, t0)
	if !pr.Finished || len(pr.StepsDone) != 0 {
		t.Fatalf("%+v", pr)
	}
	if info := dep.Info(nil); info.CurrentStep != 0 || info.TotalSteps != 0 {
		t.Fatalf("info %+v", info)
	}
}

func TestForRestart(t *testing.T) {
	a := app("/a", 3, v1)
	p, _ := Plan(RootState{Apps: []AppSpec{a}}, RootState{Apps: []AppSpec{ForRestart(a, t0)}}, PlanMeta{ID: "r", Version: t0})
	if got := stepsString(p); got != "Restart(/a)" {
		t.Fatalf("restart plan %s", got)
	}
}
