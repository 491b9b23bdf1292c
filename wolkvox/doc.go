// Package wolkvox is a client for the Wolkvox Reports Manager API, limited to
// the two reports the exporter reads: agent_13_1 (call transfers and
// conferences) and chat_4 (e-mail, chat and social interactions), and for
// two snapshots of now from the platform's sibling APIs: the real-time
// skills and agents (Client.Skills, Client.Agents) and the day's token
// spend (Client.TokenInfo). Snapshots take the same token and quota and go
// through the same gate; their numbers are Num values, left not Valid
// rather than 0 when absent, broken or out of range.
//
// The client is built around three constraints of the vendor's API:
//
//   - A token must never be used by two requests at once, so a Client
//     serializes every call it makes.
//   - Every call spends one token of the operation's daily quota, whatever it
//     returns, so every call is reported to Config.ObserveRequest.
//   - Responses can be large (up to 256 MB) and are mostly personal data
//     (e-mail bodies, phone numbers), so records are decoded one at a time
//     from the stream and only the fields metrics need are kept.
//
// A fetch is all-or-nothing per response: records of a response are handed
// out only after the whole response has been read and validated, so a
// failure can always be retried whole without counting anything twice.
//
// This package knows nothing of Prometheus.
package wolkvox
