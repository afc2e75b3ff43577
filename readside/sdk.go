package readside

import (
	"context"
	"encoding/json"
	"time"

	"github.com/zoomworker/zoom-worker/zoom"
)

// SDKApp is a Zoom Meeting SDK app: its key (client id) and secret. The
// secret never leaves the process: answers carry only signatures.
type SDKApp struct {
	Key, Secret string
}

// SDKSignatureRequest is the body of a zoom.svc.meeting.sdk_signature request.
type SDKSignatureRequest struct {
	// MeetingID is the meeting (or webinar) number to join.
	MeetingID int64 `json:"meeting_id"`
	// Role is 0 to join as a participant, 1 to start or join as the host
	// (the SDK also needs the host's ZAK for that).
	Role int `json:"role"`
	// ExpiresIn is the signature's lifetime in seconds: 1800 to 172800
	// (Zoom's limits); 0 means 7200.
	ExpiresIn int `json:"expires_in,omitempty"`
	// Account "" means the default account.
	Account string `json:"account,omitempty"`
}

// SDKSignatureResponse answers zoom.svc.meeting.sdk_signature: what a
// Meeting SDK client passes to join (signature and sdkKey).
type SDKSignatureResponse struct {
	Signature string    `json:"signature"`
	SDKKey    string    `json:"sdk_key"`
	MeetingID int64     `json:"meeting_id"`
	Role      int       `json:"role"`
	ExpiresAt time.Time `json:"expires_at"`
}

// sdkSignature answers zoom.svc.meeting.sdk_signature with a Meeting SDK
// signature made from the account's SDK app. Nothing is asked of Zoom.
func (h *handlers) sdkSignature(_ context.Context, data []byte) (any, *apiError) {
	var req struct {
		MeetingID json.RawMessage `json:"meeting_id"`
		Role      *int            `json:"role"`
		ExpiresIn int             `json:"expires_in"`
		Account   string          `json:"account"`
	}
	if aerr := decode(data, &req, `{"meeting_id": 85746065432, "role": 0}`); aerr != nil {
		return nil, aerr
	}
	id, aerr := meetingID(req.MeetingID)
	if aerr != nil {
		return nil, aerr
	}
	if req.Role == nil || (*req.Role != zoom.SDKRoleParticipant && *req.Role != zoom.SDKRoleHost) {
		return nil, errorf(CodeBadRequest, "bad request: role is required: 0 to join as a participant, 1 to start or join as the host")
	}
	ttl := time.Duration(req.ExpiresIn) * time.Second
	if ttl != 0 && (ttl < zoom.SDKSignatureMinTTL || ttl > zoom.SDKSignatureMaxTTL) {
		return nil, errorf(CodeBadRequest, "bad request: expires_in must be %d to %d seconds (Zoom's limits), got %d",
			int(zoom.SDKSignatureMinTTL/time.Second), int(zoom.SDKSignatureMaxTTL/time.Second), req.ExpiresIn)
	}
	account, _, aerr := h.account(req.Account)
	if aerr != nil {
		return nil, aerr
	}
	app, ok := h.cfg.SDK[account]
	if !ok || app.Key == "" || app.Secret == "" {
		return nil, errorf(CodeUnavailable, "unavailable: no Meeting SDK app is configured for account %q (ZOOMW_SDK_KEY and ZOOMW_SDK_SECRET, or the accounts file's sdk_key and sdk_secret_env)", account)
	}
	sig, err := zoom.MeetingSDKSignature(app.Key, app.Secret, id, *req.Role, h.now(), ttl)
	if err != nil {
		return nil, errorf(CodeInternal, "cannot sign: %v", err)
	}
	return SDKSignatureResponse{Signature: sig.Token, SDKKey: app.Key, MeetingID: id, Role: *req.Role, ExpiresAt: sig.ExpiresAt}, nil
}
