package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// mountMetrics decides where /metrics is served. The metrics show the
// service's insides (queue depths, Zalo's error codes, goroutines), so
// never on the public port to anyone: with METRICS_ADDR on a listener of
// their own (serve starts it), else with METRICS_TOKEN on the public port
// to requests that carry the token, else nowhere. The token, when set, is
// asked on the separate listener too.
func (s *server) mountMetrics(r gin.IRouter, reg *prometheus.Registry) {
	h := http.Handler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	if s.cfg.MetricsToken != "" {
		h = requireMetricsToken(s.cfg.MetricsToken, h)
	}
	s.metrics = h
	switch {
	case s.cfg.MetricsAddr != "":
	case s.cfg.MetricsToken != "":
		r.GET("/metrics", gin.WrapH(h))
	default:
		s.log.Info("metrics are not served: set METRICS_ADDR (a listener of their own) or METRICS_TOKEN (a bearer token on HTTP_ADDR)")
	}
}

// requireMetricsToken lets through requests with "Authorization: Bearer
// token", compared as hashes in constant time.
func requireMetricsToken(token string, next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		got := sha256.Sum256([]byte(strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))))
		if !strings.HasPrefix(h, "Bearer ") || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cnsbot metrics"`)
			http.Error(w, "a valid bearer token is required", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// serveMetrics serves /metrics on addr until stop is called. It listens
// before returning, so that a taken port stops serve at once.
func serveMetrics(addr string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("METRICS_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "err", err)
		}
	}()
	log.Info("metrics serving", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}
