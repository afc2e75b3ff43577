package signature_test

import (
	"testing"

	"github.com/zoomworker/zoom-worker/webhook/signature"
)

// The vectors are openssl's, not this package's:
//
//	printf %s 'v0:1700000000:{"event":"x"}' | openssl dgst -sha256 -hmac whsec-1
//	printf %s 'plain' | openssl dgst -sha256 -hmac whsec-1
func TestVectors(t *testing.T) {
	if got, want := signature.Event("whsec-1", "1700000000", []byte(`{"event":"x"}`)),
		"v0=c871ea1e5657faeb89de38e752940e8e302f6583fbebcc8f5d7be067dd48c24d"; got != want {
		t.Errorf("Event: got %q, want %q", got, want)
	}
	if got, want := signature.EncryptedToken("whsec-1", "plain"),
		"70b1aeb9582e34dbbc90c98a98540ec0aa496763b4e346ad360dd6dd951fe0b6"; got != want {
		t.Errorf("EncryptedToken: got %q, want %q", got, want)
	}
}
