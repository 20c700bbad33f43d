// Package chronos is the bundled framework for scheduled and dependent
// batch jobs, behind Chronos' REST API. Built by the chronos issue.
package chronos
