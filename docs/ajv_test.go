package docs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ajvVersions are the npm packages the check installs, pinned so that a
// cached install stays the one the test was written against.
var ajvVersions = []string{"ajv@8.17.1", "ajv-formats@3.0.1"}

// ajvCheck compiles each schema with Ajv's draft 2020-12 build in strict
// mode (strictTypes, strictRequired, unknown keywords and formats are
// errors), as a JavaScript publisher would.
const ajvCheck = `
const Ajv2020 = require("ajv/dist/2020");
const addFormats = require("ajv-formats");
const fs = require("fs"), path = require("path");
let bad = 0;
for (const f of process.argv.slice(2)) {
  const ajv = new Ajv2020({strict: true, allErrors: true});
  addFormats(ajv);
  try { ajv.compile(JSON.parse(fs.readFileSync(f, "utf8"))); }
  catch (e) { bad++; console.log(path.basename(f) + ": " + e.message); }
}
process.exit(bad ? 1 : 0);
`

// TestJSONSchemasCompileUnderAjvStrict runs the schemas in messages/schema
// through Ajv in strict mode. It needs node and npm; without them, or when
// npm cannot install Ajv (no network), it skips. The install is cached under
// the temporary directory, outside the repository, so later runs take about
// a second.
func TestJSONSchemasCompileUnderAjvStrict(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skips the Ajv check")
	}
	node, err1 := exec.LookPath("node")
	npm, err2 := exec.LookPath("npm")
	if err1 != nil || err2 != nil {
		t.Skip("node and npm not found: the Ajv check needs them")
	}
	dir := filepath.Join(os.TempDir(), "zoom-worker-ajv-"+strings.NewReplacer("@", "-", ".", "-").Replace(strings.Join(ajvVersions, "_")))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ajv-formats", "package.json")); err != nil {
		tmp, err := os.MkdirTemp(os.TempDir(), "zoom-worker-ajv-install-*")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(tmp)
		if err := os.WriteFile(filepath.Join(tmp, "package.json"), []byte(`{"name":"zoom-worker-ajv-check","private":true}`), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(npm, append([]string{"install", "--no-audit", "--no-fund", "--silent"}, ajvVersions...)...)
		cmd.Dir = tmp
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Skipf("npm could not install %s (offline?): %v\n%s", strings.Join(ajvVersions, " "), err, out)
		}
		// Another test run may have cached it meanwhile; either copy works.
		if err := os.Rename(tmp, dir); err != nil && !os.IsExist(err) {
			if _, statErr := os.Stat(dir); statErr != nil {
				t.Fatal(err)
			}
		}
	}
	schemas, err := filepath.Glob("../messages/schema/*.json")
	if err != nil || len(schemas) < 10 {
		t.Fatalf("found %d schemas (%v); want every body's", len(schemas), err)
	}
	for i, s := range schemas {
		if schemas[i], err = filepath.Abs(s); err != nil {
			t.Fatal(err)
		}
	}
	script := filepath.Join(t.TempDir(), "check.js")
	if err := os.WriteFile(script, []byte(ajvCheck), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, append([]string{script}, schemas...)...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("schemas that Ajv's strict mode rejects (%v):\n%s", err, out)
	}
}
