package docs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// README's "### Layout" table is the rule book of what each folder may
// import. This test reads it rather than keeping a copy, so the two cannot
// drift. Each row is
//
//	| folder | what it is for | may import | never depends on |
//
// with every rule a backticked token. A token whose first element has a dot
// is a path outside the module (`github.com/nats-io/nats.go` stands for it
// and everything below it); else one ending in "/" is a folder of this
// module (`worker/`); else a standard library path (`net/http`). In "may
// import", the tokens after `-tags dev` are what the dev build adds.
const (
	readmeFile    = "../README.md"
	layoutHeading = "### Layout"
)

// layoutRow is one row of README's layout table.
type layoutRow struct {
	line       int    // in README.md
	folder     string // module-relative, without the trailing slash
	imports    []string
	devImports []string
	never      []string
}

// testsNeverPrefix starts the line of the layout section that names what
// no test imports.
const testsNeverPrefix = "Tests never import"

// readLayout parses README's layout table, and the backticked tokens of the
// section's line that starts with testsNeverPrefix.
func readLayout(r io.Reader) (rows []layoutRow, testsNever []string, err error) {
	in, header := false, 0
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case in && strings.HasPrefix(line, testsNeverPrefix):
			testsNever = ticked(line)
			continue
		case !in:
			in = line == layoutHeading && rows == nil
			continue
		case strings.HasPrefix(line, "#"):
			in = false
			continue
		case !strings.HasPrefix(line, "|"):
			in = rows == nil // a blank line or prose ends the table
			continue
		}
		if header < 2 { // the header and the | --- | line
			header++
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 4 {
			return nil, nil, fmt.Errorf("README.md:%d: a layout row has 4 cells (folder, what it is for, may import, never depends on), this one %d", n, len(cells))
		}
		folder := ticked(cells[0])
		if len(folder) != 1 || !strings.HasSuffix(folder[0], "/") {
			return nil, nil, fmt.Errorf("README.md:%d: the first cell names one folder as `name/`, not %q", n, strings.TrimSpace(cells[0]))
		}
		if strings.TrimSpace(cells[1]) == "" {
			return nil, nil, fmt.Errorf("README.md:%d: say what %s is for", n, folder[0])
		}
		may, dev, _ := strings.Cut(cells[2], "`-tags dev`")
		rows = append(rows, layoutRow{line: n, folder: strings.TrimSuffix(folder[0], "/"),
			imports: ticked(may), devImports: ticked(dev), never: ticked(cells[3])})
	}
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}
	if len(rows) == 0 {
		return nil, nil, fmt.Errorf("README.md has no table under %q", layoutHeading)
	}
	return rows, testsNever, nil
}

// ticked returns the backticked tokens of a table cell.
func ticked(cell string) []string {
	parts := strings.Split(cell, "`")
	var out []string
	for i := 1; i < len(parts); i += 2 {
		out = append(out, parts[i])
	}
	return out
}

// goPackage is what the check needs of `go list -json`.
type goPackage struct {
	ImportPath string
	Name       string
	Doc        string   // the package comment's first sentence
	GoFiles    []string // of this build, tests left out
	Imports    []string
	Deps       []string // every package it depends on, indirectly too
	// TestImports and XTestImports are what its tests import.
	TestImports, XTestImports []string
}

// layout is what checkLayout checks: the table, the module's packages as
// the production and the dev build see them, and the module's folders.
type layout struct {
	module     string
	rows       []layoutRow
	testsNever []string // what no test imports
	prod, dev  []goPackage
	topLevel   []string        // the folders at the module's root
	folders    map[string]bool // every folder of the module
}

// rule is a parsed token.
type rule struct {
	token  string // as written
	folder string // the module folder it names, if it names one
	path   string // the import path (prefix) it stands for
}

func (r rule) matches(importPath string) bool {
	return importPath == r.path || strings.HasPrefix(importPath, r.path+"/")
}

// checkLayout returns every way the code and the table disagree, each as a
// sentence that says what to change.
func checkLayout(l layout) []string {
	var bad []string
	fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }

	row, order := map[string]layoutRow{}, map[string]int{}
	for i, r := range l.rows {
		if _, dup := row[r.folder]; dup {
			fail("README.md:%d: %s/ has two rows", r.line, r.folder)
		}
		row[r.folder], order[r.folder] = r, i
		if !l.folders[r.folder] {
			fail("README.md:%d: there is no folder %s/: drop or fix its row", r.line, r.folder)
		}
	}
	type rules struct{ imports, devImports, never []rule }
	parsed := map[string]rules{}
	// parse reads a row's tokens; layered says they are imports, which
	// must name folders above the row.
	parse := func(r layoutRow, tokens []string, layered bool) []rule {
		var out []rule
		for _, tok := range tokens {
			first, _, _ := strings.Cut(tok, "/")
			switch f := strings.TrimSuffix(tok, "/"); {
			case strings.Contains(first, "."):
				out = append(out, rule{token: tok, path: f})
			case strings.HasSuffix(tok, "/"):
				if _, ok := row[f]; !ok {
					fail("README.md:%d: %s/ names %s, which has no row", r.line, r.folder, tok)
				} else if layered && order[f] >= order[r.folder] {
					fail("README.md:%d: %s/ may import %s, which is listed below it: a folder imports only folders above it", r.line, r.folder, tok)
				}
				out = append(out, rule{token: tok, folder: f, path: l.module + "/" + f})
			default:
				out = append(out, rule{token: tok, path: tok})
			}
		}
		return out
	}
	for _, r := range l.rows {
		parsed[r.folder] = rules{parse(r, r.imports, true), parse(r, r.devImports, true), parse(r, r.never, false)}
	}

	// Every top-level folder has a row, itself or a folder inside it (cmd/
	// through cmd/zoom-worker/).
	for _, top := range l.topLevel {
		if !slices.ContainsFunc(l.rows, func(r layoutRow) bool {
			return r.folder == top || strings.HasPrefix(r.folder, top+"/")
		}) {
			fail("folder %s/ has no row in README.md's layout table: add one (what it is for, what it may import)", top)
		}
	}

	// Tests run against the real thing (STYLE): what a test never imports.
	testsNever := parse(layoutRow{folder: "tests"}, l.testsNever, false)
	saidOfTests := map[string]bool{}
	for _, p := range slices.Concat(l.prod, l.dev) {
		for _, imp := range slices.Concat(p.TestImports, p.XTestImports) {
			if i := slices.IndexFunc(testsNever, func(ru rule) bool { return ru.matches(imp) }); i >= 0 && !saidOfTests[p.ImportPath+" "+imp] {
				saidOfTests[p.ImportPath+" "+imp] = true
				fail("the tests of %s import %s, which README.md's %q line rules out", p.ImportPath, imp, testsNeverPrefix)
			}
		}
	}

	prodImports := map[string][]string{}
	for _, p := range l.prod {
		prodImports[p.ImportPath] = p.Imports
	}
	for _, build := range []struct {
		dev  bool
		pkgs []goPackage
	}{{false, l.prod}, {true, l.dev}} {
		for _, p := range build.pkgs {
			_, inProd := prodImports[p.ImportPath]
			folder := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, l.module), "/")
			r, ok := row[folder]
			if !ok {
				if !build.dev || !inProd { // once for both builds
					fail("package %s has no row in README.md's layout table: add %s/ to it, with what it is for, what it may import and what it never depends on", p.ImportPath, folder)
				}
				continue
			}
			// Each package says what it is for and how it fits, a library
			// in its doc.go (STYLE), a command at the top of its main.
			if p.Doc == "" && (!build.dev || !inProd) {
				fail("package %s has no package comment: say what it is for and how it fits", p.ImportPath)
			} else if p.Name != "main" && !slices.Contains(p.GoFiles, "doc.go") && !build.dev {
				fail("package %s keeps its package comment outside doc.go: move it there", p.ImportPath)
			}
			allowed, which := parsed[folder].imports, ""
			if build.dev {
				allowed, which = append(slices.Clone(allowed), parsed[folder].devImports...), " with -tags dev"
			}
			for _, imp := range p.Imports {
				if standard(imp) || (build.dev && slices.Contains(prodImports[p.ImportPath], imp)) {
					continue // allowed, or checked in the production build
				}
				if !slices.ContainsFunc(allowed, func(ru rule) bool { return ru.matches(imp) }) {
					fail("%s/ imports %s%s, which README.md:%d does not allow: remove the import, or add %s to the row if the layout should change",
						folder, imp, which, r.line, token(l.module, imp))
				}
			}
			if build.dev {
				continue // "never" is about what ships
			}
			for _, ru := range parsed[folder].never {
				if d := slices.IndexFunc(p.Deps, ru.matches); d >= 0 {
					fail("%s/ depends on %s (%s), which README.md:%d says it never does",
						folder, p.Deps[d], strings.Join(importChain(p, p.Deps[d], l.prod), " → "), r.line)
				}
			}
		}
	}
	return bad
}

// token is how a row names an import path.
func token(module, imp string) string {
	if f, ok := strings.CutPrefix(imp, module+"/"); ok {
		return "`" + f + "/`"
	}
	return "`" + imp + "`"
}

// standard reports whether an import path is in the standard library (its
// first element has no dot), or is cgo's "C".
func standard(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// importChain explains a dependency by the module's packages it comes
// through; "…" stands for packages outside the module.
func importChain(p goPackage, dep string, pkgs []goPackage) []string {
	byPath := map[string]goPackage{}
	for _, q := range pkgs {
		byPath[q.ImportPath] = q
	}
	chain := []string{p.ImportPath}
	for len(chain) <= len(pkgs) {
		if slices.Contains(p.Imports, dep) {
			return append(chain, dep)
		}
		next := slices.IndexFunc(p.Imports, func(imp string) bool {
			q, ok := byPath[imp]
			return ok && slices.Contains(q.Deps, dep)
		})
		if next < 0 {
			break
		}
		p = byPath[p.Imports[next]]
		chain = append(chain, p.ImportPath)
	}
	return append(chain, "…", dep)
}

// goList lists the module's packages as one build sees them.
func goList(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = ".."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

func goPackages(t *testing.T, tags ...string) []goPackage {
	t.Helper()
	var pkgs []goPackage
	for dec := json.NewDecoder(bytes.NewReader(goList(t, append(append([]string{"-json"}, tags...), "./...")...))); ; {
		var p goPackage
		if err := dec.Decode(&p); err == io.EOF {
			return pkgs
		} else if err != nil {
			t.Fatalf("go list -json: %v", err)
		}
		pkgs = append(pkgs, p)
	}
}

// moduleFolders returns the module's top-level folders and all its
// folders, leaving out .git and the build output .gitignore names as
// "/name/".
func moduleFolders(t *testing.T) (top []string, all map[string]bool) {
	t.Helper()
	skip := map[string]bool{".git": true}
	if b, err := os.ReadFile("../.gitignore"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if name, ok := strings.CutPrefix(strings.TrimSpace(line), "/"); ok && strings.Count(name, "/") == 1 && strings.HasSuffix(name, "/") {
				skip[strings.TrimSuffix(name, "/")] = true
			}
		}
	}
	all = map[string]bool{}
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() || path == ".." {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(path, ".."+string(filepath.Separator)))
		if skip[rel] {
			return filepath.SkipDir
		}
		if !strings.Contains(rel, "/") {
			top = append(top, rel)
		}
		all[rel] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return top, all
}

// TestLayout keeps the code to README's layout table: every package and
// every top-level folder has a row, every row names a folder that exists, a
// folder imports only what its row allows (and of the module only folders
// listed above it), and its production build never depends on what its row
// forbids.
func TestLayout(t *testing.T) {
	f, err := os.Open(readmeFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, testsNever, err := readLayout(f)
	if err != nil {
		t.Fatal(err)
	}
	l := layout{
		module:     strings.TrimSpace(string(goList(t, "-m"))),
		rows:       rows,
		testsNever: testsNever,
		// -tags= so that no GOFLAGS tag slips into the production list.
		prod: goPackages(t, "-tags="),
		dev:  goPackages(t, "-tags=dev"),
	}
	l.topLevel, l.folders = moduleFolders(t)
	for _, msg := range checkLayout(l) {
		t.Error(msg)
	}
}

// TestLayoutCatches shows that the check fails for each kind of break, on
// a small module made up for it.
func TestLayoutCatches(t *testing.T) {
	const readme = "# x\n\n### Layout\n\nTests never import `github.com/alicebob/miniredis/`: they use real Redis.\n\n" +
		"| folder | what it is for | may import | never depends on |\n| --- | --- | --- | --- |\n" +
		"| [`dom/`](dom) | the domain | the standard library only | `net/http`, `github.com/nats-io/` |\n" +
		"| [`pipe/`](pipe) | the pipeline | `dom/`, `github.com/nats-io/nats.go` | `github.com/redis/` |\n" +
		"| [`fake/`](fake) | a fake for tests | | |\n" +
		"| [`cmd/app/`](cmd/app) | the wiring | `dom/`, `pipe/`; `-tags dev` adds `fake/` | `fake/` |\n" +
		"\nMore prose.\n\n| a | later | table | ! |\n| --- | --- | --- | --- |\n| x | y | z | w |\n"
	rows, testsNever, err := readLayout(strings.NewReader(readme))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"github.com/alicebob/miniredis/"}; !slices.Equal(testsNever, want) {
		t.Fatalf("readLayout: tests never import %q, want %q", testsNever, want)
	}
	const m = "example.com/app"
	good := func() layout {
		l := layout{
			module:     m,
			rows:       rows,
			testsNever: testsNever,
			prod: []goPackage{
				{ImportPath: m + "/dom", Imports: []string{"fmt"}, Deps: []string{"fmt"}},
				{ImportPath: m + "/pipe", Imports: []string{m + "/dom", "github.com/nats-io/nats.go"}, Deps: []string{m + "/dom", "github.com/nats-io/nats.go"}},
				{ImportPath: m + "/cmd/app", Name: "main", Imports: []string{m + "/pipe"}, Deps: []string{m + "/dom", m + "/pipe", "github.com/nats-io/nats.go"}},
				{ImportPath: m + "/fake", Imports: []string{"net/http"}},
			},
			topLevel: []string{"cmd", "dom", "fake", "pipe"},
			folders:  map[string]bool{"cmd": true, "cmd/app": true, "dom": true, "fake": true, "pipe": true},
		}
		for i, p := range l.prod {
			l.prod[i].Doc = "Package " + p.ImportPath + " is made up."
			if p.Name == "" {
				l.prod[i].Name, l.prod[i].GoFiles = "x", []string{"doc.go", "x.go"}
			}
		}
		return l
	}
	withDev := func(l layout, p goPackage) layout {
		l.dev = append(slices.Clone(l.prod), p)
		return l
	}
	// withImport adds path to the imports of the i-th package of the build.
	withImport := func(i int, path string) func(layout) layout {
		return func(l layout) layout {
			l.prod[i].Imports = append(l.prod[i].Imports, path)
			return l
		}
	}
	tests := []struct {
		name   string
		change func(layout) layout
		want   string // in the one finding; "" for none
	}{
		{"as the table says", func(l layout) layout { return l }, ""},
		{"the dev build adds what its row allows", func(l layout) layout {
			l.dev = slices.Clone(l.prod)
			l.dev[2] = goPackage{ImportPath: m + "/cmd/app", Imports: []string{m + "/pipe", m + "/fake"}}
			return l
		}, ""},
		{"a package without a row", func(l layout) layout {
			l.prod = append(l.prod, goPackage{ImportPath: m + "/fresh"})
			return l
		}, "package example.com/app/fresh has no row in README.md's layout table: add fresh/ to it"},
		{"a package only the dev build has, without a row", func(l layout) layout {
			return withDev(l, goPackage{ImportPath: m + "/devonly"})
		}, "add devonly/ to it"},
		{"a package without a package comment", func(l layout) layout {
			l.prod[1].Doc = ""
			return l
		}, "package example.com/app/pipe has no package comment"},
		{"a library's package comment outside doc.go", func(l layout) layout {
			l.prod[0].GoFiles = []string{"x.go"}
			return l
		}, "package example.com/app/dom keeps its package comment outside doc.go"},
		{"a test that imports what tests never do", func(l layout) layout {
			l.prod[1].XTestImports = []string{m + "/fake", "github.com/alicebob/miniredis/v2"}
			return l
		}, "the tests of example.com/app/pipe import github.com/alicebob/miniredis/v2"},
		{"a top-level folder without a row", func(l layout) layout {
			l.topLevel = append(l.topLevel, "assets")
			return l
		}, "folder assets/ has no row"},
		{"a row for a folder that is gone", func(l layout) layout {
			delete(l.folders, "fake")
			return l
		}, "README.md:11: there is no folder fake/"},
		{"an import of the module the row does not allow", withImport(0, m+"/pipe"), "dom/ imports example.com/app/pipe, which README.md:9 does not allow: remove the import, or add `pipe/` to the row"},
		{"an outside import the row does not allow", withImport(1, "github.com/redis/go-redis/v9"), "pipe/ imports github.com/redis/go-redis/v9, which README.md:10 does not allow"},
		{"a dev-only import in the production build", withImport(2, m+"/fake"), "cmd/app/ imports example.com/app/fake, which README.md:12 does not allow"},
		{"an import the dev build's row does not allow", func(l layout) layout {
			return withDev(l, goPackage{ImportPath: m + "/fake", Imports: []string{m + "/dom"}})
		}, "fake/ imports example.com/app/dom with -tags dev, which README.md:11 does not allow"},
		{"a forbidden dependency, indirectly", func(l layout) layout {
			l.prod[1].Deps = append(l.prod[1].Deps, "github.com/redis/go-redis/v9")
			return l
		}, "pipe/ depends on github.com/redis/go-redis/v9 (example.com/app/pipe → … → github.com/redis/go-redis/v9), which README.md:10 says it never does"},
		{"a forbidden dependency through the module", func(l layout) layout {
			l.prod[0].Imports = append(l.prod[0].Imports, "os/exec")
			l.prod[0].Deps = append(l.prod[0].Deps, "os/exec")
			l.prod[2].Imports = append(l.prod[2].Imports, m+"/dom")
			l.prod[2].Deps = append(l.prod[2].Deps, "os/exec")
			l.rows = slices.Clone(l.rows)
			l.rows[3].never = append(slices.Clone(l.rows[3].never), "os/exec")
			return l
		}, "cmd/app/ depends on os/exec (example.com/app/cmd/app → example.com/app/dom → os/exec), which README.md:12 says"},
		{"a row that may import a folder below it", func(l layout) layout {
			l.rows = slices.Clone(l.rows)
			l.rows[0].imports = []string{"pipe/"}
			return l
		}, "README.md:9: dom/ may import pipe/, which is listed below it"},
		{"a row that names a folder without a row", func(l layout) layout {
			l.rows = slices.Clone(l.rows)
			l.rows[1].imports = append(slices.Clone(l.rows[1].imports), "util/")
			return l
		}, "README.md:10: pipe/ names util/, which has no row"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := tt.change(good())
			if l.dev == nil {
				l.dev = l.prod
			}
			got := checkLayout(l)
			switch {
			case tt.want == "" && len(got) > 0:
				t.Errorf("checkLayout = %q, want nothing", got)
			case tt.want != "" && (len(got) != 1 || !strings.Contains(got[0], tt.want)):
				t.Errorf("checkLayout = %q, want one finding containing %q", got, tt.want)
			}
		})
	}
}

// TestReadLayoutRefuses shows that a malformed table stops the check with a
// line that says what is wrong, rather than checking less.
func TestReadLayoutRefuses(t *testing.T) {
	const head = "### Layout\n\n| folder | what it is for | may import | never depends on |\n| --- | --- | --- | --- |\n"
	tests := []struct{ name, readme, want string }{
		{"no table", "# x\n\n## Development\n", `README.md has no table under "### Layout"`},
		{"three cells", head + "| `a/` | for | |\n", "README.md:5: a layout row has 4 cells"},
		{"a folder without its slash", head + "| `a` | for | | |\n", "names one folder as `name/`"},
		{"nothing said of the folder", head + "| `a/` |  | | |\n", "say what a/ is for"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readLayout(strings.NewReader(tt.readme))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("readLayout: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
