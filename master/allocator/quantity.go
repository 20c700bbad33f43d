package allocator

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/strata-dc/strata/master/mesos"
)

// Quantities maps resource names to amounts: "cpus:1;mem:32". Quota
// guarantees and limits, --min-allocatable-resources alternatives and the
// read-side views use it. It has the same shape as
// mesos.QuotaConfig.Guarantees, so a QuotaConfig's maps pass straight in.
type Quantities map[string]mesos.Scalar

// String prints q in flag syntax, names sorted: "cpus:1;mem:32".
func (q Quantities) String() string {
	parts := make([]string, 0, len(q))
	for _, name := range slices.Sorted(maps.Keys(q)) {
		parts = append(parts, name+":"+q[name].String())
	}
	return strings.Join(parts, ";")
}

// ParseQuantities reads "cpus:1;mem:32". Every amount must be finite and
// not negative.
func ParseQuantities(s string) (Quantities, error) {
	q := Quantities{}
	for _, tok := range strings.Split(s, ";") {
		tok = strings.TrimSpace(tok)
		if tok == "" {
			continue
		}
		name, val, ok := strings.Cut(tok, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("quantity %q: want name:value", tok)
		}
		v, err := mesos.ParseValue(strings.TrimSpace(val))
		if err != nil {
			return nil, fmt.Errorf("quantity %q: %w", tok, err)
		}
		if v.Type != mesos.ValueScalar || v.Scalar == nil {
			return nil, fmt.Errorf("quantity %q: want a number", tok)
		}
		if !v.Scalar.IsFinite() || v.Scalar.Sign() < 0 {
			return nil, fmt.Errorf("quantity %q: must be finite and not negative", tok)
		}
		q[name] = q[name].Add(*v.Scalar)
	}
	return q, nil
}

// ParseMinAllocatable reads Mesos' --min-allocatable-resources syntax:
// alternatives separated by "|", each a list of quantities
// ("cpus:0.01|mem:32"). An offer qualifies if it holds at least one
// alternative in full.
func ParseMinAllocatable(s string) ([]Quantities, error) {
	var out []Quantities
	for _, alt := range strings.Split(s, "|") {
		if strings.TrimSpace(alt) == "" {
			continue
		}
		q, err := ParseQuantities(alt)
		if err != nil {
			return nil, fmt.Errorf("min allocatable resources: %w", err)
		}
		if len(q) > 0 {
			out = append(out, q)
		}
	}
	return out, nil
}

// DefaultMinAllocatable is Mesos' default for --min-allocatable-resources:
// an offer must hold at least 0.01 cpus or 32 MB of memory.
func DefaultMinAllocatable() []Quantities {
	return []Quantities{
		{"cpus": mesos.ScalarOf(0.01)},
		{"mem": mesos.ScalarOf(32)},
	}
}

// validate checks amounts are finite and not negative.
func (q Quantities) validate(what string) error {
	for _, name := range slices.Sorted(maps.Keys(q)) {
		s := q[name]
		switch {
		case name == "":
			return fmt.Errorf("%s: resource name is empty", what)
		case !s.IsFinite():
			return fmt.Errorf("%s[%q]: %s is not a quantity", what, name, s)
		case s.Sign() < 0:
			return fmt.Errorf("%s[%q]: negative value %s", what, name, s)
		}
	}
	return nil
}

// names interns resource names so quantities can be vectors of thousandths
// indexed by name instead of maps or Resources values: the allocation loop
// adds, subtracts and compares them without allocating.
type names struct {
	idx  map[string]int
	list []string
	// scalar marks names seen as SCALAR on some agent or in some
	// quantity; only those take part in shares, quota and headroom.
	scalar []bool
}

func newNames() names { return names{idx: make(map[string]int)} }

// id returns name's index, adding it if new.
func (n *names) id(name string) int {
	if i, ok := n.idx[name]; ok {
		return i
	}
	i := len(n.list)
	n.idx[name] = i
	n.list = append(n.list, name)
	n.scalar = append(n.scalar, false)
	return i
}

// lookup returns name's index without adding it.
func (n *names) lookup(name string) (int, bool) {
	i, ok := n.idx[name]
	return i, ok
}

func (n *names) len() int { return len(n.list) }

// qvec is a quantity per interned name, in thousandths (Scalar.Milli).
// Vectors grow lazily: an index past the end reads as zero, so a vector
// made before a new name appeared stays valid.
type qvec []int64

func (v qvec) at(i int) int64 {
	if i < len(v) {
		return v[i]
	}
	return 0
}

func (v *qvec) grow(n int) {
	if len(*v) < n {
		*v = append(*v, make([]int64, n-len(*v))...)
	}
}

func (v *qvec) addAt(i int, m int64) {
	v.grow(i + 1)
	(*v)[i] += m
}

// add adds o into v.
func (v *qvec) add(o qvec) {
	v.grow(len(o))
	w := *v
	for i, m := range o {
		w[i] += m
	}
}

// sub subtracts o from v.
func (v *qvec) sub(o qvec) {
	v.grow(len(o))
	w := *v
	for i, m := range o {
		w[i] -= m
	}
}

func (v qvec) isZero() bool {
	for _, m := range v {
		if m != 0 {
			return false
		}
	}
	return true
}

// anyPositive reports whether some entry is above zero.
func (v qvec) anyPositive() bool {
	for _, m := range v {
		if m > 0 {
			return true
		}
	}
	return false
}

// covers reports whether v holds at least o in every entry.
func (v qvec) covers(o qvec) bool {
	for i, m := range o {
		if m > v.at(i) {
			return false
		}
	}
	return true
}

func (v qvec) clone() qvec {
	if len(v) == 0 {
		return nil
	}
	return slices.Clone(v)
}

// quantities converts v back to named amounts, leaving out zeros.
func (v qvec) quantities(n *names) Quantities {
	q := Quantities{}
	for i, m := range v {
		if m != 0 {
			q[n.list[i]] = mesos.ScalarFromMilli(m)
		}
	}
	return q
}
