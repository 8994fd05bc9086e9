package push

import "github.com/prometheus/client_golang/prometheus"

// hubMetrics are the hub's Prometheus series: counts and gauges, never ids.
type hubMetrics struct {
	conns     prometheus.Gauge
	events    prometheus.Counter
	delivered prometheus.Counter
	receipts  prometheus.Counter
	first     prometheus.Histogram
	refused   *prometheus.CounterVec
	closed    *prometheus.CounterVec
}

func newHubMetrics(reg prometheus.Registerer) *hubMetrics {
	m := &hubMetrics{
		conns: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "waymark_ws_connections",
			Help: "Live responder sockets on this instance.",
		}),
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "waymark_ws_events_total",
			Help: "Events read from the events stream.",
		}),
		delivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "waymark_ws_deliveries_total",
			Help: "Event frames queued to sockets (live and replayed).",
		}),
		receipts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "waymark_ws_receipts_total",
			Help: "Receipts stored.",
		}),
		first: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "waymark_alert_first_receipt_seconds",
			Help:    "From an alert event's commit to the first responder's receipt for that alert stored by this instance.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300},
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waymark_ws_refused_total",
			Help: "Sockets refused before they were served, by reason.",
		}, []string{"reason"}),
		closed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waymark_ws_closed_total",
			Help: "Sockets closed by the hub, by reason.",
		}, []string{"reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.conns, m.events, m.delivered, m.receipts, m.first, m.refused, m.closed)
	}
	return m
}
