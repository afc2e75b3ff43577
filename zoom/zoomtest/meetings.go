package zoomtest

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // meeting timezones resolve without the system's zoneinfo
)

// Meeting is a meeting in the fake, as GET /meetings/{meetingId} answers it.
type Meeting struct {
	ID        int64
	UUID      string
	HostID    string
	HostEmail string
	Topic     string
	Type      int
	// StartTime is RFC 3339 in UTC ("2026-12-05T12:00:00Z"); "" for a
	// recurring meeting with no fixed time (type 3).
	StartTime string
	Duration  int
	Timezone  string
	JoinURL   string
	StartURL  string
	Password  string
	Agenda    string
	CreatedAt string
	// Raw is the whole JSON body GET /meetings/{meetingId} answers.
	Raw json.RawMessage
}

// meeting is a stored meeting.
type meeting struct {
	seq               int // creation order
	id                int64
	uuid              string
	hostID, hostEmail string
	topic             string
	typ               int
	start             time.Time // zero for type 3
	duration          int
	timezone          string
	agenda            string
	createdAt         time.Time
	password          string // "" for none
	h323Password      string
	encryptedPassword string
	zak               string
	settings          map[string]any
	recurrence        *recurrence // nil for none
	occurrences       []occurrence
	trackingFields    any // as sent; nil for none
}

// clone copies m deeply enough for an update to be tried on the copy.
func (m *meeting) clone() *meeting {
	c := *m
	c.settings = maps.Clone(m.settings)
	if m.recurrence != nil {
		r := *m.recurrence
		c.recurrence = &r
	}
	c.occurrences = slices.Clone(m.occurrences)
	return &c
}

func (m *meeting) joinURL() string {
	u := "https://zoom.us/j/" + strconv.FormatInt(m.id, 10)
	if m.password != "" {
		u += "?pwd=" + m.encryptedPassword
	}
	return u
}

func (m *meeting) startURL() string {
	return "https://zoom.us/s/" + strconv.FormatInt(m.id, 10) + "?zak=" + m.zak
}

// location is m's timezone (parseMeetingInput checked it; UTC should it
// not load).
func (m *meeting) location() *time.Location {
	if loc, err := time.LoadLocation(m.timezone); err == nil {
		return loc
	}
	return time.UTC
}

// end is when the meeting's last occurrence (or the meeting) ends; zero for
// a meeting without a fixed time.
func (m *meeting) end() time.Time {
	start, dur := m.start, m.duration
	if n := len(m.occurrences); n > 0 {
		start, dur = m.occurrences[n-1].start, m.occurrences[n-1].duration
	}
	if start.IsZero() {
		return time.Time{}
	}
	return start.Add(time.Duration(dur) * time.Minute)
}

// body is the meeting as Zoom answers a create or a get. occ, when not nil,
// is the occurrence asked for: its start_time and duration are the answer's.
func (m *meeting) body(occ *occurrence) map[string]any {
	b := map[string]any{
		"uuid":         m.uuid,
		"id":           m.id,
		"host_id":      m.hostID,
		"host_email":   m.hostEmail,
		"topic":        m.topic,
		"type":         m.typ,
		"status":       "waiting",
		"duration":     m.duration,
		"timezone":     m.timezone,
		"created_at":   formatTime(m.createdAt),
		"start_url":    m.startURL(),
		"join_url":     m.joinURL(),
		"settings":     m.settings,
		"pre_schedule": false,
	}
	if !m.start.IsZero() {
		b["start_time"] = formatTime(m.start)
	}
	if occ != nil {
		b["start_time"], b["duration"] = formatTime(occ.start), occ.duration
	}
	if m.agenda != "" {
		b["agenda"] = m.agenda
	}
	if m.password != "" {
		b["password"] = m.password
		b["h323_password"] = m.h323Password
		b["pstn_password"] = m.h323Password
		b["encrypted_password"] = m.encryptedPassword
	}
	if m.recurrence != nil {
		b["recurrence"] = m.recurrence.body()
	}
	if len(m.occurrences) > 0 {
		b["occurrences"] = mapSlice(m.occurrences, occurrence.body)
	}
	if m.trackingFields != nil {
		b["tracking_fields"] = m.trackingFields
	}
	return b
}

// listFields are the fields of body that an element of GET
// /users/{userId}/meetings has: no password, no start_url, no settings.
var listFields = []string{"uuid", "id", "host_id", "topic", "type", "start_time", "duration", "timezone",
	"created_at", "join_url", "agenda"}

// listItem is the meeting as an element of GET /users/{userId}/meetings.
func (m *meeting) listItem() map[string]any {
	b := m.body(nil)
	item := make(map[string]any, len(listFields))
	for _, k := range listFields {
		if v, ok := b[k]; ok {
			item[k] = v
		}
	}
	return item
}

// export is m as the exported Meeting.
func (m *meeting) export() Meeting {
	raw, _ := json.Marshal(m.body(nil))
	out := Meeting{
		ID: m.id, UUID: m.uuid, HostID: m.hostID, HostEmail: m.hostEmail, Topic: m.topic,
		Type: m.typ, Duration: m.duration, Timezone: m.timezone, JoinURL: m.joinURL(),
		StartURL: m.startURL(), Password: m.password, Agenda: m.agenda,
		CreatedAt: formatTime(m.createdAt), Raw: raw,
	}
	if !m.start.IsZero() {
		out.StartTime = formatTime(m.start)
	}
	return out
}

// Meetings returns every meeting in the account, in the order they were
// created.
func (s *Server) Meetings() []Meeting {
	return s.meetingsWhere(func(*meeting) bool { return true })
}

// MeetingsForHost returns the meetings hosted by the user with this id or
// email ("me" is the account's first user), in the order they were created;
// none for an unknown user.
func (s *Server) MeetingsForHost(idOrEmail string) []Meeting {
	s.mu.Lock()
	u := s.findUserLocked(idOrEmail)
	s.mu.Unlock()
	if u == nil {
		return nil
	}
	return s.meetingsWhere(func(m *meeting) bool { return m.hostID == u.ID })
}

// Meeting returns the meeting with this id, and whether there is one.
func (s *Server) Meeting(id int64) (Meeting, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.meetings[id]
	if m == nil {
		return Meeting{}, false
	}
	return m.export(), true
}

func (s *Server) meetingsWhere(keep func(*meeting) bool) []Meeting {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ms []*meeting
	for _, m := range s.meetings {
		if keep(m) {
			ms = append(ms, m)
		}
	}
	slices.SortFunc(ms, func(a, b *meeting) int { return a.seq - b.seq })
	return mapSlice(ms, (*meeting).export)
}

// meetingInput is what a create or update body sets; nil pointers are
// fields the body leaves out.
type meetingInput struct {
	topic, startTime, timezone, agenda, password *string
	typ, duration                                *int
	defaultPassword                              *bool
	settings                                     map[string]any
	recurrence                                   *recurrence
	trackingFields                               any
}

var meetingTypes = []int64{1, 2, 3, 8, 10}

// parseMeetingInput checks a create or update body against Zoom's schema.
// A field that breaks it is answered with 400, code 300, "Validation
// Failed." and the field; a bad password with "Invalid parameter: password.".
func parseMeetingInput(obj map[string]any) (meetingInput, *answer) {
	var in meetingInput
	var errs []fieldError
	invalid := func(field, msg string) { errs = append(errs, fieldError{Field: field, Message: msg}) }
	str := func(key string, maxRunes int) *string {
		v, present, ok := strField(obj, key)
		switch {
		case !ok:
			invalid(key, "Invalid field.")
		case !present:
		case len([]rune(v)) > maxRunes:
			invalid(key, "Length must be less than or equal to "+strconv.Itoa(maxRunes)+".")
		default:
			return &v
		}
		return nil
	}
	in.topic = str("topic", 200)
	in.agenda = str("agenda", 2000)
	in.startTime = str("start_time", 64)
	in.timezone = str("timezone", 64)
	if tz := in.timezone; tz != nil && *tz != "" {
		if _, err := time.LoadLocation(*tz); err != nil {
			invalid("timezone", "Invalid field.")
		}
	}
	// num reads the integer member key, where the body has one, if fits
	// takes it.
	num := func(key string, fits func(int64) bool) *int {
		v, there := obj[key]
		if !there || v == nil {
			return nil
		}
		n, ok := asInt(v)
		if !ok || !fits(n) {
			invalid(key, "Invalid field.")
			return nil
		}
		i := int(n)
		return &i
	}
	in.typ = num("type", func(n int64) bool { return slices.Contains(meetingTypes, n) })
	in.duration = num("duration", func(n int64) bool { return n >= 0 && n <= 100_000 })
	if v, there := obj["default_password"]; there && v != nil {
		b, ok := asBool(v)
		if !ok {
			invalid("default_password", "Invalid field.")
		} else {
			in.defaultPassword = &b
		}
	}
	if v, there := obj["settings"]; there && v != nil {
		set, ok := v.(map[string]any)
		if !ok {
			invalid("settings", "Invalid field.")
		} else {
			norm, ferrs := normalizeSettings(set)
			errs = append(errs, ferrs...)
			in.settings = norm
		}
	}
	if v, there := obj["recurrence"]; there && v != nil {
		rec, ferrs := parseRecurrence(v)
		errs = append(errs, ferrs...)
		in.recurrence = rec
	}
	if v, there := obj["tracking_fields"]; there && v != nil {
		if _, ok := v.([]any); !ok {
			invalid("tracking_fields", "Invalid field.")
		} else {
			in.trackingFields = v
		}
	}
	if len(errs) > 0 {
		a := validationFailed(errs...)
		return in, &a
	}
	pw, present, ok := strField(obj, "password")
	if !ok || (present && !validMeetingPassword(pw)) {
		a := invalidParameter("password")
		return in, &a
	}
	if present {
		in.password = &pw
	}
	return in, nil
}

// validMeetingPassword: at most 10 characters, only letters, digits and
// "@", "-", "_", "*" (Zoom's default passcode rules).
func validMeetingPassword(pw string) bool {
	if len(pw) > 10 {
		return false
	}
	for _, c := range pw {
		if !strings.ContainsRune(alnum+"@-_*", c) {
			return false
		}
	}
	return true
}

// parseStart reads a start_time: "yyyy-MM-ddTHH:mm:ssZ" (or another RFC 3339
// offset) is absolute; "yyyy-MM-ddTHH:mm:ss" is local time in loc.
func parseStart(v string, loc *time.Location) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC().Truncate(time.Second), true
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// apply sets what in asks for on m (a copy being updated, or a new meeting),
// then works out its start, recurrence and occurrences. now is the time of
// the request. It returns the answer for a body that cannot be applied.
func (s *Server) apply(m *meeting, in meetingInput, now time.Time, creating bool) *answer {
	// Occurrences are worked out anew when what they follow changes; else an
	// update keeps them as they are (edited or deleted ones included).
	regen := creating || m.typ != 8 || in.startTime != nil || in.duration != nil ||
		in.timezone != nil || in.recurrence != nil
	if in.topic != nil {
		m.topic = *in.topic
	}
	if in.agenda != nil {
		m.agenda = *in.agenda
	}
	if in.duration != nil {
		m.duration = *in.duration
	}
	if in.typ != nil {
		m.typ = *in.typ
	}
	if in.timezone != nil && *in.timezone != "" {
		m.timezone = *in.timezone
	}
	if in.settings != nil {
		maps.Copy(m.settings, in.settings)
	}
	if in.trackingFields != nil {
		m.trackingFields = in.trackingFields
	}
	if in.recurrence != nil {
		m.recurrence = in.recurrence
	}
	switch {
	case in.password != nil && (*in.password != "" || !creating):
		s.setPasswordLocked(m, *in.password)
	case creating && (in.defaultPassword == nil || *in.defaultPassword):
		s.setPasswordLocked(m, s.randString(6, alnum))
	}

	loc := m.location()
	if in.startTime != nil && *in.startTime != "" {
		t, ok := parseStart(*in.startTime, loc)
		if !ok {
			a := invalidField("start_time")
			return &a
		}
		m.start = t
	}
	nowSec := now.UTC().Truncate(time.Second)
	switch m.typ {
	case 1: // instant: starts now
		m.start, m.recurrence, m.occurrences = nowSec, nil, nil
	case 3: // recurring with no fixed time: no start, no occurrences
		m.start, m.occurrences = time.Time{}, nil
		// Zoom has no registration for these: it keeps approval_type 2
		// whatever is sent (and a PATCH setting it changes nothing).
		m.settings["approval_type"] = int64(2)
	case 8:
		if m.recurrence == nil {
			a := validationFailed(fieldError{Field: "recurrence", Message: "Recurrence is required for a recurring meeting with a fixed time (type 8)."})
			return &a
		}
		if m.start.IsZero() {
			m.start = nowSec
		}
		if !regen && len(m.occurrences) > 0 {
			break
		}
		occs := m.recurrence.occurrences(m.start, loc, m.duration)
		if len(occs) == 0 {
			a := validationFailed(fieldError{Field: "recurrence.end_date_time", Message: "No occurrence falls before the end date."})
			return &a
		}
		m.occurrences = occs
		m.start = occs[0].start
	default: // 2, 10: scheduled; without a start_time it starts now
		m.recurrence, m.occurrences = nil, nil
		if m.start.IsZero() {
			m.start = nowSec
		}
	}
	return nil
}

// setPasswordLocked sets the passcode and what Zoom derives from it: the
// numeric H.323/PSTN passcode and the encrypted one in join_url.
func (s *Server) setPasswordLocked(m *meeting, pw string) {
	m.password = pw
	if pw == "" {
		m.h323Password, m.encryptedPassword = "", ""
		return
	}
	if _, err := strconv.ParseUint(pw, 10, 64); err == nil {
		m.h323Password = pw
	} else {
		m.h323Password = s.randString(6, "0123456789")
	}
	m.encryptedPassword = base64.RawURLEncoding.EncodeToString(s.randBytes(24))
}

// meetingWrite is the recipe of a create or update: the body is read (one
// that is no JSON object is answered at once), then, under s.mu, the path's
// user or meeting is found (find), the host's daily limit is taken (portal
// calls are not counted), and only then is a body that breaks Zoom's schema
// answered, as Zoom does; op carries out the rest. hostID names v's host;
// now is the time of the request.
func meetingWrite[T any](s *Server, c *call, find func(*call) (T, *answer), hostID func(T) string,
	op func(v T, in meetingInput, now time.Time) answer) answer {
	obj, bad := readObject(c.r)
	if bad != nil {
		return *bad
	}
	in, inErr := parseMeetingInput(obj)
	return onPath(s, c, find, func(v T) answer {
		now := s.now()
		if a, over := s.dailyLimitLocked(hostID(v), now); over && !c.portal {
			return a
		}
		if inErr != nil {
			return *inErr
		}
		return op(v, in, now)
	})
}

// createMeeting is POST /users/{userId}/meetings: 201 with the meeting.
func (s *Server) createMeeting(c *call) answer {
	hostID := func(u *user) string { return u.ID }
	return meetingWrite(s, c, s.userFromPathLocked, hostID, func(host *user, in meetingInput, now time.Time) answer {
		m := &meeting{
			hostID:    host.ID,
			hostEmail: host.Email,
			topic:     "Zoom Meeting",
			typ:       2,
			timezone:  defaultTimezone,
			createdAt: now.UTC().Truncate(time.Second),
			settings:  defaultSettings(),
		}
		if a := s.apply(m, in, now, true); a != nil {
			return *a
		}
		m.id = s.newMeetingIDLocked()
		m.uuid = base64.StdEncoding.EncodeToString(s.randBytes(16))
		m.zak = "eyJ" + s.randString(120, alnum)
		s.meetingSeq++
		m.seq = s.meetingSeq
		s.meetings[m.id] = m
		if !c.portal {
			s.countDailyLocked(host.ID, now)
			s.stats.MeetingsCreated++
		}
		s.emitLocked("meeting.created", s.eventPayloadLocked(s.operatorLocked(c, host), meetingEventObject(m)))
		return answer{status: http.StatusCreated, body: m.body(nil)}
	})
}

// newMeetingIDLocked picks an unused 11-digit meeting id.
func (s *Server) newMeetingIDLocked() int64 {
	for {
		id := 10_000_000_000 + s.rng.Int64N(90_000_000_000)
		if s.meetings[id] == nil {
			return id
		}
	}
}

// meetingFromPath resolves the {meetingId} path parameter.
func (s *Server) meetingFromPathLocked(c *call) (*meeting, *answer) {
	raw := c.params[0]
	id, err := strconv.ParseInt(raw, 10, 64)
	m := s.meetings[id]
	if err != nil || m == nil {
		a := meetingNotFound(raw)
		return nil, &a
	}
	return m, nil
}

func findOccurrence(m *meeting, id string) int {
	return slices.IndexFunc(m.occurrences, func(o occurrence) bool { return o.id == id })
}

// getMeeting is GET /meetings/{meetingId}[?occurrence_id=]: 200 with the
// meeting, start_url included.
func (s *Server) getMeeting(c *call) answer {
	return onPath(s, c, s.meetingFromPathLocked, func(m *meeting) answer {
		var occ *occurrence
		if oid := c.r.URL.Query().Get("occurrence_id"); oid != "" {
			i := findOccurrence(m, oid)
			if i < 0 {
				return invalidParameter("occurrence_id")
			}
			occ = &m.occurrences[i]
		}
		return answer{status: http.StatusOK, body: m.body(occ)}
	})
}

// updateMeeting is PATCH /meetings/{meetingId}[?occurrence_id=]: 204. The
// body's fields replace the meeting's (settings key by key); it counts
// against the host's daily create/update limit. With occurrence_id, only
// start_time and duration of that occurrence change (agenda and settings
// change for the whole meeting).
func (s *Server) updateMeeting(c *call) answer {
	hostID := func(m *meeting) string { return m.hostID }
	return meetingWrite(s, c, s.meetingFromPathLocked, hostID, func(m *meeting, in meetingInput, now time.Time) answer {
		upd := m.clone()
		oid := c.r.URL.Query().Get("occurrence_id")
		if oid != "" {
			i := findOccurrence(upd, oid)
			if i < 0 {
				return invalidParameter("occurrence_id")
			}
			o := &upd.occurrences[i]
			if in.startTime != nil && *in.startTime != "" {
				t, ok := parseStart(*in.startTime, upd.location())
				if !ok {
					return invalidField("start_time")
				}
				o.start = t
			}
			if in.duration != nil {
				o.duration = *in.duration
			}
			if in.agenda != nil {
				upd.agenda = *in.agenda
			}
			if in.settings != nil {
				maps.Copy(upd.settings, in.settings)
			}
		} else {
			if a := s.apply(upd, in, now, false); a != nil {
				return *a
			}
		}
		s.meetings[m.id] = upd
		if !c.portal {
			s.countDailyLocked(m.hostID, now)
			s.stats.MeetingsUpdated++
		}
		s.emitMeetingUpdatedLocked(c, m, upd, oid)
		return answer{status: http.StatusNoContent}
	})
}

// deleteMeeting is DELETE /meetings/{meetingId}[?occurrence_id=
// &schedule_for_reminder=&cancel_meeting_reminder=]: 204.
func (s *Server) deleteMeeting(c *call) answer {
	q := c.r.URL.Query()
	if bad := boolParams(q, "schedule_for_reminder", "cancel_meeting_reminder"); bad != nil {
		return *bad
	}
	return onPath(s, c, s.meetingFromPathLocked, func(m *meeting) answer {
		if oid := q.Get("occurrence_id"); oid != "" {
			i := findOccurrence(m, oid)
			if i < 0 {
				return invalidParameter("occurrence_id")
			}
			upd := m.clone()
			occ := upd.occurrences[i]
			upd.occurrences = slices.Delete(upd.occurrences, i, i+1)
			s.meetings[m.id] = upd
			s.emitMeetingDeletedLocked(c, m, &occ)
		} else {
			delete(s.meetings, m.id)
			delete(s.registrants, m.id)
			s.emitMeetingDeletedLocked(c, m, nil)
		}
		if !c.portal {
			s.stats.MeetingsDeleted++
		}
		return answer{status: http.StatusNoContent}
	})
}

var listTypes = []string{"scheduled", "live", "upcoming", "upcoming_meetings", "previous_meetings"}

// listMeetings is GET /users/{userId}/meetings?type=&page_size=
// &next_page_token=: one page of the host's meetings in creation order
// (see list.go for how pages work).
func (s *Server) listMeetings(c *call) answer {
	lq, bad := readListQuery(c.r.URL.Query(), "type", "scheduled", listTypes)
	if bad != nil {
		return *bad
	}

	return onPath(s, c, s.userFromPathLocked, func(host *user) answer {
		now := s.now()
		p, bad := nextPageLocked(s, s.pages, now, lq, host.ID+"\x00"+lq.filter,
			func() []int64 { return s.selectMeetingsLocked(host.ID, lq.filter, now) },
			func(id int64) (map[string]any, bool) {
				m := s.meetings[id]
				if m == nil || m.hostID != host.ID {
					return nil, false
				}
				return m.listItem(), true
			})
		if bad != nil {
			return *bad
		}
		b := p.body("meetings")
		b["page_number"] = p.number
		return answer{status: http.StatusOK, body: b}
	})
}

// selectMeetingsLocked lists the ids of a host's meetings of a list type,
// in creation order. Instant meetings (type 1) are never listed; no meeting
// is ever live.
func (s *Server) selectMeetingsLocked(hostID, typ string, now time.Time) []int64 {
	var ms []*meeting
	for _, m := range s.meetings {
		if m.hostID != hostID || m.typ == 1 {
			continue
		}
		end := m.end()
		switch typ {
		case "live":
			continue
		case "upcoming", "upcoming_meetings":
			if !end.IsZero() && end.Before(now) {
				continue
			}
		case "previous_meetings":
			if end.IsZero() || !end.Before(now) {
				continue
			}
		}
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b *meeting) int { return a.seq - b.seq })
	return mapSlice(ms, func(m *meeting) int64 { return m.id })
}

// Settings: what a new meeting has unless the request says otherwise, and
// the types and values Zoom allows for the settings the fake checks.

func defaultSettings() map[string]any {
	return map[string]any{
		"host_video":                           false,
		"participant_video":                    false,
		"cn_meeting":                           false,
		"in_meeting":                           false,
		"join_before_host":                     false,
		"jbh_time":                             0,
		"mute_upon_entry":                      false,
		"watermark":                            false,
		"use_pmi":                              false,
		"approval_type":                        2,
		"audio":                                "voip",
		"auto_recording":                       "none",
		"enforce_login":                        false,
		"enforce_login_domains":                "",
		"alternative_hosts":                    "",
		"alternative_hosts_email_notification": true,
		"alternative_host_update_polls":        false,
		"close_registration":                   false,
		"show_share_button":                    false,
		"allow_multiple_devices":               false,
		"registrants_confirmation_email":       true,
		"registrants_email_notification":       true,
		"waiting_room":                         false,
		"request_permission_to_unmute_participants": false,
		"meeting_authentication":                    false,
		"encryption_type":                           "enhanced_encryption",
		"approved_or_denied_countries_or_regions":   map[string]any{"enable": false},
		"breakout_room":                             map[string]any{"enable": false},
		"participant_focused_meeting":               false,
		"push_change_to_calendar":                   false,
		"show_join_info":                            false,
		"device_testing":                            false,
		"focus_mode":                                false,
		"private_meeting":                           false,
		"email_notification":                        true,
		"host_save_video_order":                     false,
		"sign_language_interpretation":              map[string]any{"enable": false},
		"email_in_attendee_report":                  false,
	}
}

var (
	intSettings = map[string][]int64{
		"approval_type":     {0, 1, 2},
		"registration_type": {1, 2, 3},
		"jbh_time":          {0, 5, 10, 15},
		"calendar_type":     {1, 2},
	}
	stringSettings = map[string][]string{
		"audio":           {"both", "telephony", "voip", "thirdParty"},
		"auto_recording":  {"local", "cloud", "none"},
		"encryption_type": {"enhanced_encryption", "e2ee"},
	}
)

// normalizeSettings checks the settings the fake knows (booleans sent as
// strings become booleans, numbers sent as strings numbers) and keeps the
// others as sent.
func normalizeSettings(in map[string]any) (map[string]any, []fieldError) {
	defaults := defaultSettings()
	out := make(map[string]any, len(in))
	var errs problems
	for k, v := range in {
		if allowed, ok := intSettings[k]; ok {
			n, ok := asInt(v)
			if !ok || !slices.Contains(allowed, n) {
				errs.invalid("settings." + k)
				continue
			}
			out[k] = n
			continue
		}
		if allowed, ok := stringSettings[k]; ok {
			s, ok := v.(string)
			if !ok || !slices.Contains(allowed, s) {
				errs.invalid("settings." + k)
				continue
			}
			out[k] = s
			continue
		}
		if _, isBool := defaults[k].(bool); isBool && v != nil {
			b, ok := asBool(v)
			if !ok {
				errs.invalid("settings." + k)
				continue
			}
			out[k] = b
			continue
		}
		out[k] = v
	}
	return out, errs
}
