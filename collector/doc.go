// Package collector is the exporter's Prometheus side, and nothing else:
// descriptors made from the catalogue (internal/ledger), a ledger rendered
// into constant metrics once per poll, an operation's live health, and
// the prometheus.Collector that serves the latest published snapshot. A
// scrape never calls the API, so any number of Prometheus servers can
// scrape without spending quota.
package collector
