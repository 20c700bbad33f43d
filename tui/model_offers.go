package tui

import (
	"strings"
	"time"
)

// The Offers view: outstanding offers with their age, and below them the
// tape of recent offer decisions seen on the stream (sent, accepted,
// declined, rescinded) — the two-level scheduler at work.

func offersView() *viewSpec {
	return &viewSpec{
		name: "offers", title: "Offers", defaultSort: 5, sortDesc: true, ageing: true,
		cols: []column{
			{Title: "OFFER", Width: 14, Flex: 2, Drop: 2},
			{Title: "FRAMEWORK", Width: 10, Flex: 1},
			{Title: "AGENT", Width: 10, Flex: 1},
			{Title: "ROLE", Width: 6, Flex: 1, Drop: 3},
			{Title: "RESOURCES", Width: 20, Flex: 2},
			{Title: "AGE", Width: 5, Right: true},
		},
		build: buildOffers,
		draw:  drawTape,
	}
}

func buildOffers(c *Cluster, now time.Time) []row {
	rows := make([]row, 0, len(c.Offers))
	for id, o := range c.Offers {
		role := ""
		if o.Offer.AllocationInfo != nil {
			role = o.Offer.AllocationInfo.Role
		}
		fw := c.FrameworkName(o.Offer.FrameworkID)
		if fw == "" {
			fw = string(o.Offer.FrameworkID)
		}
		rows = append(rows, row{
			id: string(id),
			cells: []cell{
				txt(string(id)), txt(fw), txt(c.AgentHost(o.Offer.AgentID)), txt(role),
				txt(resourceLine(o.Offer.Resources)),
				number(age(o.Since, now), float64(now.Sub(o.Since))),
			},
			obj: &o.Offer,
		})
	}
	return rows
}

// drawTape draws the newest offer decisions, newest on top.
func drawTape(m *Model, w, h int) []string {
	s := m.styles
	lines := []string{s.ColumnHeader.Render(fit("RECENT OFFER DECISIONS", w))}
	tape := m.cluster.Tape
	if len(tape) == 0 {
		lines = append(lines, s.Tone(ToneDim, fit("  none seen yet (the master sends offer events to subscribers that ask; Mesos masters do not)", w)))
	}
	for i := len(tape) - 1; i >= 0 && len(lines) < h; i-- {
		e := tape[i]
		fw := m.cluster.FrameworkName(e.Framework)
		if fw == "" {
			fw = string(e.Framework)
		}
		var b strings.Builder
		b.WriteString(e.At.Format("15:04:05") + " ")
		b.WriteString(s.Tone(tapeTone(e.Kind), fitPlain(e.Kind, 9, false)) + " ")
		b.WriteString(fitPlain(fw, 10, false) + " ")
		b.WriteString(fitPlain(m.cluster.AgentHost(e.Agent), 10, false) + " ")
		b.WriteString(resourceLine(e.Resources))
		if e.Detail != "" {
			b.WriteString("  " + s.Tone(ToneDim, e.Detail))
		}
		lines = append(lines, fit(b.String(), w))
	}
	return lines
}

func tapeTone(kind string) Tone {
	switch kind {
	case "accepted":
		return ToneGood
	case "declined":
		return ToneWarn
	case "rescinded":
		return ToneBad
	}
	return ToneInfo
}
