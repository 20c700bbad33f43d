// Package master is the Mesos-style master: resource offers, hierarchical
// DRF, the scheduler and operator APIs and high availability. Its protocol
// sub-package is the contract every other component speaks. Built by the
// master issue.
package master
