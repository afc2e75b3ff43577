package zoom

import (
	"context"
	"encoding/json"
)

// Client calls Zoom's REST API v2. It is safe for concurrent use.
type Client struct {
	opts Options
}

// NewClient returns a Client. Options.Tokens is required.
func NewClient(opts Options) (*Client, error) { panic("TODO") }

// CreateUser is POST /users with {"action": action, "user_info": userInfo}.
// userInfo is marshalled as JSON as it is (unknown fields pass through).
func (c *Client) CreateUser(ctx context.Context, action string, userInfo any) (*User, error) {
	panic("TODO")
}

// GetUser is GET /users/{userId}; idOrEmail may be a user id or an email.
func (c *Client) GetUser(ctx context.Context, idOrEmail string) (*User, error) { panic("TODO") }

// CreateMeeting is POST /users/{userId}/meetings with body marshalled as JSON.
func (c *Client) CreateMeeting(ctx context.Context, userID string, body any) (*Meeting, error) {
	panic("TODO")
}

// GetMeeting is GET /meetings/{meetingId}.
func (c *Client) GetMeeting(ctx context.Context, meetingID int64) (*Meeting, error) {
	panic("TODO")
}

// ListMeetings is GET /users/{userId}/meetings: one page.
func (c *Client) ListMeetings(ctx context.Context, userID string, opts ListMeetingsOptions) (*MeetingList, error) {
	panic("TODO")
}

// UpdateMeeting is PATCH /meetings/{meetingId}[?occurrence_id=] (Zoom answers 204).
func (c *Client) UpdateMeeting(ctx context.Context, meetingID int64, occurrenceID string, body any) error {
	panic("TODO")
}

// DeleteMeeting is DELETE /meetings/{meetingId} (Zoom answers 204).
func (c *Client) DeleteMeeting(ctx context.Context, meetingID int64, opts DeleteMeetingOptions) error {
	panic("TODO")
}

// DeleteUser is DELETE /users/{userId} (Zoom answers 204).
func (c *Client) DeleteUser(ctx context.Context, userID string, opts DeleteUserOptions) error {
	panic("TODO")
}

var _ = json.RawMessage{}
