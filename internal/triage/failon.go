package triage

// Reaches reports whether an identity's severity is at or above threshold
// (high, medium, low or info): the test behind 'outsider triage
// --fail-on', kept beside the severities it orders so that a new severity
// or verdict changes it in one place. An unknown threshold is reached by
// nothing: the CLI refuses one before it gets here.
func (r *Report) Reaches(threshold string) bool {
	min := SeverityRank(threshold)
	if min < 0 {
		return false
	}
	for _, id := range r.Identities {
		if SeverityRank(id.Severity) >= min {
			return true
		}
	}
	return false
}

// CountSeverity is how many identities have severity s.
func (r *Report) CountSeverity(s string) int {
	n := 0
	for _, id := range r.Identities {
		if id.Severity == s {
			n++
		}
	}
	return n
}
