// Package collector turns Wolkvox reports into Prometheus metrics.
//
// A Poller fetches agent_13_1 and then chat_4, one after the other, over
// contiguous windows of operation-local time. It counts each record exactly
// once into an Aggregate, renders the aggregate into constant metrics, and
// swaps that snapshot in atomically. The Collector serves the latest
// snapshot: a scrape never calls the API, so any number of Prometheus
// servers can scrape without spending quota.
package collector
