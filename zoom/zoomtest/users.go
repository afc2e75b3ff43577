package zoomtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// User is a user of the fake's account (a host).
type User struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	Type      int    `json:"type"`
}

// user is a stored user.
type user struct {
	User
	status    string // "active", or "pending" for action "create"
	createdAt time.Time
	pmi       int64
}

// defaultTimezone is every user's timezone, and a meeting's when the
// request names none.
const defaultTimezone = "UTC"

// body is the user as GET /users/{userId} answers it.
func (u *user) body(accountID string) map[string]any {
	b := map[string]any{
		"id":                   u.ID,
		"email":                u.Email,
		"type":                 u.Type,
		"status":               u.status,
		"pmi":                  u.pmi,
		"timezone":             defaultTimezone,
		"verified":             1,
		"created_at":           formatTime(u.createdAt),
		"user_created_at":      formatTime(u.createdAt),
		"language":             "en-US",
		"role_name":            "Member",
		"role_id":              "2",
		"use_pmi":              false,
		"personal_meeting_url": "https://zoom.us/j/" + strconv.FormatInt(u.pmi, 10),
		"login_types":          []int{100},
		"cms_user_id":          "",
		"jid":                  strings.ToLower(u.ID) + "@xmpp.zoom.us",
		"group_ids":            []string{},
		"im_group_ids":         []string{},
		"account_id":           accountID,
		"account_number":       10000001,
		"cluster":              "us06",
	}
	if u.FirstName != "" {
		b["first_name"] = u.FirstName
	}
	if u.LastName != "" {
		b["last_name"] = u.LastName
	}
	if name := u.displayName(); name != "" {
		b["display_name"] = name
	}
	return b
}

func (u *user) displayName() string { return strings.TrimSpace(u.FirstName + " " + u.LastName) }

// AddUser adds a user to the account as if it had been created with
// custCreate (no stats are counted) and returns it. If the email is already
// in the account, AddUser returns that user unchanged.
func (s *Server) AddUser(email, firstName, lastName string, typ int) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.userByEmail[strings.ToLower(email)]; u != nil {
		return u.User
	}
	return s.addUserLocked(email, firstName, lastName, typ, "active").User
}

func (s *Server) addUserLocked(email, first, last string, typ int, status string) *user {
	id := s.randID()
	for s.userByID[id] != nil {
		id = s.randID()
	}
	u := &user{
		User:      User{ID: id, Email: email, FirstName: first, LastName: last, Type: typ},
		status:    status,
		createdAt: s.now().UTC().Truncate(time.Second),
		pmi:       1_000_000_000 + s.rng.Int64N(9_000_000_000),
	}
	s.users = append(s.users, u)
	s.userByID[id] = u
	s.userByEmail[strings.ToLower(email)] = u
	return u
}

// Users returns the account's users in the order they were added.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return mapSlice(s.users, func(u *user) User { return u.User })
}

// findUserLocked resolves Zoom's userId path parameter: a user id, an email
// (case-insensitive) or "me" (the account's first user). It returns nil for
// no such user.
func (s *Server) findUserLocked(idOrEmail string) *user {
	if idOrEmail == "me" {
		if len(s.users) == 0 {
			return nil
		}
		return s.users[0]
	}
	if u := s.userByID[idOrEmail]; u != nil {
		return u
	}
	return s.userByEmail[strings.ToLower(idOrEmail)]
}

// userFromPathLocked resolves the {userId} path parameter, or answers
// Zoom's 404, code 1001.
func (s *Server) userFromPathLocked(c *call) (*user, *answer) {
	u := s.findUserLocked(c.params[0])
	if u == nil {
		a := userNotFound(c.params[0])
		return nil, &a
	}
	return u, nil
}

func (s *Server) removeUserLocked(u *user) {
	delete(s.userByID, u.ID)
	delete(s.userByEmail, strings.ToLower(u.Email))
	s.users = slices.DeleteFunc(s.users, func(x *user) bool { return x == u })
}

var userActions = []string{"create", "autoCreate", "custCreate", "ssoCreate"}

// createUser is POST /users: {"action", "user_info": {email, type,
// first_name, last_name, password, ...}} → 201 {id, first_name, last_name,
// email, type}.
func (s *Server) createUser(c *call) answer {
	obj, bad := readObject(c.r)
	if bad != nil {
		return *bad
	}
	var errs problems
	invalid := errs.invalid

	action, present, ok := strField(obj, "action")
	if !present || !ok || !slices.Contains(userActions, action) {
		invalid("action")
	}
	info, isObj := obj["user_info"].(map[string]any)
	if !isObj {
		invalid("user_info")
		return validationFailed(errs...)
	}
	email, present, ok := strField(info, "email")
	if !present || !ok || !validEmail(email) {
		invalid("user_info.email")
	}
	typ, typOK := asInt(info["type"])
	if !typOK || !slices.Contains([]int64{1, 2, 3, 4, 99}, typ) || (typ == 99 && action != "ssoCreate") {
		invalid("user_info.type")
	}
	first, _ := nameField(info, "user_info.", "first_name", invalid)
	last, _ := nameField(info, "user_info.", "last_name", invalid)
	if len(errs) > 0 {
		return validationFailed(errs...)
	}
	if action == "autoCreate" {
		pw, _, ok := strField(info, "password")
		if !ok || !validUserPassword(pw) {
			return zoomError(http.StatusBadRequest, codeInvalidParam, "Invalid parameter: password")
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.userByEmail[strings.ToLower(email)] != nil {
		return zoomError(http.StatusConflict, codeUserExists, `Email "`+email+`" has already been used.`)
	}
	status := "active"
	if action == "create" {
		status = "pending" // until the user accepts the emailed invitation
	}
	u := s.addUserLocked(email, first, last, int(typ), status)
	if !c.portal {
		s.stats.UsersCreated++
	}
	p := s.eventPayloadLocked(s.operatorLocked(c, nil), userEventObject(u))
	p["creation_type"] = action
	s.emitLocked("user.created", p)
	return answer{status: http.StatusCreated, body: u.User}
}

// getUser is GET /users/{userId}.
func (s *Server) getUser(c *call) answer {
	return onPath(s, c, s.userFromPathLocked, func(u *user) answer {
		return answer{status: http.StatusOK, body: u.body(s.accountID())}
	})
}

// deleteUser is DELETE /users/{userId}?action=disassociate|delete
// &transfer_email=&transfer_meeting=...: 204. The user's meetings go with
// it, unless transfer_email and transfer_meeting=true hand them to another
// user.
func (s *Server) deleteUser(c *call) answer {
	q := c.r.URL.Query()
	switch q.Get("action") {
	case "", "disassociate", "delete":
	default:
		return invalidField("action")
	}
	if bad := boolParams(q, "transfer_meeting", "transfer_webinar", "transfer_recording", "transfer_whiteboard", "encrypted_email"); bad != nil {
		return *bad
	}
	return onPath(s, c, s.userFromPathLocked, func(u *user) answer {
		var to *user
		if te := q.Get("transfer_email"); te != "" {
			if strings.EqualFold(te, u.Email) {
				return zoomError(http.StatusBadRequest, codeInvalidParam,
					"The transfer-to email address cannot be the same as the unlinked or deleted user's email address.")
			}
			if to = s.userByEmail[strings.ToLower(te)]; to == nil {
				return userNotFound(te)
			}
		}
		moveMeetings, _ := asBool(q.Get("transfer_meeting"))
		for mid, m := range s.meetings {
			if m.hostID != u.ID {
				continue
			}
			if to != nil && moveMeetings {
				m.hostID, m.hostEmail = to.ID, to.Email
				continue
			}
			delete(s.meetings, mid)
			delete(s.registrants, mid)
		}
		s.removeUserLocked(u)
		if !c.portal {
			s.stats.UsersDeleted++
		}
		event := "user.disassociated"
		if q.Get("action") == "delete" {
			event = "user.deleted"
		}
		s.emitLocked(event, s.eventPayloadLocked(s.operatorLocked(c, nil), userEventObject(u)))
		return answer{status: http.StatusNoContent}
	})
}

// updateUser is PATCH /users/{userId}: 204. It changes first_name,
// last_name and type (1, 2, 4 or 99); the other fields of Zoom's schema
// are accepted and left as they are. It sends user.updated with the
// fields that changed.
func (s *Server) updateUser(c *call) answer {
	obj, bad := readObject(c.r)
	if bad != nil {
		return *bad
	}
	var errs problems
	first, firstSet := nameField(obj, "", "first_name", errs.invalid)
	last, lastSet := nameField(obj, "", "last_name", errs.invalid)
	var typ int64
	typSet := obj["type"] != nil
	if typSet {
		var ok bool
		typ, ok = asInt(obj["type"])
		if !ok || !slices.Contains([]int64{1, 2, 4, 99}, typ) {
			errs.invalid("type")
		}
	}
	if len(errs) > 0 {
		return validationFailed(errs...)
	}
	return onPath(s, c, s.userFromPathLocked, func(u *user) answer {
		before := userEventObject(u)
		if firstSet {
			u.FirstName = first
		}
		if lastSet {
			u.LastName = last
		}
		if typSet {
			u.Type = int(typ)
		}
		if !c.portal {
			s.stats.UsersUpdated++
		}
		if obj, old := diffObjects(before, userEventObject(u), "id"); obj != nil {
			p := s.eventPayloadLocked(s.operatorLocked(c, nil), obj)
			p["old_object"] = old
			p["time_stamp"] = s.now().UnixMilli()
			s.emitLocked("user.updated", p)
		}
		return answer{status: http.StatusNoContent}
	})
}

// setUserStatus is PUT /users/{userId}/status {"action": "activate" |
// "deactivate"}: 204, and user.activated or user.deactivated. A
// deactivated user's status is "inactive".
func (s *Server) setUserStatus(c *call) answer {
	obj, bad := readObject(c.r)
	if bad != nil {
		return *bad
	}
	action, _, _ := strField(obj, "action")
	status := map[string]string{"activate": "active", "deactivate": "inactive"}[action]
	if status == "" {
		return invalidField("action")
	}
	return onPath(s, c, s.userFromPathLocked, func(u *user) answer {
		if u.status == status {
			return answer{status: http.StatusNoContent}
		}
		u.status = status
		if !c.portal {
			s.stats.UsersUpdated++
		}
		s.emitLocked("user."+action+"d", s.eventPayloadLocked(s.operatorLocked(c, nil), userEventObject(u)))
		return answer{status: http.StatusNoContent}
	})
}

// nameField reads a first_name or last_name (at most 64 characters) of
// obj; a bad one goes to invalid as prefix+key. present says whether obj
// has a good one.
func nameField(obj map[string]any, prefix, key string, invalid func(field string)) (v string, present bool) {
	v, present, ok := strField(obj, key)
	if !ok || len([]rune(v)) > 64 {
		invalid(prefix + key)
		return "", false
	}
	return v, present
}

func validEmail(e string) bool {
	if e == "" || len(e) > 128 || strings.ContainsAny(e, " \t\r\n<>") {
		return false
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e {
		return false
	}
	local, domain, ok := strings.Cut(e, "@")
	return ok && local != "" && strings.Contains(domain, ".") &&
		!strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// validUserPassword applies Zoom's basic password rules for autoCreate: 8 to
// 32 characters, with a lower-case letter, an upper-case letter and a digit.
// (Zoom also refuses one character repeated, "aaaaaaaa", or a run such as
// "12345678"; no password of the right mix can be either.)
func validUserPassword(pw string) bool {
	r := []rune(pw)
	if len(r) < 8 || len(r) > 32 {
		return false
	}
	var lower, upper, digit bool
	for _, c := range r {
		lower = lower || unicode.IsLower(c)
		upper = upper || unicode.IsUpper(c)
		digit = digit || unicode.IsDigit(c)
	}
	return lower && upper && digit
}

// formatTime is Zoom's time format: RFC 3339 in UTC, whole seconds, "Z".
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// Operations in progress on one user. Zoom refuses a write to a user while
// another is in progress on it (a POST /users creating it, a DELETE):
// 429 {"code": 429, "message": "Too many concurrent requests. A request to
// delete this user has already been made."}. Without SetOpLatency an
// operation takes no time, so this is only seen with one.

// createdUser names the user a POST /users creates.
func (s *Server) createdUser(c *call) (email, verb string) {
	raw, _ := io.ReadAll(c.r.Body)
	c.r.Body = io.NopCloser(bytes.NewReader(raw))
	var b struct {
		UserInfo struct {
			Email string `json:"email"`
		} `json:"user_info"`
	}
	_ = json.Unmarshal(raw, &b)
	return strings.ToLower(b.UserInfo.Email), "create"
}

// pathUser names the user of the {userId} path parameter (its email, or
// the parameter as sent when there is no such user yet) and what the
// request does to it.
func (s *Server) pathUser(c *call) (email, verb string) {
	s.mu.Lock()
	email = strings.ToLower(c.params[0])
	if u := s.findUserLocked(c.params[0]); u != nil {
		email = strings.ToLower(u.Email)
	}
	s.mu.Unlock()
	switch c.r.Method {
	case http.MethodDelete:
		verb = c.r.URL.Query().Get("action")
		if verb != "delete" {
			verb = "disassociate"
		}
	default:
		verb = "update"
	}
	return email, verb
}

// lockUser marks the user that rt writes as busy until release is called,
// or answers Zoom's 429 when another write to it is in progress.
func (s *Server) lockUser(c *call, rt *route) (release func(), a answer, busy bool) {
	if rt.userWrite == nil {
		return func() {}, answer{}, false
	}
	email, verb := rt.userWrite(s, c)
	if email == "" {
		return func() {}, answer{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if held, ok := s.busy[email]; ok {
		s.stats.UserBusy++
		return nil, zoomError(http.StatusTooManyRequests, http.StatusTooManyRequests,
			"Too many concurrent requests. A request to "+held+" this user has already been made."), true
	}
	s.busy[email] = verb
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.busy, email)
	}, answer{}, false
}

// SetOpLatency makes the operation op (Zoom's operationId: "userCreate",
// "userDelete", "userUpdate", "userStatus", "user", "meetingCreate",
// "meeting", "meetingUpdate", "meetingDelete", "meetings",
// "meetingRegistrantCreate", "meetingRegistrants") take d inside Zoom,
// before it is carried out, on top of Options.Latency (which delays every
// answer after the work). A user write that takes long holds its user:
// other writes to that user meanwhile are answered 429. 0 removes it.
func (s *Server) SetOpLatency(op string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d <= 0 {
		delete(s.opLatency, op)
		return
	}
	s.opLatency[op] = d
}

// waitOpLatency waits out op's latency. It does not stop when the client
// goes away: Zoom goes on with the work.
func (s *Server) waitOpLatency(op string) {
	s.mu.Lock()
	d := s.opLatency[op]
	s.mu.Unlock()
	if d > 0 {
		time.Sleep(d)
	}
}
