package worker

import (
	"testing"

	"github.com/zoomworker/zoom-worker/messages"
)

// TestEveryJobSubjectHasAKind: a job type added to messages without a kind
// here fails this test, not a job in production ("no handler for ...").
func TestEveryJobSubjectHasAKind(t *testing.T) {
	for _, s := range messages.JobSubjects() {
		if _, ok := kinds[s]; !ok {
			t.Errorf("no kind for %s", s)
		}
	}
	if len(kinds) != len(messages.JobSubjects()) {
		t.Errorf("%d kinds for %d job subjects", len(kinds), len(messages.JobSubjects()))
	}
}
