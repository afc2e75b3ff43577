package main

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

func TestAccountsFile(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		env     map[string]string
		want    []string // account names loaded
		wantErr string   // part of the bad-setting line
	}{
		{name: "OAuth with the secret by reference", file: `{"accounts": {"school-b": {"account_id": "a", "client_id": "c", "client_secret_env": "B_SECRET", "rate_limit": 5}}}`,
			env: map[string]string{"B_SECRET": "s"}, want: []string{"default", "school-b"}},
		{name: "legacy JWT app", file: `{"accounts": {"old": {"api_key": "k", "api_secret": "s"}}}`, want: []string{"default", "old"}},
		{name: "secret reference unset", file: `{"accounts": {"b": {"account_id": "a", "client_id": "c", "client_secret_env": "NOPE"}}}`,
			wantErr: `account "b" client_secret_env: names the environment variable NOPE, which is not set`},
		{name: "api secret reference unset", file: `{"accounts": {"b": {"api_key": "k", "api_secret_env": "NOPE_TOO"}}}`,
			env: map[string]string{"B_SECRET": "s"}, wantErr: `account "b" api_secret_env: names the environment variable NOPE_TOO, which is not set`},
		{name: "reserved name", file: `{"accounts": {"default": {"api_key": "k", "api_secret": "s"}}}`, wantErr: `account "default"`},
		{name: "unknown field", file: `{"accounts": {"b": {"api_key": "k", "api_secret": "s", "rate": 1}}}`, wantErr: "not valid"},
		{name: "not JSON", file: `accounts: b`, wantErr: "not valid"},
		{name: "api_url not http", file: `{"accounts": {"b": {"api_key": "k", "api_secret": "s", "api_url": "ftp://u:hunter2@x/v2"}}}`, wantErr: `account "b" api_url`},
		{name: "token_url does not parse", file: `{"accounts": {"b": {"api_key": "k", "api_secret": "s", "token_url": "https://u:hunter2@x y"}}}`, wantErr: `account "b" token_url`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "accounts.json")
			if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := &Config{AccountsFile: path, AccountID: "x", ClientID: "y", ClientSecret: "z", RateLimit: 20}
			got, err := loadAccounts(cfg, func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				var bad *badSetting
				if !errors.As(err, &bad) || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "ZOOMW_ACCOUNTS_FILE") {
					t.Fatalf("err = %v; want a bad ZOOMW_ACCOUNTS_FILE naming %s", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), `"s"`) || strings.Contains(err.Error(), "hunter2") {
					t.Errorf("the error shows a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, a := range got {
				names = append(names, a.Name)
			}
			if strings.Join(names, ",") != strings.Join(tt.want, ",") {
				t.Errorf("accounts = %v; want %v", names, tt.want)
			}
		})
	}
}

func TestJobsGoToTheAccountTheyName(t *testing.T) {
	e := newE2E(t, zoomtest.Options{})
	other := zoomtest.New(zoomtest.Options{AccountID: "acct-b", ClientID: "client-b", ClientSecret: "secret-b"})
	other.AddUser("teacher@school-b.example", "T", "B", 1)
	srv := httptest.NewServer(other)
	t.Cleanup(srv.Close)
	path := filepath.Join(t.TempDir(), "accounts.json")
	file := `{"accounts": {"school-b": {"account_id": "acct-b", "client_id": "client-b", "client_secret_env": "SCHOOL_B_SECRET",
		"api_url": "` + srv.URL + `/v2", "token_url": "` + srv.URL + `/oauth/token"}}}`
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	e.startProc("ZOOMW_ACCOUNTS_FILE="+path, "SCHOOL_B_SECRET=secret-b")
	e.publish(messages.SubjectMeetingCreate, `{"job_id":"acct-b-1","account":"school-b","user_id":"teacher@school-b.example","meeting":{"topic":"B"}}`, "")
	e.publish(messages.SubjectMeetingCreate, meetingJob("acct-default-1"), "")
	msg := e.waitEvent("acct-b-1", messages.SubjectMeetingCreated, 20*time.Second)
	e.waitEvent("acct-default-1", messages.SubjectMeetingCreated, 20*time.Second)
	if !strings.Contains(string(msg.Data), `"account":"school-b"`) {
		t.Errorf("event = %s; want account school-b", msg.Data)
	}
	if a, b := e.fake.Stats().MeetingsCreated, other.Stats().MeetingsCreated; a != 1 || b != 1 {
		t.Errorf("meetings created: default account %d, school-b %d; want 1 each", a, b)
	}
}

// Without ZOOM_API_URL the worker calls the host its token answer names
// (Zoom's regional api_url), not api.zoom.us.
func TestAPIHostFromTheTokenAnswer(t *testing.T) {
	e := newE2E(t, zoomtest.Options{})
	var calls atomic.Int32
	region := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		e.fake.ServeHTTP(w, r)
	}))
	t.Cleanup(region.Close)
	e.fake.SetAPIURL(region.URL)
	e.startProc("ZOOM_API_URL=")
	e.publish(messages.SubjectMeetingCreate, `{"job_id":"eu-1","user_id":"james@bond.com","meeting":{"topic":"Regional",`+
		`"start_time":"2026-12-05T12:00:00Z","duration":30}}`, "")
	e.waitEvent("eu-1", messages.SubjectMeetingCreated, 20*time.Second)
	if calls.Load() == 0 {
		t.Errorf("no API request reached the token answer's api_url")
	}
}
