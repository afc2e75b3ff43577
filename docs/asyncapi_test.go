package docs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
)

const asyncAPIFile = "asyncapi.yaml"

// jobSubjects and eventSubjects are every subject the document must
// describe: what the worker consumes and what it publishes.
var (
	jobSubjects = []string{
		messages.SubjectUserCreate, messages.SubjectMeetingCreate, messages.SubjectMeetingUpdate,
		messages.SubjectMeetingDelete, messages.SubjectUserDelete, messages.SubjectRegistrantAdd,
	}
	eventSubjects = []string{
		messages.SubjectUserCreated, messages.SubjectMeetingCreated, messages.SubjectMeetingUpdated,
		messages.SubjectMeetingDeleted, messages.SubjectUserDeleted, messages.SubjectJobFailed,
		messages.SubjectJobDeferred, messages.SubjectRegistrantAdded, messages.SubjectJobConflict,
	}
)

// asyncAPI is the document as generic JSON, with its file URL for resolving
// references.
type asyncAPI struct {
	doc  map[string]any
	json []byte
	url  string // file:// URL of asyncapi.yaml
}

func loadAsyncAPI(t *testing.T) *asyncAPI {
	t.Helper()
	b, err := os.ReadFile(asyncAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		t.Fatalf("%s: %v", asyncAPIFile, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(j, &doc); err != nil {
		t.Fatalf("%s: %v", asyncAPIFile, err)
	}
	abs, err := filepath.Abs(asyncAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	return &asyncAPI{doc: doc, json: j, url: (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()}
}

// pointer resolves a local reference such as "#/components/messages/x".
func (a *asyncAPI) pointer(ref string) (any, error) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("%q is not a local reference", ref)
	}
	var cur any = a.doc
	for _, tok := range strings.Split(ref[2:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: %q is not an object", ref, tok)
		}
		if cur, ok = m[tok]; !ok {
			return nil, fmt.Errorf("%s: no %q", ref, tok)
		}
	}
	return cur, nil
}

// deref follows local $refs until it reaches an object without one.
func (a *asyncAPI) deref(t *testing.T, v any) map[string]any {
	t.Helper()
	for range 10 {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%v is not an object", v)
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		next, err := a.pointer(ref)
		if err != nil {
			t.Fatal(err)
		}
		v = next
	}
	t.Fatal("$ref chain too long")
	return nil
}

func (a *asyncAPI) object(key string) map[string]any {
	m, _ := a.doc[key].(map[string]any)
	return m
}

// message is one channel's message, resolved.
type message struct {
	channel, address string
	name             string // key under components.messages
	obj              map[string]any
	payloadRef       string // the payload's schema $ref, relative to docs/
	payloadFormat    string // the payload's schemaFormat
}

// messagesByAddress resolves each channel's single message.
func (a *asyncAPI) messagesByAddress(t *testing.T) map[string]message {
	t.Helper()
	out := map[string]message{}
	for key, v := range a.object("channels") {
		ch := a.deref(t, v)
		address, _ := ch["address"].(string)
		if sideChannel(address) {
			continue // the read service and the webhooks: TestAsyncAPIReadSide
		}
		msgs, _ := ch["messages"].(map[string]any)
		if len(msgs) != 1 {
			t.Fatalf("channel %s: %d messages, want 1", key, len(msgs))
		}
		for _, mv := range msgs {
			m := message{channel: key, address: address}
			if mm, ok := mv.(map[string]any); ok {
				if ref, ok := mm["$ref"].(string); ok {
					m.name = path.Base(ref)
				}
			}
			m.obj = a.deref(t, mv)
			payload, _ := m.obj["payload"].(map[string]any)
			m.payloadFormat, _ = payload["schemaFormat"].(string)
			schema, _ := payload["schema"].(map[string]any)
			m.payloadRef, _ = schema["$ref"].(string)
			if _, dup := out[address]; dup {
				t.Fatalf("two channels have address %s", address)
			}
			out[address] = m
		}
	}
	return out
}

func TestAsyncAPIDocument(t *testing.T) {
	a := loadAsyncAPI(t)
	info, _ := a.doc["info"].(map[string]any)
	tests := []struct {
		name      string
		got, want any
	}{
		{"asyncapi version", a.doc["asyncapi"], "3.1.0"},
		{"default content type", a.doc["defaultContentType"], "application/json"},
		{"title", info["title"], "zoom-worker"},
	}
	for name, v := range a.object("servers") {
		s := a.deref(t, v)
		tests = append(tests, struct {
			name      string
			got, want any
		}{"server " + name + " protocol", s["protocol"], "nats"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
	if len(a.object("servers")) == 0 {
		t.Error("no servers")
	}
}

func TestAsyncAPIChannelsAreSubjects(t *testing.T) {
	a := loadAsyncAPI(t)
	known := append(slices.Clone(jobSubjects), eventSubjects...)
	byAddress := a.messagesByAddress(t)
	for address, m := range byAddress {
		t.Run(m.channel, func(t *testing.T) {
			if !slices.Contains(known, address) {
				t.Errorf("channel %s: address %q is not one of the subjects in package messages", m.channel, address)
			}
		})
	}
	for _, s := range known {
		if _, ok := byAddress[s]; !ok {
			t.Errorf("no channel for subject %s", s)
		}
	}

	// The worker receives jobs and sends events: one operation each.
	actions := map[string]string{} // address -> action
	for name, v := range a.object("operations") {
		op := a.deref(t, v)
		ch := a.deref(t, op["channel"])
		address, _ := ch["address"].(string)
		if sideChannel(address) {
			continue
		}
		action, _ := op["action"].(string)
		if prev, dup := actions[address]; dup {
			t.Errorf("operation %s: a second operation (%s) on %s", name, prev, address)
		}
		actions[address] = action
		for _, mv := range op["messages"].([]any) {
			ref, _ := mv.(map[string]any)["$ref"].(string)
			if _, err := a.pointer(ref); err != nil || !strings.HasPrefix(ref, "#/channels/") {
				t.Errorf("operation %s: message %s: want a reference to its channel's message (%v)", name, ref, err)
			}
		}
	}
	for _, s := range jobSubjects {
		if actions[s] != "receive" {
			t.Errorf("%s: operation action %q, want receive", s, actions[s])
		}
	}
	for _, s := range eventSubjects {
		if actions[s] != "send" {
			t.Errorf("%s: operation action %q, want send", s, actions[s])
		}
	}
}

// collectRefs returns every $ref in v.
func collectRefs(v any, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		if ref, ok := v["$ref"].(string); ok {
			*out = append(*out, ref)
		}
		for _, c := range v {
			collectRefs(c, out)
		}
	case []any:
		for _, c := range v {
			collectRefs(c, out)
		}
	}
}

func TestAsyncAPIRefsResolve(t *testing.T) {
	a := loadAsyncAPI(t)
	var refs []string
	collectRefs(a.doc, &refs)
	sort.Strings(refs)
	refs = slices.Compact(refs)
	files := 0
	for _, ref := range refs {
		t.Run(ref, func(t *testing.T) {
			if strings.HasPrefix(ref, "#") {
				if _, err := a.pointer(ref); err != nil {
					t.Error(err)
				}
				return
			}
			files++
			file, frag, _ := strings.Cut(ref, "#")
			if frag != "" {
				t.Errorf("%s: point at a whole schema file", ref)
			}
			if _, err := os.Stat(file); err != nil {
				t.Fatalf("%s: %v", ref, err)
			}
			if _, err := jsonschema.NewCompiler().Compile(file); err != nil {
				t.Errorf("%s is not a valid JSON Schema: %v", ref, err)
			}
		})
	}
	if files == 0 {
		t.Error("the document references no schema files")
	}
}

// jsonNames lists the JSON field names of struct type t, as encoding/json
// names them (a field tagged "-" has none; the fields of an embedded struct
// without a name, such as messages.JobHeader, are promoted).
func jsonNames(t reflect.Type) []string {
	var names []string
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			names = append(names, jsonNames(f.Type)...)
			continue
		}
		if !f.IsExported() || tag == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func ptr[T any](v T) *T { return &v }

// goValues are realistic, fully populated bodies of every subject, as Go
// systems build them with package messages.
func goValues() []struct {
	name    string
	subject string
	value   any
} {
	settings := json.RawMessage(`{"host_video":false,"participant_video":false,"join_before_host":false,"mute_upon_entry":true,"use_pmi":false,"approval_type":0}`)
	return []struct {
		name    string
		subject string
		value   any
	}{
		{"create user", messages.SubjectUserCreate, &messages.CreateUserJob{JobHeader: messages.JobHeader{JobID: "u-42", Account: "school-b"}, Action: messages.UserActionCustCreate,
			UserInfo: messages.UserInfo{Email: "james@bond.com", Type: 1, FirstName: "James", LastName: "Bond", DisplayName: "James Bond",
				Extra: map[string]json.RawMessage{"feature": json.RawMessage(`{"zoom_phone":false}`)}}}},
		{"create user with a password", messages.SubjectUserCreate, &messages.CreateUserJob{JobHeader: messages.JobHeader{JobID: "u-43"}, Action: messages.UserActionAutoCreate,
			UserInfo: messages.UserInfo{Email: "moneypenny@mi6.gov.uk", Type: 2, FirstName: "Eve", LastName: "Moneypenny", Password: "Sh4ken-not-stirred"}}},
		{"create meeting", messages.SubjectMeetingCreate, &messages.CreateMeetingJob{JobHeader: messages.JobHeader{JobID: "m-7", Account: "school-b"}, UserID: "james@bond.com",
			Meeting: messages.MeetingSpec{Topic: "Demo Meeting 1", Type: 2, StartTime: "2026-12-05T12:00:00Z", Duration: 45,
				Timezone: "America/Los_Angeles", Password: "Hey123", Agenda: "This is the meeting description", Settings: settings}}},
		{"create recurring meeting", messages.SubjectMeetingCreate, &messages.CreateMeetingJob{JobHeader: messages.JobHeader{JobID: "m-8"}, UserID: "wAdE5hVfRUy3k305kAjBmA",
			Meeting: messages.MeetingSpec{Topic: "Weekly sync", Type: 8, StartTime: "2026-12-07T09:00:00", Duration: 30, Timezone: "Europe/London",
				Recurrence: json.RawMessage(`{"type":2,"repeat_interval":1,"weekly_days":"2","end_times":10}`),
				Extra:      map[string]json.RawMessage{"pre_schedule": json.RawMessage(`false`)}}}},
		{"update meeting", messages.SubjectMeetingUpdate, &messages.UpdateMeetingJob{JobHeader: messages.JobHeader{JobID: "m-7-move", Account: "school-b"}, MeetingID: 85746065432,
			OccurrenceID: "1765098000000", Meeting: messages.MeetingSpec{StartTime: "2026-12-06T09:30:00", Timezone: "America/Los_Angeles",
				Duration: 60, Agenda: "Moved to the next morning"}}},
		{"delete meeting", messages.SubjectMeetingDelete, &messages.DeleteMeetingJob{JobHeader: messages.JobHeader{JobID: "m-7-cancel", Account: "school-b"}, MeetingID: 85746065432,
			OccurrenceID: "1765098000000", ScheduleForReminder: ptr(true), CancelMeetingReminder: ptr(false)}},
		{"delete user", messages.SubjectUserDelete, &messages.DeleteUserJob{JobHeader: messages.JobHeader{JobID: "u-42-leaves", Account: "sales-eu"}, UserID: "james@bond.com",
			Action: messages.UserActionDelete, TransferEmail: "m@mi6.gov.uk", TransferMeeting: ptr(true), TransferWebinar: ptr(false),
			TransferRecording: ptr(true)}},
		{"user created", messages.SubjectUserCreated, &messages.UserCreated{JobRef: messages.JobRef{JobID: "u-42", Account: "school-b"}, Existing: true,
			User: messages.User{ID: "wAdE5hVfRUy3k305kAjBmA", Email: "james@bond.com", FirstName: "James", LastName: "Bond", Type: 1,
				Extra: map[string]json.RawMessage{"status": json.RawMessage(`"pending"`)}}}},
		{"meeting created", messages.SubjectMeetingCreated, &messages.MeetingCreated{JobRef: messages.JobRef{JobID: "m-7", Account: "school-b"}, UserID: "james@bond.com",
			Meeting: messages.Meeting{ID: 85746065432, UUID: "AoHcLp0rRF6i1rjALIK8Pg==", HostID: "wAdE5hVfRUy3k305kAjBmA", Topic: "Demo Meeting 1",
				Type: 8, StartTime: "2026-12-05T12:00:00Z", Duration: 45, Timezone: "America/Los_Angeles",
				JoinURL: "https://zoom.us/j/85746065432?pwd=x", StartURL: "https://zoom.us/s/85746065432?zak=x", Password: "Hey123",
				Agenda: "This is the meeting description", CreatedAt: "2026-11-26T20:23:25Z",
				Occurrences: json.RawMessage(`[{"occurrence_id":"1764936000000","start_time":"2026-12-05T12:00:00Z","duration":45,"status":"available"}]`),
				Settings:    settings}}},
		{"meeting updated", messages.SubjectMeetingUpdated, &messages.MeetingUpdated{JobRef: messages.JobRef{JobID: "m-7-move", Account: "school-b"}, MeetingID: 85746065432,
			Meeting: messages.Meeting{ID: 85746065432, Topic: "Demo Meeting 1", Type: 2, StartTime: "2026-12-06T17:30:00Z", Duration: 60,
				Timezone: "America/Los_Angeles", Agenda: "Moved to the next morning"}}},
		{"meeting deleted", messages.SubjectMeetingDeleted, &messages.MeetingDeleted{JobRef: messages.JobRef{JobID: "m-7-cancel", Account: "school-b"},
			MeetingID: 85746065432, AlreadyGone: true}},
		{"user deleted", messages.SubjectUserDeleted, &messages.UserDeleted{JobRef: messages.JobRef{JobID: "u-42-leaves", Account: "sales-eu"}, UserID: "james@bond.com",
			Action: messages.UserActionDelete, AlreadyGone: false}},
		{"job failed, Zoom rejected it", messages.SubjectJobFailed, &messages.JobFailed{JobRef: messages.JobRef{JobID: "m-9", Account: "school-b"},
			Subject: messages.SubjectMeetingCreate, Attempts: 1,
			Error:   messages.FailError{Kind: messages.KindZoomRejected, Message: "User does not exist: nobody@example.com.", HTTPStatus: 404, ZoomCode: 1001},
			JobBody: messages.JobBody{Job: json.RawMessage(`{"job_id":"m-9","user_id":"nobody@example.com","meeting":{"topic":"x"}}`)}}},
		{"job failed, not a job", messages.SubjectJobFailed, &messages.JobFailed{JobRef: messages.JobRef{JobID: "ZOOM_JOBS-118"}, Subject: messages.SubjectUserCreate,
			Attempts: 1, Error: messages.FailError{Kind: messages.KindInvalidJob, Message: "invalid job: body is not JSON", Field: ""},
			JobBody: messages.JobBody{JobRaw: []byte("not json\x00"), JobTruncated: true}}},
		{"job failed, retries exhausted", messages.SubjectJobFailed, &messages.JobFailed{JobRef: messages.JobRef{JobID: "m-10"}, Subject: messages.SubjectMeetingCreate,
			Attempts: 10, Error: messages.FailError{Kind: messages.KindRetriesExhausted, Message: "zoom: 503 Service Unavailable", HTTPStatus: 503},
			JobBody: messages.JobBody{Job: json.RawMessage(`{"job_id":"m-10","user_id":"james@bond.com","meeting":{"topic":"x"}}`)}}},
		{"add registrant", messages.SubjectRegistrantAdd, &messages.AddRegistrantJob{JobHeader: messages.JobHeader{JobID: "r-7-jill", Account: "school-b"}, MeetingID: 85746065432,
			OccurrenceIDs: "1765098000000", Registrant: messages.RegistrantSpec{Email: "jill@example.com", FirstName: "Jill", LastName: "Valentine",
				Extra: map[string]json.RawMessage{"org": json.RawMessage(`"S.T.A.R.S."`)}}}},
		{"registrant added", messages.SubjectRegistrantAdded, &messages.RegistrantAdded{JobRef: messages.JobRef{JobID: "r-7-jill", Account: "school-b"}, MeetingID: 85746065432,
			Registrant: messages.Registrant{ID: 85746065432, RegistrantID: "fdgsfh2ey82fuh", Email: "jill@example.com", FirstName: "Jill",
				JoinURL: "https://zoom.us/w/85746065432?tk=Ab3dEf", Topic: "Demo Meeting 1", StartTime: "2026-12-05T12:00:00Z", ParticipantPinCode: 380303}}},
		{"job failed, with Zoom's tracking id", messages.SubjectJobFailed, &messages.JobFailed{JobRef: messages.JobRef{JobID: "r-8"}, Subject: messages.SubjectRegistrantAdd, Attempts: 1,
			Error: messages.FailError{Kind: messages.KindZoomRejected, Message: "Meeting does not exist: 85746065499.", HTTPStatus: 404, ZoomCode: 3001,
				ZoomTrackingID: "v=2.0;clid=us06;rid=WEB_4f1c0d2e9b"},
			JobBody: messages.JobBody{Job: json.RawMessage(`{"job_id":"r-8","meeting_id":85746065499,"registrant":{"email":"jill@example.com","first_name":"Jill"}}`)}}},
		{"job deferred", messages.SubjectJobDeferred, &messages.JobDeferred{JobRef: messages.JobRef{JobID: "m-12", Account: "school-b"}, Subject: messages.SubjectMeetingCreate,
			Until: "2026-11-27T00:00:00Z", Reason: "daily meeting create/update limit reached for host james@bond.com"}},
		{"job conflict", messages.SubjectJobConflict, &messages.JobConflict{JobRef: messages.JobRef{JobID: "m-7"}, Subject: messages.SubjectMeetingCreate,
			Reason:     "job id already used by a job with a different body; the first job is kept, this one was not run",
			FirstState: "succeeded", FirstEvent: messages.SubjectMeetingCreated,
			JobBody: messages.JobBody{Job: json.RawMessage(`{"job_id":"m-7","user_id":"james@bond.com","meeting":{"topic":"Another meeting"}}`)}}},
	}
}

func compileFile(t *testing.T, file string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	s, err := c.Compile(file)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return s
}

func instance(t *testing.T, b []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// schemaProperties returns the names of a schema file's top-level properties.
func schemaProperties(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var names []string
	for k := range s.Properties {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func TestAsyncAPIPayloadsMatchGoTypes(t *testing.T) {
	a := loadAsyncAPI(t)
	byAddress := a.messagesByAddress(t)
	covered := map[string]bool{}
	for _, tt := range goValues() {
		t.Run(tt.name, func(t *testing.T) {
			covered[tt.subject] = true
			m, ok := byAddress[tt.subject]
			if !ok {
				t.Fatalf("no channel for %s", tt.subject)
			}
			if got, want := path.Base(m.payloadRef), path.Base(messages.SchemaFile(tt.subject)); got != want || want == "." {
				t.Fatalf("%s: payload $ref %q, want the file %q that messages.SchemaFile names", tt.subject, m.payloadRef, want)
			}
			body, err := json.Marshal(tt.value)
			if err != nil {
				t.Fatal(err)
			}
			if err := compileFile(t, m.payloadRef).Validate(instance(t, body)); err != nil {
				t.Errorf("%s: %s does not fit %s:\n%s\n%v", tt.subject, reflect.TypeOf(tt.value).Elem(), m.payloadRef, body, err)
			}
			if slices.Contains(jobSubjects, tt.subject) {
				// A value that fits the schema is a job the worker takes.
				if _, err := messages.DecodeJob(tt.subject, body); err != nil {
					t.Errorf("DecodeJob(%s): %v\n%s", tt.subject, err, body)
				}
			}
			goNames := jsonNames(reflect.TypeOf(tt.value).Elem())
			if schemaNames := schemaProperties(t, m.payloadRef); !slices.Equal(schemaNames, goNames) {
				t.Errorf("%s: top-level properties of %s\n  schema: %v\n  Go %s: %v",
					tt.subject, m.payloadRef, schemaNames, reflect.TypeOf(tt.value).Elem(), goNames)
			}
		})
	}
	for address := range byAddress {
		if !covered[address] {
			t.Errorf("%s: no Go value checks its payload", address)
		}
	}
}

// exampleCompiler can compile both schema files and schemas inside the
// AsyncAPI document (its header schemas).
func (a *asyncAPI) compiler(t *testing.T) *jsonschema.Compiler {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(a.json))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(a.url, doc); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAsyncAPIExamplesValidate(t *testing.T) {
	a := loadAsyncAPI(t)
	c := a.compiler(t)
	n := 0
	for address, m := range a.messagesByAddress(t) {
		examples, _ := m.obj["examples"].([]any)
		if len(examples) == 0 {
			t.Errorf("message %s (%s) has no example", m.name, address)
		}
		payloadSchema, err := c.Compile(a.url + "#/components/messages/" + m.name + "/payload/schema")
		if err != nil {
			t.Fatalf("message %s payload: %v", m.name, err)
		}
		headerSchema, err := c.Compile(a.url + "#/components/messages/" + m.name + "/headers")
		if err != nil {
			t.Fatalf("message %s headers: %v", m.name, err)
		}
		for i, ev := range examples {
			ex, _ := ev.(map[string]any)
			name, _ := ex["name"].(string)
			t.Run(fmt.Sprintf("%s/%d-%s", m.name, i, name), func(t *testing.T) {
				n++
				b, _ := json.Marshal(ex["payload"])
				if err := payloadSchema.Validate(instance(t, b)); err != nil {
					t.Errorf("payload does not fit its schema: %v\n%s", err, b)
				}
				if h, ok := ex["headers"]; ok {
					hb, _ := json.Marshal(h)
					if err := headerSchema.Validate(instance(t, hb)); err != nil {
						t.Errorf("headers do not fit their schema: %v\n%s", err, hb)
					}
				}
			})
		}
	}
	if n == 0 {
		t.Error("no examples checked")
	}
}

func TestAsyncAPIHeaders(t *testing.T) {
	a := loadAsyncAPI(t)
	schemaOf := func(ref string) (props map[string]any, required []string) {
		s := a.deref(t, map[string]any{"$ref": ref})
		props, _ = s["properties"].(map[string]any)
		for _, r := range s["required"].([]any) {
			required = append(required, r.(string))
		}
		return props, required
	}
	eventProps, eventRequired := schemaOf("#/components/schemas/eventHeaders")
	// What worker/events.go sets on every event.
	for _, h := range []string{messages.HeaderMsgID, worker.HeaderCESpecVersion, worker.HeaderCEID, worker.HeaderCEType,
		worker.HeaderCESource, worker.HeaderCETime, worker.HeaderCESubject, worker.HeaderContentType, worker.HeaderCEContentType} {
		if _, ok := eventProps[h]; !ok || !slices.Contains(eventRequired, h) {
			t.Errorf("eventHeaders: %s missing from properties or required", h)
		}
	}
	for _, h := range []string{"traceparent", "tracestate", "ce-traceparent", "ce-tracestate"} {
		if _, ok := eventProps[h]; !ok {
			t.Errorf("eventHeaders: %s (propagated from the job) missing", h)
		}
	}
	jobProps, _ := a.deref(t, map[string]any{"$ref": "#/components/schemas/jobHeaders"})["properties"].(map[string]any)
	for _, h := range []string{messages.HeaderMsgID, "traceparent", "tracestate"} {
		if _, ok := jobProps[h]; !ok {
			t.Errorf("jobHeaders: %s missing", h)
		}
	}

	for address, m := range a.messagesByAddress(t) {
		t.Run(m.name, func(t *testing.T) {
			h, _ := m.obj["headers"].(map[string]any)
			if slices.Contains(jobSubjects, address) {
				if h["$ref"] != "#/components/schemas/jobHeaders" {
					t.Errorf("%s: headers %v, want $ref #/components/schemas/jobHeaders", address, h)
				}
				return
			}
			// allOf: [eventHeaders, {properties: {ce-type: {const: ...}}}]
			all, _ := h["allOf"].([]any)
			var refs []string
			var ceType any
			for _, part := range all {
				p, _ := part.(map[string]any)
				if r, ok := p["$ref"].(string); ok {
					refs = append(refs, r)
				}
				if props, ok := p["properties"].(map[string]any); ok {
					if ct, ok := props[worker.HeaderCEType].(map[string]any); ok {
						ceType = ct["const"]
					}
				}
			}
			if !slices.Contains(refs, "#/components/schemas/eventHeaders") {
				t.Errorf("%s: headers do not include eventHeaders", address)
			}
			if want := worker.CETypePrefix + messages.EventName(address); ceType != want {
				t.Errorf("%s: ce-type const %v, want %s (what worker/events.go sets)", address, ceType, want)
			}
		})
	}
}

// TestAsyncAPIPayloadSchemaFormat: every payload says which schema dialect
// its JSON Schema is written in (AsyncAPI 3.1's Multi Format Schema Object),
// and the file it names declares that dialect.
func TestAsyncAPIPayloadSchemaFormat(t *testing.T) {
	const format = "application/schema+json;version=draft-2020-12"
	a := loadAsyncAPI(t)
	for address, m := range a.messagesByAddress(t) {
		if m.payloadFormat != format {
			t.Errorf("%s: payload schemaFormat %q; want %q", address, m.payloadFormat, format)
		}
		b, err := os.ReadFile(m.payloadRef)
		if err != nil {
			t.Errorf("%s: %v", address, err)
			continue
		}
		var s struct {
			Schema string `json:"$schema"`
		}
		if err := json.Unmarshal(b, &s); err != nil || s.Schema != "https://json-schema.org/draft/2020-12/schema" {
			t.Errorf("%s: %s declares $schema %q; want draft 2020-12", address, m.payloadRef, s.Schema)
		}
	}
}
