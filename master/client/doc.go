// Package client is the Go client of the master's HTTP APIs, the only way
// the CLI, the TUI, marathon, chronos and tests talk to a master: the Mesos
// v1 scheduler API (Scheduler) and the operator API with its plain
// endpoints (Operator). The wire types are those of package mesos.
//
// A framework's loop:
//
//	s, _ := client.NewScheduler(client.SchedulerConfig{
//		Options:   client.Options{Master: "http://127.0.0.1:5050"},
//		Framework: &mesos.FrameworkInfo{User: "root", Name: "marathon", ID: savedID},
//	})
//	go func() { errc <- s.Run(ctx) }()      // subscribes, reconnects, follows the leader
//	for ev := range s.Events() {
//		switch ev.Type {
//		case mesos.EventSubscribed:           // a new session: save s.FrameworkID(), forget old offers
//		case mesos.EventOffers:               // s.Launch(ctx, ids, tasks, nil) or s.Decline(ctx, ids, filters)
//		case mesos.EventUpdate:               // s.Acknowledge(ctx, ev.Update.Status)
//		}
//	}
//
// and an operator's:
//
//	op, _ := client.NewOperator(client.Options{Master: "unix:///var/lib/strata/master/master.sock"})
//	state, _ := op.GetState(ctx)
//	updates, _ := op.Subscribe(ctx, &mesos.SubscribeOptions{OfferEvents: true})
//	for u := range updates { /* u.Err: gap, rebuild from the next SUBSCRIBED */ }
//
// Where the master is: Options.Master takes http(s)://host:port, a comma-
// separated list, or unix:///path to a master's control socket;
// Options.Detector plugs in leader detection (Follow adapts coord's
// WatchLeader channel, MasterInfoURL reads its json.info_ nodes);
// Options.DialContext carries connections over anything else (ssh). A
// standby's 307 is followed to the leader, which is then used directly;
// 503 (no leader) and broken connections make the client ask the detector
// again. Failures come back as *APIError, matched with errors.Is against
// ErrNotSubscribed, ErrBadRequest, ErrUnavailable and the other sentinels.
//
// Every blocking call takes a context and is bounded by Options.Timeout;
// streams are judged alive by their heartbeats instead. Close stops every
// goroutine the client started.
package client
