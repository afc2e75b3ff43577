package messages

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // timezone checks work where the system has no zoneinfo (scratch images)
	"unicode/utf8"

	"github.com/zoomworker/zoom-worker/internal/jsonscan"
)

// Zoom's actions for a create-user job (CreateUserJob.Action).
const (
	UserActionCreate     = "create"
	UserActionAutoCreate = "autoCreate"
	UserActionCustCreate = "custCreate" // the default
	UserActionSSOCreate  = "ssoCreate"
)

// Zoom's actions for a delete-user job (DeleteUserJob.Action).
const (
	UserActionDisassociate = "disassociate" // the default
	UserActionDelete       = "delete"
)

// Limits the jobs are validated against. Where Zoom documents a limit (in
// its OpenAPI specs of the users and meetings APIs) the value is Zoom's.
const (
	maxZoomIDLen          = 64
	maxEmailLen           = 128 // user_info.email maxLength
	maxEmailLocalLen      = 64  // RFC 5321
	maxNameLen            = 64  // first_name, last_name maxLength
	maxDisplayNameLen     = 128 // display_name maxLength
	minUserPasswordLen    = 8
	maxUserPasswordLen    = 32
	maxTopicLen           = 200 // meeting topic maxLength (2025 spec)
	maxAgendaLen          = 2000
	maxMeetingPasswordLen = 10
	maxDuration           = 24 * 60 // minutes; Zoom documents none, a day is generous
	maxTimezoneLen        = 64
	maxRecurrenceEndTimes = 60 // 2025 spec (365 in older ones)
)

// Each job type's Subject, EffectiveAction (user jobs) and Validate follow;
// ID and AccountName come with its JobHeader, and jobTypes (decode.go) is
// the one list of the job types. Each Validate hands its checks, in the
// order of the job's fields, to cmp.Or: they all run (each is cheap) and
// the first problem is the one reported.

// Subject returns SubjectUserCreate.
func (j *CreateUserJob) Subject() string { return SubjectUserCreate }

// EffectiveAction returns the action Zoom is asked for: j.Action, or
// custCreate where it is empty.
func (j *CreateUserJob) EffectiveAction() string { return cmp.Or(j.Action, UserActionCustCreate) }

// Validate reports the first problem with the job as a *ValidationError, or
// nil. It checks job_id and account, that action is one of Zoom's, and
// user_info against Zoom's create-user limits: email required (a bare
// address of at most 128 characters), type required and one of 1 (basic),
// 2 (licensed), 4 (unassigned without meetings basic) or 99 (none, only with
// ssoCreate), names of at most 64 characters (display_name 128), and a
// password of 8–32 characters only with autoCreate, the one action that uses it.
func (j *CreateUserJob) Validate() error {
	if j == nil {
		return noJob()
	}
	u := &j.UserInfo
	return cmp.Or(j.check(),
		checkAction(j.Action, UserActionCustCreate, UserActionCreate, UserActionAutoCreate, UserActionCustCreate, UserActionSSOCreate),
		checkRequiredEmail("user_info.email", u.Email),
		j.checkUserType(),
		checkMaxLen("user_info.first_name", u.FirstName, maxNameLen),
		checkMaxLen("user_info.last_name", u.LastName, maxNameLen),
		checkMaxLen("user_info.display_name", u.DisplayName, maxDisplayNameLen),
		j.checkPassword())
}

// checkUserType checks user_info.type: required, and 99 only with ssoCreate.
func (j *CreateUserJob) checkUserType() error {
	const types = "1 (basic), 2 (licensed), 4 (unassigned without meetings basic) or 99 (none, only with action ssoCreate)"
	switch t := j.UserInfo.Type; t {
	case 0:
		return &ValidationError{Field: "user_info.type", Reason: "is required: " + types}
	case 1, 2, 4:
	case 99:
		if j.EffectiveAction() != UserActionSSOCreate {
			return &ValidationError{Field: "user_info.type", Reason: "99 (none) can only be set with action ssoCreate"}
		}
	default:
		return &ValidationError{Field: "user_info.type", Reason: fmt.Sprintf("must be %s, got %d", types, t)}
	}
	return nil
}

// checkPassword checks user_info.password: only with autoCreate, 8–32 characters.
func (j *CreateUserJob) checkPassword() error {
	pw := j.UserInfo.Password
	if pw == "" {
		return nil
	}
	if j.EffectiveAction() != UserActionAutoCreate {
		return &ValidationError{Field: "user_info.password", Reason: "is only used with action autoCreate; Zoom would ignore it"}
	}
	if n := utf8.RuneCountInString(pw); n < minUserPasswordLen || n > maxUserPasswordLen {
		return &ValidationError{Field: "user_info.password", Reason: fmt.Sprintf(
			"must be %d to %d characters long, got %d", minUserPasswordLen, maxUserPasswordLen, n)}
	}
	return nil
}

// Subject returns SubjectMeetingCreate.
func (j *CreateMeetingJob) Subject() string { return SubjectMeetingCreate }

// Validate reports the first problem with the job as a *ValidationError, or
// nil. It checks job_id and account, that user_id is a Zoom user id, an
// email address or "me", and the meeting against Zoom's create-meeting limits
// (see MeetingSpec.Validate). A meeting with no fields is valid: Zoom then
// uses its defaults.
func (j *CreateMeetingJob) Validate() error {
	if j == nil {
		return noJob()
	}
	return cmp.Or(j.check(), checkUserID("user_id", j.UserID), j.Meeting.validate("meeting", false))
}

// Subject returns SubjectMeetingUpdate.
func (j *UpdateMeetingJob) Subject() string { return SubjectMeetingUpdate }

// Validate reports the first problem with the job as a *ValidationError, or
// nil. It checks job_id and account, that meeting_id is positive, that
// occurrence_id (if any) is 1–64 characters of A-Z a-z 0-9 _ -, and that the
// meeting names at least one field to change, each within Zoom's limits (see
// MeetingSpec.Validate).
func (j *UpdateMeetingJob) Validate() error {
	if j == nil {
		return noJob()
	}
	return cmp.Or(j.check(), checkMeetingID(j.MeetingID), checkOccurrenceID(j.OccurrenceID), j.Meeting.validateChange("meeting"))
}

// Subject returns SubjectMeetingDelete.
func (j *DeleteMeetingJob) Subject() string { return SubjectMeetingDelete }

// Validate reports the first problem with the job as a *ValidationError, or
// nil: job_id and account, a positive meeting_id, and occurrence_id (if any)
// of 1–64 characters of A-Z a-z 0-9 _ -.
func (j *DeleteMeetingJob) Validate() error {
	if j == nil {
		return noJob()
	}
	return cmp.Or(j.check(), checkMeetingID(j.MeetingID), checkOccurrenceID(j.OccurrenceID))
}

// Subject returns SubjectUserDelete.
func (j *DeleteUserJob) Subject() string { return SubjectUserDelete }

// EffectiveAction returns the action Zoom is asked for: j.Action, or
// disassociate (Zoom's default) where it is empty.
func (j *DeleteUserJob) EffectiveAction() string { return cmp.Or(j.Action, UserActionDisassociate) }

// Validate reports the first problem with the job as a *ValidationError, or
// nil: job_id and account, user_id a Zoom user id, an email address or "me",
// action disassociate or delete (or empty), and transfer_email (if any) a
// bare email address.
func (j *DeleteUserJob) Validate() error {
	if j == nil {
		return noJob()
	}
	return cmp.Or(j.check(), checkUserID("user_id", j.UserID),
		checkAction(j.Action, UserActionDisassociate, UserActionDisassociate, UserActionDelete),
		checkOptionalEmail("transfer_email", j.TransferEmail))
}

// Validate reports the first problem with m as Zoom's create-meeting body,
// as a *ValidationError whose Field starts with "meeting.", or nil:
//
//   - topic at most 200 characters, agenda at most 2000;
//   - type 1 (instant), 2 (scheduled), 3 (recurring, no fixed time),
//     8 (recurring, fixed time) or 10 (screen share only); 0 leaves it out
//     and Zoom uses 2;
//   - start_time "yyyy-MM-ddTHH:mm:ssZ" (UTC), or "yyyy-MM-ddTHH:mm:ss" (local)
//     together with a timezone;
//   - timezone an IANA name such as America/Los_Angeles (or UTC);
//   - duration 0 to 1440 minutes;
//   - password at most 10 characters: letters, digits and ASCII symbols,
//     no spaces (Zoom's account settings may ask for more; Zoom checks that);
//   - recurrence only with type 8, an object whose type is 1 (daily),
//     2 (weekly) or 3 (monthly), with its other fields in Zoom's ranges;
//   - settings a JSON object.
//
// Fields in Extra are Zoom's to check.
func (m *MeetingSpec) Validate() error {
	return m.validate("meeting", false)
}

// validate checks m with field paths under path. In an update (update true)
// a zero type means "unchanged", so recurrence cannot be checked against it.
func (m *MeetingSpec) validate(path string, update bool) error {
	field := func(name string) string { return path + "." + name }
	if err := checkMaxLen(field("topic"), m.Topic, maxTopicLen); err != nil {
		return err
	}
	switch m.Type {
	case 0, 1, 2, 3, 8, 10:
	default:
		return &ValidationError{Field: field("type"), Reason: fmt.Sprintf(
			"must be 1 (instant), 2 (scheduled), 3 (recurring, no fixed time), 8 (recurring, fixed time) or 10 (screen share only), got %d", m.Type)}
	}
	if m.StartTime != "" {
		switch {
		case isTime(m.StartTime, layoutUTC):
		case isTime(m.StartTime, layoutLocal):
			if m.Timezone == "" {
				return &ValidationError{Field: field("timezone"), Reason: fmt.Sprintf(
					"is required with a local start_time (%q has no Z)", m.StartTime)}
			}
		default:
			return &ValidationError{Field: field("start_time"), Reason: fmt.Sprintf(
				`must be "yyyy-MM-ddTHH:mm:ssZ" (UTC) or "yyyy-MM-ddTHH:mm:ss" with a timezone, got %q`, clip(m.StartTime))}
		}
	}
	if m.Timezone != "" {
		if err := checkTimezone(field("timezone"), m.Timezone); err != nil {
			return err
		}
	}
	if m.Duration < 0 || m.Duration > maxDuration {
		return &ValidationError{Field: field("duration"), Reason: fmt.Sprintf(
			"must be 0 to %d minutes, got %d", maxDuration, m.Duration)}
	}
	if n := utf8.RuneCountInString(m.Password); n > maxMeetingPasswordLen {
		return &ValidationError{Field: field("password"), Reason: fmt.Sprintf(
			"must be at most %d characters, got %d", maxMeetingPasswordLen, n)}
	}
	for _, r := range m.Password {
		if r <= ' ' || r > '~' {
			return &ValidationError{Field: field("password"), Reason: fmt.Sprintf(
				"may hold only letters, digits and ASCII symbols such as @ - _ *, got %q", r)}
		}
	}
	if err := checkMaxLen(field("agenda"), m.Agenda, maxAgendaLen); err != nil {
		return err
	}
	if len(m.Recurrence) > 0 {
		if m.Type != 8 && (m.Type != 0 || !update) {
			typ := m.Type
			if typ == 0 {
				typ = 2
			}
			return &ValidationError{Field: field("recurrence"), Reason: fmt.Sprintf(
				"is only used with type 8 (recurring, fixed time), but type is %d", typ)}
		}
		if err := checkRecurrence(field("recurrence"), m.Recurrence); err != nil {
			return err
		}
	}
	if len(m.Settings) > 0 {
		if err := checkObject(field("settings"), m.Settings); err != nil {
			return err
		}
	}
	return nil
}

// validateChange checks m as an update's body: it names a field to change,
// and each is within Zoom's limits.
func (m *MeetingSpec) validateChange(path string) error {
	if m.isEmpty() {
		return &ValidationError{Field: path, Reason: "names no field to change"}
	}
	return m.validate(path, true)
}

// isEmpty reports whether m has no field at all: it would send Zoom "{}".
func (m *MeetingSpec) isEmpty() bool {
	return m.Topic == "" && m.Type == 0 && m.StartTime == "" && m.Duration == 0 &&
		m.Timezone == "" && m.Password == "" && m.Agenda == "" &&
		len(m.Recurrence) == 0 && len(m.Settings) == 0 && len(m.Extra) == 0
}

// Zoom's two start_time forms.
const (
	layoutUTC   = "2006-01-02T15:04:05Z"
	layoutLocal = "2006-01-02T15:04:05"
)

// isTime reports whether s is a valid time written exactly in layout
// (time.Parse alone would also take fractional seconds).
func isTime(s, layout string) bool {
	if len(s) != len(layout) {
		return false
	}
	_, err := time.Parse(layout, s)
	return err == nil
}

// knownZones caches the time zones that loaded: parsing tzdata for every
// job showed in the worker's profile. Only names that exist are kept, so
// the cache is bounded by the IANA database.
var knownZones sync.Map

func loadLocation(name string) (*time.Location, error) {
	if l, ok := knownZones.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err == nil {
		knownZones.Store(name, l)
	}
	return l, err
}

func checkTimezone(field, tz string) error {
	bad := len(tz) > maxTimezoneLen || tz == "Local"
	for _, r := range tz {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("/_+-", r)) {
			bad = true
			break
		}
	}
	if !bad {
		if _, err := loadLocation(tz); err != nil {
			bad = true
		}
	}
	if bad {
		return &ValidationError{Field: field, Reason: fmt.Sprintf(
			"must be an IANA time zone name such as America/Los_Angeles or UTC, got %q", clip(tz))}
	}
	return nil
}

// checkRecurrence checks Zoom's recurrence object: type required, and the
// other fields Zoom documents within their ranges. Unknown fields pass.
func checkRecurrence(path string, raw json.RawMessage) error {
	if err := checkObject(path, raw); err != nil {
		return err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return decodeFieldError(path, err)
	}
	field := func(name string) string { return path + "." + name }
	// num reads the integer member name, if present and not null.
	num := func(name string) (n int64, ok bool, err error) {
		v, present := m[name]
		if !present || string(v) == "null" {
			return 0, false, nil
		}
		if err := json.Unmarshal(v, &n); err != nil {
			return 0, false, decodeFieldError(field(name), err)
		}
		return n, true, nil
	}
	typ, ok, err := num("type")
	switch {
	case err != nil:
		return err
	case !ok:
		return &ValidationError{Field: field("type"), Reason: "is required: 1 (daily), 2 (weekly) or 3 (monthly)"}
	case typ < 1 || typ > 3:
		return &ValidationError{Field: field("type"), Reason: fmt.Sprintf("must be 1 (daily), 2 (weekly) or 3 (monthly), got %d", typ)}
	}
	inRange := func(name string, lo, hi int64) error {
		n, ok, err := num(name)
		if err != nil || !ok {
			return err
		}
		if n < lo || n > hi {
			return &ValidationError{Field: field(name), Reason: fmt.Sprintf("must be %d to %d, got %d", lo, hi, n)}
		}
		return nil
	}
	maxInterval := map[int64]int64{1: 99, 2: 50, 3: 10}[typ] // days, weeks, months
	if err := inRange("repeat_interval", 1, maxInterval); err != nil {
		return err
	}
	if err := inRange("monthly_day", 1, 31); err != nil {
		return err
	}
	if n, ok, err := num("monthly_week"); err != nil {
		return err
	} else if ok && (n < -1 || n == 0 || n > 4) {
		return &ValidationError{Field: field("monthly_week"), Reason: fmt.Sprintf("must be -1 (last week), 1, 2, 3 or 4, got %d", n)}
	}
	if err := inRange("monthly_week_day", 1, 7); err != nil {
		return err
	}
	if err := inRange("end_times", 0, maxRecurrenceEndTimes); err != nil {
		return err
	}
	if v, ok := m["weekly_days"]; ok && string(v) != "null" {
		var days string
		if err := json.Unmarshal(v, &days); err != nil {
			return decodeFieldError(field("weekly_days"), err)
		}
		if !isWeekdayList(days) {
			return &ValidationError{Field: field("weekly_days"), Reason: fmt.Sprintf(
				`must be days 1 (Sunday) to 7 (Saturday), comma-separated, such as "1,3", got %q`, clip(days))}
		}
	}
	if v, ok := m["end_date_time"]; ok && string(v) != "null" {
		var end string
		if err := json.Unmarshal(v, &end); err != nil {
			return decodeFieldError(field("end_date_time"), err)
		}
		if _, err := time.Parse(time.RFC3339, end); err != nil {
			return &ValidationError{Field: field("end_date_time"), Reason: fmt.Sprintf(
				`must be a UTC time such as "2017-11-25T12:00:00Z", got %q`, clip(end))}
		}
		if _, ok, _ := num("end_times"); ok {
			return &ValidationError{Field: field("end_date_time"), Reason: "cannot be used with end_times"}
		}
	}
	return nil
}

// isWeekdayList reports whether s is a comma-separated list of days 1 to 7.
func isWeekdayList(s string) bool {
	for d := range strings.SplitSeq(s, ",") {
		if len(d) != 1 || d[0] < '1' || d[0] > '7' {
			return false
		}
	}
	return true
}

// decodeFieldError is decodeError for a value decoded on its own, whose
// errors do not know the value's place in the job.
func decodeFieldError(field string, err error) error {
	ve := decodeError(err).(*ValidationError)
	ve.Field = field
	return ve
}

// checkObject checks that raw is a JSON object.
func checkObject(field string, raw json.RawMessage) error {
	t := bytes.TrimSpace(raw)
	if !jsonscan.Valid(t) {
		return &ValidationError{Field: field, Reason: "is not valid JSON"}
	}
	if t[0] != '{' {
		return &ValidationError{Field: field, Reason: "must be an object, got " + jsonKindOf(t[0])}
	}
	return nil
}

// noJob is what Validate says of a nil job.
func noJob() error { return &ValidationError{Reason: "no job"} }

// check checks the header every job's Validate begins with: job_id and
// account, where present, are tokens of the contract's alphabet and length.
func (h *JobHeader) check() error {
	if h.JobID != "" {
		if err := checkToken("job_id", h.JobID, MaxJobIDLen); err != nil {
			return err
		}
	}
	if h.Account != "" {
		if err := checkToken("account", h.Account, MaxAccountLen); err != nil {
			return err
		}
	}
	return nil
}

// The contract's alphabet of job ids and account names.
const (
	// TokenAlphabet names the characters of a job id or an account name.
	TokenAlphabet = "A-Z a-z 0-9 . _ : -"
	// MaxJobIDLen is the longest job id.
	MaxJobIDLen = 128
	// MaxAccountLen is the longest account name.
	MaxAccountLen = 64
)

// IsToken reports whether s is 1 to maxLen characters of TokenAlphabet.
func IsToken(s string, maxLen int) bool {
	return len(s) > 0 && len(s) <= maxLen && isToken(s, "._:-")
}

// IsJobID reports whether s is a valid job id: 1 to 128 characters of
// TokenAlphabet.
func IsJobID(s string) bool { return IsToken(s, MaxJobIDLen) }

// CheckJobID returns a *ValidationError naming field when id is not a valid
// job id.
func CheckJobID(field, id string) error { return checkToken(field, id, MaxJobIDLen) }

// checkToken checks that s is 1 to maxLen characters of TokenAlphabet.
func checkToken(field, s string, maxLen int) error {
	if !IsToken(s, maxLen) {
		return &ValidationError{Field: field, Reason: fmt.Sprintf(
			"must be 1 to %d characters of "+TokenAlphabet+", got %q", maxLen, clip(s))}
	}
	return nil
}

// isToken reports whether s holds only ASCII letters, digits and the bytes
// in extra.
func isToken(s, extra string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte(extra, c) >= 0) {
			return false
		}
	}
	return true
}

// checkUserID checks a Zoom userId path parameter: a Zoom user id (1 to 64
// characters of A-Z a-z 0-9 _ -), "me", or an email address.
func checkUserID(field, s string) error {
	if s == "" {
		return &ValidationError{Field: field, Reason: `is required: a Zoom user id, an email address or "me"`}
	}
	if strings.Contains(s, "@") {
		return checkEmail(field, s)
	}
	if len(s) > maxZoomIDLen || !isToken(s, "_-") {
		return &ValidationError{Field: field, Reason: fmt.Sprintf(
			`must be a Zoom user id (1 to %d characters of A-Z a-z 0-9 _ -), an email address or "me", got %q`, maxZoomIDLen, clip(s))}
	}
	return nil
}

// checkAction checks a user job's action: empty (Zoom's default, def) or
// one of actions, named in the error in that order.
func checkAction(action, def string, actions ...string) error {
	if action == "" || slices.Contains(actions, action) {
		return nil
	}
	names := strings.Join(actions[:len(actions)-1], ", ") + " or " + actions[len(actions)-1]
	return &ValidationError{Field: "action", Reason: fmt.Sprintf(
		"must be %s (default %s), got %q", names, def, clip(action))}
}

// checkRequired checks that a required string is there.
func checkRequired(field, s string) error {
	if s == "" {
		return &ValidationError{Field: field, Reason: "is required"}
	}
	return nil
}

// checkRequiredEmail checks a required email address: present, and as
// checkEmail says.
func checkRequiredEmail(field, s string) error {
	return cmp.Or(checkRequired(field, s), checkOptionalEmail(field, s))
}

// checkOptionalEmail checks an email address where one is given.
func checkOptionalEmail(field, s string) error {
	if s == "" {
		return nil
	}
	return checkEmail(field, s)
}

// checkEmail checks that s is a bare email address (no display name, no
// angle brackets) of at most 128 characters.
func checkEmail(field, s string) error {
	if n := utf8.RuneCountInString(s); n > maxEmailLen {
		return &ValidationError{Field: field, Reason: fmt.Sprintf("must be at most %d characters, got %d", maxEmailLen, n)}
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return &ValidationError{Field: field, Reason: fmt.Sprintf(
			"must be an email address such as james@bond.com, got %q", clip(s))}
	}
	if at := strings.LastIndexByte(s, '@'); at > maxEmailLocalLen {
		return &ValidationError{Field: field, Reason: fmt.Sprintf(
			"must have at most %d characters before the @, got %d", maxEmailLocalLen, at)}
	}
	return nil
}

func checkMeetingID(id int64) error {
	if id <= 0 {
		return &ValidationError{Field: "meeting_id", Reason: fmt.Sprintf(
			"is required: Zoom's meeting id, a positive integer, got %d", id)}
	}
	return nil
}

// checkOccurrenceID checks an optional occurrence_id (Zoom's are digits).
func checkOccurrenceID(s string) error {
	if s != "" && (len(s) > maxZoomIDLen || !isToken(s, "_-")) {
		return &ValidationError{Field: "occurrence_id", Reason: fmt.Sprintf(
			"must be 1 to %d characters of A-Z a-z 0-9 _ -, got %q", maxZoomIDLen, clip(s))}
	}
	return nil
}

// checkMaxLen checks that s has at most n characters (Unicode code points,
// as JSON Schema's maxLength counts them).
func checkMaxLen(field, s string, n int) error {
	if got := utf8.RuneCountInString(s); got > n {
		return &ValidationError{Field: field, Reason: fmt.Sprintf("must be at most %d characters, got %d", n, got)}
	}
	return nil
}

// Subject returns SubjectRegistrantAdd.
func (j *AddRegistrantJob) Subject() string { return SubjectRegistrantAdd }

// maxOccurrenceIDsLen bounds occurrence_ids: Zoom's recurring meetings have
// at most 60 occurrences (recurrence.end_times), each id 13 digits.
const maxOccurrenceIDsLen = 60 * 14

// Validate reports the first problem with the job as a *ValidationError, or
// nil: job_id and account, a positive meeting_id, occurrence_ids (if any) a
// comma-separated list of occurrence ids, and the registrant against Zoom's
// add-registrant limits: email required (a bare address of at most 128
// characters), first_name required, names of at most 64 characters.
func (j *AddRegistrantJob) Validate() error {
	if j == nil {
		return noJob()
	}
	r := &j.Registrant
	return cmp.Or(j.check(), checkMeetingID(j.MeetingID), checkOccurrenceIDs(j.OccurrenceIDs),
		checkRequiredEmail("registrant.email", r.Email),
		checkRequired("registrant.first_name", r.FirstName),
		checkMaxLen("registrant.first_name", r.FirstName, maxNameLen),
		checkMaxLen("registrant.last_name", r.LastName, maxNameLen))
}

// checkOccurrenceIDs checks an optional occurrence_ids: a comma-separated
// list of occurrence ids.
func checkOccurrenceIDs(ids string) error {
	if ids == "" {
		return nil
	}
	bad := len(ids) > maxOccurrenceIDsLen
	for _, id := range strings.Split(ids, ",") {
		bad = bad || id == "" || len(id) > maxZoomIDLen || !isToken(id, "_-")
	}
	if bad {
		return &ValidationError{Field: "occurrence_ids", Reason: fmt.Sprintf(
			"must be a comma-separated list of occurrence ids (1 to %d characters of A-Z a-z 0-9 _ - each, no spaces), at most %d characters, got %q",
			maxZoomIDLen, maxOccurrenceIDsLen, clip(ids))}
	}
	return nil
}
