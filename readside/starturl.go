package readside

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/zoomworker/zoom-worker/messages"
)

// A host's start_url (it carries the host's ZAK) leaves the read side only
// where Config.IncludeStartURL allows it, and only while it is fresh: every
// other answer has it taken out, in any spelling of its key and at any depth.

// StartURLMaxAge is the age up to which a cached start_url is served.
// Zoom's start_url expires 2 hours after it was issued; one served from a
// copy at most 90 minutes old is good for half an hour more.
const StartURLMaxAge = 90 * time.Minute

// mayHoldStartURL says whether JSON b may hold a start_url key, in any
// case or spelt with \u escapes, without allocating (it runs on every hit).
func mayHoldStartURL(b []byte) bool {
	const key = "start_url"
	for i := 0; i+len(key) <= len(b); i++ {
		if b[i]|0x20 == 's' && bytes.EqualFold(b[i:i+len(key)], []byte(key)) {
			return true
		}
	}
	return bytes.Contains(b, []byte(`\u`))
}

// dropStartURL removes start_url, in any spelling, from m.
func dropStartURL(m *messages.Meeting) {
	m.StartURL = ""
	for k := range m.Extra {
		if isStartURL(k) {
			delete(m.Extra, k)
		}
	}
}

func isStartURL(key string) bool { return strings.EqualFold(key, "start_url") }

// stripStartURL returns raw (a JSON event) without any "start_url" member at
// any depth. Events that have none are returned unchanged, byte for byte.
func stripStartURL(raw json.RawMessage) json.RawMessage {
	if !bytes.Contains(bytes.ToLower(raw), []byte("start_url")) && !bytes.Contains(raw, []byte(`\u`)) {
		return raw // fast path; a key spelt with \u escapes takes the slow one
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		// Not JSON we can read: do not hand out what may carry a ZAK.
		return json.RawMessage(`null`)
	}
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, c := range t {
				if isStartURL(k) {
					delete(t, k)
					continue
				}
				walk(c)
			}
		case []any:
			for _, c := range t {
				walk(c)
			}
		}
	}
	walk(v)
	out, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(`null`)
	}
	return out
}
