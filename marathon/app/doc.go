// Package app is Marathon's model of what to run: app definitions with
// Marathon's JSON field names and defaults, the group tree with its
// dependencies, PATCH merges and the scale-versus-config classification
// that drives versionInfo, and placement constraints. It is pure data and
// rules — no I/O, no clock (callers pass the time).
//
//	a, err := app.ParseApp(body, app.Root, opts)  // decode, normalize, validate
//	if e, ok := err.(*app.Error); ok { reply(e.Status, e) } // Marathon's 400/422 body
//	next, err := a.Patch(partial)                  // PATCH /v2/apps/{id}
//	app.StampVersion(a, next, now, false)          // version + versionInfo
//	root.PutApp(next); order, err := root.StartOrder()
package app
