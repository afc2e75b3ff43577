package jsonscan

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var validSeeds = []string{
	``, ` `, `0`, `-0`, `-`, `01`, `1.`, `1.5`, `.5`, `1e`, `1e+`, `1E-7`, `-12.5e+30`, `1x`,
	`true`, `tru`, `truex`, `false`, `null`, `nul`, `"`, `""`, `"a\"b"`, `"\u00e9\uD83D"`,
	`"\u12"`, `"\x"`, `"a` + "\t" + `b"`, "\"\xff\xfe\"", `{}`, `[]`, ` { } `, `[1,]`, `[,1]`,
	`{"a":1,}`, `{"a" 1}`, `{"a":}`, `{1:2}`, `{"a":[1,{"b":null}],"c":"}"}`, `[[[]]]`, `[[]`,
	`[]]`, `{"a":1}{}`, `1 2`, "\ufeff{}", "[1\n,\r2\t]", `{"a":{"b":{"c":[true,false]}}}`,
}

// FuzzValid holds Valid to encoding/json.Valid.
func FuzzValid(f *testing.F) {
	for _, s := range validSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Fatalf("Valid(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}

func TestValidDepth(t *testing.T) {
	for _, n := range []int{63, 64, 65, maxDepth, maxDepth + 1} {
		for _, open := range []string{"[", `{"a":`} {
			closing := map[string]string{"[": "]", `{"a":`: "}"}[open]
			b := []byte(strings.Repeat(open, n) + "1" + strings.Repeat(closing, n))
			if got, want := Valid(b), json.Valid(b); got != want {
				t.Errorf("Valid(%d × %s) = %v, json.Valid says %v", n, open, got, want)
			}
		}
	}
}

// TestValidExamples runs Valid over the contract's examples.
func TestValidExamples(t *testing.T) {
	files, _ := filepath.Glob("../../messages/testdata/*/*.json")
	if len(files) == 0 {
		t.Skip("no examples")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for cut := 0; cut <= len(b); cut += max(len(b)/50, 1) {
			if got, want := Valid(b[:cut]), json.Valid(b[:cut]); got != want {
				t.Fatalf("Valid(%s[:%d]) = %v, json.Valid says %v", f, cut, got, want)
			}
		}
	}
}

func BenchmarkValid(b *testing.B) {
	body := []byte(`{"uuid":"4444AAAiAAAAAiAiAiiAii==","id":85746065432,"host_id":"KDcuGIm1QgePTO8WbOqwIQ","host_email":"jchill@example.com","topic":"My Meeting","type":2,"status":"waiting","start_time":"2026-03-01T10:00:00Z","duration":60,"timezone":"America/Los_Angeles","agenda":"My Meeting","created_at":"2026-02-01T08:00:00Z","start_url":"https://example.com/s/85746065432?zak=eyJ0eXAiOiJKV1QiLCJzdiI6IjAwMDAwMSIsInptX3NrbSI6InptX28ybSIsImFsZyI6IkhTMjU2In0","join_url":"https://example.com/j/85746065432?pwd=ekd0U3M4YkF2Nk1pbmdaWnRJdz09","password":"123456","h323_password":"123456","pstn_password":"123456","encrypted_password":"ekd0U3M4YkF2Nk1pbmdaWnRJdz09","settings":{"host_video":true,"participant_video":false,"join_before_host":false,"mute_upon_entry":true,"watermark":false,"audio":"voip","auto_recording":"none","waiting_room":true,"approval_type":2,"alternative_hosts":"","global_dial_in_countries":["US"]},"pre_schedule":false}`)
	for _, v := range []struct {
		name  string
		valid func([]byte) bool
	}{{"jsonscan", Valid}, {"encoding-json", json.Valid}} {
		b.Run(v.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if !v.valid(body) {
					b.Fatal("not valid")
				}
			}
		})
	}
}
