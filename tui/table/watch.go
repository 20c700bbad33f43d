package table

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/master/mesos"
)

// watchSettle is how long Watch waits after an event for more before
// redrawing, so a burst of task updates costs one redraw.
const watchSettle = 200 * time.Millisecond

// Watch is --watch of the list verbs: it draws with draw, then redraws
// after every change the master's operator event stream reports (a burst
// of events is one redraw), until ctx ends. Changes come from the stream,
// not from polling; each redraw reads the master's snapshot. On a
// terminal each drawing replaces the last; otherwise drawings follow one
// another, separated by a blank line. Stream gaps are noted on errw.
func Watch(ctx context.Context, w, errw io.Writer, op *client.Operator, offers bool, draw func(io.Writer) error) error {
	updates, err := op.Subscribe(ctx, &mesos.SubscribeOptions{OfferEvents: offers})
	if err != nil {
		return err
	}
	tty := false
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		tty = true
	}
	first := true
	st := StyleFor(w)
	redraw := func() error {
		buf := &styledBuffer{st: st}
		if err := draw(buf); err != nil {
			return err
		}
		switch {
		case tty:
			_, _ = io.WriteString(w, "\x1b[H\x1b[2J") // home, clear screen
		case !first:
			_, _ = io.WriteString(w, "\n")
		}
		first = false
		_, err := w.Write(buf.Bytes())
		return err
	}
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	defer settle.Stop()
	pending := false
	var last error
	for {
		select {
		case u, ok := <-updates:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				if last != nil {
					return last
				}
				return fmt.Errorf("event stream ended")
			}
			if u.Err != nil {
				last = u.Err
				fmt.Fprintln(errw, "strata: event stream interrupted (reconnecting):", u.Err)
				continue
			}
			if u.Event.Type == mesos.OperatorEventHeartbeat {
				continue
			}
			if u.Event.Type == mesos.OperatorEventSubscribed {
				// A (re)subscription: draw at once from the new snapshot.
				if err := redraw(); err != nil {
					return err
				}
				continue
			}
			if !pending {
				pending = true
				settle.Reset(watchSettle)
			}
		case <-settle.C:
			pending = false
			if err := redraw(); err != nil {
				return err
			}
		case <-ctx.Done():
			return nil
		}
	}
}
