// Package table renders what the operator verbs read: aligned columns
// (lipgloss, colour only on a terminal, NO_COLOR honoured), "field: value"
// views for show verbs, and the API's own document for -o json and -o
// yaml. Views take decoded API answers and a "now", and do no I/O beyond
// writing to the given writer, so golden files pin their output.
//
//	f, _ := table.ParseFormat(o)               // table | wide | json | yaml
//	if f.Structured() { table.WriteDoc(w, f, resp) }
//	else { table.Agents(resp.GetAgents, tasks, now).Render(w, f == table.FormatWide, table.StyleFor(w)) }
package table
