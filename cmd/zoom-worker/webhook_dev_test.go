//go:build dev

package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/zoomworker/zoom-worker/messages"
)

// TestDevWebhooksFollowTheSimulator: in dev, the simulator's webhooks reach
// dev's receiver, so a meeting edited "in Zoom" (the simulator's portal
// endpoint, as README says) is what zoom.svc.meeting.get answers next.
func TestDevWebhooksFollowTheSimulator(t *testing.T) {
	d := startDevProc(t)
	sim := regexp.MustCompile(`Zoom simulator:\s+(http://\S+)`).FindStringSubmatch(d.out.String())
	if sim == nil || !strings.Contains(d.out.String(), "/_sim/meetings/ID") {
		t.Fatalf("dev does not say how to edit a meeting in Zoom:\n%s", d.out.String())
	}
	var created messages.MeetingCreated
	if err := json.Unmarshal(d.meetingCreated(t, "m-dev-hook").Data, &created); err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(created.Meeting.ID, 10)
	req, _ := http.NewRequest(http.MethodPatch, sim[1]+"/_sim/meetings/"+id, strings.NewReader(`{"topic":"Edited in Zoom"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PATCH /_sim/meetings/%s: %d", id, resp.StatusCode)
	}
	nc, err := nats.Connect(d.url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var answer string
		m, err := nc.Request("zoom.svc.meeting.get", []byte(`{"meeting_id": `+id+`}`), 5*time.Second)
		if err == nil {
			answer = string(m.Data)
		}
		if strings.Contains(answer, "Edited in Zoom") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("meeting.get still does not answer the edited topic: %v %s", err, answer)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(d.out.String(), `"event":"meeting.updated"`) {
		t.Error("no webhook line for meeting.updated in dev's log")
	}
}
