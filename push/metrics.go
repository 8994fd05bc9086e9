package push

import "github.com/prometheus/client_golang/prometheus"

// hubMetrics are the hub's Prometheus series: counts and gauges, never ids.
type hubMetrics struct {
	conns     prometheus.Gauge
	events    prometheus.Counter
	delivered prometheus.Counter
	receipts  prometheus.Counter
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
		reg.MustRegister(m.conns, m.events, m.delivered, m.receipts, m.refused, m.closed)
	}
	return m
}
