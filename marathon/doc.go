// Package marathon is the bundled framework for long-running services,
// behind Marathon's v2 REST API. Built by the marathon issue.
package marathon
