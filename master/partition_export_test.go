package master

import "github.com/strata-dc/strata/coord"

// TermStore is, for the external tests, the fenced store m's leader loop
// writes the registry through: nil while m does not lead. A test that
// keeps it after m is deposed holds exactly what a deposed leader's
// stale loop would write with.
func TermStore(m *Master) *coord.Store {
	if l := m.leading.Load(); l != nil {
		return l.store
	}
	return nil
}
