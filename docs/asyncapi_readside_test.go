package docs

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/zoomworker/zoom-worker/readside"
	"github.com/zoomworker/zoom-worker/webhook"
)

// sideChannel says whether a channel address is the read service's (its
// request subjects, and the reply channel, which has no address) or the
// webhooks': not jobs or events, so the other tests leave them to
// TestAsyncAPIReadSide.
func sideChannel(address string) bool {
	return address == "" || strings.HasPrefix(address, readside.SubjectPrefix+".") || strings.HasPrefix(address, webhook.SubjectPrefix)
}

// TestAsyncAPIReadSide: every read-service subject has a channel and a
// receive operation that replies, the webhooks' channel is zoom.webhooks.{event},
// and every message of those channels has examples that fit its schemas.
func TestAsyncAPIReadSide(t *testing.T) {
	a := loadAsyncAPI(t)
	replies := map[string]bool{} // request address -> has a reply
	for name, v := range a.object("operations") {
		op := a.deref(t, v)
		ch := a.deref(t, op["channel"])
		address, _ := ch["address"].(string)
		if !sideChannel(address) {
			continue
		}
		if strings.HasPrefix(address, readside.SubjectPrefix+".") {
			if op["action"] != "receive" || op["reply"] == nil {
				t.Errorf("operation %s on %s: want action receive with a reply", name, address)
			}
			replies[address] = true
		}
	}
	for _, s := range []string{readside.SubjectMeetingGet, readside.SubjectUserGet, readside.SubjectJobStatus, readside.SubjectMeetingSDKSignature} {
		if !replies[s] {
			t.Errorf("no operation answers %s", s)
		}
	}
	var hooks bool
	c := a.compiler(t)
	n := 0
	for key, v := range a.object("channels") {
		ch := a.deref(t, v)
		address, _ := ch["address"].(string)
		if !sideChannel(address) {
			continue
		}
		if address == webhook.SubjectPrefix+"{event}" {
			hooks = true
		}
		msgs, _ := ch["messages"].(map[string]any)
		for _, mv := range msgs {
			ref, _ := mv.(map[string]any)["$ref"].(string)
			name := ref[strings.LastIndex(ref, "/")+1:]
			m := a.deref(t, mv)
			payload, err := c.Compile(a.url + "#/components/messages/" + name + "/payload/schema")
			if err != nil {
				t.Fatalf("channel %s message %s: %v", key, name, err)
			}
			examples, _ := m["examples"].([]any)
			if len(examples) == 0 && !slices.Contains([]string{"sdkSignatureAnswer"}, name) {
				t.Errorf("message %s has no example", name)
			}
			for i, ev := range examples {
				ex, _ := ev.(map[string]any)
				t.Run(fmt.Sprintf("%s/%d", name, i), func(t *testing.T) {
					n++
					b, _ := json.Marshal(ex["payload"])
					if err := payload.Validate(instance(t, b)); err != nil {
						t.Errorf("payload does not fit its schema: %v\n%s", err, b)
					}
					if h, ok := ex["headers"]; ok {
						hs, err := c.Compile(a.url + "#/components/messages/" + name + "/headers")
						if err != nil {
							t.Fatal(err)
						}
						hb, _ := json.Marshal(h)
						if err := hs.Validate(instance(t, hb)); err != nil {
							t.Errorf("headers do not fit their schema: %v\n%s", err, hb)
						}
					}
				})
			}
		}
	}
	if !hooks {
		t.Errorf("no channel %s{event}", webhook.SubjectPrefix)
	}
	if n == 0 {
		t.Error("no examples checked")
	}
}
