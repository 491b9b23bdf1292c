package main

import (
	"fmt"
	"html"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/wolkvox-exporter/wolkvox_exporter/internal/supervisor"
)

// windowFormat shows a window bound in the operation's zone, with its offset.
const windowFormat = "2006-01-02 15:04:05 -0700"

// landingCSS keeps the status table readable on a phone: the table
// scrolls sideways inside its own box, so the page itself never does
// (the toolkit's template already sets the viewport). Up and down are
// said in words as well as colours, for readers who cannot tell them.
const landingCSS = `
.scroll { overflow-x: auto; max-width: 100%; }
table.status { border-collapse: collapse; font-size: 0.9rem; }
table.status th, table.status td { border: 1px solid #ccc; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
table.status th { background: #f4f4f4; white-space: nowrap; }
table.status td.time { white-space: nowrap; }
table.status td.window, table.status td.next { min-width: 11rem; }
table.status td.error { min-width: 12rem; max-width: 28rem; }
table.status td.up { background: #dff3df; }
table.status td.down { background: #f8d7d7; font-weight: bold; }
table.status td.num { text-align: right; min-width: 7rem; }
`

// landingPage links the metrics and shows, for each operation and report,
// the last poll and the polling plan. It has no script: the page is
// whole without JavaScript, and reloading it is how it updates.
func landingPage(metricsPath string, registry *supervisor.Supervisor, demo bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/favicon.ico" {
			// Every browser asks for it; a 404 shows as an error in the
			// console of a page that has none. There is no icon: say so
			// without an error.
			w.WriteHeader(http.StatusNoContent)
			return
		}
		var extra strings.Builder
		if demo {
			extra.WriteString(`<p><strong>DEMO MODE:</strong> these metrics come from generated data, not a real Wolkvox operation.</p>`)
		}
		writeStatusTable(&extra, registry.Status(), registry.Plans(), time.Now())
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
			ExtraCSS:  landingCSS,
			Profiling: "false", // no pprof handlers are served
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		page.ServeHTTP(w, r)
	})
}

// writeStatusTable writes one row per operation and report. The
// operation's own cells (its name, next poll and planned spend) span its
// reports' rows. Every value from the API or the configuration is
// escaped; the token is in neither.
func writeStatusTable(b *strings.Builder, ops []supervisor.OperationStatus, plans map[string]supervisor.OperationPlan, now time.Time) {
	b.WriteString(`<h2>Operations</h2><div class="scroll"><table class="status" id="status"><thead><tr>` +
		`<th scope="col">operation</th><th scope="col">report</th><th scope="col">status</th><th scope="col">last success</th>` +
		`<th scope="col">latest window</th><th scope="col">last error</th><th scope="col">next poll</th>` +
		`<th scope="col">planned calls a day</th></tr></thead><tbody>`)
	for _, op := range ops {
		loc := op.Location
		plan := plans[op.Name]
		reports := op.Status.Reports
		for i, rs := range reports {
			status, class := "not polled yet", "pending"
			if rs.Polled {
				status, class = "up", "up"
				if !rs.Up {
					status, class = "down", "down"
				}
			}
			last, window := "never", ""
			if !rs.LastSuccess.IsZero() {
				last = rs.LastSuccess.In(loc).Format(time.RFC3339)
				if !rs.Window.End.IsZero() { // a snapshot reads no window
					window = rs.Window.Start.In(loc).Format(windowFormat) + " .. " + rs.Window.End.In(loc).Format(windowFormat)
				}
			}
			name := html.EscapeString(op.Name)
			fmt.Fprintf(b, `<tr class="%s" data-operation="%s" data-report="%s">`, class, name, html.EscapeString(string(rs.Report)))
			if i == 0 {
				fmt.Fprintf(b, `<th scope="rowgroup" rowspan="%d">%s</th>`, len(reports), name)
			}
			fmt.Fprintf(b, `<td>%s</td><td class="%s">%s</td><td class="time">%s</td><td class="window">%s</td><td class="error">%s</td>`,
				html.EscapeString(string(rs.Report)), class, status, last, html.EscapeString(window), html.EscapeString(rs.LastError))
			if i == 0 {
				fmt.Fprintf(b, `<td class="next" rowspan="%d">%s</td><td class="num" rowspan="%d">%s</td>`,
					len(reports), html.EscapeString(nextPoll(plan, loc, now)), len(reports), html.EscapeString(plannedSpend(plan)))
			}
			b.WriteString("</tr>")
		}
	}
	b.WriteString("</tbody></table></div>")
}

// nextPoll says when the operation polls next, in its zone and from now.
func nextPoll(plan supervisor.OperationPlan, loc *time.Location, now time.Time) string {
	if plan.NextPoll.IsZero() {
		return "polling now"
	}
	in := plan.NextPoll.Sub(now).Round(time.Second)
	if in < 0 {
		in = 0 // due: the poller's timer is about to fire
	}
	// A poll is due within one interval, so the clock time is enough.
	return fmt.Sprintf("%s (in %v; every %v)", plan.NextPoll.In(loc).Format("15:04:05 -0700"), in, plan.Interval)
}

// plannedSpend is poller.PlannedCallsPerDay, against the quota when
// it is known.
func plannedSpend(plan supervisor.OperationPlan) string {
	calls := math.Round(plan.CallsPerDay)
	if plan.DailyQuota > 0 {
		return fmt.Sprintf("%.0f of %.0f (%.0f%%)", calls, plan.DailyQuota, 100*calls/plan.DailyQuota)
	}
	return fmt.Sprintf("%.0f (quota unknown)", calls)
}
