package messages_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/zoomworker/zoom-worker/messages"
)

// A jobCase is one job body with the outcome DecodeJob must give it. The
// same tables check the JSON Schemas (schema_test.go): a case whose goOnly
// is set says why the schema cannot agree.
type jobCase struct {
	name    string
	subject string
	body    string
	// For a body that is not a valid job: the field DecodeJob must name and
	// a part of its reason. Both empty: the body is valid.
	wantField  string
	wantReason string
	goOnly     string
}

const (
	cu = messages.SubjectUserCreate
	cm = messages.SubjectMeetingCreate
	um = messages.SubjectMeetingUpdate
	dm = messages.SubjectMeetingDelete
	du = messages.SubjectUserDelete
	ar = messages.SubjectRegistrantAdd
)

// registrantBody is an add-registrant job for meeting 85746065432 whose
// registrant holds the given members.
func registrantBody(registrant string) string {
	return fmt.Sprintf(`{"job_id":"r-1","meeting_id":85746065432,"registrant":{%s}}`, registrant)
}

var rep = strings.Repeat

// userBody is a create-user job whose user_info holds the given members.
func userBody(action, userInfo string) string {
	if action != "" {
		return fmt.Sprintf(`{"job_id":"u-1","action":%q,"user_info":{%s}}`, action, userInfo)
	}
	return fmt.Sprintf(`{"job_id":"u-1","user_info":{%s}}`, userInfo)
}

// meetingBody is a create-meeting job for host james@bond.com whose meeting
// holds the given members.
func meetingBody(meeting string) string {
	return fmt.Sprintf(`{"job_id":"m-1","user_id":"james@bond.com","meeting":{%s}}`, meeting)
}

// updateBody is an update-meeting job for meeting 85746065432.
func updateBody(meeting string) string {
	return fmt.Sprintf(`{"job_id":"m-1-u","meeting_id":85746065432,"meeting":{%s}}`, meeting)
}

const weekly = `"type":8,"start_time":"2026-12-05T12:00:00Z","recurrence":{"type":2,%s}`

var validJobs = []jobCase{
	{name: "create user: minimal", subject: cu, body: `{"user_info":{"email":"a@example.com","type":1}}`},
	{name: "create user: create, licensed", subject: cu, body: userBody("create", `"email":"a@example.com","type":2`)},
	{name: "create user: unassigned without meetings", subject: cu, body: userBody("", `"email":"a@example.com","type":4`)},
	{name: "create user: ssoCreate with type 99", subject: cu, body: userBody("ssoCreate", `"email":"a@example.com","type":99`)},
	{name: "create user: autoCreate with password", subject: cu, body: userBody("autoCreate", `"email":"a@example.com","type":1,"password":"if42!LfH@"`)},
	{name: "create user: names at their limits", subject: cu, body: userBody("", `"email":"a@example.com","type":1,"first_name":"`+rep("é", 64)+`","last_name":"`+rep("b", 64)+`","display_name":"`+rep("c", 128)+`"`)},
	{name: "create user: email of 128 characters", subject: cu, body: userBody("", `"email":"`+rep("a", 64)+"@"+rep("b", 59)+`.com","type":1`)},
	{name: "create user: Zoom fields the worker does not know", subject: cu, body: userBody("", `"email":"a@example.com","type":1,"feature":{"zoom_phone":true},"plan_united_type":"1"`)},
	{name: "create user: job_id of 128 characters", subject: cu, body: `{"job_id":"` + rep("a.b:c_d-", 16) + `","user_info":{"email":"a@example.com","type":1}}`},
	{name: "create user: account", subject: cu, body: `{"account":"sales-eu","user_info":{"email":"a@example.com","type":1}}`},
	{name: "create meeting: host me, no meeting", subject: cm, body: `{"user_id":"me"}`},
	{name: "create meeting: host by Zoom id, empty meeting", subject: cm, body: `{"user_id":"wAdE5hVfRUy3k305kAjBmA","meeting":{}}`},
	{name: "create meeting: local start time with timezone", subject: cm, body: meetingBody(`"type":2,"start_time":"2026-12-05T12:00:00","timezone":"Europe/Berlin"`)},
	{name: "create meeting: timezone UTC", subject: cm, body: meetingBody(`"start_time":"2026-12-05T12:00:00","timezone":"UTC"`)},
	{name: "create meeting: every type", subject: cm, body: meetingBody(`"type":10`)},
	{name: "create meeting: topic of 200 characters", subject: cm, body: meetingBody(`"topic":"` + rep("é", 200) + `"`)},
	{name: "create meeting: agenda of 2000 characters", subject: cm, body: meetingBody(`"agenda":"` + rep("a", 2000) + `"`)},
	{name: "create meeting: password of 10 symbols", subject: cm, body: meetingBody(`"password":"a1@-_*!#$%"`)},
	{name: "create meeting: duration of a day", subject: cm, body: meetingBody(`"duration":1440`)},
	{name: "create meeting: weekly recurrence", subject: cm, body: meetingBody(fmt.Sprintf(weekly, `"weekly_days":"1,3","repeat_interval":50,"end_times":60`))},
	{name: "create meeting: monthly recurrence", subject: cm, body: meetingBody(`"type":8,"recurrence":{"type":3,"monthly_week":-1,"monthly_week_day":7,"end_date_time":"2027-04-02T15:59:00Z"}`)},
	{name: "create meeting: settings and unknown fields", subject: cm, body: meetingBody(`"settings":{"waiting_room":true,"new_zoom_setting":{"a":[1,2]}},"tracking_fields":[{"field":"f","value":"v"}],"template_id":"Dv4YdINdTk+Z5RToadh5ug=="`)},
	{name: "update meeting: occurrence", subject: um, body: `{"meeting_id":85746065432,"occurrence_id":"1648194360000","meeting":{"duration":30}}`},
	{name: "update meeting: recurrence without type", subject: um, body: updateBody(`"recurrence":{"type":1,"repeat_interval":99}`)},
	{name: "update meeting: an unknown field only", subject: um, body: updateBody(`"pre_schedule":false`)},
	{name: "update meeting: largest meeting id", subject: um, body: `{"meeting_id":9223372036854775807,"meeting":{"topic":"x"}}`},
	{name: "delete meeting: minimal", subject: dm, body: `{"meeting_id":85746065432}`},
	{name: "delete meeting: occurrence and reminders", subject: dm, body: `{"job_id":"d-1","meeting_id":1,"occurrence_id":"1648194360000","schedule_for_reminder":false,"cancel_meeting_reminder":true}`},
	{name: "delete user: minimal", subject: du, body: `{"user_id":"wAdE5hVfRUy3k305kAjBmA"}`},
	{name: "delete user: disassociate", subject: du, body: `{"user_id":"james@bond.com","action":"disassociate","transfer_email":"m@mi6.gov.uk","transfer_webinar":false}`},
	{name: "add registrant: minimal", subject: ar, body: `{"meeting_id":85746065432,"registrant":{"email":"jill@example.com","first_name":"Jill"}}`},
	{name: "add registrant: occurrences and Zoom's other fields", subject: ar,
		body: `{"job_id":"r-1","account":"school-b","meeting_id":1,"occurrence_ids":"1648194360000,1648367160000","registrant":{"email":"jill@example.com","first_name":"Jill","last_name":"Valentine","custom_questions":[{"title":"Role","value":"Medic"}],"auto_approve":true}}`},
	{name: "add registrant: one occurrence", subject: ar, body: `{"meeting_id":1,"occurrence_ids":"1648194360000","registrant":{"email":"a@example.com","first_name":"A"}}`},
	{name: "add registrant: names at Zoom's limit", subject: ar, body: registrantBody(`"email":"a@example.com","first_name":"` + rep("é", 64) + `","last_name":"` + rep("b", 64) + `"`)},
}

var invalidJobs = []jobCase{
	// job_id and account, the same for every job
	{name: "job_id too long", subject: cu, body: `{"job_id":"` + rep("a", 129) + `","user_info":{"email":"a@example.com","type":1}}`, wantField: "job_id", wantReason: "1 to 128 characters"},
	{name: "job_id with a space", subject: cm, body: `{"job_id":"m 7","user_id":"me"}`, wantField: "job_id", wantReason: "A-Z a-z 0-9 . _ : -"},
	{name: "job_id with a slash", subject: dm, body: `{"job_id":"m/7","meeting_id":1}`, wantField: "job_id"},
	{name: "job_id not a string", subject: du, body: `{"job_id":7,"user_id":"me"}`, wantField: "job_id", wantReason: "must be a string, got number"},
	{name: "account too long", subject: um, body: `{"account":"` + rep("a", 65) + `","meeting_id":1,"meeting":{"topic":"x"}}`, wantField: "account", wantReason: "1 to 64 characters"},
	{name: "account with a space", subject: cu, body: `{"account":"sales eu","user_info":{"email":"a@example.com","type":1}}`, wantField: "account"},

	// create user
	{name: "create user: unknown action", subject: cu, body: userBody("delete", `"email":"a@example.com","type":1`), wantField: "action", wantReason: `must be create, autoCreate, custCreate or ssoCreate (default custCreate), got "delete"`},
	{name: "create user: action not a string", subject: cu, body: `{"action":1,"user_info":{"email":"a@example.com","type":1}}`, wantField: "action", wantReason: "must be a string"},
	{name: "create user: no user_info", subject: cu, body: `{"job_id":"u-1"}`, wantField: "user_info.email", wantReason: "required"},
	{name: "create user: user_info an array", subject: cu, body: `{"user_info":[]}`, wantField: "user_info", wantReason: "must be an object, got array"},
	{name: "create user: no email", subject: cu, body: userBody("", `"type":1`), wantField: "user_info.email", wantReason: "required"},
	{name: "create user: email without @", subject: cu, body: userBody("", `"email":"james","type":1`), wantField: "user_info.email", wantReason: "email address"},
	{name: "create user: email with a display name", subject: cu, body: userBody("", `"email":"James Bond <james@bond.com>","type":1`), wantField: "user_info.email"},
	{name: "create user: email of 129 characters", subject: cu, body: userBody("", `"email":"`+rep("a", 64)+"@"+rep("b", 60)+`.com","type":1`), wantField: "user_info.email", wantReason: "at most 128"},
	{name: "create user: email local part of 65 characters", subject: cu, body: userBody("", `"email":"`+rep("a", 65)+`@example.com","type":1`), wantField: "user_info.email", wantReason: "before the @"},
	{name: "create user: email a number", subject: cu, body: userBody("", `"email":42,"type":1`), wantField: "user_info.email", wantReason: "must be a string"},
	{name: "create user: email in another case is not email", subject: cu, body: userBody("", `"Email":"a@example.com","type":1`), wantField: "user_info.email", wantReason: "required"},
	{name: "create user: no type", subject: cu, body: userBody("", `"email":"a@example.com"`), wantField: "user_info.type", wantReason: "required"},
	{name: "create user: type 3 (on-prem, gone from Zoom's spec)", subject: cu, body: userBody("", `"email":"a@example.com","type":3`), wantField: "user_info.type", wantReason: "got 3"},
	{name: "create user: type 99 without ssoCreate", subject: cu, body: userBody("custCreate", `"email":"a@example.com","type":99`), wantField: "user_info.type", wantReason: "ssoCreate"},
	{name: "create user: type 99 with the default action", subject: cu, body: userBody("", `"email":"a@example.com","type":99`), wantField: "user_info.type", wantReason: "ssoCreate"},
	{name: "create user: type a string", subject: cu, body: userBody("", `"email":"a@example.com","type":"1"`), wantField: "user_info.type", wantReason: "must be an integer, got string"},
	{name: "create user: type a fraction", subject: cu, body: userBody("", `"email":"a@example.com","type":1.5`), wantField: "user_info.type", wantReason: "must be an integer"},
	{name: "create user: first_name of 65 characters", subject: cu, body: userBody("", `"email":"a@example.com","type":1,"first_name":"`+rep("é", 65)+`"`), wantField: "user_info.first_name", wantReason: "at most 64"},
	{name: "create user: last_name of 65 characters", subject: cu, body: userBody("", `"email":"a@example.com","type":1,"last_name":"`+rep("b", 65)+`"`), wantField: "user_info.last_name"},
	{name: "create user: display_name of 129 characters", subject: cu, body: userBody("", `"email":"a@example.com","type":1,"display_name":"`+rep("c", 129)+`"`), wantField: "user_info.display_name"},
	{name: "create user: password without autoCreate", subject: cu, body: userBody("create", `"email":"a@example.com","type":1,"password":"if42!LfH@"`), wantField: "user_info.password", wantReason: "autoCreate"},
	{name: "create user: password of 7 characters", subject: cu, body: userBody("autoCreate", `"email":"a@example.com","type":1,"password":"aB3defg"`), wantField: "user_info.password", wantReason: "8 to 32"},
	{name: "create user: password of 33 characters", subject: cu, body: userBody("autoCreate", `"email":"a@example.com","type":1,"password":"`+rep("aB3", 11)+`"`), wantField: "user_info.password", wantReason: "8 to 32"},
	{name: "create user: unknown top-level field", subject: cu, body: `{"priority":1,"user_info":{"email":"a@example.com","type":1}}`, wantField: "priority", wantReason: "unknown field"},
	{name: "create user: job_id in another case", subject: cu, body: `{"Job_ID":"u-1","user_info":{"email":"a@example.com","type":1}}`, wantField: "Job_ID", wantReason: "unknown field"},

	// create meeting
	{name: "create meeting: no user_id", subject: cm, body: `{"meeting":{"topic":"x"}}`, wantField: "user_id", wantReason: "required"},
	{name: "create meeting: user_id with a space", subject: cm, body: `{"user_id":"james bond"}`, wantField: "user_id", wantReason: "Zoom user id"},
	{name: "create meeting: user_id a bad email", subject: cm, body: `{"user_id":"james@"}`, wantField: "user_id", wantReason: "email address"},
	{name: "create meeting: user_id of 65 characters", subject: cm, body: `{"user_id":"` + rep("a", 65) + `"}`, wantField: "user_id"},
	{name: "create meeting: user_id a number", subject: cm, body: `{"user_id":12345}`, wantField: "user_id", wantReason: "must be a string"},
	{name: "create meeting: meeting a string", subject: cm, body: `{"user_id":"me","meeting":"demo"}`, wantField: "meeting", wantReason: "must be an object, got string"},
	{name: "create meeting: topic of 201 characters", subject: cm, body: meetingBody(`"topic":"` + rep("é", 201) + `"`), wantField: "meeting.topic", wantReason: "at most 200 characters, got 201"},
	{name: "create meeting: agenda of 2001 characters", subject: cm, body: meetingBody(`"agenda":"` + rep("a", 2001) + `"`), wantField: "meeting.agenda", wantReason: "at most 2000"},
	{name: "create meeting: type 4", subject: cm, body: meetingBody(`"type":4`), wantField: "meeting.type", wantReason: "got 4"},
	{name: "create meeting: type -1", subject: cm, body: meetingBody(`"type":-1`), wantField: "meeting.type"},
	{name: "create meeting: type a huge number", subject: cm, body: meetingBody(`"type":1e400`), wantField: "meeting.type", wantReason: "out of range"},
	{name: "create meeting: type a boolean", subject: cm, body: meetingBody(`"type":true`), wantField: "meeting.type", wantReason: "must be an integer, got bool"},
	{name: "create meeting: start_time with a space", subject: cm, body: meetingBody(`"start_time":"2026-12-05 12:00:00Z"`), wantField: "meeting.start_time", wantReason: "yyyy-MM-ddTHH:mm:ssZ"},
	{name: "create meeting: start_time with an offset", subject: cm, body: meetingBody(`"start_time":"2026-12-05T12:00:00+01:00"`), wantField: "meeting.start_time"},
	{name: "create meeting: start_time with fractional seconds", subject: cm, body: meetingBody(`"start_time":"2026-12-05T12:00:00.000Z"`), wantField: "meeting.start_time"},
	{name: "create meeting: start_time without seconds", subject: cm, body: meetingBody(`"start_time":"2026-12-05T12:00Z"`), wantField: "meeting.start_time"},
	{name: "create meeting: start_time in month 13", subject: cm, body: meetingBody(`"start_time":"2026-13-05T12:00:00Z"`), wantField: "meeting.start_time", goOnly: "a pattern does not know the calendar"},
	{name: "create meeting: start_time on February 30", subject: cm, body: meetingBody(`"start_time":"2026-02-30T12:00:00Z"`), wantField: "meeting.start_time", goOnly: "a pattern does not know the calendar"},
	{name: "create meeting: local start_time without timezone", subject: cm, body: meetingBody(`"start_time":"2026-12-05T12:00:00"`), wantField: "meeting.timezone", wantReason: "required with a local start_time"},
	{name: "create meeting: unknown timezone", subject: cm, body: meetingBody(`"timezone":"Mars/Olympus_Mons"`), wantField: "meeting.timezone", wantReason: "IANA", goOnly: "a schema has no time zone database"},
	{name: "create meeting: timezone Local", subject: cm, body: meetingBody(`"timezone":"Local"`), wantField: "meeting.timezone", goOnly: "a schema has no time zone database"},
	{name: "create meeting: timezone with a space", subject: cm, body: meetingBody(`"timezone":"America/Los Angeles"`), wantField: "meeting.timezone"},
	{name: "create meeting: timezone a path", subject: cm, body: meetingBody(`"timezone":"../../etc/passwd"`), wantField: "meeting.timezone"},
	{name: "create meeting: negative duration", subject: cm, body: meetingBody(`"duration":-1`), wantField: "meeting.duration", wantReason: "0 to 1440"},
	{name: "create meeting: duration over a day", subject: cm, body: meetingBody(`"duration":1441`), wantField: "meeting.duration"},
	{name: "create meeting: duration a fraction", subject: cm, body: meetingBody(`"duration":1.5`), wantField: "meeting.duration", wantReason: "must be an integer, got 1.5"},
	{name: "create meeting: duration a string", subject: cm, body: meetingBody(`"duration":"45"`), wantField: "meeting.duration", wantReason: "must be an integer, got string"},
	{name: "create meeting: password of 11 characters", subject: cm, body: meetingBody(`"password":"12345678901"`), wantField: "meeting.password", wantReason: "at most 10"},
	{name: "create meeting: password with a space", subject: cm, body: meetingBody(`"password":"pass word"`), wantField: "meeting.password", wantReason: "ASCII symbols"},
	{name: "create meeting: password not ASCII", subject: cm, body: meetingBody(`"password":"pässwort"`), wantField: "meeting.password"},
	{name: "create meeting: recurrence with type 2", subject: cm, body: meetingBody(`"type":2,"recurrence":{"type":1}`), wantField: "meeting.recurrence", wantReason: "only used with type 8"},
	{name: "create meeting: recurrence without type", subject: cm, body: meetingBody(`"recurrence":{"type":1}`), wantField: "meeting.recurrence", wantReason: "type is 2"},
	{name: "create meeting: recurrence a string", subject: cm, body: meetingBody(`"type":8,"recurrence":"daily"`), wantField: "meeting.recurrence", wantReason: "must be an object"},
	{name: "create meeting: recurrence without its type", subject: cm, body: meetingBody(`"type":8,"recurrence":{"repeat_interval":1}`), wantField: "meeting.recurrence.type", wantReason: "required"},
	{name: "create meeting: recurrence type 4", subject: cm, body: meetingBody(`"type":8,"recurrence":{"type":4}`), wantField: "meeting.recurrence.type", wantReason: "got 4"},
	{name: "create meeting: recurrence type a string", subject: cm, body: meetingBody(`"type":8,"recurrence":{"type":"daily"}`), wantField: "meeting.recurrence.type", wantReason: "must be an integer, got string"},
	{name: "create meeting: weekly_days 8", subject: cm, body: meetingBody(fmt.Sprintf(weekly, `"weekly_days":"1,8"`)), wantField: "meeting.recurrence.weekly_days", wantReason: "comma-separated"},
	{name: "create meeting: weekly_days a number", subject: cm, body: meetingBody(fmt.Sprintf(weekly, `"weekly_days":1`)), wantField: "meeting.recurrence.weekly_days", wantReason: "must be a string"},
	{name: "create meeting: repeat_interval 0", subject: cm, body: meetingBody(fmt.Sprintf(weekly, `"repeat_interval":0`)), wantField: "meeting.recurrence.repeat_interval", wantReason: "1 to 50"},
	{name: "create meeting: weekly repeat_interval 51", subject: cm, body: meetingBody(fmt.Sprintf(weekly, `"repeat_interval":51`)), wantField: "meeting.recurrence.repeat_interval", wantReason: "1 to 50, got 51"},
	{name: "create meeting: monthly repeat_interval 11", subject: cm, body: meetingBody(`"type":8,"recurrence":{"type":3,"repeat_interval":11}`), wantField: "meeting.recurrence.repeat_interval", wantReason: "1 to 10"},
	{name: "create meeting: monthly_day 32", subject: cm, body: meetingBody(`"type":8,"recurrence":{"type":3,"monthly_day":32}`), wantField: "meeting.recurrence.monthly_day", wantReason: "1 to 31"},
	{name: "create meeting: monthly_week 0", subject: cm, body: meetingBody(`"type":8,"recurrence":{"type":3,"monthly_week":0,"monthly_week_day":1}`), wantField: "meeting.recurrence.monthly_week"},
	{name: "create meeting: monthly_week_day 8", subject: cm, body: meetingBody(`"type":8,"recurrence":{"type":3,"monthly_week":1,"monthly_week_day":8}`), wantField: "meeting.recurrence.monthly_week_day", wantReason: "1 to 7"},
	{name: "create meeting: end_times 61", subject: cm, body: meetingBody(fmt.Sprintf(weekly, `"end_times":61`)), wantField: "meeting.recurrence.end_times", wantReason: "0 to 60"},
	{name: "create meeting: end_date_time not a time", subject: cm, body: meetingBody(fmt.Sprintf(weekly, `"end_date_time":"tomorrow"`)), wantField: "meeting.recurrence.end_date_time", wantReason: "UTC time"},
	{name: "create meeting: end_times with end_date_time", subject: cm, body: meetingBody(fmt.Sprintf(weekly, `"end_times":2,"end_date_time":"2027-04-02T15:59:00Z"`)), wantField: "meeting.recurrence.end_date_time", wantReason: "cannot be used with end_times"},
	{name: "create meeting: settings an array", subject: cm, body: meetingBody(`"settings":[]`), wantField: "meeting.settings", wantReason: "must be an object, got an array"},
	{name: "create meeting: settings null", subject: cm, body: meetingBody(`"settings":null`), wantField: "meeting.settings", wantReason: "must be an object, got null"},
	{name: "create meeting: unknown top-level field", subject: cm, body: `{"user_id":"me","host":"james@bond.com"}`, wantField: "host", wantReason: "unknown field"},

	// update meeting
	{name: "update meeting: no meeting_id", subject: um, body: `{"meeting":{"topic":"x"}}`, wantField: "meeting_id", wantReason: "required"},
	{name: "update meeting: meeting_id 0", subject: um, body: `{"meeting_id":0,"meeting":{"topic":"x"}}`, wantField: "meeting_id", wantReason: "positive"},
	{name: "update meeting: negative meeting_id", subject: um, body: `{"meeting_id":-85746065432,"meeting":{"topic":"x"}}`, wantField: "meeting_id"},
	{name: "update meeting: meeting_id a string", subject: um, body: `{"meeting_id":"85746065432","meeting":{"topic":"x"}}`, wantField: "meeting_id", wantReason: "must be an integer, got string"},
	{name: "update meeting: meeting_id a fraction", subject: um, body: `{"meeting_id":8574606.5,"meeting":{"topic":"x"}}`, wantField: "meeting_id", wantReason: "must be an integer"},
	{name: "update meeting: meeting_id beyond int64", subject: um, body: `{"meeting_id":9223372036854775808,"meeting":{"topic":"x"}}`, wantField: "meeting_id", wantReason: "out of range"},
	{name: "update meeting: no meeting", subject: um, body: `{"meeting_id":85746065432}`, wantField: "meeting", wantReason: "no field to change"},
	{name: "update meeting: empty meeting", subject: um, body: updateBody(``), wantField: "meeting", wantReason: "no field to change"},
	{name: "update meeting: occurrence_id with a space", subject: um, body: `{"meeting_id":1,"occurrence_id":"16 48","meeting":{"topic":"x"}}`, wantField: "occurrence_id"},
	{name: "update meeting: topic null would be dropped", subject: um, body: updateBody(`"topic":null,"duration":30`), wantField: "meeting.topic", wantReason: "leave the field out"},
	{name: "update meeting: empty agenda would be dropped", subject: um, body: updateBody(`"agenda":"","duration":30`), wantField: "meeting.agenda", goOnly: "the schema allows an empty agenda, as Zoom's does"},
	{name: "update meeting: duration 0 would be dropped", subject: um, body: updateBody(`"duration":0`), wantField: "meeting.duration", goOnly: "the schema allows duration 0, as Zoom's does"},
	{name: "update meeting: recurrence with type 2", subject: um, body: updateBody(`"type":2,"recurrence":{"type":1}`), wantField: "meeting.recurrence", wantReason: "only used with type 8"},
	{name: "update meeting: topic of 201 characters", subject: um, body: updateBody(`"topic":"` + rep("x", 201) + `"`), wantField: "meeting.topic"},
	{name: "update meeting: local start_time without timezone", subject: um, body: updateBody(`"start_time":"2026-12-05T12:00:00"`), wantField: "meeting.timezone"},
	{name: "update meeting: unknown top-level field", subject: um, body: `{"meeting_id":1,"topic":"x","meeting":{"topic":"x"}}`, wantField: "topic", wantReason: "unknown field"},

	// delete meeting
	{name: "delete meeting: no meeting_id", subject: dm, body: `{"job_id":"d-1"}`, wantField: "meeting_id", wantReason: "required"},
	{name: "delete meeting: occurrence_id too long", subject: dm, body: `{"meeting_id":1,"occurrence_id":"` + rep("1", 65) + `"}`, wantField: "occurrence_id"},
	{name: "delete meeting: reminder a string", subject: dm, body: `{"meeting_id":1,"schedule_for_reminder":"yes"}`, wantField: "schedule_for_reminder", wantReason: "must be a boolean, got string"},
	{name: "delete meeting: a meeting object", subject: dm, body: `{"meeting_id":1,"meeting":{}}`, wantField: "meeting", wantReason: "unknown field"},

	// delete user
	{name: "delete user: no user_id", subject: du, body: `{"action":"delete"}`, wantField: "user_id", wantReason: "required"},
	{name: "delete user: unknown action", subject: du, body: `{"user_id":"me","action":"remove"}`, wantField: "action", wantReason: `must be disassociate or delete (default disassociate), got "remove"`},
	{name: "delete user: bad transfer_email", subject: du, body: `{"user_id":"me","transfer_email":"m at mi6"}`, wantField: "transfer_email", wantReason: "email address"},
	{name: "delete user: transfer_meeting a string", subject: du, body: `{"user_id":"me","transfer_meeting":"true"}`, wantField: "transfer_meeting", wantReason: "must be a boolean"},
	{name: "delete user: unknown top-level field", subject: du, body: `{"user_id":"me","force":true}`, wantField: "force", wantReason: "unknown field"},

	// add registrant
	{name: "add registrant: no meeting_id", subject: ar, body: `{"registrant":{"email":"a@example.com","first_name":"A"}}`, wantField: "meeting_id", wantReason: "required"},
	{name: "add registrant: no registrant", subject: ar, body: `{"meeting_id":1}`, wantField: "registrant.email", wantReason: "required"},
	{name: "add registrant: no email", subject: ar, body: registrantBody(`"first_name":"A"`), wantField: "registrant.email", wantReason: "required"},
	{name: "add registrant: bad email", subject: ar, body: registrantBody(`"email":"Jill <jill@example.com>","first_name":"A"`), wantField: "registrant.email", wantReason: "email address"},
	{name: "add registrant: no first_name", subject: ar, body: registrantBody(`"email":"a@example.com"`), wantField: "registrant.first_name", wantReason: "required"},
	{name: "add registrant: empty first_name", subject: ar, body: registrantBody(`"email":"a@example.com","first_name":""`), wantField: "registrant.first_name", wantReason: "required"},
	{name: "add registrant: first_name too long", subject: ar, body: registrantBody(`"email":"a@example.com","first_name":"` + rep("a", 65) + `"`), wantField: "registrant.first_name", wantReason: "at most 64"},
	{name: "add registrant: last_name too long", subject: ar, body: registrantBody(`"email":"a@example.com","first_name":"A","last_name":"` + rep("a", 65) + `"`), wantField: "registrant.last_name", wantReason: "at most 64"},
	{name: "add registrant: occurrence_ids with a space", subject: ar, body: `{"meeting_id":1,"occurrence_ids":"1648194360000, 1648367160000","registrant":{"email":"a@example.com","first_name":"A"}}`, wantField: "occurrence_ids", wantReason: "comma-separated"},
	{name: "add registrant: occurrence_ids with an empty id", subject: ar, body: `{"meeting_id":1,"occurrence_ids":"1648194360000,","registrant":{"email":"a@example.com","first_name":"A"}}`, wantField: "occurrence_ids"},
	{name: "add registrant: occurrence_ids a list", subject: ar, body: `{"meeting_id":1,"occurrence_ids":["1"],"registrant":{"email":"a@example.com","first_name":"A"}}`, wantField: "occurrence_ids", wantReason: "must be a string"},
	{name: "add registrant: registrant a string", subject: ar, body: `{"meeting_id":1,"registrant":"jill@example.com"}`, wantField: "registrant", wantReason: "must be an object"},
	{name: "add registrant: unknown top-level field", subject: ar, body: `{"meeting_id":1,"registrant":{"email":"a@example.com","first_name":"A"},"email":"a@example.com"}`, wantField: "email", wantReason: "unknown field"},
}

func TestDecodeJobAcceptsValidJobs(t *testing.T) {
	for _, tc := range validJobs {
		t.Run(tc.name, func(t *testing.T) {
			job, err := messages.DecodeJob(tc.subject, []byte(tc.body))
			if err != nil {
				t.Fatalf("DecodeJob(%s) = %v, want a job", tc.body, err)
			}
			if got := job.Subject(); got != tc.subject {
				t.Errorf("Subject() = %q, want %q", got, tc.subject)
			}
		})
	}
}

func TestDecodeJobRejectsInvalidJobs(t *testing.T) {
	for _, tc := range invalidJobs {
		t.Run(tc.name, func(t *testing.T) {
			job, err := messages.DecodeJob(tc.subject, []byte(tc.body))
			if err == nil {
				t.Fatalf("DecodeJob(%.200s) = %+v, nil; want an error on %s", tc.body, job, tc.wantField)
			}
			var ve *messages.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("DecodeJob error %v (%T) is not a *ValidationError", err, err)
			}
			if ve.Field != tc.wantField {
				t.Errorf("Field = %q, want %q (error: %v)", ve.Field, tc.wantField, err)
			}
			if !strings.Contains(ve.Reason, tc.wantReason) {
				t.Errorf("Reason = %q, want it to contain %q", ve.Reason, tc.wantReason)
			}
		})
	}
}

// TestValidateWithoutDecoding checks Validate on jobs a Go publisher builds.
func TestValidateWithoutDecoding(t *testing.T) {
	tests := []struct {
		name      string
		job       messages.Job
		wantField string // "" for a valid job
	}{
		{"create user", &messages.CreateUserJob{UserInfo: messages.UserInfo{Email: "a@example.com", Type: 1}}, ""},
		{"create user without email", &messages.CreateUserJob{UserInfo: messages.UserInfo{Type: 1}}, "user_info.email"},
		{"create meeting", &messages.CreateMeetingJob{UserID: "me", Meeting: messages.MeetingSpec{Topic: "x"}}, ""},
		{"create meeting with invalid settings JSON", &messages.CreateMeetingJob{UserID: "me", Meeting: messages.MeetingSpec{Settings: []byte("{")}}, "meeting.settings"},
		{"update meeting with an Extra field only", &messages.UpdateMeetingJob{MeetingID: 1, Meeting: messages.MeetingSpec{Extra: map[string]json.RawMessage{"pre_schedule": json.RawMessage("true")}}}, ""},
		{"update meeting without a field", &messages.UpdateMeetingJob{MeetingID: 1}, "meeting"},
		{"delete meeting", &messages.DeleteMeetingJob{MeetingID: 1}, ""},
		{"delete user", &messages.DeleteUserJob{UserID: "me"}, ""},
		{"nil create user", (*messages.CreateUserJob)(nil), ""},
		{"nil delete user", (*messages.DeleteUserJob)(nil), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.job.Validate()
			isNil := strings.HasPrefix(tc.name, "nil ")
			switch {
			case isNil:
				var ve *messages.ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("Validate() on a nil job = %v, want a *ValidationError", err)
				}
			case tc.wantField == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tc.wantField != "":
				var ve *messages.ValidationError
				if !errors.As(err, &ve) || ve.Field != tc.wantField {
					t.Fatalf("Validate() = %v, want a *ValidationError on %s", err, tc.wantField)
				}
			}
		})
	}
}

func TestEffectiveAction(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"create user, empty", (&messages.CreateUserJob{}).EffectiveAction(), "custCreate"},
		{"create user, ssoCreate", (&messages.CreateUserJob{Action: "ssoCreate"}).EffectiveAction(), "ssoCreate"},
		{"delete user, empty", (&messages.DeleteUserJob{}).EffectiveAction(), "disassociate"},
		{"delete user, delete", (&messages.DeleteUserJob{Action: "delete"}).EffectiveAction(), "delete"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: EffectiveAction() = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestJobAccessors(t *testing.T) {
	tests := []struct {
		job         messages.Job
		wantSubject string
	}{
		{&messages.CreateUserJob{JobHeader: messages.JobHeader{JobID: "j", Account: "a"}}, messages.SubjectUserCreate},
		{&messages.CreateMeetingJob{JobHeader: messages.JobHeader{JobID: "j", Account: "a"}}, messages.SubjectMeetingCreate},
		{&messages.UpdateMeetingJob{JobHeader: messages.JobHeader{JobID: "j", Account: "a"}}, messages.SubjectMeetingUpdate},
		{&messages.DeleteMeetingJob{JobHeader: messages.JobHeader{JobID: "j", Account: "a"}}, messages.SubjectMeetingDelete},
		{&messages.DeleteUserJob{JobHeader: messages.JobHeader{JobID: "j", Account: "a"}}, messages.SubjectUserDelete},
	}
	for _, tc := range tests {
		if got := tc.job.Subject(); got != tc.wantSubject {
			t.Errorf("%T.Subject() = %q, want %q", tc.job, got, tc.wantSubject)
		}
		if got := tc.job.ID(); got != "j" {
			t.Errorf("%T.ID() = %q, want %q", tc.job, got, "j")
		}
		if got := tc.job.AccountName(); got != "a" {
			t.Errorf("%T.AccountName() = %q, want %q", tc.job, got, "a")
		}
	}
}

func TestIntegerReasons(t *testing.T) {
	tests := []struct {
		name, value, want string
	}{
		{"exponent", "1e2", "must be a whole number without fraction or exponent, got 1e2"},
		{"trailing zero fraction", "2.0", "must be a whole number without fraction or exponent, got 2.0"},
		{"fraction", "2.5", "must be an integer, got 2.5"},
		{"beyond int64", "1e19", "integer out of range: 1e19"},
		{"beyond float64", "1e400", "integer out of range: 1e400"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := messages.DecodeJob(cm, []byte(meetingBody(`"duration":`+tc.value)))
			var ve *messages.ValidationError
			if !errors.As(err, &ve) || ve.Field != "meeting.duration" || ve.Reason != tc.want {
				t.Errorf("DecodeJob with duration %s = %v, want meeting.duration: %s", tc.value, err, tc.want)
			}
		})
	}
}
