// Package server is the embedded ZooKeeper-wire-compatible coordination
// server behind `strata coord serve`.
//
// Its loop: connections decode jute frames (package jute) and hand requests
// to one processor goroutine, which turns writes into transactions, appends
// them to the transaction log (package storage, group-committed and fsynced),
// applies them to the pure data tree (package tree), and releases every
// response and watch event only once the log is durable up to the zxid the
// client could have observed. Reads never see a write that is not yet on disk.
//
// Authentication is ZooKeeper's: addAuth("digest", "user:password") adds the
// digest identity to the connection and znode ACLs decide what it may do.
// With Config.EnforceAuth (zookeeper.enforce.auth.enabled) a connection that
// has no identity of an enforced scheme gets SESSIONCLOSEDREQUIRESASLAUTH
// (-124) for any request but addAuth and sasl, and is closed, as
// ZooKeeper 3.7+ does; Config.CheckDigest restricts which digest users may
// authenticate at all. Four-letter words are answered before any session
// exists and need no authentication, as in ZooKeeper; Config.FourLetterWords
// limits them.
//
// TLS is ZooKeeper's secureClientPort (tls.go): Config.SecureClientAddress
// serves the same protocol inside TLS, beside the plaintext port or alone;
// Config.TLS.ClientAuth is ssl.clientAuth, and a verified client
// certificate gives the connection the identity x509:<subject DN>.
package server
