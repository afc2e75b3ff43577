package messages_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/zoomworker/zoom-worker/messages"
)

const schemaBase = "https://github.com/zoomworker/zoom-worker/messages/schema/"

// schemaNames are the files the package must ship, by the subject they describe.
var schemaNames = map[string]string{
	messages.SubjectUserCreate:      "create-user-job",
	messages.SubjectMeetingCreate:   "create-meeting-job",
	messages.SubjectMeetingUpdate:   "update-meeting-job",
	messages.SubjectMeetingDelete:   "delete-meeting-job",
	messages.SubjectUserDelete:      "delete-user-job",
	messages.SubjectRegistrantAdd:   "add-registrant-job",
	messages.SubjectUserCreated:     "user-created",
	messages.SubjectMeetingCreated:  "meeting-created",
	messages.SubjectMeetingUpdated:  "meeting-updated",
	messages.SubjectMeetingDeleted:  "meeting-deleted",
	messages.SubjectUserDeleted:     "user-deleted",
	messages.SubjectJobFailed:       "job-failed",
	messages.SubjectJobDeferred:     "job-deferred",
	messages.SubjectJobConflict:     "job-conflict",
	messages.SubjectRegistrantAdded: "registrant-added",
}

// compileSchemas compiles every schema in messages.Schemas, with "format"
// asserted (as a strict publisher would), by file name without ".json".
func compileSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	files, err := fs.Glob(messages.Schemas, "schema/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no schemas embedded: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	for _, f := range files {
		b, err := fs.ReadFile(messages.Schemas, f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		m, _ := doc.(map[string]any)
		if got, want := m["$schema"], "https://json-schema.org/draft/2020-12/schema"; got != want {
			t.Errorf("%s: $schema = %v, want %s", f, got, want)
		}
		if got, want := m["$id"], schemaBase+path.Base(f); got != want {
			t.Errorf("%s: $id = %v, want %s", f, got, want)
		}
		if err := c.AddResource(schemaBase+path.Base(f), doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	schemas := make(map[string]*jsonschema.Schema)
	for _, f := range files {
		sch, err := c.Compile(schemaBase + path.Base(f))
		if err != nil {
			t.Fatalf("compile %s: %v", f, err)
		}
		schemas[strings.TrimSuffix(path.Base(f), ".json")] = sch
	}
	return schemas
}

// instance parses a JSON body the way the schema library wants it.
func instance(t *testing.T, body []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse %s: %v", body, err)
	}
	return v
}

func TestSchemasShipOneFilePerBody(t *testing.T) {
	schemas := compileSchemas(t)
	if len(schemas) != len(schemaNames) {
		t.Errorf("%d schemas embedded, want %d", len(schemas), len(schemaNames))
	}
	for subject, name := range schemaNames {
		if _, ok := schemas[name]; !ok {
			t.Errorf("no schema %s.json for %s", name, subject)
		}
		if got, want := messages.SchemaFile(subject), "schema/"+name+".json"; got != want {
			t.Errorf("SchemaFile(%q) = %q, want %q", subject, got, want)
		}
	}
	if got := messages.SchemaFile("zoom.jobs.nothing"); got != "" {
		t.Errorf("SchemaFile of an unknown subject = %q, want \"\"", got)
	}
}

// example is one body in testdata with the schema it follows.
type example struct {
	file   string
	schema string
	body   []byte
}

// examples returns the contract's exact bodies (testdata/contract) and the
// project's examples of the bodies the contract only sketches
// (testdata/examples).
func examples(t *testing.T) []example {
	t.Helper()
	files, err := filepath.Glob("testdata/*/*.json")
	if err != nil || len(files) < 12 {
		t.Fatalf("want an example of each body in testdata, found %v (%v)", files, err)
	}
	var out []example
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, example{file: f, schema: strings.TrimSuffix(filepath.Base(f), ".json"), body: b})
	}
	return out
}

func TestExamplesFollowTheirSchemas(t *testing.T) {
	schemas := compileSchemas(t)
	seen := make(map[string]bool)
	for _, ex := range examples(t) {
		t.Run(ex.file, func(t *testing.T) {
			sch, ok := schemas[ex.schema]
			if !ok {
				t.Fatalf("no schema %s.json", ex.schema)
			}
			seen[ex.schema] = true
			if err := sch.Validate(instance(t, ex.body)); err != nil {
				t.Errorf("%s does not follow %s.json:\n%v", ex.file, ex.schema, err)
			}
		})
	}
	for _, name := range schemaNames {
		if !seen[name] {
			t.Errorf("no example in testdata for %s.json", name)
		}
	}
}

// TestContractJobExamplesDecode decodes the contract's job bodies (and the
// job inside its job-failed example) and checks what the worker will use.
func TestContractJobExamplesDecode(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile("testdata/contract/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	job, err := messages.DecodeJob(messages.SubjectUserCreate, read("create-user-job.json"))
	if err != nil {
		t.Fatalf("create-user example: %v", err)
	}
	cu := job.(*messages.CreateUserJob)
	if cu.ID() != "u-42" || cu.EffectiveAction() != "custCreate" || cu.UserInfo.Email != "james@bond.com" ||
		cu.UserInfo.Type != 1 || cu.UserInfo.FirstName != "James" || cu.UserInfo.LastName != "Bond" {
		t.Errorf("create-user example decoded as %+v", cu)
	}

	body := read("create-meeting-job.json")
	job, err = messages.DecodeJob(messages.SubjectMeetingCreate, body)
	if err != nil {
		t.Fatalf("create-meeting example: %v", err)
	}
	cm := job.(*messages.CreateMeetingJob)
	m := cm.Meeting
	if cm.ID() != "m-7" || cm.UserID != "james@bond.com" || m.Topic != "Demo Meeting 1" || m.Type != 2 ||
		m.StartTime != "2026-12-05T12:00:00Z" || m.Duration != 45 || m.Timezone != "America/Los_Angeles" ||
		m.Password != "Hey123" || m.Agenda != "This is the meeting description" || len(m.Extra) != 0 {
		t.Errorf("create-meeting example decoded as %+v", cm)
	}
	// The meeting goes to Zoom as it came: settings untouched.
	var sent struct {
		Meeting json.RawMessage `json:"meeting"`
	}
	_ = json.Unmarshal(body, &sent)
	got, _ := json.Marshal(m)
	if !jsonEqual(t, got, sent.Meeting) {
		t.Errorf("meeting for Zoom =\n %s\nwant\n %s", got, sent.Meeting)
	}

	var failed messages.JobFailed
	if err := json.Unmarshal(read("job-failed.json"), &failed); err != nil {
		t.Fatal(err)
	}
	if _, err := messages.DecodeJob(failed.Subject, failed.Job); err != nil {
		t.Errorf("job inside the job-failed example: %v", err)
	}

	for _, ex := range examples(t) {
		subject := ""
		for s, name := range schemaNames {
			if name == ex.schema && strings.HasPrefix(s, "zoom.jobs.") {
				subject = s
			}
		}
		if subject == "" {
			continue
		}
		if _, err := messages.DecodeJob(subject, ex.body); err != nil {
			t.Errorf("%s: DecodeJob = %v", ex.file, err)
		}
	}
}

// TestEventExamplesRoundTrip decodes every event example into its Go type
// and encodes it again: the same JSON value comes out, and it still follows
// the schema. This is what a worker publishing these types produces.
func TestEventExamplesRoundTrip(t *testing.T) {
	schemas := compileSchemas(t)
	types := map[string]func() any{
		"user-created":     func() any { return new(messages.UserCreated) },
		"meeting-created":  func() any { return new(messages.MeetingCreated) },
		"meeting-updated":  func() any { return new(messages.MeetingUpdated) },
		"meeting-deleted":  func() any { return new(messages.MeetingDeleted) },
		"user-deleted":     func() any { return new(messages.UserDeleted) },
		"job-failed":       func() any { return new(messages.JobFailed) },
		"job-deferred":     func() any { return new(messages.JobDeferred) },
		"job-conflict":     func() any { return new(messages.JobConflict) },
		"registrant-added": func() any { return new(messages.RegistrantAdded) },
	}
	for _, ex := range examples(t) {
		newEvent, ok := types[ex.schema]
		if !ok {
			continue
		}
		t.Run(ex.file, func(t *testing.T) {
			ev := newEvent()
			if err := json.Unmarshal(ex.body, ev); err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, got, ex.body) {
				t.Errorf("round trip:\n got %s\nwant %s", got, ex.body)
			}
			if err := schemas[ex.schema].Validate(instance(t, got)); err != nil {
				t.Errorf("encoded event does not follow %s.json: %v", ex.schema, err)
			}
		})
	}
}

// TestGoEventsFollowSchemas checks events built in Go with only what the
// worker must fill in, and with a cut body in job_raw.
func TestGoEventsFollowSchemas(t *testing.T) {
	schemas := compileSchemas(t)
	cut := messages.FailedJobBody(bytes.Repeat([]byte("x"), messages.MaxJobBytes+1))
	events := map[string]any{
		"user-created":    messages.UserCreated{JobRef: messages.JobRef{JobID: "u-1"}, User: messages.User{ID: "abc"}},
		"meeting-created": messages.MeetingCreated{JobRef: messages.JobRef{JobID: "m-1"}, UserID: "me", Meeting: messages.Meeting{ID: 1}},
		"meeting-updated": messages.MeetingUpdated{JobRef: messages.JobRef{JobID: "m-1"}, MeetingID: 1, Meeting: messages.Meeting{ID: 1}},
		"meeting-deleted": messages.MeetingDeleted{JobRef: messages.JobRef{JobID: "m-1"}, MeetingID: 1, AlreadyGone: true},
		"user-deleted":    messages.UserDeleted{JobRef: messages.JobRef{JobID: "u-1"}, UserID: "me", Action: "disassociate"},
		"job-failed": messages.JobFailed{JobRef: messages.JobRef{JobID: "m-1"}, Subject: messages.SubjectMeetingCreate, Attempts: 1,
			Error:   messages.FailError{Kind: messages.KindInvalidJob, Message: "invalid job: body is too large", Field: ""},
			JobBody: cut},
		"job-deferred": messages.JobDeferred{JobRef: messages.JobRef{JobID: "m-1"}, Subject: messages.SubjectMeetingCreate, Until: "2026-11-27T00:00:00Z", Reason: "limit"},
		"job-conflict": messages.JobConflict{JobRef: messages.JobRef{JobID: "m-1"}, Subject: messages.SubjectMeetingCreate, Reason: "reused", FirstState: "running",
			JobBody: cut},
		"registrant-added": messages.RegistrantAdded{JobRef: messages.JobRef{JobID: "r-1"}, MeetingID: 1, Registrant: messages.Registrant{RegistrantID: "abc"}},
	}
	for name, ev := range events {
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if err := schemas[name].Validate(instance(t, b)); err != nil {
			t.Errorf("%s: %.200s does not follow the schema: %v", name, b, err)
		}
	}
}

// TestSchemasAgreeWithDecodeJob runs the tables of validate_test.go through
// the job schemas: a publisher that checks its bodies against the schema
// gets the answer DecodeJob will give, except where a case says why not.
func TestSchemasAgreeWithDecodeJob(t *testing.T) {
	schemas := compileSchemas(t)
	for _, tc := range validJobs {
		t.Run("valid/"+tc.name, func(t *testing.T) {
			if err := schemas[schemaNames[tc.subject]].Validate(instance(t, []byte(tc.body))); err != nil {
				t.Errorf("schema rejects a valid job %.200s:\n%v", tc.body, err)
			}
		})
	}
	for _, tc := range invalidJobs {
		t.Run("invalid/"+tc.name, func(t *testing.T) {
			err := schemas[schemaNames[tc.subject]].Validate(instance(t, []byte(tc.body)))
			switch {
			case tc.goOnly != "" && err != nil:
				t.Errorf("schema rejects %.200s, but the case says it cannot (%s): %v", tc.body, tc.goOnly, err)
			case tc.goOnly == "" && err == nil:
				t.Errorf("schema accepts %.200s; DecodeJob rejects it on %s", tc.body, tc.wantField)
			}
		})
	}
}

// TestContractExamplesAreVerbatim checks that testdata/contract holds the
// contract's own bodies, where the contract is at hand (shared/ beside the
// repository).
func TestContractExamplesAreVerbatim(t *testing.T) {
	contract, err := os.ReadFile(filepath.Join("..", "..", "shared", "CONTRACT.md"))
	if err != nil {
		t.Skipf("contract not at hand: %v", err)
	}
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllSubmatch(contract, -1)
	names := []string{"create-user-job", "user-created", "create-meeting-job", "meeting-created", "job-failed", "job-deferred"}
	if len(blocks) != len(names) {
		t.Fatalf("contract has %d JSON examples, want %d: update testdata/contract", len(blocks), len(names))
	}
	for i, name := range names {
		got, err := os.ReadFile("testdata/contract/" + name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, blocks[i][1]) {
			t.Errorf("testdata/contract/%s.json differs from the contract's example:\n%s", name, blocks[i][1])
		}
	}
}
