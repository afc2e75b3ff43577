// Package signature is Zoom's webhook signing, written once: the
// x-zm-signature of an event and the encryptedToken that answers an
// endpoint.url_validation challenge, both a hex HMAC-SHA256 keyed by the
// Zoom app's secret token (https://developers.zoom.us/docs/api/webhooks/).
// The receiver (webhook/) verifies with it and the fake Zoom
// (zoom/zoomtest/) signs with it; it needs the standard library only, so
// the fake can use it without depending on NATS. Its tests hold it to
// vectors computed outside the code (openssl), so the formula cannot be
// wrong for both sides at once.
package signature
