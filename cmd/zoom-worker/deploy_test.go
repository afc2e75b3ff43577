package main

// The manifests in deploy/ are checked against the binary they run: every
// setting they name must be one the binary knows (a typo such as
// ZOOMW_STREAM_REPLICA would otherwise be ignored in silence), secrets must
// travel by reference, and the probes, ports and grace period must fit what
// `zoom-worker run` does.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/zoomworker/zoom-worker/console"
	"github.com/zoomworker/zoom-worker/messages"
)

// deployDir is deploy/ as seen from this package's directory.
const deployDir = "../../deploy"

// manifestDoc is one YAML document of a file under deploy/.
type manifestDoc struct {
	file string // relative to deploy/, e.g. "k8s/deployment.yaml"
	raw  []byte
	obj  map[string]any
}

func (d manifestDoc) kind() string { s, _ := d.obj["kind"].(string); return s }

func (d manifestDoc) name() string {
	md, _ := d.obj["metadata"].(map[string]any)
	s, _ := md["name"].(string)
	return s
}

// decode unmarshals the document into v (a struct with json tags).
func (d manifestDoc) decode(t *testing.T, v any) {
	t.Helper()
	if err := yaml.Unmarshal(d.raw, v); err != nil {
		t.Fatalf("%s: decode %s: %v", d.file, d.kind(), err)
	}
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*(#.*)?$`)

// loadManifests parses every YAML file under deploy/, each document on its
// own; documents that hold only comments are skipped.
func loadManifests(t *testing.T) []manifestDoc {
	t.Helper()
	var docs []manifestDoc
	err := filepath.WalkDir(deployDir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		if ext := filepath.Ext(path); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		rel, _ := filepath.Rel(deployDir, path)
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, part := range docSeparator.Split(string(b), -1) {
			var obj map[string]any
			if err := yaml.Unmarshal([]byte(part), &obj); err != nil {
				return fmt.Errorf("%s: document %d: %w", rel, i+1, err)
			}
			if obj == nil {
				continue
			}
			docs = append(docs, manifestDoc{file: filepath.ToSlash(rel), raw: []byte(part), obj: obj})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) == 0 {
		t.Fatalf("no YAML found under %s", deployDir)
	}
	return docs
}

func docsOfKind(docs []manifestDoc, kind string) []manifestDoc {
	var out []manifestDoc
	for _, d := range docs {
		if strings.HasPrefix(d.file, "k8s/") && d.kind() == kind {
			out = append(out, d)
		}
	}
	return out
}

func oneOfKind(t *testing.T, docs []manifestDoc, kind string) manifestDoc {
	t.Helper()
	var found []manifestDoc
	for _, d := range docsOfKind(docs, kind) {
		if !strings.HasSuffix(d.file, ".example.yaml") { // examples are not applied
			found = append(found, d)
		}
	}
	if len(found) != 1 {
		t.Fatalf("deploy/k8s: got %d %s manifests, want 1", len(found), kind)
	}
	return found[0]
}

func composeDoc(t *testing.T, docs []manifestDoc) manifestDoc {
	t.Helper()
	for _, d := range docs {
		if d.file == "compose.yaml" {
			return d
		}
	}
	t.Fatal("deploy/compose.yaml not found")
	return manifestDoc{}
}

// settingByEnv returns the binary's setting named env.
func settingByEnv(env string) (setting, bool) {
	for _, s := range Settings {
		if s.env == env {
			return s, true
		}
	}
	return setting{}, false
}

// settingDefault returns the default of a setting the test relies on.
func settingDefault(t *testing.T, env string) string {
	t.Helper()
	s, ok := settingByEnv(env)
	if !ok {
		t.Fatalf("Settings has no %s", env)
	}
	return s.def
}

// isSettingName says whether an environment variable name is in the
// binary's namespaces: NATS_, REDIS_, ZOOM_ and ZOOMW_.
func isSettingName(name string) bool {
	for _, p := range []string{"NATS_", "REDIS_", "ZOOM_", "ZOOMW_"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// envUse is one place a manifest names an environment variable.
type envUse struct {
	file, where, name string
	value             any // a literal value where there is one
	fromSecret        bool
}

var interpolation = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)`)

// envUses lists every environment variable the manifests name: env entries
// of Kubernetes containers (anywhere in a document), ConfigMap and Secret
// keys, compose services' environment, and ${VAR} interpolations in the
// compose file.
func envUses(docs []manifestDoc) []envUse {
	var out []envUse
	for _, d := range docs {
		if d.file == "compose.yaml" {
			services, _ := d.obj["services"].(map[string]any)
			for svcName, svc := range services {
				env, _ := svc.(map[string]any)["environment"]
				for name, value := range composeEnv(env) {
					out = append(out, envUse{file: d.file, where: "service " + svcName, name: name, value: value})
				}
			}
			for _, m := range interpolation.FindAllStringSubmatch(string(d.raw), -1) {
				out = append(out, envUse{file: d.file, where: "interpolation", name: m[1]})
			}
			continue
		}
		switch d.kind() {
		case "ConfigMap":
			data, _ := d.obj["data"].(map[string]any)
			for k, v := range data {
				out = append(out, envUse{file: d.file, where: "ConfigMap " + d.name(), name: k, value: v})
			}
		case "Secret":
			for _, field := range []string{"data", "stringData"} {
				data, _ := d.obj[field].(map[string]any)
				for k, v := range data {
					out = append(out, envUse{file: d.file, where: "Secret " + d.name(), name: k, value: v, fromSecret: true})
				}
			}
		}
		walkEnv(d.obj, func(e map[string]any) {
			name, _ := e["name"].(string)
			u := envUse{file: d.file, where: d.kind() + " " + d.name() + " env", name: name, value: e["value"]}
			if vf, ok := e["valueFrom"].(map[string]any); ok {
				_, u.fromSecret = vf["secretKeyRef"]
			}
			out = append(out, u)
		})
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].file+out[i].where+out[i].name < out[j].file+out[j].where+out[j].name
	})
	return out
}

// walkEnv calls f for each entry of every "env" list in v.
func walkEnv(v any, f func(map[string]any)) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if list, ok := child.([]any); ok && k == "env" {
				for _, e := range list {
					if m, ok := e.(map[string]any); ok {
						f(m)
					}
				}
				continue
			}
			walkEnv(child, f)
		}
	case []any:
		for _, child := range v {
			walkEnv(child, f)
		}
	}
}

// composeEnv reads a compose service's environment, a map or a list of
// NAME=value strings.
func composeEnv(env any) map[string]any {
	out := map[string]any{}
	switch env := env.(type) {
	case map[string]any:
		for k, v := range env {
			out[k] = v
		}
	case []any:
		for _, e := range env {
			s, _ := e.(string)
			k, v, _ := strings.Cut(s, "=")
			out[k] = v
		}
	}
	return out
}

func TestDeployManifestsParse(t *testing.T) {
	docs := loadManifests(t)
	files := map[string]bool{}
	for _, d := range docs {
		files[d.file] = true
		if !strings.HasPrefix(d.file, "k8s/") {
			continue
		}
		if d.obj["apiVersion"] == nil || d.kind() == "" {
			t.Errorf("%s: a document without apiVersion or kind", d.file)
		}
		if d.kind() != "Kustomization" && d.name() == "" {
			t.Errorf("%s: %s without metadata.name", d.file, d.kind())
		}
		if md, _ := d.obj["metadata"].(map[string]any); md["namespace"] != nil {
			t.Errorf("%s: %s %s names a namespace; the manifests are namespace-less", d.file, d.kind(), d.name())
		}
	}
	for _, want := range []string{"compose.yaml", "k8s/kustomization.yaml", "k8s/deployment.yaml", "k8s/console.example.yaml"} {
		if !files[want] {
			t.Errorf("deploy/%s: missing", want)
		}
	}
}

func TestDeployEnvNamesAreSettings(t *testing.T) {
	uses := envUses(loadManifests(t))
	seen := map[string]bool{}
	for _, u := range uses {
		if !isSettingName(u.name) {
			continue
		}
		seen[u.file+" "+u.name] = true
		t.Run(u.file+"/"+u.where+"/"+u.name, func(t *testing.T) {
			if _, ok := settingByEnv(u.name); !ok {
				t.Errorf("%s (%s) names %s: not a setting the binary knows (see Settings in settings.go)", u.file, u.where, u.name)
			}
		})
	}
	// The check above must have had something to check.
	for _, want := range []string{
		"compose.yaml NATS_URL", "compose.yaml ZOOMW_STREAM_REPLICAS", "compose.yaml ZOOM_CLIENT_SECRET",
		"k8s/configmap.yaml NATS_URL", "k8s/deployment.yaml ZOOM_CLIENT_SECRET", "k8s/deployment.yaml REDIS_URL",
		"k8s/console.example.yaml ZOOMW_CONSOLE_TOKEN", "compose.yaml ZOOMW_CONSOLE_TOKEN",
	} {
		if !seen[want] {
			t.Errorf("expected the manifests to set %s; the env scan found none", want)
		}
	}
}

func TestDeploySecretsByReference(t *testing.T) {
	docs := loadManifests(t)
	zoomCredentials := []string{"ZOOM_ACCOUNT_ID", "ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET", "ZOOM_API_KEY", "ZOOM_API_SECRET"}
	for _, u := range envUses(docs) {
		s, known := settingByEnv(u.name)
		if !known {
			continue // TestDeployEnvNamesAreSettings reports it
		}
		t.Run(u.file+"/"+u.where+"/"+u.name, func(t *testing.T) {
			switch {
			case strings.HasPrefix(u.where, "Secret "):
				// Only the example Secret is shipped, with placeholders.
				v, _ := u.value.(string)
				if !strings.HasPrefix(u.file, "k8s/") || !strings.HasSuffix(u.file, ".example.yaml") {
					t.Errorf("%s: a Secret with values is shipped; ship an example with placeholders", u.file)
				}
				if !strings.Contains(v, "REPLACE") {
					t.Errorf("%s: %s = %q is not a placeholder (want REPLACE...)", u.file, u.name, v)
				}
			case strings.HasPrefix(u.where, "ConfigMap "):
				if s.secret {
					t.Errorf("%s: secret setting %s is in a ConfigMap; give it with a secretKeyRef", u.file, u.name)
				}
			case strings.HasSuffix(u.where, " env"):
				if s.secret && (!u.fromSecret || u.value != nil) {
					t.Errorf("%s: secret setting %s must come from valueFrom.secretKeyRef, not a value", u.file, u.name)
				}
				if slices.Contains(zoomCredentials, u.name) && !u.fromSecret {
					t.Errorf("%s: Zoom credential %s must come from the Secret zoom-worker-zoom", u.file, u.name)
				}
			case u.file == "compose.yaml" && u.where != "interpolation":
				v := fmt.Sprint(u.value)
				if s.secret && !strings.Contains(v, "${") && urlHasPassword(v) {
					t.Errorf("%s (%s): secret setting %s holds a literal secret; take it from the environment (${%s:?})",
						u.file, u.where, u.name, u.name)
				}
				if slices.Contains(zoomCredentials, u.name) && !strings.HasPrefix(v, "${"+u.name+":?") {
					t.Errorf("%s (%s): %s = %q; want ${%s:?...} so compose refuses to start without it",
						u.file, u.where, u.name, v, u.name)
				}
			}
		})
	}

	// Every secretKeyRef of a Deployment (the worker's and the examples')
	// names a Secret the example shows, and the Zoom credentials come from
	// zoom-worker-zoom.
	examples := map[string]map[string]bool{}
	for _, d := range docsOfKind(docs, "Secret") {
		keys := map[string]bool{}
		for _, f := range []string{"data", "stringData"} {
			m, _ := d.obj[f].(map[string]any)
			for k := range m {
				keys[k] = true
			}
		}
		examples[d.name()] = keys
	}
	for _, d := range docsOfKind(docs, "Deployment") {
		var dep deployment
		d.decode(t, &dep)
		for _, c := range dep.Spec.Template.Spec.Containers {
			for _, e := range c.Env {
				if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
					continue
				}
				ref := e.ValueFrom.SecretKeyRef
				if !examples[ref.Name][ref.Key] {
					t.Errorf("%s: %s from Secret %s key %s, which secret.example.yaml does not show", d.file, e.Name, ref.Name, ref.Key)
				}
				if slices.Contains(zoomCredentials, e.Name) && ref.Name != "zoom-worker-zoom" {
					t.Errorf("%s: %s from Secret %q, want zoom-worker-zoom", d.file, e.Name, ref.Name)
				}
			}
		}
	}
}

// urlHasPassword reports whether s looks like a URL with a password in it
// (anything that is not a URL counts as one: it is a secret value).
func urlHasPassword(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return true
	}
	_, has := u.User.Password()
	return has
}

// The parts of Kubernetes objects the tests read.
type (
	deployment struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Spec struct {
			Replicas *int `json:"replicas"`
			Selector struct {
				MatchLabels map[string]string `json:"matchLabels"`
			} `json:"selector"`
			Template struct {
				Metadata struct {
					Labels      map[string]string `json:"labels"`
					Annotations map[string]string `json:"annotations"`
				} `json:"metadata"`
				Spec struct {
					TerminationGracePeriodSeconds *int64           `json:"terminationGracePeriodSeconds"`
					SecurityContext               *securityContext `json:"securityContext"`
					Containers                    []container      `json:"containers"`
				} `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	container struct {
		Name    string   `json:"name"`
		Image   string   `json:"image"`
		Command []string `json:"command"`
		Args    []string `json:"args"`
		Ports   []struct {
			Name          string `json:"name"`
			ContainerPort int    `json:"containerPort"`
		} `json:"ports"`
		Env     []envVar `json:"env"`
		EnvFrom []struct {
			ConfigMapRef *struct {
				Name string `json:"name"`
			} `json:"configMapRef"`
			SecretRef *struct {
				Name string `json:"name"`
			} `json:"secretRef"`
		} `json:"envFrom"`
		LivenessProbe  *probe `json:"livenessProbe"`
		ReadinessProbe *probe `json:"readinessProbe"`
		Resources      struct {
			Requests map[string]any `json:"requests"`
			Limits   map[string]any `json:"limits"`
		} `json:"resources"`
		SecurityContext *securityContext `json:"securityContext"`
	}
	envVar struct {
		Name      string  `json:"name"`
		Value     *string `json:"value"`
		ValueFrom *struct {
			SecretKeyRef *struct {
				Name string `json:"name"`
				Key  string `json:"key"`
			} `json:"secretKeyRef"`
		} `json:"valueFrom"`
	}
	probe struct {
		HTTPGet *struct {
			Path string `json:"path"`
			Port any    `json:"port"` // a number or a port name
		} `json:"httpGet"`
	}
	securityContext struct {
		RunAsNonRoot             *bool  `json:"runAsNonRoot"`
		RunAsUser                *int64 `json:"runAsUser"`
		ReadOnlyRootFilesystem   *bool  `json:"readOnlyRootFilesystem"`
		AllowPrivilegeEscalation *bool  `json:"allowPrivilegeEscalation"`
		Capabilities             *struct {
			Drop []string `json:"drop"`
		} `json:"capabilities"`
	}
	service struct {
		Spec struct {
			Selector map[string]string `json:"selector"`
			Ports    []struct {
				Name       string `json:"name"`
				Port       int    `json:"port"`
				TargetPort any    `json:"targetPort"`
			} `json:"ports"`
		} `json:"spec"`
	}
	labelSelector struct {
		MatchLabels map[string]string `json:"matchLabels"`
	}
)

// port resolves a probe's or Service's port (a number or a container port name).
func (c container) port(p any) int {
	switch p := p.(type) {
	case float64:
		return int(p)
	case string:
		for _, cp := range c.Ports {
			if cp.Name == p {
				return cp.ContainerPort
			}
		}
		n, _ := strconv.Atoi(p)
		return n
	}
	return 0
}

// configValue is the value the shipped ConfigMap gives a setting, else the
// setting's default.
func configValue(t *testing.T, docs []manifestDoc, env string) string {
	t.Helper()
	for _, d := range docsOfKind(docs, "ConfigMap") {
		data, _ := d.obj["data"].(map[string]any)
		if v, ok := data[env]; ok {
			return fmt.Sprint(v)
		}
	}
	return settingDefault(t, env)
}

// subsetOf reports whether every label of sel is in labels.
func subsetOf(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func TestDeployDeployment(t *testing.T) {
	docs := loadManifests(t)
	var dep deployment
	oneOfKind(t, docs, "Deployment").decode(t, &dep)
	pod := dep.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("deployment: got %d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]

	_, portStr, err := net.SplitHostPort(configValue(t, docs, "ZOOMW_HTTP_ADDR"))
	if err != nil {
		t.Fatalf("ZOOMW_HTTP_ADDR: %v", err)
	}
	httpPort, _ := strconv.Atoi(portStr)
	shutdown, err := time.ParseDuration(configValue(t, docs, "ZOOMW_SHUTDOWN_TIMEOUT"))
	if err != nil {
		t.Fatalf("ZOOMW_SHUTDOWN_TIMEOUT: %v", err)
	}

	probeCheck := func(p *probe, kind, path string) error {
		if p == nil || p.HTTPGet == nil {
			return fmt.Errorf("no %s probe with httpGet", kind)
		}
		if got := c.port(p.HTTPGet.Port); p.HTTPGet.Path != path || got != httpPort {
			return fmt.Errorf("%s probe GETs %s on port %d, want %s on %d (ZOOMW_HTTP_ADDR)", kind, p.HTTPGet.Path, got, path, httpPort)
		}
		return nil
	}
	tests := []manifestCheck{
		{"liveness probe is /healthz on the HTTP port", func() error { return probeCheck(c.LivenessProbe, "liveness", "/healthz") }},
		{"readiness probe is /readyz on the HTTP port", func() error { return probeCheck(c.ReadinessProbe, "readiness", "/readyz") }},
		{"container exposes the HTTP port", func() error {
			for _, p := range c.Ports {
				if p.ContainerPort == httpPort {
					return nil
				}
			}
			return fmt.Errorf("no containerPort %d", httpPort)
		}},
		{"grace period outlasts ZOOMW_SHUTDOWN_TIMEOUT", func() error {
			g := pod.TerminationGracePeriodSeconds
			if g == nil {
				return fmt.Errorf("terminationGracePeriodSeconds not set (Kubernetes' 30s default is not tied to ZOOMW_SHUTDOWN_TIMEOUT)")
			}
			// The worker needs the shutdown timeout plus a few seconds to
			// hand back jobs, flush NATS and close connections.
			if got, want := time.Duration(*g)*time.Second, shutdown+5*time.Second; got < want {
				return fmt.Errorf("terminationGracePeriodSeconds %v, want at least %v (ZOOMW_SHUTDOWN_TIMEOUT %v + 5s)", got, want, shutdown)
			}
			return nil
		}},
		{"prometheus annotations name the HTTP port", func() error {
			a := dep.Spec.Template.Metadata.Annotations
			if a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != strconv.Itoa(httpPort) || a["prometheus.io/path"] != "/metrics" {
				return fmt.Errorf("annotations %v: want prometheus.io/scrape true, port %d, path /metrics", a, httpPort)
			}
			return nil
		}},
		configMapCheck(t, docs, c),
		{"three replicas", func() error {
			if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 3 {
				return fmt.Errorf("replicas %v, want 3", dep.Spec.Replicas)
			}
			return nil
		}},
	}
	runChecks(t, "deployment", append(tests, podChecks(dep)...))
}

// configMapCheck: c takes its settings from the shipped ConfigMap (the
// console too: the workers' NATS_URL and rate limits), and no Secret whole.
func configMapCheck(t *testing.T, docs []manifestDoc, c container) manifestCheck {
	return manifestCheck{"settings come from the shipped ConfigMap", func() error {
		cm := oneOfKind(t, docs, "ConfigMap").name()
		for _, ef := range c.EnvFrom {
			if ef.ConfigMapRef != nil && ef.ConfigMapRef.Name == cm {
				return nil
			}
			if ef.SecretRef != nil {
				return fmt.Errorf("envFrom secretRef %s: name each secret with a secretKeyRef", ef.SecretRef.Name)
			}
		}
		return fmt.Errorf("no envFrom configMapRef %s", cm)
	}}
}

// podChecks are what every Deployment's pod must have, the worker's and the
// console's alike: a selector that matches it, resources, a non-root user,
// a read-only root filesystem, no privilege escalation and no capabilities.
func podChecks(dep deployment) []manifestCheck {
	pod := dep.Spec.Template.Spec
	var c container
	if len(pod.Containers) > 0 {
		c = pod.Containers[0]
	}
	nonRoot := func(sc *securityContext) bool {
		return sc != nil && sc.RunAsNonRoot != nil && *sc.RunAsNonRoot && (sc.RunAsUser == nil || *sc.RunAsUser != 0)
	}
	return []manifestCheck{
		{"selector matches the pod labels", func() error {
			if !subsetOf(dep.Spec.Selector.MatchLabels, dep.Spec.Template.Metadata.Labels) {
				return fmt.Errorf("selector %v does not match pod labels %v", dep.Spec.Selector.MatchLabels, dep.Spec.Template.Metadata.Labels)
			}
			return nil
		}},
		{"cpu and memory requests and limits", func() error {
			for _, r := range []string{"cpu", "memory"} {
				if c.Resources.Requests[r] == nil || c.Resources.Limits[r] == nil {
					return fmt.Errorf("resources: %s request or limit missing (requests %v, limits %v)", r, c.Resources.Requests, c.Resources.Limits)
				}
			}
			return nil
		}},
		{"runs as a non-root user", func() error {
			if !nonRoot(pod.SecurityContext) && !nonRoot(c.SecurityContext) {
				return fmt.Errorf("securityContext: want runAsNonRoot: true (and no runAsUser 0)")
			}
			for _, sc := range []*securityContext{pod.SecurityContext, c.SecurityContext} {
				if sc != nil && sc.RunAsUser != nil && *sc.RunAsUser == 0 {
					return fmt.Errorf("securityContext: runAsUser 0")
				}
			}
			return nil
		}},
		{"read-only root filesystem, no privilege escalation, no capabilities", func() error {
			sc := c.SecurityContext
			switch {
			case sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
				return fmt.Errorf("container securityContext: want readOnlyRootFilesystem: true")
			case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
				return fmt.Errorf("container securityContext: want allowPrivilegeEscalation: false")
			case sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL"):
				return fmt.Errorf("container securityContext: want capabilities.drop [ALL]")
			}
			return nil
		}},
	}
}

// consoleManifest is the opt-in console example (README, Operator console).
const consoleManifest = "k8s/console.example.yaml"

// selectorOf is the label selector of a Deployment, Service or
// PodDisruptionBudget document.
func selectorOf(d manifestDoc) map[string]string {
	spec, _ := d.obj["spec"].(map[string]any)
	sel, _ := spec["selector"].(map[string]any)
	if d.kind() != "Service" {
		sel, _ = sel["matchLabels"].(map[string]any)
	}
	out := map[string]string{}
	for k, v := range sel {
		out[k] = fmt.Sprint(v)
	}
	return out
}

// TestDeployConsole: the console example runs `zoom-worker console`, and
// listens off loopback only with ZOOMW_CONSOLE_TOKEN from a Secret, which
// the console requires (checkConsoleAddr); its pods are its own.
func TestDeployConsole(t *testing.T) {
	docs := loadManifests(t)
	var dep deployment
	var svc service
	var depDoc manifestDoc
	for _, d := range docs {
		switch {
		case d.file != consoleManifest:
		case d.kind() == "Deployment":
			d.decode(t, &dep)
			depDoc = d
		case d.kind() == "Service":
			d.decode(t, &svc)
		}
	}
	if len(dep.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("%s: got %d containers in a Deployment, want one Deployment of 1", consoleManifest, len(dep.Spec.Template.Spec.Containers))
	}
	c := dep.Spec.Template.Spec.Containers[0]
	env := map[string]envVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	addr := settingDefault(t, "ZOOMW_CONSOLE_ADDR")
	if e, ok := env["ZOOMW_CONSOLE_ADDR"]; ok && e.Value != nil {
		addr = *e.Value
	}
	_, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("ZOOMW_CONSOLE_ADDR %q: %v", addr, err)
	}
	consolePort, _ := strconv.Atoi(portStr)
	stages := parseDockerfile(t, filepath.Join(deployDir, "Dockerfile"))
	var entrypoint []string
	_ = json.Unmarshal([]byte(stages[len(stages)-1].last("ENTRYPOINT")), &entrypoint)
	podLabels := dep.Spec.Template.Metadata.Labels

	tests := []manifestCheck{
		{"runs zoom-worker console", func() error {
			argv := c.Command
			if argv == nil {
				argv = entrypoint // args alone follow the image's `zoom-worker run`
			}
			argv = append(slices.Clone(argv), c.Args...)
			if len(argv) < 2 || argv[0] != "/zoom-worker" || argv[1] != "console" {
				return fmt.Errorf("runs %q (command %q, args %q, image entrypoint %q), want /zoom-worker console", argv, c.Command, c.Args, entrypoint)
			}
			return nil
		}},
		{"off loopback only with ZOOMW_CONSOLE_TOKEN from a secretKeyRef", func() error {
			if console.LoopbackOnly(addr) {
				return fmt.Errorf("ZOOMW_CONSOLE_ADDR %q: loopback only, out of reach of the Service", addr)
			}
			tok, ok := env["ZOOMW_CONSOLE_TOKEN"]
			if !ok || tok.Value != nil || tok.ValueFrom == nil || tok.ValueFrom.SecretKeyRef == nil {
				return fmt.Errorf("ZOOMW_CONSOLE_ADDR %q needs ZOOMW_CONSOLE_TOKEN from valueFrom.secretKeyRef (the console refuses to start without it)", addr)
			}
			return nil
		}},
		{"probes ask the console port for a page open without a token", func() error {
			for kind, p := range map[string]*probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
				if p == nil || p.HTTPGet == nil {
					return fmt.Errorf("no %s probe with httpGet", kind)
				}
				// The console has no health path; secure() lets these through.
				if got := c.port(p.HTTPGet.Port); got != consolePort || (p.HTTPGet.Path != "/login" && !strings.HasPrefix(p.HTTPGet.Path, "/static/")) {
					return fmt.Errorf("%s probe GETs %s on port %d, want /login on %d (ZOOMW_CONSOLE_ADDR)", kind, p.HTTPGet.Path, got, consolePort)
				}
			}
			return nil
		}},
		{"service forwards to the console port", func() error {
			if !subsetOf(svc.Spec.Selector, podLabels) {
				return fmt.Errorf("service selector %v does not match pod labels %v", svc.Spec.Selector, podLabels)
			}
			for _, p := range svc.Spec.Ports {
				if c.port(p.TargetPort) == consolePort {
					return nil
				}
			}
			return fmt.Errorf("service: no port targets %d", consolePort)
		}},
		{"the workers' selectors leave its pods alone", func() error {
			for _, d := range docs {
				if !strings.HasPrefix(d.file, "k8s/") || d.file == consoleManifest {
					continue
				}
				switch d.kind() {
				case "Deployment", "Service", "PodDisruptionBudget":
					if sel := selectorOf(d); subsetOf(sel, podLabels) {
						return fmt.Errorf("%s: %s %s selects the console's pods (%v)", d.file, d.kind(), d.name(), sel)
					}
				}
			}
			return nil
		}},
		configMapCheck(t, docs, c),
	}
	runChecks(t, depDoc.file, append(tests, podChecks(dep)...))
}

func TestDeployServicePDBAndScaledObject(t *testing.T) {
	docs := loadManifests(t)
	var dep deployment
	oneOfKind(t, docs, "Deployment").decode(t, &dep)
	podLabels := dep.Spec.Template.Metadata.Labels
	c := dep.Spec.Template.Spec.Containers[0]
	_, portStr, _ := net.SplitHostPort(configValue(t, docs, "ZOOMW_HTTP_ADDR"))
	httpPort, _ := strconv.Atoi(portStr)

	var svc service
	oneOfKind(t, docs, "Service").decode(t, &svc)
	var pdb struct {
		Spec struct {
			MinAvailable   any           `json:"minAvailable"`
			MaxUnavailable any           `json:"maxUnavailable"`
			Selector       labelSelector `json:"selector"`
		} `json:"spec"`
	}
	oneOfKind(t, docs, "PodDisruptionBudget").decode(t, &pdb)
	var so struct {
		Spec struct {
			ScaleTargetRef struct {
				Name string `json:"name"`
			} `json:"scaleTargetRef"`
			MinReplicaCount *int `json:"minReplicaCount"`
			MaxReplicaCount *int `json:"maxReplicaCount"`
			Triggers        []struct {
				Type     string            `json:"type"`
				Metadata map[string]string `json:"metadata"`
			} `json:"triggers"`
		} `json:"spec"`
	}
	oneOfKind(t, docs, "ScaledObject").decode(t, &so)

	tests := []manifestCheck{
		{"service selects the pods", func() error {
			if !subsetOf(svc.Spec.Selector, podLabels) {
				return fmt.Errorf("service selector %v does not match pod labels %v", svc.Spec.Selector, podLabels)
			}
			return nil
		}},
		{"service forwards to the HTTP port", func() error {
			for _, p := range svc.Spec.Ports {
				if c.port(p.TargetPort) == httpPort {
					return nil
				}
			}
			return fmt.Errorf("service: no port targets %d", httpPort)
		}},
		{"PDB selects the pods and bounds disruption", func() error {
			if !subsetOf(pdb.Spec.Selector.MatchLabels, podLabels) {
				return fmt.Errorf("PDB selector %v does not match pod labels %v", pdb.Spec.Selector.MatchLabels, podLabels)
			}
			if (pdb.Spec.MinAvailable == nil) == (pdb.Spec.MaxUnavailable == nil) {
				return fmt.Errorf("PDB: want exactly one of minAvailable and maxUnavailable")
			}
			return nil
		}},
		{"ScaledObject scales the Deployment", func() error {
			if so.Spec.ScaleTargetRef.Name != dep.Metadata.Name {
				return fmt.Errorf("scaleTargetRef %q, want %q", so.Spec.ScaleTargetRef.Name, dep.Metadata.Name)
			}
			if so.Spec.MinReplicaCount == nil || so.Spec.MaxReplicaCount == nil || *so.Spec.MinReplicaCount > *so.Spec.MaxReplicaCount {
				return fmt.Errorf("want minReplicaCount <= maxReplicaCount, both set")
			}
			return nil
		}},
		{"ScaledObject trigger is nats-jetstream on the shared consumer", func() error {
			if len(so.Spec.Triggers) != 1 {
				return fmt.Errorf("got %d triggers, want 1", len(so.Spec.Triggers))
			}
			tr := so.Spec.Triggers[0]
			m := tr.Metadata
			switch {
			case tr.Type != "nats-jetstream":
				return fmt.Errorf("trigger type %q, want nats-jetstream", tr.Type)
			case m["stream"] != messages.StreamJobs || m["consumer"] != messages.ConsumerName:
				return fmt.Errorf("trigger on %s/%s, want %s/%s", m["stream"], m["consumer"], messages.StreamJobs, messages.ConsumerName)
			case m["account"] != "$G":
				return fmt.Errorf("account %q, want $G (NATS's global account)", m["account"])
			}
			if _, _, err := net.SplitHostPort(m["natsServerMonitoringEndpoint"]); err != nil {
				return fmt.Errorf("natsServerMonitoringEndpoint %q: want host:port (%v)", m["natsServerMonitoringEndpoint"], err)
			}
			if n, err := strconv.Atoi(m["lagThreshold"]); err != nil || n <= 0 {
				return fmt.Errorf("lagThreshold %q: want a positive whole number", m["lagThreshold"])
			}
			return nil
		}},
	}
	runChecks(t, "", tests)
}

func TestDeployKustomization(t *testing.T) {
	docs := loadManifests(t)
	var k struct {
		Resources []string `json:"resources"`
	}
	oneOfKind(t, docs, "Kustomization").decode(t, &k)
	listed := map[string]bool{}
	for _, r := range k.Resources {
		listed[r] = true
		if _, err := os.Stat(filepath.Join(deployDir, "k8s", r)); err != nil {
			t.Errorf("kustomization lists %s: %v", r, err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(deployDir, "k8s", "*.yaml"))
	for _, f := range files {
		name := filepath.Base(f)
		example := strings.HasSuffix(name, ".example.yaml")
		switch {
		case name == "kustomization.yaml":
		case example && listed[name]:
			t.Errorf("kustomization lists %s: an example must not be applied", name)
		case !example && !listed[name]:
			t.Errorf("kustomization does not list %s", name)
		}
	}
}

// dockerStage is one FROM ... stage of a Dockerfile.
type dockerStage struct {
	from, name   string
	instructions []string // "RUN ...", continuation lines joined
}

func (s dockerStage) last(op string) string {
	for i := len(s.instructions) - 1; i >= 0; i-- {
		if f := strings.Fields(s.instructions[i]); len(f) > 0 && strings.EqualFold(f[0], op) {
			return strings.TrimSpace(s.instructions[i][len(f[0]):])
		}
	}
	return ""
}

func parseDockerfile(t *testing.T, path string) []dockerStage {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var stages []dockerStage
	var cur strings.Builder
	flush := func() {
		line := strings.TrimSpace(cur.String())
		cur.Reset()
		if line == "" {
			return
		}
		f := strings.Fields(line)
		if strings.EqualFold(f[0], "FROM") {
			st := dockerStage{from: f[1]}
			if len(f) >= 4 && strings.EqualFold(f[2], "AS") {
				st.name = f[3]
			}
			stages = append(stages, st)
			return
		}
		if len(stages) > 0 {
			stages[len(stages)-1].instructions = append(stages[len(stages)-1].instructions, line)
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "#") || (t == "" && cur.Len() == 0) {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			cur.WriteString(strings.TrimSuffix(line, `\`) + " ")
			continue
		}
		cur.WriteString(line)
		flush()
	}
	flush()
	return stages
}

func TestDeployDockerfile(t *testing.T) {
	stages := parseDockerfile(t, filepath.Join(deployDir, "Dockerfile"))
	if len(stages) == 0 {
		t.Fatal("Dockerfile: no FROM")
	}
	final := stages[len(stages)-1]
	build := stages[0]
	nonRootUser := func(s dockerStage) error {
		u := s.last("USER")
		user, _, _ := strings.Cut(u, ":")
		if user == "" || user == "root" || user == "0" {
			return fmt.Errorf("stage FROM %s: USER %q, want a non-root user such as 65532", s.from, u)
		}
		return nil
	}
	tests := []manifestCheck{
		{"multi-stage build", func() error {
			if len(stages) < 2 {
				return fmt.Errorf("%d stage(s), want a build stage and a runtime stage", len(stages))
			}
			if !strings.HasPrefix(build.from, "golang:") && !strings.HasPrefix(build.from, "golang@") &&
				!strings.Contains(build.from, "GO_VERSION") {
				return fmt.Errorf("first stage FROM %s, want a golang image", build.from)
			}
			return nil
		}},
		{"static binary built with -trimpath", func() error {
			run := strings.Join(build.instructions, "\n")
			if !strings.Contains(run, "CGO_ENABLED=0") || !strings.Contains(run, "-trimpath") || !strings.Contains(run, "./cmd/zoom-worker") {
				return fmt.Errorf("build stage: want CGO_ENABLED=0 go build -trimpath ... ./cmd/zoom-worker")
			}
			return nil
		}},
		{"minimal runtime image", func() error {
			if !strings.HasPrefix(final.from, "gcr.io/distroless/static") && final.from != "scratch" {
				return fmt.Errorf("final stage FROM %s, want distroless/static or scratch", final.from)
			}
			return nil
		}},
		{"every runtime stage runs as a non-root user", func() error {
			for _, s := range stages[1:] {
				if s.last("ENTRYPOINT") == "" {
					continue
				}
				if err := nonRootUser(s); err != nil {
					return err
				}
			}
			return nonRootUser(final)
		}},
		{"entrypoint is zoom-worker run", func() error {
			var ep []string
			if err := json.Unmarshal([]byte(final.last("ENTRYPOINT")), &ep); err != nil || !slices.Equal(ep, []string{"/zoom-worker", "run"}) {
				return fmt.Errorf("ENTRYPOINT %s, want [\"/zoom-worker\", \"run\"] (exec form)", final.last("ENTRYPOINT"))
			}
			return nil
		}},
		{"exposes the HTTP port", func() error {
			_, port, _ := net.SplitHostPort(settingDefault(t, "ZOOMW_HTTP_ADDR"))
			if !slices.Contains(strings.Fields(final.last("EXPOSE")), port) {
				return fmt.Errorf("EXPOSE %q, want %s (ZOOMW_HTTP_ADDR's default)", final.last("EXPOSE"), port)
			}
			return nil
		}},
	}
	runChecks(t, "Dockerfile", tests)
}

func TestDeployCompose(t *testing.T) {
	docs := loadManifests(t)
	compose := composeDoc(t, docs)
	services, _ := compose.obj["services"].(map[string]any)

	var natsNames, workerNames []string
	var redisName, consoleName string
	for name, v := range services {
		svc, _ := v.(map[string]any)
		image, _ := svc["image"].(string)
		build, _ := svc["build"].(map[string]any)
		switch {
		case strings.HasPrefix(image, "nats:"):
			natsNames = append(natsNames, name)
		case strings.HasPrefix(image, "redis:"):
			redisName = name
		case build != nil && build["dockerfile"] == "deploy/Dockerfile" && slices.Contains(composeWords(svc["entrypoint"]), "console"):
			consoleName = name
		case build != nil && build["dockerfile"] == "deploy/Dockerfile":
			workerNames = append(workerNames, name)
		}
	}
	sort.Strings(natsNames)
	sort.Strings(workerNames)
	shutdown, _ := time.ParseDuration(settingDefault(t, "ZOOMW_SHUTDOWN_TIMEOUT"))

	svc := func(name string) map[string]any { m, _ := services[name].(map[string]any); return m }
	words := composeWords

	tests := []manifestCheck{
		{"three NATS nodes, one Redis, three workers, one console", func() error {
			if len(natsNames) != 3 || redisName == "" || len(workerNames) != 3 || consoleName == "" {
				return fmt.Errorf("nats %v, redis %q, workers %v, console %q", natsNames, redisName, workerNames, consoleName)
			}
			if image, _ := svc(redisName)["image"].(string); !strings.HasPrefix(image, "redis:7") {
				return fmt.Errorf("redis image %s, want redis:7", image)
			}
			return nil
		}},
	}
	volumes := map[string]string{}
	for _, n := range natsNames {
		tests = append(tests, manifestCheck{"nats " + n + " is a JetStream cluster node with its own volume", func() error {
			s := svc(n)
			cmd := words(s["command"])
			if !slices.Contains(cmd, "-js") && !slices.Contains(cmd, "--jetstream") {
				return fmt.Errorf("command %v: want -js", cmd)
			}
			i := slices.Index(cmd, "--routes")
			if i < 0 || i+1 >= len(cmd) || !slices.Contains(cmd, "--cluster_name") {
				return fmt.Errorf("command %v: want --cluster_name and --routes", cmd)
			}
			for _, other := range natsNames {
				if other != n && !strings.Contains(cmd[i+1], "//"+other+":") {
					return fmt.Errorf("routes %s do not name %s", cmd[i+1], other)
				}
			}
			vols := words(s["volumes"])
			if len(vols) != 1 {
				return fmt.Errorf("volumes %v: want one data volume", vols)
			}
			vol, _, _ := strings.Cut(vols[0], ":")
			if owner, taken := volumes[vol]; taken {
				return fmt.Errorf("volume %s is shared with %s", vol, owner)
			}
			volumes[vol] = n
			return nil
		}})
	}
	for _, n := range workerNames {
		tests = append(tests, manifestCheck{"worker " + n + " uses the whole cluster", func() error {
			env := composeEnv(svc(n)["environment"])
			natsURL := fmt.Sprint(env["NATS_URL"])
			for _, node := range natsNames {
				if !strings.Contains(natsURL, "nats://"+node+":4222") {
					return fmt.Errorf("NATS_URL %s does not list %s", natsURL, node)
				}
			}
			if fmt.Sprint(env["ZOOMW_STREAM_REPLICAS"]) != "3" {
				return fmt.Errorf("ZOOMW_STREAM_REPLICAS %v, want 3", env["ZOOMW_STREAM_REPLICAS"])
			}
			if u, _ := url.Parse(fmt.Sprint(env["REDIS_URL"])); u == nil || u.Hostname() != redisName {
				return fmt.Errorf("REDIS_URL %v does not name the redis service %s", env["REDIS_URL"], redisName)
			}
			return nil
		}})
		tests = append(tests, manifestCheck{"worker " + n + " stops gracefully", func() error {
			g, err := time.ParseDuration(fmt.Sprint(svc(n)["stop_grace_period"]))
			if err != nil || g < shutdown+5*time.Second {
				return fmt.Errorf("stop_grace_period %v, want at least ZOOMW_SHUTDOWN_TIMEOUT (%v) + 5s", svc(n)["stop_grace_period"], shutdown)
			}
			return nil
		}})
	}
	tests = append(tests, manifestCheck{"console reads the workers' NATS and Redis", func() error {
		if len(workerNames) == 0 {
			return fmt.Errorf("no worker to compare with")
		}
		env, worker := composeEnv(svc(consoleName)["environment"]), composeEnv(svc(workerNames[0])["environment"])
		for _, k := range []string{"NATS_URL", "REDIS_URL", "ZOOMW_REDIS_PREFIX", "ZOOMW_RATE_LIMIT"} {
			if fmt.Sprint(env[k]) != fmt.Sprint(worker[k]) {
				return fmt.Errorf("%s %v, the workers have %v", k, env[k], worker[k])
			}
		}
		return nil
	}}, manifestCheck{"console listens off loopback only with a token, and on the host's loopback", func() error {
		s := svc(consoleName)
		env := composeEnv(s["environment"])
		addr := settingDefault(t, "ZOOMW_CONSOLE_ADDR")
		if v, ok := env["ZOOMW_CONSOLE_ADDR"]; ok {
			addr = fmt.Sprint(v)
		}
		if tok := fmt.Sprint(env["ZOOMW_CONSOLE_TOKEN"]); !console.LoopbackOnly(addr) && !strings.HasPrefix(tok, "${ZOOMW_CONSOLE_TOKEN:?") {
			return fmt.Errorf("ZOOMW_CONSOLE_ADDR %q with ZOOMW_CONSOLE_TOKEN %q: want ${ZOOMW_CONSOLE_TOKEN:?...}", addr, tok)
		}
		for _, p := range words(s["ports"]) {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				return fmt.Errorf("port %s: publish it on 127.0.0.1 only", p)
			}
		}
		return nil
	}})
	for _, n := range append(append(slices.Clone(natsNames), redisName, consoleName), workerNames...) {
		tests = append(tests, manifestCheck{"service " + n + " has a healthcheck", func() error {
			hc, _ := svc(n)["healthcheck"].(map[string]any)
			if len(words(hc["test"])) == 0 {
				return fmt.Errorf("no healthcheck test")
			}
			return nil
		}})
	}
	runChecks(t, "compose.yaml", tests)
}

// composeWords reads a compose command-like value: a string or a list.
func composeWords(v any) []string {
	switch v := v.(type) {
	case string:
		return strings.Fields(v)
	case []any:
		var out []string
		for _, w := range v {
			out = append(out, fmt.Sprint(w))
		}
		return out
	}
	return nil
}

// manifestCheck is one property of a shipped file.
type manifestCheck struct {
	name  string
	check func() error
}

// runChecks runs each check as a subtest; what (if any) names the file in
// the error.
func runChecks(t *testing.T, what string, checks []manifestCheck) {
	t.Helper()
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if err := c.check(); err != nil {
				if what != "" {
					err = fmt.Errorf("%s: %w", what, err)
				}
				t.Error(err)
			}
		})
	}
}
