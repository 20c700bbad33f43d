// Package master is the Mesos-style master daemon: it contends for
// leadership in coord, and while it leads it runs the state machine
// (package state) that makes resource offers with the DRF allocator and
// serves the scheduler, agent and operator APIs. Its protocol
// sub-package, mesos, is the contract every other component speaks.
//
// One master's life:
//
//	m, _ := master.New(cfg)        // binds --ip:--port and <work-dir>/master.sock (0600)
//	m.Run(ctx)                      // serves both; elects in coord under master/leader
//	  for term := range terms {     // leading
//	      loop := read registry → state.New(...)
//	      loop.run(term)            // one goroutine owns the machine:
//	                                //   HTTP handlers → events → Step → actions
//	                                //   (stream sends, replies, fenced registry writes)
//	  }                             // term lost: every stream closed, handlers 503/307
//
// Standbys answer the APIs with 307 to the leader (Location: the leader's
// address and the same path), 503 when there is none; GET /redirect does
// the same for browsers and CLIs. Reads (GET_STATE, GET_AGENTS, /state,
// /metrics/snapshot…) are served from the snapshot the leader loop
// publishes after it changes, so they never wait for the loop.
//
// Streams (scheduler and agent SUBSCRIBE) answer 200 with Content-Type
// application/json, a Mesos-Stream-Id header and chunked RecordIO; every
// other call names its stream in that header. A stream whose reader falls
// more than a thousand records behind is closed rather than allowed to
// stall the loop.
//
// The registry lives in coord under master/registry (admitted agents,
// their unreachable marks, drains and deactivations, weights, quota,
// framework failover deadlines, frameworks torn down) and is written through the term's fenced Store: a
// deposed leader's writes are refused, and a refused write stops its loop.
//
// A new leader gives the registry's agents --agent-reregister-timeout to
// come back; those that do not are then marked unreachable. It makes no
// offers until more than half of them are back (or that timeout passes),
// so that frameworks resubscribing first do not see, and fill, only the
// first few agents.
package master
