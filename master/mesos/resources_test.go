package mesos

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// gen builds random resources for property tests. Values come from one of
// two disjoint universes so that a and b can be made disjoint where union
// semantics (ranges, sets) would otherwise make a+b-b lose part of a.
type gen struct {
	rng *rand.Rand
	// flagSafe limits output to what the --resources text syntax can
	// express (static reservations only, no allocation).
	flagSafe bool
}

var genRoles = []string{"", "", "ads", "eng", "eng/backend"}

func (g gen) resource(universe int) Resource {
	var r Resource
	switch g.rng.IntN(6) {
	case 0, 1, 2, 3:
		name := []string{"cpus", "mem", "disk", "gpus"}[g.rng.IntN(4)]
		r = ScalarResource(name, 0)
		s := ScalarFromMilli(1 + g.rng.Int64N(100000))
		r.Scalar = &s
	case 4:
		base := uint64(universe) * 10000
		var rs Ranges
		for range 1 + g.rng.IntN(3) {
			b := base + g.rng.Uint64N(9000)
			rs = append(rs, Range{b, b + g.rng.Uint64N(500)})
		}
		r = RangesResource("ports", rs...)
	default:
		var items []string
		for _, it := range []string{"a", "b", "c", "d"} {
			if g.rng.IntN(2) == 0 {
				items = append(items, it+strings.Repeat("x", universe))
			}
		}
		if len(items) == 0 {
			items = []string{"z" + strings.Repeat("x", universe)}
		}
		r = SetResource("disks", items...)
	}
	if role := genRoles[g.rng.IntN(len(genRoles))]; role != "" {
		r = r.Reserve(role)
		if !g.flagSafe && g.rng.IntN(3) == 0 {
			r.Reservations[0].Type = ReservationDynamic
			r.Reservations[0].Principal = "ops"
		}
	}
	if !g.flagSafe && g.rng.IntN(4) == 0 {
		r.AllocationInfo = &AllocationInfo{Role: "eng"}
	}
	return r
}

func (g gen) resources(universe int) Resources {
	var rs Resources
	for range g.rng.IntN(6) {
		rs = append(rs, g.resource(universe))
	}
	return rs
}

const propertyRuns = 3000

func TestResourcesProperties(t *testing.T) {
	g := gen{rng: rand.New(rand.NewPCG(7, 11))}
	for i := range propertyRuns {
		a, b := g.resources(0), g.resources(1)
		sum := a.Add(b...)
		if got := sum.Subtract(b...); !got.Equal(a) {
			t.Fatalf("#%d (a+b)-b != a\na=%v\nb=%v\ngot=%v", i, a, b, got)
		}
		if !sum.Contains(a) || !sum.Contains(b) {
			t.Fatalf("#%d a+b must contain a and b\na=%v\nb=%v\nsum=%v", i, a, b, sum)
		}
		if !sum.Equal(b.Add(a...)) {
			t.Fatalf("#%d a+b != b+a\na=%v\nb=%v", i, a, b)
		}
		// Overlapping values too: arbitrary a and c from the same universe.
		c := g.resources(0)
		diff := a.Subtract(c...)
		for _, r := range diff {
			if err := r.Validate(); err != nil || r.IsEmpty() {
				t.Fatalf("#%d a-c has an invalid or empty entry %v: %v\na=%v\nc=%v", i, r, err, a, c)
			}
			if r.Scalar != nil && r.Scalar.Sign() < 0 {
				t.Fatalf("#%d a-c went negative: %v", i, diff)
			}
		}
		if !a.Contains(diff) {
			t.Fatalf("#%d a must contain a-c\na=%v\nc=%v\ndiff=%v", i, a, c, diff)
		}
		if !a.Contains(a) || !a.Equal(a.Normalize()) || !slices.EqualFunc(a.Normalize(), a.Normalize().Normalize(), func(x, y Resource) bool { return x.String() == y.String() }) {
			t.Fatalf("#%d normalization is not stable: %v", i, a)
		}
	}
}

func TestResourcesStringParsesBack(t *testing.T) {
	g := gen{rng: rand.New(rand.NewPCG(3, 5)), flagSafe: true}
	for i := range propertyRuns {
		rs := g.resources(i % 2)
		text := rs.Normalize().String()
		back, err := ParseResources(text, "")
		if err != nil {
			t.Fatalf("#%d ParseResources(%q): %v", i, text, err)
		}
		if !back.Equal(rs) {
			t.Fatalf("#%d parse(String(r)) != r\nr=%v\ntext=%q\nback=%v", i, rs, text, back)
		}
	}
}

func TestResourcesJSONRoundTrip(t *testing.T) {
	g := gen{rng: rand.New(rand.NewPCG(13, 17))}
	for i := range 500 {
		rs := g.resources(0).Normalize()
		data, err := json.Marshal(rs)
		if err != nil {
			t.Fatal(err)
		}
		var back Resources
		if err := DecodeJSON(data, &back); err != nil {
			t.Fatalf("#%d decode %s: %v", i, data, err)
		}
		if !back.Equal(rs) {
			t.Fatalf("#%d JSON round trip changed %v into %v", i, rs, back)
		}
	}
}

func TestScalarResourcesDoNotDrift(t *testing.T) {
	var rs Resources
	tenth := ScalarResource("cpus", 0.1)
	for range 10000 {
		rs = rs.Add(tenth)
	}
	if got := rs.Cpus(); got.Cmp(ScalarOf(1000)) != 0 {
		t.Fatalf("cpus = %s, want exactly 1000", got)
	}
	if got := rs.String(); got != "cpus:1000" {
		t.Fatalf("String = %q", got)
	}
}

func TestResourcesArithmeticExamples(t *testing.T) {
	total := MustParseResources("cpus:4;mem:2048;ports:[31000-32000];cpus(ads):2;disks:{a,b}")
	task := MustParseResources("cpus:1.5;mem:512;ports:[31000-31001];disks:{a}")
	left := total.Subtract(task...)
	if got, want := left.String(), "cpus:2.5;mem:1536;ports:[31002-32000];cpus(ads):2;disks:{b}"; got != want {
		t.Fatalf("total - task = %q, want %q", got, want)
	}
	if !total.Contains(task) || left.Contains(task) {
		t.Fatal("Contains is wrong")
	}
	// Reserved cpus do not satisfy an unreserved request.
	if total.Contains(MustParseResources("cpus:5")) {
		t.Fatal("4 unreserved cpus must not contain 5")
	}
	if !total.Contains(MustParseResources("cpus:4;cpus(ads):2")) {
		t.Fatal("missing reserved cpus")
	}
	// Subtracting more than there is removes the entry rather than going negative.
	if got := total.Subtract(MustParseResources("mem:4096")...); got.Mem().Sign() != 0 || len(got.Named("mem")) != 0 {
		t.Fatalf("over-subtraction left %v", got)
	}
	// An invalid request is never contained.
	neg := ScalarResource("cpus", -1)
	if total.Contains(Resources{neg}) {
		t.Fatal("cpus:-1 must not be contained")
	}
	if got := total.Add(neg); !got.Equal(total) {
		t.Fatalf("adding an invalid resource must be a no-op, got %v", got)
	}
	if got := total.Scalar("cpus"); got.Cmp(ScalarOf(6)) != 0 {
		t.Fatalf("Scalar(cpus) = %s, want 6", got)
	}
	if got := total.Ports(); !got.Equal(Ranges{{31000, 32000}}) {
		t.Fatalf("Ports = %v", got)
	}
	if q := total.Quantities(); q["cpus"].Cmp(ScalarOf(6)) != 0 || q["ports"].Cmp(ScalarOf(1001)) != 0 || q["disks"].Cmp(ScalarOf(2)) != 0 {
		t.Fatalf("Quantities = %v", q)
	}
}

func TestReservationsAndRoles(t *testing.T) {
	rs := MustParseResources("cpus:8;cpus(eng):4;cpus(eng/backend):2;cpus(ads):1;mem(eng):100")
	for _, tc := range []struct {
		role string
		want string
	}{
		{"eng", "cpus:8;cpus(eng):4;mem(eng):100"},
		{"eng/backend", "cpus:8;cpus(eng):4;cpus(eng/backend):2;mem(eng):100"},
		{"eng/backend/api", "cpus:8;cpus(eng):4;cpus(eng/backend):2;mem(eng):100"},
		{"engineering", "cpus:8"},
		{"ads", "cpus:8;cpus(ads):1"},
		{"*", "cpus:8"},
	} {
		if got := rs.AllocatableTo(tc.role).String(); got != tc.want {
			t.Errorf("AllocatableTo(%q) = %q, want %q", tc.role, got, tc.want)
		}
	}
	if got := rs.ReservedFor("eng").String(); got != "cpus(eng):4;mem(eng):100" {
		t.Errorf("ReservedFor(eng) = %q", got)
	}
	if got := rs.ReservedToSubtree("eng").String(); got != "cpus(eng):4;cpus(eng/backend):2;mem(eng):100" {
		t.Errorf("ReservedToSubtree(eng) = %q", got)
	}
	if got := rs.Unreserved().String(); got != "cpus:8" {
		t.Errorf("Unreserved = %q", got)
	}
	if got := rs.ToUnreserved().String(); got != "cpus:15;mem:100" {
		t.Errorf("ToUnreserved = %q", got)
	}
	if got := rs.Allocate("eng").Flatten().String(); got != "cpus:15;mem:100" {
		t.Errorf("Flatten = %q", got)
	}
	if got := rs.Reservations(); len(got) != 3 || got["eng"].String() != "cpus(eng):4;mem(eng):100" {
		t.Errorf("Reservations = %v", got)
	}
	alloc := rs.Allocate("eng")
	if a := alloc.Allocations(); len(a) != 1 || !a["eng"].Unallocate().Equal(rs) {
		t.Errorf("Allocations = %v", a)
	}
	// Allocated and unallocated resources are different shapes.
	if alloc.Contains(rs) || rs.Contains(alloc) {
		t.Error("allocation must be part of a resource's identity")
	}
	// RESERVE pushes a refinement; UNRESERVE pops it.
	dyn := ReservationInfo{Type: ReservationDynamic, Role: "eng/backend", Principal: "ops"}
	refined := MustParseResources("cpus(eng):2").PushReservation(dyn)
	if err := refined.Validate(); err != nil {
		t.Fatalf("refined reservation invalid: %v", err)
	}
	if refined[0].ReservationRole() != "eng/backend" || !refined[0].IsDynamicallyReserved() {
		t.Fatalf("refined = %+v", refined[0])
	}
	if got := refined.PopReservation(); !got.Equal(MustParseResources("cpus(eng):2")) {
		t.Fatalf("PopReservation = %v", got)
	}
}

func TestPreRefinementInputIsUnderstood(t *testing.T) {
	var old Resources
	err := json.Unmarshal([]byte(`[
	  {"name": "cpus", "type": "SCALAR", "scalar": {"value": 2}, "role": "*"},
	  {"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}, "role": "ads"},
	  {"name": "mem", "type": "SCALAR", "scalar": {"value": 64}, "role": "ads",
	   "reservation": {"principal": "ops", "labels": {"labels": [{"key": "k", "value": "v"}]}}}
	]`), &old)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Validate(); err != nil {
		t.Fatal(err)
	}
	norm := old.Normalize()
	want := MustParseResources("cpus:2;cpus(ads):1").Add(Resource{
		Name: "mem", Type: ValueScalar, Scalar: ptr(ScalarOf(64)),
		Reservations: []ReservationInfo{{Type: ReservationDynamic, Role: "ads", Principal: "ops", Labels: Labels{{Key: "k", Value: "v"}}}},
	})
	if !norm.Equal(want) || !old.Equal(want) {
		t.Fatalf("normalized %v, want %v", norm, want)
	}
	if norm[2].Role != "" || norm[2].Reservation != nil {
		t.Fatalf("normalized output must be post-refinement: %+v", norm[2])
	}
}

func ptr[T any](v T) *T { return &v }

func TestVolumesAndSharedResources(t *testing.T) {
	vol := func(id string) Resource {
		r := ScalarResource("disk", 100).Reserve("db")
		r.Disk = &DiskInfo{Persistence: &DiskPersistence{ID: id}, Volume: &Volume{Mode: VolumeRW, ContainerPath: "data"}}
		return r
	}
	a, b := vol("a"), vol("b")
	rs := Resources{a, b}.Normalize()
	if len(rs) != 2 {
		t.Fatalf("distinct volumes must not merge: %v", rs)
	}
	twice := Resources{a}.Add(a)
	if len(twice) != 2 {
		t.Fatalf("the same non-shared volume added twice stays two entries: %v", twice)
	}
	half := a
	half.Scalar = ptr(ScalarOf(50))
	if rs.Contains(Resources{half}) {
		t.Fatal("part of a persistent volume must not be contained")
	}
	if got := rs.Subtract(Resources{half}...); !got.Equal(rs) {
		t.Fatalf("subtracting part of a volume must be a no-op, got %v", got)
	}
	if got := rs.Subtract(Resources{a}...); !got.Equal(Resources{b}) {
		t.Fatalf("rs - a = %v", got)
	}
	shared := a
	shared.Shared = &SharedInfo{}
	if err := shared.Validate(); err != nil {
		t.Fatal(err)
	}
	two := Resources{shared, shared}.Normalize()
	if len(two) != 2 || !two.Contains(Resources{shared, shared}) || two.Contains(Resources{shared, shared, shared}) {
		t.Fatalf("shared resources are counted copies: %v", two)
	}
	if got := two.Subtract(Resources{shared}...); len(got) != 1 {
		t.Fatalf("two shared copies minus one = %v", got)
	}
}

func TestResourceValidation(t *testing.T) {
	s := func(v float64) *Scalar { return ptr(ScalarOf(v)) }
	for _, tc := range []struct {
		name string
		r    Resource
		want string
	}{
		{"negative", Resource{Name: "cpus", Type: ValueScalar, Scalar: s(-1)}, "scalar.value: negative value -1"},
		{"nan", Resource{Name: "cpus", Type: ValueScalar, Scalar: ptr(ScalarOf(nan()))}, "scalar.value: NaN is not a quantity"},
		{"inf", Resource{Name: "cpus", Type: ValueScalar, Scalar: ptr(Infinity())}, "scalar.value: Infinity is not a quantity"},
		{"empty name", Resource{Type: ValueScalar, Scalar: s(1)}, "name: resource name is empty"},
		{"no type", Resource{Name: "cpus", Scalar: s(1)}, "type: required field is missing"},
		{"unknown type", Resource{Name: "cpus", Type: "FLOAT"}, `type: unknown value "FLOAT"`},
		{"text", Resource{Name: "os", Type: ValueText}, "type: TEXT is not a resource type"},
		{"no scalar", Resource{Name: "cpus", Type: ValueScalar}, "scalar: SCALAR resource has no scalar"},
		{"scalar and set", Resource{Name: "cpus", Type: ValueScalar, Scalar: s(1), Set: Set{"a"}}, "set: set on a SCALAR resource"},
		{"overlap", Resource{Name: "ports", Type: ValueRanges, Ranges: Ranges{{1, 10}, {5, 6}}}, "ranges.range[1]: range 5-6 overlaps range 1-10"},
		{"inverted", Resource{Name: "ports", Type: ValueRanges, Ranges: Ranges{{10, 1}}}, "ranges.range[0]: begin 10 is greater than end 1"},
		{"dup items", Resource{Name: "disks", Type: ValueSet, Set: Set{"a", "a"}}, `set.item[1]: item "a" duplicates item 0`},
		{"bad role", Resource{Name: "cpus", Type: ValueScalar, Scalar: s(1), Role: "a//b"}, `role: role "a//b" cannot contain two adjacent slashes`},
		{"star reserved", Resource{Name: "cpus", Type: ValueScalar, Scalar: s(1), Reservations: []ReservationInfo{{Type: ReservationStatic, Role: "*"}}}, `reservations[0].role: role "*" cannot be reserved`},
		{"bad refinement", Resource{Name: "cpus", Type: ValueScalar, Scalar: s(1), Reservations: []ReservationInfo{{Type: ReservationStatic, Role: "a"}, {Type: ReservationDynamic, Role: "b"}}}, `reservations[1].role: "b" is not a refinement of "a"`},
		{"static refinement", Resource{Name: "cpus", Type: ValueScalar, Scalar: s(1), Reservations: []ReservationInfo{{Type: ReservationStatic, Role: "a"}, {Type: ReservationStatic, Role: "a/b"}}}, "reservations[1].type: a refined reservation cannot be STATIC"},
		{"dynamic star", Resource{Name: "cpus", Type: ValueScalar, Scalar: s(1), Role: "*", Reservation: &ReservationInfo{Principal: "p"}}, `reservation: role "*" cannot be dynamically reserved`},
		{"disk on cpus", Resource{Name: "cpus", Type: ValueScalar, Scalar: s(1), Disk: &DiskInfo{}}, `disk: disk info set on a "cpus" resource`},
		{"shared cpus", Resource{Name: "cpus", Type: ValueScalar, Scalar: s(1), Shared: &SharedInfo{}}, `shared: "cpus" resources cannot be shared`},
	} {
		err := tc.r.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
	if err := MustParseResources("cpus:1;ports:[1-2,3-4];disks:{a,b};mem(a/b):3").Validate(); err != nil {
		t.Errorf("valid resources: %v", err)
	}
}

func nan() float64 { var z float64; return z / z }

// The allocation-free validity check used by arithmetic must agree with
// Validate on valid resources and on every kind of breakage.
func TestFastValidityAgreesWithValidate(t *testing.T) {
	g := gen{rng: rand.New(rand.NewPCG(21, 22))}
	breakers := []func(*Resource){
		func(r *Resource) {},
		func(r *Resource) { r.Name = "" },
		func(r *Resource) { r.Type = "" },
		func(r *Resource) { r.Type = "BOGUS" },
		func(r *Resource) { r.Type = ValueText },
		func(r *Resource) { r.Scalar = ptr(ScalarOf(-1)) },
		func(r *Resource) { r.Scalar = ptr(ScalarOf(nan())) },
		func(r *Resource) { r.Scalar = ptr(Infinity()) },
		func(r *Resource) { r.Scalar = nil },
		func(r *Resource) { r.Ranges = append(Ranges{{9, 2}}, r.Ranges...) },
		func(r *Resource) { r.Ranges = Ranges{{1, 10}, {5, 20}} },
		func(r *Resource) { r.Ranges = Ranges{{5, 6}, {1, 4}} },
		func(r *Resource) { r.Set = Set{"a", "b", "a"} },
		func(r *Resource) { r.Set = Set{"b", "a"} },
		func(r *Resource) {
			r.Reservations = append(r.Reservations, ReservationInfo{Type: ReservationStatic, Role: "eng/backend/x"})
		},
		func(r *Resource) { r.Reservations = []ReservationInfo{{Type: ReservationDynamic, Role: "*"}} },
		func(r *Resource) { r.Reservations = []ReservationInfo{{Type: ReservationUnknown, Role: "a"}} },
		func(r *Resource) { r.Reservations = []ReservationInfo{{Role: "a"}} },
		func(r *Resource) { r.Reservations = []ReservationInfo{{Type: ReservationDynamic, Role: "a b"}} },
		func(r *Resource) {
			r.Reservations = []ReservationInfo{{Type: ReservationStatic, Role: "a"}, {Type: ReservationDynamic, Role: "a/b"}}
		},
		func(r *Resource) {
			r.Reservations = []ReservationInfo{{Type: ReservationStatic, Role: "a"}, {Type: ReservationDynamic, Role: "b"}}
		},
	}
	for i := range 4000 {
		r := g.resource(0).Clone()
		breakers[i%len(breakers)](&r)
		want := r.Validate() == nil
		if got := r.valid(); got != want {
			t.Fatalf("#%d valid() = %v but Validate() = %v for %+v", i, got, r.Validate(), r)
		}
	}
}
