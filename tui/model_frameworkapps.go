package tui

import (
	"strings"

	"github.com/strata-dc/strata/master/mesos"
)

// The Apps and Jobs views belong to marathon and chronos. The dashboard
// finds a framework's API the way Mesos' web UI does — its FrameworkInfo
// webui_url — and reads it through that framework's client. Until those
// clients exist (issue 8's marathon and chronos parts), the views say
// what they found and show no data rather than invent any.

// FrameworkSource is the extension point a marathon or chronos client
// fills: given the framework's web UI URL, it draws the view's body.
type FrameworkSource interface {
	// Body renders the view at w×h from the source's latest data.
	Body(webUI string, w, h int) []string
}

func appsView() *viewSpec {
	return &viewSpec{name: "apps", title: "Apps", draw: func(m *Model, w, h int) []string {
		return frameworkBody(m, "marathon", m.apps, w, h)
	}}
}

func jobsView() *viewSpec {
	return &viewSpec{name: "jobs", title: "Jobs", draw: func(m *Model, w, h int) []string {
		return frameworkBody(m, "chronos", m.jobs, w, h)
	}}
}

// frameworkWebUI finds a registered framework by name and its web UI URL.
func frameworkWebUI(c *Cluster, name string) (*mesos.Framework, string) {
	var found *mesos.Framework
	for _, f := range c.Frameworks {
		if f.FrameworkInfo == nil || !strings.EqualFold(f.FrameworkInfo.Name, name) {
			continue
		}
		if f.FrameworkInfo.WebUIURL != "" {
			return f, f.FrameworkInfo.WebUIURL
		}
		found = f
	}
	return found, ""
}

func frameworkBody(m *Model, name string, src FrameworkSource, w, h int) []string {
	f, url := frameworkWebUI(m.cluster, name)
	var msg []string
	switch {
	case url == "" && f != nil:
		msg = []string{name + " is registered (" + string(f.FrameworkInfo.ID) + ") but gives no webui_url,",
			"so its API cannot be found through the master."}
	case url == "":
		msg = []string{name + " not found through the master (no framework webui_url)"}
	case src != nil:
		return src.Body(url, w, h)
	default:
		msg = []string{name + " is at " + url + ";", "strata top has no " + name + " client yet, so nothing is shown here."}
	}
	lines := []string{""}
	for _, l := range msg {
		lines = append(lines, m.styles.Tone(ToneDim, fit("  "+l, w)))
	}
	return lines
}
