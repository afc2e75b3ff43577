package messages

// ValidationError says which field of a job is wrong and why.
type ValidationError struct {
	Field  string // JSON path such as "meeting.topic"; "" for the body as a whole
	Reason string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return "invalid job: " + e.Reason
	}
	return "invalid job: " + e.Field + ": " + e.Reason
}

// DecodeJob decodes and validates the body of a job published on subject.
// It returns a *ValidationError (wrapped or not) for every body that is not a
// valid job: too large, not JSON, unknown top-level field, wrong type, a
// field out of Zoom's limits. An unknown subject is an error too.
func DecodeJob(subject string, body []byte) (Job, error) {
	panic("TODO")
}
