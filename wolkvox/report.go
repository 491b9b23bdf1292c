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
