package deploy

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// chaos drives a restart (or scale) while instances fail, flap, become
// unreachable and come back, and the clock jumps. Whatever happens, no
// decision may kill below the healthy floor (unless already below, then
// it must not lower it) or launch above the capacity ceiling; once the
// chaos stops, the action must finish.
func chaos(t testing.TB, seed uint64, s UpgradeStrategy, n, old int, action ActionName, hc bool) {
	r := rand.New(rand.NewPCG(seed, 99))
	app := webApp(n, s)
	app.HasHealthChecks = hc
	app.Unreachable = UnreachableStrategy{InactiveAfterSeconds: int64(r.IntN(120)), ExpungeAfterSeconds: 600}
	sm := newSim(t, app, action)
	sm.addRunning(old, v1)
	if action == ScaleApplication {
		for k := range sm.insts {
			sm.insts[k].Version = v2
		}
	}
	for range 300 {
		sm.decide()
		if len(sm.insts) == 0 {
			continue
		}
		k := r.IntN(len(sm.insts))
		i := &sm.insts[k]
		switch ev := r.IntN(10); {
		case ev < 5:
			sm.step(k)
		case ev == 5: // the instance fails and is gone
			sm.insts = append(sm.insts[:k], sm.insts[k+1:]...)
		case ev == 6 && i.State == Running: // health flaps
			i.Healthy = !i.Healthy
		case ev == 7 && i.State != Scheduled && i.State != Unreachable:
			i.State, i.UnreachableSince = Unreachable, sm.now
		case ev == 8 && i.State == Unreachable: // comes back
			i.State, i.UnreachableSince = Running, time.Time{}
		case ev == 9:
			sm.now = sm.now.Add(time.Duration(r.IntN(90)) * time.Second)
		}
	}
	// Calm: unreachable instances are expunged, the rest settles.
	kept := sm.insts[:0]
	for _, i := range sm.insts {
		if i.State != Unreachable {
			kept = append(kept, i)
		}
	}
	sm.insts = kept
	sm.checkFloor = false // the floor may already be lost to failures
	sm.run(3000, nil)
	sm.assertFinal()
}

func TestChaos(t *testing.T) {
	seeds := uint64(60)
	if testing.Short() {
		seeds = 10
	}
	for si, s := range strategies {
		for seed := range seeds {
			n := 1 + int(seed%6)
			old := n + int(seed%3) - 1
			for _, action := range []ActionName{RestartApplication, ScaleApplication} {
				name := fmt.Sprintf("%s/%v/n=%d/old=%d/seed=%d", action, s, n, old, seed)
				t.Run(name, func(t *testing.T) {
					chaos(t, seed*31+uint64(si), s, n, old, action, seed%2 == 0)
				})
			}
		}
	}
}

// FuzzRestart explores the same property from fuzzer-chosen inputs:
// go test -fuzz=FuzzRestart ./marathon/deploy/
func FuzzRestart(f *testing.F) {
	f.Add(uint64(1), uint8(0), uint8(3), uint8(3), true)
	f.Add(uint64(2), uint8(1), uint8(5), uint8(7), false)
	f.Add(uint64(3), uint8(3), uint8(1), uint8(0), true)
	f.Fuzz(func(t *testing.T, seed uint64, strat, n, old uint8, hc bool) {
		s := strategies[int(strat)%len(strategies)]
		chaos(t, seed, s, 1+int(n%12), int(old%15), RestartApplication, hc)
	})
}
