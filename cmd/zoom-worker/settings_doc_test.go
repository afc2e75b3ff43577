package main

// README.md's settings table is generated from Settings, so the docs cannot
// drift from the binary. After changing a setting:
//
//	go test ./cmd/zoom-worker -run TestSettingsDoc -update

import (
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/readside"
)

const (
	readmePath          = "../../README.md"
	settingsStartMarker = "<!-- settings -->"
	settingsEndMarker   = "<!-- /settings -->"
)

// updateDocs is -update: rewrite generated docs instead of comparing them.
// Another test file of this package may define the same flag; then both
// read that one.
var updateDocs = boolFlag("update", "rewrite README.md's settings table from Settings")

func boolFlag(name, usage string) func() bool {
	if f := flag.Lookup(name); f != nil {
		return func() bool { b, _ := f.Value.(flag.Getter).Get().(bool); return b }
	}
	p := flag.Bool(name, false, usage)
	return func() bool { return *p }
}

// settingsTable renders Settings as the Markdown table README.md shows.
func settingsTable() string {
	var b strings.Builder
	b.WriteString("| variable | flag | default | meaning |\n| --- | --- | --- | --- |\n")
	for _, s := range Settings {
		flagCol := "—"
		if s.flag != "" {
			flagCol = "`--" + s.flag + "`"
		}
		def := "none"
		if s.def != "" {
			def = "`" + s.def + "`"
		}
		usage := strings.ReplaceAll(s.usage, "|", `\|`)
		if s.secret {
			usage += " (secret: never logged)"
		}
		b.WriteString("| `" + s.env + "` | " + flagCol + " | " + def + " | " + usage + " |\n")
	}
	return b.String()
}

func TestSettingsDocInREADME(t *testing.T) {
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i := strings.Index(readme, settingsStartMarker)
	j := strings.Index(readme, settingsEndMarker)
	if i < 0 || j < i {
		t.Fatalf("README.md: want the settings table between %s and %s", settingsStartMarker, settingsEndMarker)
	}
	got := readme[i+len(settingsStartMarker) : j]
	want := "\n" + settingsTable()
	if got == want {
		return
	}
	if updateDocs() {
		readme = readme[:i+len(settingsStartMarker)] + want + readme[j:]
		if err := os.WriteFile(readmePath, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("README.md: settings table rewritten")
		return
	}
	t.Errorf("README.md's settings table is not what Settings says; run\n"+
		"\tgo test ./cmd/zoom-worker -run TestSettingsDoc -update\ngot:\n%s\nwant:\n%s", got, want)
}

// TestSettingsNamedInREADMEExist checks every setting-like name in README.md
// (NATS_..., REDIS_..., ZOOM_..., ZOOMW_...) outside the generated table:
// the prose must not mention a setting the binary does not know.
func TestSettingsNamedInREADMEExist(t *testing.T) {
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	if i, j := strings.Index(readme, settingsStartMarker), strings.Index(readme, settingsEndMarker); i >= 0 && j > i {
		readme = readme[:i] + readme[j:]
	}
	notSettings := map[string]bool{ // stream names share the prefix
		messages.StreamJobs: true, messages.StreamEvents: true, messages.StreamDeadLetters: true,
		readside.WebhookStream:      true,
		"ZOOMW_CONSOLE_SCREENSHOTS": true, // read by the console's browser test, not the binary
	}
	seen := map[string]bool{}
	for _, name := range regexp.MustCompile(`\b(?:NATS|REDIS|ZOOMW?)_[A-Z0-9_]*[A-Z0-9]\b`).FindAllString(readme, -1) {
		if notSettings[name] || seen[name] {
			continue
		}
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			if _, ok := settingByEnv(name); !ok {
				t.Errorf("README.md names %s, which is not a setting the binary knows", name)
			}
		})
	}
	if len(seen) < 5 {
		t.Errorf("README.md names only %d settings outside the table; the check found too little to be meaningful", len(seen))
	}
}
