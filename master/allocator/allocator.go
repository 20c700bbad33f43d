package allocator

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// Options configure an Allocator. The zero value is Mesos' defaults.
type Options struct {
	// Seed seeds the agent shuffle, so a run is reproducible.
	Seed int64

	// MinAllocatable is Mesos' --min-allocatable-resources: an offer is
	// made only if it holds at least one of these alternatives in full,
	// so frameworks are not sent crumbs. nil means Mesos' default
	// (DefaultMinAllocatable: cpus:0.01 or mem:32); an empty non-nil
	// slice means any offer with some scalar resource qualifies.
	MinAllocatable []Quantities

	// FairnessExcludeResourceNames are left out of dominant shares
	// (Mesos' --fair-sharing-excluded-resource-names), e.g. "gpus", so a
	// scarce resource does not dominate everyone's share.
	FairnessExcludeResourceNames []string

	// DefaultRefuse is how long declined resources are withheld when
	// Decline is given a negative duration. Zero means 5 s.
	DefaultRefuse time.Duration

	// OfferGPUsToAll offers agents with GPUs to frameworks without the
	// GPU_RESOURCES capability too. By default (Mesos'
	// --filter-gpu-resources) they are kept for GPU frameworks.
	OfferGPUsToAll bool

	// Region is the master's fault-domain region. Agents in another
	// region are offered only to REGION_AWARE frameworks.
	Region string
}

// MaxRefuse bounds a decline filter, as Mesos does.
const MaxRefuse = 365 * 24 * time.Hour

// DefaultRefuse is the default decline filter (Filters.refuse_seconds).
const DefaultRefuse = 5 * time.Second

// altItem is one quantity of a min-allocatable alternative.
type altItem struct {
	idx   int
	milli int64
}

type alt []altItem

// Allocator decides which framework is offered what: Mesos' hierarchical
// DRF allocator as a pure state machine. Inputs describe the cluster
// (agents, frameworks, roles, weights, quota, filters); Allocate returns
// offers. It does no I/O, starts no goroutines, never reads the clock
// (times come in as arguments) and shuffles agents with a seeded
// generator, so the same inputs give the same offers. It is not safe for
// concurrent use: the master's state machine owns it.
type Allocator struct {
	opts     Options
	rng      *rand.Rand
	names    names
	alts     []alt // global min-allocatable alternatives; nil: none
	excluded map[string]bool

	// capAlts are the alternatives role limit masks are computed
	// against: alts, or with no minimum one per scalar name (an offer
	// needs some scalar). capping is off when there are none or more than
	// 64; then no subtree is skipped for being at its limits.
	capAlts    []alt
	capAll     uint64
	capping    bool
	capScalars int // scalar names capAlts were built for
	nOverrides int // clients with their own min-allocatable alternatives

	agents     []*agent
	agentByID  map[mesos.AgentID]*agent
	frameworks map[mesos.FrameworkID]*framework
	roles      map[string]*role
	root       *role
	weights    map[string]float64
	quotas     map[string]quotaConfig
	nGuar      int

	total     qvec      // every scalar on every agent
	inv       []float64 // 1/total per name, 0 where excluded or empty
	stale     bool      // totals or weights changed: shares and orders need a rebuild
	availHead qvec      // free unreserved non-revocable scalars, all agents
	reqHead   qvec      // unmet guarantees of topmost guaranteed roles

	dirtyAll     bool      // everything with free resources is worth a look
	cands        []*agent  // agents whose free resources changed: a look by everyone
	dirtyClients []*client // clients that became eligible: a look at every agent
	pairs        []pair    // (client, agent) whose filter expired
	filters      filterHeap
	fseq         uint64

	cycle uint64
	stamp uint64
	run   cycleState
	stats Stats
}

// Stats counts what the allocator has done, for metrics.
type Stats struct {
	Cycles        uint64 // Allocate calls that did work
	SkippedCycles uint64 // Allocate calls that found nothing changed
	Offers        uint64
	LastAgents    int // agents looked at by the last cycle that did work
	LastOffers    int
}

// New returns an empty allocator.
func New(opts Options) *Allocator {
	if opts.DefaultRefuse <= 0 {
		opts.DefaultRefuse = DefaultRefuse
	}
	a := &Allocator{
		opts:       opts,
		rng:        rand.New(rand.NewPCG(uint64(opts.Seed), 0x5354524154414c43)),
		names:      newNames(),
		excluded:   make(map[string]bool),
		agentByID:  make(map[mesos.AgentID]*agent),
		frameworks: make(map[mesos.FrameworkID]*framework),
		roles:      make(map[string]*role),
		weights:    make(map[string]float64),
		quotas:     make(map[string]quotaConfig),
	}
	a.root = newRole("", nil, 1)
	for _, n := range opts.FairnessExcludeResourceNames {
		a.excluded[n] = true
	}
	minAlloc := opts.MinAllocatable
	if minAlloc == nil {
		minAlloc = DefaultMinAllocatable()
	}
	a.alts = a.altsOf(minAlloc)
	a.rebuildCapAlts()
	return a
}

// altsOf interns alternatives.
func (a *Allocator) altsOf(qs []Quantities) []alt {
	var out []alt
	for _, q := range qs {
		var al alt
		for _, name := range slices.Sorted(maps.Keys(q)) {
			al = append(al, altItem{a.names.id(name), q[name].Milli()})
		}
		if len(al) > 0 {
			out = append(out, al)
		}
	}
	return out
}

func (a *Allocator) scalarNameCount() int {
	n := 0
	for _, s := range a.names.scalar {
		if s {
			n++
		}
	}
	return n
}

// rebuildCapAlts recomputes the alternatives limit masks use, and every
// role's mask with them.
func (a *Allocator) rebuildCapAlts() {
	a.capScalars = a.scalarNameCount()
	if len(a.alts) > 0 {
		a.capAlts = a.alts
	} else {
		a.capAlts = nil
		for i, s := range a.names.scalar {
			if s {
				a.capAlts = append(a.capAlts, alt{{i, 1}})
			}
		}
	}
	a.capping = len(a.capAlts) > 0 && len(a.capAlts) <= 64
	a.capAll = 0
	if a.capping {
		a.capAll = math.MaxUint64 >> (64 - len(a.capAlts))
	}
	for _, name := range sortedKeys(a.roles) {
		a.refresh(a.roles[name])
	}
}

// resort recomputes every share from the cluster totals and re-sorts every
// order. It runs before an allocation when agents came or went (every
// share changed) or weights changed.
func (a *Allocator) resort() {
	n := a.names.len()
	if cap(a.inv) < n {
		a.inv = make([]float64, n)
	}
	a.inv = a.inv[:n]
	for i := range a.inv {
		a.inv[i] = 0
		if t := a.total.at(i); t > 0 && !a.excluded[a.names.list[i]] {
			a.inv[i] = 1 / float64(t)
		}
	}
	a.stale = false
	var walk func(r *role)
	walk = func(r *role) {
		for _, e := range r.clients.all() {
			e.share = a.shareOf(e.c.alloc)
		}
		r.clients.sortAll()
		r.self.share = a.shareOf(r.own)
		r.self1.entryKey = r.self.entryKey
		for _, ch := range r.children {
			ch.tree.share = a.shareOf(ch.sub) / ch.weight
			ch.tree1.entryKey = ch.tree.entryKey
			walk(ch)
		}
		r.items.sortAll()
		r.items1.sortAll()
	}
	walk(a.root)
}

// pair is one client's view of one agent.
type pair struct {
	c  *client
	ag *agent
}

// maxTargeted is how many newly eligible clients a cycle serves by
// looking at each free agent for them alone; beyond it a full pass is
// cheaper than sorting them per agent.
const maxTargeted = 32

// markAgent makes ag a candidate for the next allocation.
func (a *Allocator) markAgent(ag *agent) {
	if !ag.cand {
		ag.cand = true
		a.cands = append(a.cands, ag)
	}
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	return slices.Sorted(maps.Keys(m))
}
