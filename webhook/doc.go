// Package webhook receives Zoom's webhooks (event notifications) over HTTP
// and puts them on NATS JetStream, so that the rest of zoom-worker, and any
// other subscriber, can follow what changed in Zoom: a meeting edited or
// deleted in Zoom's web portal, a user deactivated.
//
// [Receiver] is an http.Handler for POST /zoom/webhook. It accepts a request
// only with a valid x-zm-signature: "v0=" followed by the hex HMAC-SHA256,
// keyed by the Zoom app's secret token, of "v0:{x-zm-request-timestamp}:{raw
// body}", with a timestamp within five minutes of now. The secret is the one
// of the account that the body's payload.account_id names, else the default
// one. Zoom's endpoint.url_validation challenge is answered at once with the
// plainToken and its hex HMAC-SHA256 (encryptedToken). Every other accepted
// event is published, body unchanged, to stream ZOOM_WEBHOOKS on subject
// "zoom.webhooks." + the event name, with Nats-Msg-Id set to x-zm-request-id
// (else the hex SHA-256 of the body) so that Zoom's retries of one event are
// stored once, and CloudEvents headers like the worker's own events. The
// answer is 200 only after the stream stored the event, 503 when it could not
// (Zoom retries 5xx answers), both within Zoom's 3 seconds.
//
//	405  not a POST
//	413  body larger than Config.MaxBody
//	401  signature or timestamp missing, malformed, wrong, or more than 5 minutes off
//	400  signed, but not a JSON object with a usable event name
//	503  NATS could not store it in time
//
// Each request is logged on one line (event, request id, account, status);
// no secret or signature is ever logged.
//
// The receiver listens on its own address (ZOOMW_WEBHOOK_ADDR): it faces the
// internet, and /metrics, /healthz and /readyz stay on the private one.
package webhook
