package chronos

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/strata-dc/strata/chronos/core"
	"github.com/strata-dc/strata/chronos/job"
	"github.com/strata-dc/strata/coord"
)

// Coord layout under the --zk chroot (default <master chroot>/chronos).
// One node per object, so no node grows with the number of jobs or runs:
//
//	leader/json.info_N        election (ephemeral, leaderInfo)
//	framework-id              {"id": …}
//	jobs/<name>               {"job": <Chronos job JSON>, "since": …}
//	records/run/<run id>      {"run": core.Run}     one per run attempt
//	records/status/<name>     {"status": core.JobStatus}
//
// Run ids start with the job name followed by '@' (scheduled), '!'
// (manual, marked, dependent) — characters a job name cannot hold — so a
// job's records are found by prefix.
const (
	leaderGroup    = "leader"
	frameworkIDKey = "framework-id"
	jobsDir        = "jobs"
	recordsDir     = "records"
)

type frameworkRecord struct {
	ID string `json:"id"`
}

// storedJob is a job as persisted: Chronos' JSON plus Since, which the
// core needs to tell instants it must handle from those before the job
// (or its schedule) existed.
type storedJob struct {
	Job   *job.Job  `json:"job"`
	Since time.Time `json:"since"`
}

// loaded is everything a new leader reads from coord.
type loaded struct {
	frameworkID string
	jobs        []storedJob
	records     []core.Record
}

func recordPath(key string) string { return recordsDir + "/" + key }

// load reads the whole state.
func load(ctx context.Context, st *coord.Store) (*loaded, error) {
	l := &loaded{}
	fw, _, err := coord.Get[frameworkRecord](ctx, st, frameworkIDKey)
	if err != nil && !errors.Is(err, coord.ErrNotFound) {
		return nil, fmt.Errorf("load framework id: %w", err)
	}
	l.frameworkID = fw.ID
	jobs, err := coord.List[storedJob](ctx, st, jobsDir)
	if err != nil {
		return nil, fmt.Errorf("load jobs: %w", err)
	}
	for _, it := range jobs {
		if it.Value.Job == nil {
			return nil, fmt.Errorf("load job %s: empty node", it.Name)
		}
		l.jobs = append(l.jobs, it.Value)
	}
	for _, kind := range []string{"run", "status"} {
		recs, err := coord.List[core.Record](ctx, st, recordsDir+"/"+kind)
		if err != nil {
			return nil, fmt.Errorf("load %s records: %w", kind, err)
		}
		for _, it := range recs {
			if it.Value.Key() != kind+"/"+it.Name {
				return nil, fmt.Errorf("load record %s/%s: holds %q", kind, it.Name, it.Value.Key())
			}
			l.records = append(l.records, it.Value)
		}
	}
	return l, nil
}

// jobRecordKeys lists the record keys that belong to job name among known.
func jobRecordKeys(known map[string]bool, name string) []string {
	var out []string
	for k := range known {
		if recordJob(k) == name {
			out = append(out, k)
		}
	}
	return out
}

// commitChunk bounds the ops of one multi, well inside ZooKeeper's
// request limit.
const commitChunk = 100

// persist writes a decision's records and deletes what it names, fenced
// by the term, in as few multis as the size allows (normally one: a
// decision carries one or two records). known tracks which record nodes
// exist so each write is a create or an update.
func persist(ctx context.Context, st *coord.Store, known map[string]bool, writes []core.Record, deletes []string) error {
	var ops []coord.Op
	created := map[string]bool{}
	for _, rec := range writes {
		key := rec.Key()
		if key == "" {
			return errors.New("persist: a record with neither run nor status")
		}
		ver := coord.Any
		if !known[key] && !created[key] {
			ver = coord.Absent
			created[key] = true
		}
		ops = append(ops, coord.SetOp(recordPath(key), rec, ver))
	}
	var deleted []string
	for _, key := range deletes {
		if known[key] || created[key] {
			ops = append(ops, coord.DeleteOp(recordPath(key), coord.Any))
			deleted = append(deleted, key)
		}
	}
	for len(ops) > 0 {
		n := min(len(ops), commitChunk)
		if _, err := st.Commit(ctx, ops[:n]...); err != nil {
			return fmt.Errorf("persist %d records: %w", len(writes), err)
		}
		ops = ops[n:]
	}
	for k := range created {
		known[k] = true
	}
	for _, k := range deleted {
		delete(known, k)
	}
	return nil
}
