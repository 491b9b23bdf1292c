// Package ledger is an operation's exactly-once book, as plain data: what
// has been counted (salted keys and case flags), the counters themselves,
// how far each report has been read, and its encoding for the state file.
// It does no I/O, knows nothing of Prometheus, and has no clock of its
// own. Its catalogue is the exporter's one list of metric families.
package ledger
