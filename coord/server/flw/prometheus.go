package flw

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
)

// ContentType is the Prometheus text exposition format WritePrometheus
// produces.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// WritePrometheus writes s in the Prometheus text format with the metric
// names ZooKeeper 3.8's PrometheusMetricsProvider uses: mntr's keys without
// "zk_" (znode_count, watch_count, outstanding_requests, …) as gauges,
// Counters as counters (no _total suffix, as ZooKeeper's client library of
// that era writes them) and Summaries as summaries with quantile labels,
// _count and _sum. Values print as Java doubles ("5.0"), as ZooKeeper's do,
// so dashboards built for ZooKeeper read the embedded server unchanged.
// zk_version and zk_server_state are mntr-only, as in ZooKeeper.
func WritePrometheus(w io.Writer, s Snapshot) error {
	var b strings.Builder
	family := func(name, kind string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, name, name, kind)
	}
	for _, g := range coreGauges {
		family(g.name, "gauge")
		b.WriteString(g.name + " " + promValue(g.value(&s)) + "\n")
	}
	for _, name := range inZKOrder(s.Counters, zkCounters) {
		family(name, "counter")
		b.WriteString(name + " " + promValue(s.Counters[name]) + "\n")
	}
	for _, name := range inZKOrder(s.Summaries, zkSummaries) {
		sum := s.Summaries[name]
		family(name, "summary")
		for _, q := range sum.Quantiles {
			fmt.Fprintf(&b, "%s{quantile=\"%s\",} %s\n", name, promValue(q.Q), promValue(q.Value))
		}
		b.WriteString(name + "_count " + promValue(sum.Count) + "\n")
		b.WriteString(name + "_sum " + promValue(sum.Sum) + "\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write prometheus metrics: %w", err)
	}
	return nil
}

// Handler serves WritePrometheus for a snapshot taken per request, for the
// admin listener's /metrics.
func Handler(snapshot func() Snapshot) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", ContentType)
		if r.Method == http.MethodHead {
			return
		}
		// A failed write means the scraper went away; there is no one to tell.
		_ = WritePrometheus(w, snapshot())
	})
}

// promValue is the Prometheus Java client's doubleToGoString: Go's spelling
// of the infinities and NaN, Java's Double.toString for everything else.
func promValue(v any) string {
	var f float64
	switch v := v.(type) {
	case int64:
		f = float64(v)
	case int:
		f = float64(v)
	case float64:
		f = v
	}
	switch {
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return javaDouble(f)
}
