package readside_test

import (
	"encoding/base64"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/zoomworker/zoom-worker/readside"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

const sdkSecret = "sdk-secret-never-shown"

func TestSDKSignature(t *testing.T) {
	e := newSvcEnv(t, zoomtest.Options{}, func(c *readside.Config) {
		c.SDK = map[string]readside.SDKApp{worker.DefaultAccount: {Key: "sdk-key-1", Secret: sdkSecret}}
	})
	a := e.request(readside.SubjectMeetingSDKSignature, `{"meeting_id": 85746065432, "role": 0}`)
	if a.Code != "" {
		t.Fatalf("%s %s", a.Code, a.Description)
	}
	if strings.Contains(string(a.Body), sdkSecret) {
		t.Fatal("the answer carries the SDK secret")
	}
	r := decodeAs[readside.SDKSignatureResponse](t, a.Body)
	parts := strings.Split(r.Signature, ".")
	if len(parts) != 3 || r.SDKKey != "sdk-key-1" || r.MeetingID != 85746065432 || r.ExpiresAt.IsZero() {
		t.Fatalf("answer %s", a.Body)
	}
	// Claims decoded by hand, the HMAC checked by openssl.
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	if c["appKey"] != "sdk-key-1" || c["mn"] != 85746065432.0 || c["role"] != 0.0 || c["tokenExp"] != c["exp"] {
		t.Errorf("claims %v", c)
	}
	if _, err := exec.LookPath("openssl"); err == nil {
		cmd := exec.Command("openssl", "dgst", "-sha256", "-hmac", sdkSecret, "-binary")
		cmd.Stdin = strings.NewReader(parts[0] + "." + parts[1])
		mac, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		if base64.RawURLEncoding.EncodeToString(mac) != parts[2] {
			t.Error("openssl computes another HMAC")
		}
	}

	for _, tt := range []struct{ body, code string }{
		{`{"meeting_id": 85746065432}`, "400"},
		{`{"meeting_id": 85746065432, "role": 2}`, "400"},
		{`{"meeting_id": 85746065432, "role": 0, "expires_in": 60}`, "400"},
		{`{"role": 1}`, "400"},
		{`{"meeting_id": 85746065432, "role": 1, "account": "other"}`, "400"},
	} {
		if a := e.request(readside.SubjectMeetingSDKSignature, tt.body); a.Code != tt.code {
			t.Errorf("%s: code %q (%s), want %s", tt.body, a.Code, a.Description, tt.code)
		}
	}
}

func TestSDKSignatureNotConfigured(t *testing.T) {
	e := newSvcEnv(t, zoomtest.Options{})
	if a := e.request(readside.SubjectMeetingSDKSignature, `{"meeting_id": 1, "role": 0}`); a.Code != "503" || !strings.Contains(a.Description, "ZOOMW_SDK_KEY") {
		t.Errorf("code %q %s, want 503 naming the settings", a.Code, a.Description)
	}
}
