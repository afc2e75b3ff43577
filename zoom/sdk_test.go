package zoom_test

import (
	"encoding/base64"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/zoom"
)

// The signature is checked without golang-jwt: its HMAC by openssl, its
// header and claims decoded by hand.
func TestMeetingSDKSignature(t *testing.T) {
	now := time.Unix(1764633600, 0) // 2025-12-02T00:00:00Z
	sig, err := zoom.MeetingSDKSignature("sdk-key-123", "sdk-secret-456", 85746065432, zoom.SDKRoleHost, now, 0)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(sig.Token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not three parts", sig.Token)
	}
	decode := func(s string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("part %q: %v", s, err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("part %s: %v", b, err)
		}
		return m
	}
	if h := decode(parts[0]); h["alg"] != "HS256" || h["typ"] != "JWT" {
		t.Errorf("header %v, want HS256 JWT", h)
	}
	c := decode(parts[1])
	iat := float64(now.Unix() - 30)
	want := map[string]any{"appKey": "sdk-key-123", "sdkKey": "sdk-key-123", "mn": 85746065432.0, "role": 1.0,
		"iat": iat, "exp": iat + 7200, "tokenExp": iat + 7200}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("claim %s = %v, want %v", k, c[k], v)
		}
	}
	if len(c) != len(want) {
		t.Errorf("claims %v, want exactly %v", c, want)
	}
	if !sig.ExpiresAt.Equal(time.Unix(int64(iat)+7200, 0)) {
		t.Errorf("ExpiresAt %s", sig.ExpiresAt)
	}

	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	cmd := exec.Command("openssl", "dgst", "-sha256", "-hmac", "sdk-secret-456", "-binary")
	cmd.Stdin = strings.NewReader(parts[0] + "." + parts[1])
	mac, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl: %v", err)
	}
	if got := base64.RawURLEncoding.EncodeToString(mac); got != parts[2] {
		t.Errorf("signature %s, openssl says %s", parts[2], got)
	}
}

func TestMeetingSDKSignatureRefuses(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name        string
		key, secret string
		mn          int64
		role        int
		ttl         time.Duration
	}{
		{"no key", "", "s", 1, 0, 0},
		{"no secret", "k", "", 1, 0, 0},
		{"no meeting", "k", "s", 0, 0, 0},
		{"role 2", "k", "s", 1, 2, 0},
		{"too short", "k", "s", 1, 0, 10 * time.Minute},
		{"too long", "k", "s", 1, 0, 49 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := zoom.MeetingSDKSignature(tt.key, tt.secret, tt.mn, tt.role, now, tt.ttl)
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), "s3cr") {
				t.Errorf("error shows the secret: %v", err)
			}
		})
	}
}
