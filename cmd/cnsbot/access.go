package main

import (
	"fmt"
	"net"
	"strings"

	"github.com/camau-cns/cnsbot/web"
)

// validateAccess checks the settings of who reaches the dashboard and the
// metrics. A weak ADMIN_TOKEN stops the service before it listens: the
// token opens every commune's residents' names and phones.
func (c Config) validateAccess() error {
	if c.AdminToken != "" {
		if err := web.CheckTokenStrength(c.AdminToken); err != nil {
			return fmt.Errorf("ADMIN_TOKEN is too weak: it %w", err)
		}
	}
	if c.MetricsToken != "" {
		if err := web.CheckTokenStrength(c.MetricsToken); err != nil {
			return fmt.Errorf("METRICS_TOKEN is too weak: it %w", err)
		}
	}
	if c.MetricsAddr != "" && c.MetricsAddr == c.HTTPAddr {
		return fmt.Errorf("METRICS_ADDR must differ from HTTP_ADDR (%s): use METRICS_TOKEN to serve /metrics on the public port", c.HTTPAddr)
	}
	for _, p := range c.trustedProxies() {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				return fmt.Errorf("TRUSTED_PROXIES: %q is neither an IP address nor a CIDR range", p)
			}
		}
	}
	return nil
}

// trustedProxies splits TRUSTED_PROXIES ("10.0.0.1, 10.1.0.0/16").
func (c Config) trustedProxies() []string {
	var out []string
	for p := range strings.SplitSeq(c.TrustedProxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
