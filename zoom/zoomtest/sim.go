package zoomtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The simulator (see the package doc): the API's operations below /_sim,
// carried out as changes made in Zoom's web portal.

// simPrefix is the path below which the simulator is served.
const simPrefix = "/_sim"

// SimError is a change the simulator refused: the answer the API would
// give (status, Zoom's code and message).
type SimError struct {
	Status  int
	Code    int
	Message string
}

func (e *SimError) Error() string {
	return fmt.Sprintf("zoomtest: %d (code %d): %s", e.Status, e.Code, e.Message)
}

// serveSim answers a simulator request.
func (s *Server) serveSim(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.EscapedPath(), simPrefix)
	if rest == "/webhooks/validate" {
		if r.Method != http.MethodPost {
			writeAnswer(w, zoomError(http.StatusMethodNotAllowed, http.StatusMethodNotAllowed, "Method Not Allowed"))
			return
		}
		if err := s.ValidateWebhookURL(r.Context()); err != nil {
			writeAnswer(w, zoomError(http.StatusBadGateway, http.StatusBadGateway, err.Error()))
			return
		}
		writeAnswer(w, answer{status: http.StatusNoContent})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	writeAnswer(w, s.simAnswer(r, rest))
}

// simAnswer carries out a simulator request on the API route of rest (an
// escaped path below /v2).
func (s *Server) simAnswer(r *http.Request, rest string) answer {
	rt, params, a := matchPath(r.Method, rest)
	if rt == nil {
		return a
	}
	return rt.handle(s, &call{r: r, params: params, portal: true})
}

// sim makes a simulator request from Go: method on path (below /v2, query
// included) with body marshalled as JSON (nil for none). It returns the
// answer's body, or a *SimError.
func (s *Server) sim(method, path string, body any) ([]byte, error) {
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("zoomtest: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://zoomtest"+simPrefix+path, rd)
	if err != nil {
		return nil, fmt.Errorf("zoomtest: %w", err)
	}
	a := s.simAnswer(req, strings.SplitN(req.URL.EscapedPath(), simPrefix, 2)[1])
	var out []byte
	if a.body != nil {
		out, _ = json.Marshal(a.body)
	}
	if a.status >= 300 {
		e := &SimError{Status: a.status}
		if eb, ok := a.body.(errorBody); ok {
			e.Code, e.Message = eb.Code, eb.Message
		}
		return out, e
	}
	return out, nil
}

func meetingPathOf(id int64, occurrenceID string) string {
	p := "/meetings/" + strconv.FormatInt(id, 10)
	if occurrenceID != "" {
		p += "?occurrence_id=" + url.QueryEscape(occurrenceID)
	}
	return p
}

// SimCreateMeeting creates a meeting for the host (an id or email) as if in
// Zoom's web portal, from Zoom's create-meeting body, and sends
// meeting.created.
func (s *Server) SimCreateMeeting(host string, meeting map[string]any) (Meeting, error) {
	if meeting == nil {
		meeting = map[string]any{}
	}
	b, err := s.sim(http.MethodPost, "/users/"+url.PathEscape(host)+"/meetings", meeting)
	if err != nil {
		return Meeting{}, err
	}
	var created struct{ ID int64 }
	_ = json.Unmarshal(b, &created)
	m, _ := s.Meeting(created.ID)
	return m, nil
}

// SimUpdateMeeting changes a meeting (one occurrence of it, with
// occurrenceID) as if in Zoom's web portal: patch is Zoom's update body. It
// sends meeting.updated with what changed.
func (s *Server) SimUpdateMeeting(id int64, occurrenceID string, patch map[string]any) error {
	if patch == nil {
		patch = map[string]any{}
	}
	_, err := s.sim(http.MethodPatch, meetingPathOf(id, occurrenceID), patch)
	return err
}

// SimDeleteMeeting deletes a meeting (one occurrence of it, with
// occurrenceID) as if in Zoom's web portal, and sends meeting.deleted.
func (s *Server) SimDeleteMeeting(id int64, occurrenceID string) error {
	_, err := s.sim(http.MethodDelete, meetingPathOf(id, occurrenceID), nil)
	return err
}

// SimUpdateUser changes a user (first_name, last_name, type) as if in
// Zoom's web portal, and sends user.updated with what changed.
func (s *Server) SimUpdateUser(idOrEmail string, patch map[string]any) error {
	if patch == nil {
		patch = map[string]any{}
	}
	_, err := s.sim(http.MethodPatch, "/users/"+url.PathEscape(idOrEmail), patch)
	return err
}

// SimSetUserStatus activates or deactivates a user (action "activate" or
// "deactivate") as if in Zoom's web portal, and sends user.activated or
// user.deactivated.
func (s *Server) SimSetUserStatus(idOrEmail, action string) error {
	_, err := s.sim(http.MethodPut, "/users/"+url.PathEscape(idOrEmail)+"/status", map[string]any{"action": action})
	return err
}

// SimDeleteUser removes a user as if in Zoom's web portal: action "delete"
// sends user.deleted, "disassociate" (or "") user.disassociated.
func (s *Server) SimDeleteUser(idOrEmail, action string) error {
	p := "/users/" + url.PathEscape(idOrEmail)
	if action != "" {
		p += "?action=" + url.QueryEscape(action)
	}
	_, err := s.sim(http.MethodDelete, p, nil)
	return err
}
