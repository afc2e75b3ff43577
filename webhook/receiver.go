package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/internal/defaults"
	"github.com/zoomworker/zoom-worker/internal/streams"
	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/webhook/signature"
)

// Names fixed by the contract.
const (
	// Stream holds every accepted webhook (limits retention).
	Stream = "ZOOM_WEBHOOKS"
	// SubjectPrefix starts each webhook's subject; Zoom's event name follows.
	SubjectPrefix = "zoom.webhooks."
	// SubjectAll is the stream's subjects.
	SubjectAll = SubjectPrefix + ">"
	// Path is where Zoom posts webhooks.
	Path = "/zoom/webhook"
	// URLValidation is Zoom's challenge event; it is answered, not published.
	URLValidation = "endpoint.url_validation"
)

// Headers Zoom sends, and the one the receiver adds.
const (
	HeaderSignature = "x-zm-signature"
	HeaderTimestamp = "x-zm-request-timestamp"
	HeaderRequestID = "x-zm-request-id"
	// HeaderAccount names the zoom-worker account ("default", or an
	// accounts-file name) whose secret verified the webhook.
	HeaderAccount = "Zoomw-Account"
	// CETypePrefix starts each message's ce-type, followed by Zoom's event name.
	CETypePrefix = "us.zoom.webhook."
	// CESourcePrefix starts each message's ce-source, followed by Zoom's account id.
	CESourcePrefix = "urn:zoom:account:"
)

// Defaults of Config.
const (
	DefaultMaxBody        = 512 << 10
	DefaultMaxSkew        = 5 * time.Minute
	DefaultPublishTimeout = 2500 * time.Millisecond
	// DefaultDuplicateWindow covers Zoom's retries of one event: 3 retries
	// over about 85 minutes.
	DefaultDuplicateWindow = 2 * time.Hour
	DefaultMaxAge          = 7 * 24 * time.Hour
)

// Account is one Zoom app whose webhooks are accepted.
type Account struct {
	// Name is the zoom-worker account name (worker.DefaultAccount for the
	// default one); it goes into the Zoomw-Account header.
	Name string
	// ZoomAccountID is Zoom's account id, as payload.account_id carries it;
	// "" for the default account, which checks events naming no configured
	// account.
	ZoomAccountID string
	// SecretToken is the app's webhook secret token. Never logged.
	SecretToken string
}

// Config configures a Receiver.
type Config struct {
	// JetStream publishes accepted webhooks. Required.
	JetStream jetstream.JetStream
	// Default is the account that checks events whose payload.account_id
	// names no other configured account; a zero SecretToken means such
	// events are refused.
	Default Account
	// Others are more accounts, each checked with its own secret by
	// payload.account_id.
	Others []Account
	// MaxBody is the largest body accepted; 0 means DefaultMaxBody.
	MaxBody int64
	// MaxSkew is how far the signed timestamp may be from now; 0 means
	// DefaultMaxSkew (Zoom's 5 minutes).
	MaxSkew time.Duration
	// PublishTimeout bounds the wait for the stream's ack; 0 means
	// DefaultPublishTimeout, inside Zoom's 3 s.
	PublishTimeout time.Duration
	// Now nil means time.Now.
	Now func() time.Time
	// Logger nil means slog.Default().
	Logger *slog.Logger
}

// Receiver is the http.Handler of POST /zoom/webhook.
type Receiver struct {
	cfg       Config
	byAccount map[string]Account
	all       []Account
	log       *slog.Logger
}

// NewReceiver checks cfg and returns a Receiver. It errors when JetStream
// is nil or no account has a secret token.
func NewReceiver(cfg Config) (*Receiver, error) {
	if cfg.JetStream == nil {
		return nil, errors.New("webhook: Config.JetStream is required")
	}
	defaults.Set(&cfg.MaxBody, DefaultMaxBody)
	defaults.Set(&cfg.MaxSkew, DefaultMaxSkew)
	defaults.Set(&cfg.PublishTimeout, DefaultPublishTimeout)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	r := &Receiver{cfg: cfg, byAccount: map[string]Account{}, log: cfg.Logger.With("component", "webhook")}
	if cfg.Default.SecretToken != "" {
		r.all = append(r.all, cfg.Default)
	}
	for _, a := range cfg.Others {
		if a.SecretToken == "" {
			continue
		}
		if a.ZoomAccountID != "" {
			r.byAccount[a.ZoomAccountID] = a
		}
		r.all = append(r.all, a)
	}
	if len(r.all) == 0 {
		return nil, errors.New("webhook: no account has a webhook secret token")
	}
	return r, nil
}

// SetupStream creates ZOOM_WEBHOOKS, or updates it where it differs: limits
// retention, replicas copies, a duplicate window covering Zoom's retries.
func SetupStream(ctx context.Context, js jetstream.JetStream, replicas int) (jetstream.Stream, error) {
	defaults.Set(&replicas, 1)
	return streams.Ensure(ctx, js, jetstream.StreamConfig{
		Name:        Stream,
		Description: "Zoom webhooks as Zoom sent them, verified",
		Subjects:    []string{SubjectAll},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		Duplicates:  DefaultDuplicateWindow,
		MaxAge:      DefaultMaxAge,
		MaxMsgSize:  1 << 20, // a DefaultMaxBody body and its headers
	})
}

// eventName is a safe sequence of subject tokens: no wildcard, space or
// empty token, so a webhook cannot choose an arbitrary subject.
var eventName = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){0,7}$`)

const maxEventName = 128

// envelope is the part of a webhook body the receiver reads.
type envelope struct {
	Event   string `json:"event"`
	EventTS int64  `json:"event_ts"`
	Payload struct {
		AccountID  string          `json:"account_id"`
		PlainToken string          `json:"plainToken"`
		Object     json.RawMessage `json:"object"`
	} `json:"payload"`
}

// outcome is what one request came to, for its log line.
type outcome struct {
	status  int
	reason  string
	event   string
	id      string
	account string
}

// ServeHTTP implements http.Handler.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	start := r.cfg.Now()
	o := r.serve(w, req)
	level := slog.LevelInfo
	if o.status >= 500 {
		level = slog.LevelWarn
	}
	attrs := []any{"status", o.status, "event", o.event, "request_id", o.id, "account", o.account,
		"remote", req.RemoteAddr, "duration", time.Since(start)}
	if o.reason != "" {
		attrs = append(attrs, "reason", o.reason)
	}
	r.log.Log(req.Context(), level, "webhook", attrs...)
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) outcome {
	o := outcome{id: clip(req.Header.Get(HeaderRequestID), 128)}
	fail := func(status int, reason string) outcome {
		o.status, o.reason = status, reason
		http.Error(w, http.StatusText(status)+": "+reason, status)
		return o
	}
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return fail(http.StatusMethodNotAllowed, "only POST")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, r.cfg.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", r.cfg.MaxBody))
		}
		return fail(http.StatusBadRequest, "cannot read the body")
	}
	sig, ts := req.Header.Get(HeaderSignature), req.Header.Get(HeaderTimestamp)
	if sig == "" || ts == "" {
		return fail(http.StatusUnauthorized, "missing "+HeaderSignature+" or "+HeaderTimestamp)
	}
	if reason := r.checkTime(ts); reason != "" {
		return fail(http.StatusUnauthorized, reason)
	}
	// The account id is read before the signature is checked, only to pick
	// the secret; nothing else of an unverified body is used.
	var env envelope
	jsonErr := json.Unmarshal(body, &env)
	acct, ok := r.verify(sig, ts, body, env)
	if !ok {
		return fail(http.StatusUnauthorized, "signature does not match")
	}
	o.account = acct.Name
	if jsonErr != nil || !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
		return fail(http.StatusBadRequest, "body is not a JSON object")
	}
	o.event = clip(env.Event, maxEventName)
	if env.Event == URLValidation {
		if env.Payload.PlainToken == "" {
			return fail(http.StatusBadRequest, "url validation without payload.plainToken")
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"plainToken":     env.Payload.PlainToken,
			"encryptedToken": signature.EncryptedToken(acct.SecretToken, env.Payload.PlainToken),
		})
		o.status = http.StatusOK
		return o
	}
	if len(env.Event) > maxEventName || !eventName.MatchString(env.Event) {
		return fail(http.StatusBadRequest, "event name is not a sequence of A-Z a-z 0-9 _ - tokens")
	}
	if o.id == "" || strings.ContainsAny(o.id, " \t\r\n") {
		sum := sha256.Sum256(body)
		o.id = hex.EncodeToString(sum[:])
	}
	if err := r.publish(req.Context(), env, acct, o.id, body, req.Header); err != nil {
		return fail(http.StatusServiceUnavailable, "cannot store the event now; retry")
	}
	w.WriteHeader(http.StatusOK)
	o.status = http.StatusOK
	return o
}

// checkTime reads x-zm-request-timestamp (Unix seconds; milliseconds are
// accepted too) and says what is wrong with it, or "".
func (r *Receiver) checkTime(ts string) string {
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || n <= 0 {
		return "timestamp is not Unix seconds"
	}
	t := time.Unix(n, 0)
	if n > 1e12 {
		t = time.UnixMilli(n)
	}
	skew := r.cfg.Now().Sub(t)
	if skew < 0 {
		skew = -skew
	}
	if skew > r.cfg.MaxSkew {
		return fmt.Sprintf("timestamp more than %s from now", r.cfg.MaxSkew)
	}
	return ""
}

// verify checks the signature with the secret of the account the body
// names, else with the default account's. Zoom's URL validation names no
// account, so it is checked against every configured secret (each compare in
// constant time).
func (r *Receiver) verify(sig, ts string, body []byte, env envelope) (Account, bool) {
	check := func(a Account) bool {
		return hmac.Equal([]byte(sig), []byte(signature.Event(a.SecretToken, ts, body)))
	}
	if a, ok := r.byAccount[env.Payload.AccountID]; ok && env.Payload.AccountID != "" {
		return a, check(a)
	}
	if env.Event == URLValidation || r.cfg.Default.SecretToken == "" {
		for _, a := range r.all {
			if check(a) {
				return a, true
			}
		}
		return Account{}, false
	}
	return r.cfg.Default, check(r.cfg.Default)
}

// publish stores the webhook in ZOOM_WEBHOOKS and waits for the ack.
func (r *Receiver) publish(ctx context.Context, env envelope, acct Account, id string, body []byte, in http.Header) error {
	msg := nats.NewMsg(SubjectPrefix + env.Event)
	msg.Data = body
	h := msg.Header
	h.Set(messages.HeaderMsgID, id)
	h.Set(HeaderAccount, acct.Name)
	h.Set("ce-specversion", "1.0")
	h.Set("ce-id", id)
	h.Set("ce-type", CETypePrefix+env.Event)
	zoomAccount := env.Payload.AccountID
	if zoomAccount == "" {
		zoomAccount = acct.ZoomAccountID
	}
	if zoomAccount == "" {
		zoomAccount = "unknown"
	}
	h.Set("ce-source", CESourcePrefix+zoomAccount)
	when := r.cfg.Now()
	if env.EventTS > 0 {
		when = time.UnixMilli(env.EventTS)
	}
	h.Set("ce-time", when.UTC().Format(time.RFC3339Nano))
	if id := objectID(env.Payload.Object); id != "" {
		h.Set("ce-subject", id)
	}
	h.Set("Content-Type", "application/json")
	h["content-type"] = []string{"application/json"}
	// W3C trace context, where Zoom (or a proxy in front) sent it, flows on
	// as plain headers and as the CloudEvents tracing extension.
	for _, k := range []string{"traceparent", "tracestate"} {
		if v := in.Get(k); v != "" && len(v) <= 512 {
			h.Set(k, v)
			h.Set("ce-"+k, v)
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.PublishTimeout)
	defer cancel()
	_, err := r.cfg.JetStream.PublishMsg(ctx, msg)
	return err
}

// objectID is payload.object.id as text ("" where there is none).
func objectID(obj json.RawMessage) string {
	var o struct {
		ID json.Number `json:"id"`
	}
	if len(obj) == 0 || json.Unmarshal(obj, &o) != nil {
		var s struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(obj, &s) != nil {
			return ""
		}
		return clip(s.ID, 128)
	}
	return clip(o.ID.String(), 128)
}

// clip cuts a value Zoom (or whoever posts) controls to n bytes, on a
// character boundary: it becomes a NATS header and a log field.
func clip(s string, n int) string { return messages.Truncate(s, n, "") }
