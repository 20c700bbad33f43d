// Package placement decides whether an offer can run an instance of an app,
// the way Marathon's offer matcher does, without I/O:
//
//	req := placement.Request{App: a, Offer: offer, Placed: running, FrameworkRole: "marathon", Now: now}
//	d := placement.Decide(req)       // one instance
//	ms, d := placement.Place(req, n) // up to n instances from one offer
//	if d.Match == nil { stats.Record(d, now) } // d.Reasons explain the refusal
//
// A refusal lists every NoOfferMatchReason that applies (InsufficientCpus,
// UnfulfilledConstraint, …); Stats funnels them in Marathon's order to the
// counts /v2/queue prints as processedOffersSummary.
package placement
