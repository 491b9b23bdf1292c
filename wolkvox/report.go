package wolkvox

// Report names one Reports Manager report, as sent in the api= parameter.
type Report string

const (
	// ReportTransfers is agent_13_1: one record per transfer or conference leg.
	ReportTransfers Report = "agent_13_1"
	// ReportInteractions is chat_4: one record per e-mail, chat or social interaction.
	ReportInteractions Report = "chat_4"
)

// Reports lists the reports this package reads, in polling order.
var Reports = []Report{ReportTransfers, ReportInteractions}

// Snapshots of now, from the platform's other APIs (see Client.Skills,
// Client.Agents, Client.TokenInfo). They name calls in RequestInfo and
// Error as the reports do, but take no window.
const (
	// ReportSkills is real_time.php?api=skills: queues, calls and service
	// level per skill, so far today.
	ReportSkills Report = "skills"
	// ReportAgents is real_time.php?api=agents: every agent's state and
	// counters.
	ReportAgents Report = "agents"
	// ReportTokenInfo is information.php?api=token_info: the day's quota
	// and what has been spent of it.
	ReportTokenInfo Report = "token_info"
)

// SnapshotReports lists the snapshots this package reads. They are not in
// Reports: they have no window to fetch.
var SnapshotReports = []Report{ReportSkills, ReportAgents, ReportTokenInfo}

// TypeCalls are the documented values of agent_13_1's type_call field.
// Note the spaces: they are part of the values on the wire.
var TypeCalls = []string{
	"conference", "inbound", "internal call", "internal call_inb",
	"internal call_que", "out_pre", "outbound_ma", "transfer",
}

// Statuses are the documented values of chat_4's status field.
var Statuses = []string{"open", "close", "archived"}

// Channels are the documented values of chat_4's channel field.
var Channels = []string{"Email", "facebook_page", "instagram", "twitter"}
