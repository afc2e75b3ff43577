package readside_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/readside"
	"github.com/zoomworker/zoom-worker/webhook"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

const hookSecret = "follow-test-webhook-secret"

// followEnv is svcEnv plus the webhook receiver (the fake Zoom sends its
// webhooks there) and Follow applying them to the cache.
type followEnv struct {
	*svcEnv
	hooks string // the receiver's URL
}

func newFollowEnv(t *testing.T) *followEnv {
	t.Helper()
	e := &followEnv{svcEnv: newSvcEnv(t, zoomtest.Options{})}
	t.Cleanup(e.Fake.Close)
	js, _ := jetstream.New(e.NC)
	if _, err := webhook.SetupStream(context.Background(), js, 1); err != nil {
		t.Fatal(err)
	}
	recv, err := webhook.NewReceiver(webhook.Config{JetStream: js, Logger: testenv.Logger(),
		Default: webhook.Account{Name: worker.DefaultAccount, SecretToken: hookSecret}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(recv)
	t.Cleanup(hs.Close)
	e.hooks = hs.URL
	e.Fake.SetWebhook(hs.URL, hookSecret)
	e.Fake.SetWebhookRetryDelays(50*time.Millisecond, 100*time.Millisecond, 200*time.Millisecond)

	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := readside.Follow(ctx, readside.FollowConfig{JetStream: js, Cache: e.Store, Logger: testenv.Logger(),
			Accounts: map[string]readside.Zoom{worker.DefaultAccount: e.zoom}, Ready: func() { close(ready) }})
		if err != nil {
			t.Errorf("Follow: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		t.Fatal("Follow did not bind its consumer within 20s")
	}
	return e
}

// eventually retries check until it returns "" or the deadline passes.
func eventually(t *testing.T, what string, check func() string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		why := check()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %s after 20s", what, why)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *followEnv) meeting(id int64) answer {
	return e.request(readside.SubjectMeetingGet, `{"meeting_id": `+strconv.FormatInt(id, 10)+`}`)
}

// post sends a webhook signed as Zoom signs it, straight to the receiver.
func (e *followEnv) post(body string) {
	e.t.Helper()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	m := hmac.New(sha256.New, []byte(hookSecret))
	m.Write([]byte("v0:" + ts + ":" + body))
	req, _ := http.NewRequest(http.MethodPost, e.hooks, strings.NewReader(body))
	req.Header.Set("x-zm-signature", "v0="+hex.EncodeToString(m.Sum(nil)))
	req.Header.Set("x-zm-request-timestamp", ts)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		e.t.Fatalf("webhook answered %d", resp.StatusCode)
	}
}

func TestCacheFollowsZoom(t *testing.T) {
	e := newFollowEnv(t)
	host, err := e.zoom.CreateUser(ctx(t), "custCreate", map[string]any{"email": "m@mi6.example", "type": 1})
	if err != nil {
		t.Fatal(err)
	}
	zm, err := e.zoom.CreateMeeting(ctx(t), host.ID, map[string]any{"topic": "Before", "type": 2,
		"start_time": "2026-12-05T12:00:00Z", "duration": 30})
	if err != nil {
		t.Fatal(err)
	}

	// Read once: the copy is written back, and then served from the cache.
	eventually(t, "meeting in the cache", func() string {
		a := e.meeting(zm.ID)
		if a.Code != "" || !strings.Contains(string(a.Body), `"source":"cache"`) || !strings.Contains(string(a.Body), `"Before"`) {
			return "answer " + a.Code + " " + string(a.Body)
		}
		return ""
	})

	// Changed "in Zoom's web portal": Zoom's meeting.updated reaches the
	// receiver, and the cache follows.
	if err := e.Fake.SimUpdateMeeting(zm.ID, "", map[string]any{"topic": "After"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "new topic served", func() string {
		a := e.meeting(zm.ID)
		if a.Code != "" || !strings.Contains(string(a.Body), `"After"`) {
			return "answer " + a.Code + " " + string(a.Body)
		}
		return ""
	})
	if a := e.meeting(zm.ID); !strings.Contains(string(a.Body), `"source":"cache"`) {
		t.Errorf("after the webhook the new copy is not in the cache: %s", a.Body)
	}

	// An older webhook after the newer one changes nothing: a deletion
	// stamped before the update does not drop the meeting.
	old := time.Now().Add(-time.Hour).UnixMilli()
	e.post(`{"event":"meeting.deleted","event_ts":` + strconv.FormatInt(old, 10) +
		`,"payload":{"account_id":"acct","object":{"id":` + strconv.FormatInt(zm.ID, 10) + `,"uuid":"x"}}}`)
	// A marker webhook after it: once the marker is applied, so is the old one.
	marker, err := e.zoom.CreateMeeting(ctx(t), host.ID, map[string]any{"topic": "Marker", "type": 2,
		"start_time": "2026-12-05T12:00:00Z", "duration": 30})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "marker meeting cached by its meeting.created webhook", func() string {
		e, err := e.Store.Read(ctx(t), worker.DefaultAccount, readside.MeetingKey(marker.ID))
		if err != nil || e.JSON == nil {
			return "not cached"
		}
		return ""
	})
	if a := e.meeting(zm.ID); a.Code != "" || !strings.Contains(string(a.Body), `"After"`) {
		t.Errorf("an older deletion changed the cache: %s %s", a.Code, a.Body)
	}

	// Deleted in Zoom: 404, and remembered.
	if err := e.Fake.SimDeleteMeeting(zm.ID, ""); err != nil {
		t.Fatal(err)
	}
	eventually(t, "deleted meeting answers 404", func() string {
		if a := e.meeting(zm.ID); a.Code != "404" {
			return "answer " + a.Code + " " + string(a.Body)
		}
		return ""
	})
}

func TestCacheFollowsUsers(t *testing.T) {
	e := newFollowEnv(t)
	u, err := e.zoom.CreateUser(ctx(t), "custCreate", map[string]any{"email": "r@mi6.example", "type": 1, "first_name": "R"})
	if err != nil {
		t.Fatal(err)
	}
	user := func() answer { return e.request(readside.SubjectUserGet, `{"user_id": "r@mi6.example"}`) }
	if a := user(); a.Code != "" {
		t.Fatalf("user: %s %s", a.Code, a.Description)
	}
	if err := e.Fake.SimUpdateUser(u.ID, map[string]any{"first_name": "Renamed"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "renamed user served", func() string {
		if a := user(); !strings.Contains(string(a.Body), `"Renamed"`) {
			return "answer " + a.Code + " " + string(a.Body)
		}
		return ""
	})
	// Deactivated in Zoom: the copy is fetched again and says so.
	if err := e.Fake.SimSetUserStatus(u.ID, "deactivate"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "deactivated user served as inactive", func() string {
		if a := user(); !strings.Contains(string(a.Body), `"status":"inactive"`) {
			return "answer " + a.Code + " " + string(a.Body)
		}
		return ""
	})
	if err := e.Fake.SimDeleteUser(u.ID, "delete"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "deleted user answers 404", func() string {
		if a := user(); a.Code != "404" {
			return "answer " + a.Code + " " + string(a.Body)
		}
		return ""
	})
}
