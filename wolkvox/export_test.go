package wolkvox

import "bytes"

// ScanOnly runs the decoder's scanner over body without keeping any field,
// for the benchmark of its bare validation cost.
func ScanOnly(body []byte) (int, error) {
	return decodeResponse(bytes.NewReader(body), 0, func([]byte) int { return -1 }, func([]keptValue) error { return nil })
}
