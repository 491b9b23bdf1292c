package ledger

// noneLabel stands for a value the API left empty or wrote as "-".
const noneLabel = "none"

// otherLabel collects values beyond a label's cardinality limit.
const otherLabel = "other"

func orNone(s string) string {
	if s == "" {
		return noneLabel
	}
	return s
}

// labelLimit bounds the distinct values one label takes. Known values
// always pass; up to max others keep their own value, and the rest become
// "other", so a broken or hostile response cannot explode the series count.
type labelLimit struct {
	known map[string]bool
	extra map[string]bool
	max   int
}

func newLabelLimit(max int, known ...string) *labelLimit {
	l := &labelLimit{known: map[string]bool{}, extra: map[string]bool{}, max: max}
	for _, k := range known {
		l.known[k] = true
	}
	return l
}

func (l *labelLimit) value(s string) string {
	if l.known[s] || l.extra[s] {
		return s
	}
	if len(l.extra) < l.max {
		l.extra[s] = true
		return s
	}
	return otherLabel
}

// forget lets a value that is no longer in use free its place.
func (l *labelLimit) forget(s string) { delete(l.extra, s) }
