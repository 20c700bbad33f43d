package coord

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/go-zookeeper/zk"
)

type app struct {
	ID        string            `json:"id"`
	Instances int               `json:"instances"`
	Labels    map[string]string `json:"labels,omitempty"`
}

func TestIntegration_Store(t *testing.T) {
	forEachServer(t, func(t *testing.T, addr string) {
		ctx := context.Background()

		t.Run("GetPutCAS", func(t *testing.T) {
			s := dial(t, []string{addr}, uniqueChroot(t))
			st := s.Store()
			_, ver, err := Get[app](ctx, st, "marathon/apps/web")
			if !errors.Is(err, ErrNotFound) || ver != Absent {
				t.Fatalf("Get of a missing value = %v, %v; want ErrNotFound, Absent", ver, err)
			}
			// CAS from Absent creates (and makes the parent directories).
			v0, err := st.CAS(ctx, "marathon/apps/web", app{ID: "/web", Instances: 1}, ver)
			if err != nil || v0 != 0 {
				t.Fatalf("CAS create = %v, %v; want version 0", v0, err)
			}
			got, ver, err := Get[app](ctx, st, "marathon/apps/web")
			if err != nil || ver != 0 || !reflect.DeepEqual(got, app{ID: "/web", Instances: 1}) {
				t.Fatalf("Get = %+v, %v, %v", got, ver, err)
			}
			// A second create loses.
			if _, err := st.CAS(ctx, "marathon/apps/web", app{ID: "/web"}, Absent); !errors.Is(err, ErrVersionConflict) {
				t.Fatalf("CAS Absent on an existing value = %v, want ErrVersionConflict", err)
			}
			v1, err := st.CAS(ctx, "marathon/apps/web", app{ID: "/web", Instances: 3}, ver)
			if err != nil || v1 != 1 {
				t.Fatalf("CAS at the read version = %v, %v; want version 1", v1, err)
			}
			// The stale version loses, and nothing changes.
			_, err = st.CAS(ctx, "marathon/apps/web", app{ID: "/web", Instances: 99}, ver)
			var opErr *OpError
			if !errors.Is(err, ErrVersionConflict) || !errors.As(err, &opErr) || opErr.Path != "marathon/apps/web" {
				t.Fatalf("stale CAS = %v, want an OpError with ErrVersionConflict", err)
			}
			if got, _, _ := Get[app](ctx, st, "marathon/apps/web"); got.Instances != 3 {
				t.Fatalf("after a failed CAS the value is %+v", got)
			}
			// CAS on a value that is gone.
			if _, err := st.CAS(ctx, "marathon/apps/gone", app{}, 4); !errors.Is(err, ErrNotFound) {
				t.Fatalf("CAS of a missing value at a version = %v, want ErrNotFound", err)
			}
			// Put creates or overwrites.
			if v, err := st.Put(ctx, "marathon/apps/web", app{ID: "/web", Instances: 5}); err != nil || v != 2 {
				t.Fatalf("Put over = %v, %v; want version 2", v, err)
			}
			if v, err := st.Put(ctx, "chronos/jobs/nightly", map[string]string{"schedule": "R/2026-01-01T00:00:00Z/P1D"}); err != nil || v != 0 {
				t.Fatalf("Put new = %v, %v; want version 0", v, err)
			}
			// A value of the wrong shape is an error, not a zero value.
			if _, _, err := Get[int](ctx, st, "marathon/apps/web"); err == nil || !strings.Contains(err.Error(), "decode") {
				t.Fatalf("Get[int] of an object = %v, want a decode error", err)
			}
		})

		t.Run("DeleteAndList", func(t *testing.T) {
			s := dial(t, []string{addr}, uniqueChroot(t))
			st := s.Store()
			if items, err := List[app](ctx, st, "apps"); err != nil || len(items) != 0 {
				t.Fatalf("List of a missing directory = %v, %v; want none", items, err)
			}
			for _, id := range []string{"c", "a", "b"} {
				if _, err := st.Put(ctx, "apps/"+id, app{ID: id}); err != nil {
					t.Fatal(err)
				}
			}
			names, err := st.Children(ctx, "apps")
			if err != nil || !reflect.DeepEqual(names, []string{"a", "b", "c"}) {
				t.Fatalf("Children = %v, %v", names, err)
			}
			items, err := List[app](ctx, st, "apps")
			if err != nil || len(items) != 3 || items[0].Name != "a" || items[2].Value.ID != "c" || items[1].Version != 0 {
				t.Fatalf("List = %+v, %v", items, err)
			}
			if err := st.Delete(ctx, "apps/a", 7); !errors.Is(err, ErrVersionConflict) {
				t.Fatalf("Delete at a wrong version = %v, want ErrVersionConflict", err)
			}
			if err := st.Delete(ctx, "apps/a", 0); err != nil {
				t.Fatal(err)
			}
			if err := st.Delete(ctx, "apps/b", Any); err != nil {
				t.Fatal(err)
			}
			if err := st.Delete(ctx, "apps/b", Any); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Delete of a missing value = %v, want ErrNotFound", err)
			}
			if err := st.Delete(ctx, "apps", Any); !errors.Is(err, zk.ErrNotEmpty) {
				t.Fatalf("Delete of a non-empty directory = %v, want NotEmpty", err)
			}
			if names, _ := st.Children(ctx, "apps"); !reflect.DeepEqual(names, []string{"c"}) {
				t.Fatalf("Children after deletes = %v", names)
			}
		})

		t.Run("CommitIsAtomic", func(t *testing.T) {
			s := dial(t, []string{addr}, uniqueChroot(t))
			st := s.Store()
			if _, err := st.Put(ctx, "deploy/current", "v1"); err != nil {
				t.Fatal(err)
			}
			// The third op fails, so neither the create nor the set happens.
			_, err := st.Commit(ctx,
				SetOp("deploy/history/v2", "v2", Absent),
				SetOp("deploy/current", "v2", 0),
				CheckOp("deploy/lock", Any),
			)
			var opErr *OpError
			if !errors.As(err, &opErr) || opErr.Index != 2 || opErr.Op != "check" || !errors.Is(err, ErrNotFound) {
				t.Fatalf("Commit with a failing check = %v, want OpError at op 2 (check) with ErrNotFound", err)
			}
			if cur, ver, _ := Get[string](ctx, st, "deploy/current"); cur != "v1" || ver != 0 {
				t.Fatalf("after a failed Commit current = %q@%d, want v1@0", cur, ver)
			}
			if _, _, err := Get[string](ctx, st, "deploy/history/v2"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("after a failed Commit the create happened: %v", err)
			}
			// All succeed together.
			if _, err := st.Put(ctx, "deploy/lock", "held"); err != nil {
				t.Fatal(err)
			}
			vs, err := st.Commit(ctx,
				SetOp("deploy/history/v2", "v2", Absent),
				SetOp("deploy/current", "v2", 0),
				CheckOp("deploy/lock", 0),
				DeleteOp("deploy/lock", 0),
			)
			if err != nil || !reflect.DeepEqual(vs, []Version{0, 1, 0, Absent}) {
				t.Fatalf("Commit = %v, %v; want versions [0 1 0 Absent]", vs, err)
			}
			if cur, ver, _ := Get[string](ctx, st, "deploy/current"); cur != "v2" || ver != 1 {
				t.Fatalf("after Commit current = %q@%d, want v2@1", cur, ver)
			}
			// A conflict names its op.
			_, err = st.Commit(ctx, SetOp("deploy/current", "v3", 1), SetOp("deploy/history/v2", "again", Absent))
			if !errors.As(err, &opErr) || opErr.Index != 1 || !errors.Is(err, ErrVersionConflict) {
				t.Fatalf("Commit re-creating = %v, want OpError at op 1 with ErrVersionConflict", err)
			}
		})

		t.Run("TooLarge", func(t *testing.T) {
			s := dial(t, []string{addr}, uniqueChroot(t))
			st := s.Store()
			before := s.Status()
			big := strings.Repeat("x", MaxValueSize) // encodes to MaxValueSize+2 bytes
			_, err := st.Put(ctx, "big", big)
			if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "one object per node") {
				t.Fatalf("Put of %d bytes = %v, want ErrTooLarge naming the limit", len(big), err)
			}
			// Two values under the limit whose sum is over it.
			half := strings.Repeat("y", MaxValueSize*2/3)
			_, err = st.Commit(ctx, SetOp("h1", half, Absent), SetOp("h2", half, Absent))
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Commit of 2×%d bytes = %v, want ErrTooLarge", len(half), err)
			}
			// Nothing was sent: the connection and session are untouched, and
			// a value just under the limit goes through.
			justUnder := strings.Repeat("z", MaxValueSize-2)
			if _, err := st.Put(ctx, "big", justUnder); err != nil {
				t.Fatalf("Put of %d bytes: %v", MaxValueSize, err)
			}
			if after := s.Status(); after.SessionID != before.SessionID || after.State != Connected {
				t.Fatalf("session changed from %+v to %+v", before, after)
			}
			if got, _, err := Get[string](ctx, st, "big"); err != nil || len(got) != len(justUnder) {
				t.Fatalf("Get big = %d bytes, %v", len(got), err)
			}
		})

		t.Run("BadInput", func(t *testing.T) {
			s := dial(t, []string{addr}, uniqueChroot(t))
			st := s.Store()
			if _, err := st.Put(ctx, "a//b", 1); err == nil || !strings.Contains(err.Error(), "empty path segment") {
				t.Fatalf("Put a//b = %v", err)
			}
			if _, err := st.Put(ctx, "f", func() {}); err == nil || !strings.Contains(err.Error(), "encode") {
				t.Fatalf("Put of a func = %v", err)
			}
			if _, err := st.Commit(ctx, CheckOp("f", Absent)); err == nil {
				t.Fatal("CheckOp(Absent) accepted")
			}
		})
	})
}
