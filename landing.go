package main

import (
	"fmt"
	"html"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/wolkvox-exporter/wolkvox_exporter/collector"
)

// windowFormat shows a window bound in the operation's zone, with its offset.
const windowFormat = "2006-01-02 15:04:05 -0700"

// landingPage links the metrics and shows each operation's and report's
// last poll.
func landingPage(metricsPath string, registry *collector.Registry, demo bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var extra strings.Builder
		if demo {
			extra.WriteString(`<p><strong>DEMO MODE:</strong> these metrics come from generated data, not a real Wolkvox operation.</p>`)
		}
		extra.WriteString(`<h2>Operations</h2><table><tr><th>operation</th><th>report</th><th>up</th><th>last success</th><th>latest window</th><th>last error</th></tr>`)
		for _, op := range registry.Status() {
			loc := op.Location
			for _, rs := range op.Status.Reports {
				up := "not polled yet"
				if rs.Polled {
					up = map[bool]string{true: "yes", false: "no"}[rs.Up]
				}
				last, window := "never", ""
				if !rs.LastSuccess.IsZero() {
					last = rs.LastSuccess.In(loc).Format(time.RFC3339)
					window = rs.Window.Start.In(loc).Format(windowFormat) + " .. " + rs.Window.End.In(loc).Format(windowFormat)
				}
				fmt.Fprintf(&extra, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>",
					html.EscapeString(op.Name), html.EscapeString(string(rs.Report)), up, last, html.EscapeString(window), html.EscapeString(rs.LastError))
			}
		}
		extra.WriteString("</table>")
		page, err := web.NewLandingPage(web.LandingConfig{
			Name:        "Wolkvox Exporter",
			Description: "Prometheus exporter for Wolkvox contact-center reports",
			Version:     version.Info(),
			Links: []web.LandingLinks{
				{Address: metricsPath, Text: "Metrics"},
				{Address: "/-/healthy", Text: "Health"},
				{Address: "/-/ready", Text: "Readiness"},
			},
			ExtraHTML: extra.String(),
			Profiling: "false", // no pprof handlers are served
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		page.ServeHTTP(w, r)
	})
}
