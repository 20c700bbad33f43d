// Package cluster runs a whole Strata cluster in one process for `strata
// up`: an embedded coord server, a master and N agents (then marathon and
// chronos, as Components), all under one data dir and on loopback. The
// parts still talk over their real protocols (ZooKeeper wire, HTTP), so
// what works here works across hosts.
//
//	c, _ := cluster.New(cluster.Config{DataDir: ".strata", Agents: 2})
//	  lock <data-dir>/up.lock · token (0600, generated once) · cluster.json (ports)
//	  coord.Embed(<data-dir>/coord) · master.New(work dir <data-dir>) · agent.New × N
//	go c.Run(ctx)          // serve until ctx ends
//	c.WaitReady(ctx)       // master leads, every agent subscribed
//	c.Info()               // where everything listens, for the user
//	ctx ends → components, agents, their supervisors (tasks killed), master, coord
//
// A second run on the same data dir is the same cluster: the coord data
// (registry, frameworks' state) is kept, each agent finds its checkpoint
// and keeps its ID, and the ports of the previous run are reused when free.
package cluster
