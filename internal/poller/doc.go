// Package poller reads one operation's reports over contiguous windows:
// the window marks, catch-up after an outage, chat_4's revisits, poison
// records, clock steps. After each poll it saves the ledger and only then
// publishes it, so nothing is ever served that is not on disk.
package poller
