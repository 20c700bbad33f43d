package placement

import (
	"time"
)

// LastOffersKept is how many recent unused offers Stats remembers for
// rejectSummaryLastOffers.
const LastOffersKept = 50

// Stats counts what happened to the offers processed for one queued app,
// for /v2/queue's processedOffersSummary. It is not safe for concurrent
// use; the launch queue that owns it serializes access.
type Stats struct {
	Processed  int
	Unused     int
	LastUnused time.Time
	LastUsed   time.Time
	// LaunchAttempt counts the funnelled reason of every refused offer
	// since the app entered the queue.
	LaunchAttempt map[Reason]int
	// last holds the funnelled reasons of the latest refused offers,
	// oldest first, at most LastOffersKept.
	last []Reason
}

// Record counts one processed offer.
func (s *Stats) Record(d Decision, at time.Time) {
	s.Processed++
	if d.Match != nil {
		s.LastUsed = at
		return
	}
	s.Unused++
	s.LastUnused = at
	r := d.First()
	if r == "" {
		return
	}
	if s.LaunchAttempt == nil {
		s.LaunchAttempt = map[Reason]int{}
	}
	s.LaunchAttempt[r]++
	s.last = append(s.last, r)
	if len(s.last) > LastOffersKept {
		s.last = s.last[len(s.last)-LastOffersKept:]
	}
}

// DeclinedOfferStep is one funnel step: of Processed offers that reached
// it, Declined were refused for Reason.
type DeclinedOfferStep struct {
	Reason    Reason `json:"reason"`
	Declined  int    `json:"declined"`
	Processed int    `json:"processed"`
}

// ProcessedOffersSummary is the JSON object /v2/queue prints per app.
type ProcessedOffersSummary struct {
	ProcessedOffersCount       int                 `json:"processedOffersCount"`
	UnusedOffersCount          int                 `json:"unusedOffersCount"`
	LastUnusedOfferAt          string              `json:"lastUnusedOfferAt,omitempty"`
	LastUsedOfferAt            string              `json:"lastUsedOfferAt,omitempty"`
	RejectSummaryLastOffers    []DeclinedOfferStep `json:"rejectSummaryLastOffers"`
	RejectSummaryLaunchAttempt []DeclinedOfferStep `json:"rejectSummaryLaunchAttempt"`
}

// Summary renders the counts as Marathon's QueueInfoConversion does: each
// funnel step lists the offers still in play and how many it refused.
func (s *Stats) Summary() ProcessedOffersSummary {
	lastCounts := map[Reason]int{}
	for _, r := range s.last {
		lastCounts[r]++
	}
	out := ProcessedOffersSummary{
		ProcessedOffersCount:       s.Processed,
		UnusedOffersCount:          s.Unused,
		RejectSummaryLastOffers:    steps(len(s.last), lastCounts),
		RejectSummaryLaunchAttempt: steps(s.Processed, s.LaunchAttempt),
	}
	if !s.LastUnused.IsZero() {
		out.LastUnusedOfferAt = s.LastUnused.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	if !s.LastUsed.IsZero() {
		out.LastUsedOfferAt = s.LastUsed.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return out
}

func steps(processed int, counts map[Reason]int) []DeclinedOfferStep {
	out := make([]DeclinedOfferStep, 0, len(Funnel))
	for _, r := range Funnel {
		n := counts[r]
		out = append(out, DeclinedOfferStep{Reason: r, Declined: n, Processed: processed})
		processed -= n
	}
	return out
}
