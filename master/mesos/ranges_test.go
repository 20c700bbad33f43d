package mesos

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestRangesNormalize(t *testing.T) {
	got := Ranges{{5, 9}, {1, 2}, {3, 4}, {20, 30}, {25, 26}, {8, 1}}.Normalize()
	want := Ranges{{1, 9}, {20, 30}}
	if !slices.Equal(got, want) {
		t.Fatalf("Normalize = %v, want %v", got, want)
	}
	edge := Ranges{{math.MaxUint64 - 1, math.MaxUint64}, {math.MaxUint64, math.MaxUint64}, {0, 0}}.Normalize()
	if !slices.Equal(edge, Ranges{{0, 0}, {math.MaxUint64 - 1, math.MaxUint64}}) {
		t.Fatalf("Normalize at the edges = %v", edge)
	}
}

func TestRangesArithmetic(t *testing.T) {
	ports := Ranges{{31000, 32000}}
	used := Ranges{{31000, 31000}, {31500, 31600}, {32000, 32000}}
	left := ports.Subtract(used)
	if want := (Ranges{{31001, 31499}, {31601, 31999}}); !slices.Equal(left, want) {
		t.Fatalf("Subtract = %v, want %v", left, want)
	}
	if !ports.Contains(used) || left.Contains(used) || !ports.Contains(left) {
		t.Fatalf("Contains is wrong")
	}
	if got := left.Add(used); !got.Equal(ports) {
		t.Fatalf("Add back = %v, want %v", got, ports)
	}
	if ports.Size() != 1001 || left.Size() != 1001-103 {
		t.Fatalf("Size = %d, %d", ports.Size(), left.Size())
	}
	if !ports.Intersects(Ranges{{32000, 40000}}) || ports.Intersects(Ranges{{1, 30999}}) {
		t.Fatalf("Intersects is wrong")
	}
	full := Ranges{{0, math.MaxUint64}}
	if full.Size() != math.MaxUint64 {
		t.Fatalf("full Size = %d", full.Size())
	}
	if got := full.Subtract(Ranges{{0, 0}, {math.MaxUint64, math.MaxUint64}}); !slices.Equal(got, Ranges{{1, math.MaxUint64 - 1}}) {
		t.Fatalf("full minus ends = %v", got)
	}
	if got := (Ranges{{1, 5}}).Subtract(Ranges{{0, 10}}); len(got) != 0 {
		t.Fatalf("subtract everything = %v", got)
	}
	if s := (Ranges{{1, 2}, {5, 9}}).String(); s != "[1-2,5-9]" {
		t.Fatalf("String = %q", s)
	}
}

// The set operations agree with a bitmap model on a small domain.
func TestRangesAgainstBitmapModel(t *testing.T) {
	const domain = 64
	rng := rand.New(rand.NewPCG(1, 2))
	random := func() (Ranges, uint64) {
		var rs Ranges
		var bits uint64
		for range rng.IntN(5) {
			b := rng.Uint64N(domain)
			e := b + rng.Uint64N(domain-b)
			rs = append(rs, Range{b, e})
			for i := b; i <= e; i++ {
				bits |= 1 << i
			}
		}
		return rs, bits
	}
	toBits := func(rs Ranges) uint64 {
		var bits uint64
		for _, r := range rs {
			for i := r.Begin; i <= r.End; i++ {
				bits |= 1 << i
			}
		}
		return bits
	}
	for i := range 5000 {
		a, ab := random()
		b, bb := random()
		if got := toBits(a.Add(b)); got != ab|bb {
			t.Fatalf("#%d %v + %v: got %x want %x", i, a, b, got, ab|bb)
		}
		if got := toBits(a.Subtract(b)); got != ab&^bb {
			t.Fatalf("#%d %v - %v: got %x want %x", i, a, b, got, ab&^bb)
		}
		if got, want := a.Contains(b), bb&^ab == 0; got != want {
			t.Fatalf("#%d %v contains %v: got %v want %v", i, a, b, got, want)
		}
		if got, want := a.Intersects(b), ab&bb != 0; got != want {
			t.Fatalf("#%d %v intersects %v: got %v want %v", i, a, b, got, want)
		}
		if !a.Add(b).isNormalized() || !a.Subtract(b).isNormalized() {
			t.Fatalf("#%d results must be normalized", i)
		}
	}
}

func TestRangesValidation(t *testing.T) {
	var errs FieldErrors
	Ranges{{5, 1}, {10, 20}, {15, 30}, {21, 22}}.checkRanges("ranges", &errs)
	want := []string{
		"ranges.range[0]: begin 5 is greater than end 1",
		"ranges.range[2]: range 15-30 overlaps range 10-20",
		"ranges.range[3]: range 21-22 overlaps range 15-30",
	}
	if !slices.Equal(errs.Details(), want) {
		t.Fatalf("errors:\n%q\nwant\n%q", errs.Details(), want)
	}
}
