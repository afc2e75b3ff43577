package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// Event is the x-zm-signature Zoom sends with body at timestamp, the
// x-zm-request-timestamp header as sent: "v0=" + hex HMAC-SHA256 of
// "v0:{timestamp}:{body}", keyed by secret. A verifier compares it with
// the header in constant time (hmac.Equal).
func Event(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("v0:"))
	m.Write([]byte(timestamp))
	m.Write([]byte(":"))
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// EncryptedToken is the answer to Zoom's endpoint.url_validation challenge:
// hex HMAC-SHA256 of plainToken, keyed by secret.
func EncryptedToken(secret, plainToken string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(plainToken))
	return hex.EncodeToString(m.Sum(nil))
}
