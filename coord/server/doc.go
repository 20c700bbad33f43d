// Package server is the embedded ZooKeeper-wire-compatible coordination
// server behind `strata coord serve`.
//
// Its loop: connections decode jute frames (package jute) and hand requests
// to one processor goroutine, which turns writes into transactions, appends
// them to the transaction log (package storage, group-committed and fsynced),
// applies them to the pure data tree (package tree), and releases every
// response and watch event only once the log is durable up to the zxid the
// client could have observed. Reads never see a write that is not yet on disk.
package server
