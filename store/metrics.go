package store

import "github.com/prometheus/client_golang/prometheus"

// QueueMetrics are the Prometheus collectors of the queue. The stream label
// is "inbox" (events) or "outbox" (messages to send).
type QueueMetrics struct {
	// Latency is the time from enqueueing an entry to finishing it.
	Latency *prometheus.HistogramVec
	// Call is the time of one handler or deliver call.
	Call *prometheus.HistogramVec
	// Backlog is the number of entries waiting, over all partitions.
	Backlog *prometheus.GaugeVec
	// Errors counts failed handler and deliver calls.
	Errors *prometheus.CounterVec
	// Dead counts events given up after every attempt failed.
	Dead prometheus.Counter
	// Owned is the number of partitions this replica owns.
	Owned prometheus.Gauge
}

// NewQueueMetrics creates the collectors and registers them with reg (which
// may be nil).
func NewQueueMetrics(reg prometheus.Registerer) *QueueMetrics {
	buckets := []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
	m := &QueueMetrics{
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cnsbot_queue_latency_seconds", Help: "Time from enqueueing an entry to finishing it, by stream.",
			Buckets: buckets,
		}, []string{"stream"}),
		Call: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cnsbot_queue_call_seconds", Help: "Time of one event handler or deliver call, by stream.",
			Buckets: buckets,
		}, []string{"stream"}),
		Backlog: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cnsbot_queue_backlog", Help: "Entries waiting in all partitions, by stream.",
		}, []string{"stream"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cnsbot_queue_errors_total", Help: "Failed event handler and deliver calls, by stream.",
		}, []string{"stream"}),
		Dead: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cnsbot_queue_dead_events_total", Help: "Events given up after every attempt failed.",
		}),
		Owned: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cnsbot_queue_partitions_owned", Help: "Queue partitions this replica owns.",
		}),
	}
	for _, s := range []string{streamInbox, streamOutbox, streamPush, streamBulk} {
		m.Latency.WithLabelValues(s)
		m.Call.WithLabelValues(s)
		m.Backlog.WithLabelValues(s)
		m.Errors.WithLabelValues(s)
	}
	if reg != nil {
		reg.MustRegister(m.Latency, m.Call, m.Backlog, m.Errors, m.Dead, m.Owned)
	}
	return m
}
