// Package bot is the Zalo edge of the service: it verifies and parses
// webhook events, speaks the OA OpenAPI, keeps the access token fresh and
// delivers outgoing messages with Zalo's error rules.
package bot

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the Prometheus collectors of the Zalo edge.
type Metrics struct {
	WebhookAnswers *prometheus.CounterVec // by HTTP status
	WebhookLatency prometheus.Histogram   // from the request's arrival in the handler to its answer
	Events         *prometheus.CounterVec // by event name, accepted or duplicate
	Sends          *prometheus.CounterVec // by result: ok, retry, undeliverable, held, error
	SendLatency    prometheus.Histogram
	TokenRefreshes *prometheus.CounterVec // by result: ok, error
	// Degraded counts messages sent in a simpler form than asked, by feature
	// (list, request_user_info) and reason (refused, known_refused, no_image).
	Degraded *prometheus.CounterVec
	// Alerts is 1 while an OA-wide problem needs a person, by kind:
	// reauthorise (dead refresh token) or setup (error -209, -212, -221,
	// -223, -224).
	Alerts *prometheus.GaugeVec
	// SetupFaults counts sends refused for an OA setup fault, by code.
	SetupFaults *prometheus.CounterVec
	// Unknown counts accepted events with an unknown name, or a known name
	// and fields the service does not know, by event name ("other" past a
	// bound). See unknownWatch.
	Unknown *prometheus.CounterVec
}

// NewMetrics creates the collectors and registers them with reg (which may be nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		WebhookAnswers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cnsbot_webhook_answers_total", Help: "Webhook answers by HTTP status.",
		}, []string{"status"}),
		WebhookLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "cnsbot_webhook_seconds", Help: "Time the webhook handler takes to answer (verify, parse, persist).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 14),
		}),
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cnsbot_events_total", Help: "Verified webhook events by name and outcome (accepted, duplicate).",
		}, []string{"event", "outcome"}),
		Sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cnsbot_sends_total", Help: "Outgoing messages by result.",
		}, []string{"result"}),
		SendLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "cnsbot_send_seconds", Help: "Time of one Zalo send API call.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}),
		TokenRefreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cnsbot_token_refreshes_total", Help: "Access token refreshes by result.",
		}, []string{"result"}),
		Degraded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cnsbot_zalo_degraded_total", Help: "Messages sent in a simpler form because Zalo refused (or is known to refuse) the richer one.",
		}, []string{"feature", "reason"}),
		Alerts: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cnsbot_zalo_alert", Help: "1 while an OA-wide Zalo problem needs a person (reauthorise, setup).",
		}, []string{"kind"}),
		SetupFaults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cnsbot_zalo_setup_faults_total", Help: "Sends refused for an OA setup fault, by Zalo code.",
		}, []string{"code"}),
		Unknown: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cnsbot_webhook_unknown_total",
			Help: "Accepted webhook events with an unknown event name, or with fields the service does not know, by event name.",
		}, []string{"event"}),
	}
	m.Alerts.WithLabelValues(AlertReauthorise).Set(0)
	m.Alerts.WithLabelValues(AlertSetup).Set(0)
	if reg != nil {
		reg.MustRegister(m.WebhookAnswers, m.WebhookLatency, m.Events, m.Sends, m.SendLatency, m.TokenRefreshes,
			m.Degraded, m.Alerts, m.SetupFaults, m.Unknown)
	}
	return m
}

// Kinds of Metrics.Alerts.
const (
	AlertReauthorise = "reauthorise"
	AlertSetup       = "setup"
)
