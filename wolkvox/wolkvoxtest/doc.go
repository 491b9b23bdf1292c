// Package wolkvoxtest provides a fake Wolkvox Reports Manager API for tests
// and for the exporter's demo mode, in the spirit of net/http/httptest.
//
// A Server serves agent_13_1 and chat_4 records from a Dataset by date
// range, both ends inclusive, the way the real API is believed to. It can
// inject every fault the real API has shown, records every request, and
// fails the test loudly when two requests with one token overlap.
//
// With Config.Realtime it also serves the real-time API
// (real_time.php?api=skills|agents) from a Realtime generator, whose queues,
// abandons and service levels follow Traffic's spikes and whose agents work
// shifts, and information.php?api=token_info from what it counted per token
// today; Config.RealtimeFormat makes the answers as messy as the API's.
// SkillsAt, AgentsAt, ServedSkills, ServedAgents and TokensToday are the
// ground truth.
//
// Traffic is a deterministic, seeded generator of realistic records: agent
// names with accents and ñ, every documented type_call, "-" skills and
// destinations, every channel and status, blank and numeric surveys, and
// bodies of a few KB.
package wolkvoxtest
