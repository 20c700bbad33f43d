// Package job is Chronos' job model: the job JSON as Chronos reads and
// writes it, its validation (errors name the field, so the API can answer
// 400 with them) and the dependency graph between jobs. It is pure: no I/O,
// time is passed in.
//
//	j, err := job.Decode(body)                 // lenient like Chronos, errors name the field
//	j.ApplyDefaults(job.Defaults{CPUs: 0.1, Mem: 128, Disk: 256, Epsilon: "PT60S"})
//	err = j.Validate(job.Scheduled, now)       // POST /iso8601; job.Dependent for /dependency
//	err = graph.Put(j)                         // parents must exist, cycles are refused
//	out, _ := json.Marshal(j)                  // Chronos' field names and order
//
// Decoding follows Chronos' JobDeserializer: unknown fields (async, dataJob,
// …) are ignored and listed by IgnoredFields; null means absent; numbers and
// booleans written as strings ("cpus": "0.5", as Chronos' own docs do) are
// read; shell defaults to true, retries to 2, and cpus/mem/disk of 0 or
// absent take the daemon's defaults. Unlike Chronos, a value of the wrong
// type is an error naming the field rather than a silent zero.
//
// Scheduled and dependent jobs: a job has a schedule or parents, never both
// (Chronos silently preferred parents). POST /iso8601 wants a schedule, POST
// /dependency wants parents. Chronos turned a job with neither into a
// run-once-now job; here that is an error asking for "R1//PT24H", which
// means the same thing explicitly.
//
// Parse pins an empty ISO start to the time of the request (as Chronos
// effectively did), so the stored schedule keeps its meaning across restarts.
//
// The read-only counters (successCount, errorCount, lastSuccess, lastError,
// errorsSinceLastSuccess) are decoded and printed so that Chronos' JSON
// round-trips, but the daemon owns them: it overwrites what a client sends
// with its run history.
package job
