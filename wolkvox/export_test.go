package wolkvox

import "bytes"

// ScanOnly runs the decoder's scanner over body without keeping any field,
// for the benchmark of its bare validation cost.
func ScanOnly(body []byte) (int, error) {
	return decodeResponse(bytes.NewReader(body), 0, func([]byte) int { return -1 }, func([]keptValue) error { return nil })
}

// DecodeSkills decodes one skills response, as Client.Skills does.
func DecodeSkills(body []byte) ([]SkillSnapshot, error) {
	in := newInterner()
	var out []SkillSnapshot
	_, err := decodeSnapshot(bytes.NewReader(body), DefaultMaxRecords, skillField, func(kept []keptValue, key string) error {
		out = append(out, buildSkill(kept, key, in))
		return nil
	})
	return out, err
}

// DecodeAgents decodes one agents response, as Client.Agents does.
func DecodeAgents(body []byte) ([]AgentSnapshot, error) {
	in := newInterner()
	var out []AgentSnapshot
	_, err := decodeSnapshot(bytes.NewReader(body), DefaultMaxRecords, agentField, func(kept []keptValue, key string) error {
		out = append(out, buildAgent(kept, key, in))
		return nil
	})
	return out, err
}
