// Package zoocfg reads Apache ZooKeeper's zoo.cfg, so that
// `strata coord serve --config zoo.cfg` stands in for
// `zkServer.sh start-foreground zoo.cfg` with the same file.
//
//	cfg, err := zoocfg.Load("/etc/zookeeper/conf/zoo.cfg") // or Parse(r)
//	// layer flags over cfg, then
//	err = cfg.Validate()
//	for _, w := range cfg.Warnings { log.Warn(w) }
//	log.Info("ignored zoo.cfg keys", "keys", cfg.IgnoredKeys())
//
// The file is java.util.Properties text, read as ZooKeeper 3.8's
// QuorumPeerConfig reads it: keys and values trimmed, the last of a repeated
// key wins, numbers in Java's syntax. Unlike ZooKeeper, a malformed number
// is an error naming the line and key rather than an exception or a silent
// default.
//
// Honoured keys:
//
//	dataDir, dataLogDir                     relative paths resolve against the working directory, as in ZooKeeper
//	clientPort, clientPortAddress
//	secureClientPort, secureClientPortAddress   the TLS client port; without clientPort it is the only port, and its
//	                                        address defaults to every interface, as in ZooKeeper
//	ssl.keyStore.location/.type, ssl.trustStore.location/.type, ssl.clientAuth   (also zookeeper.ssl.*): PEM stores
//	                                        only (a key store file holds key and chain); clientAuth none, want or
//	                                        need; JKS/PKCS#12 and ssl.keyStore.password are refused
//	tickTime, minSessionTimeout, maxSessionTimeout   milliseconds; -1 or absent = 2×/20× tickTime
//	maxClientCnxns                          per client IP; 0 = unlimited
//	4lw.commands.whitelist                  comma-separated, * = all; srvr is always allowed
//	autopurge.snapRetainCount               raised to 3 if lower, as ZooKeeper does
//	autopurge.purgeInterval                 hours (or a value with ms/s/m/h/d suffix); 0 = off
//	snapCount                               raised to 2 if lower, as ZooKeeper does
//	forceSync                               yes or no (anything else is an error here)
//	preAllocSize                            KB
//	jute.maxbuffer                          bytes; read from the file here (ZooKeeper reads it as a JVM property only)
//	globalOutstandingLimit
//	DigestAuthenticationProvider.superDigest (also with a zookeeper. prefix, as the JVM property is spelt)
//	enforce.auth.enabled, enforce.auth.schemes  ZooKeeper 3.7+'s enforcement (also with a zookeeper. prefix): true or
//	                                        false (anything else is an error here); schemes digest and/or ip (x509 with a
//	                                        secureClientPort), required when enabled
//	metricsProvider.className=…PrometheusMetricsProvider with metricsProvider.httpHost/httpPort → AdminAddress
//	strata.adminAddress                     our own: host:port for Prometheus /metrics
//
// Accepted and ignored (kept in Config.Unknown for the caller to log):
// initLimit, syncLimit, electionAlg, peerType, quorumListenOnAllIPs,
// standaloneEnabled, reconfigEnabled, localSessions*, admin.* (ZooKeeper's
// Jetty admin server; its /commands API is not served), serverCnxnFactory
// and the other ssl.* settings (protocols, ciphers, CRL/OCSP), other metricsProvider.*
// settings, a single server.N line (one server runs standalone, as ZooKeeper
// does with standaloneEnabled=true), and any other key, since ZooKeeper
// turns unknown keys into system properties without complaint.
//
// Refused: two or more server.N lines, or a dynamicConfigFile — that is an
// ensemble, and the embedded server is standalone only. The error says to
// run Apache ZooKeeper for an ensemble and point Strata at it with --zk.
package zoocfg
