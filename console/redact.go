package console

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"unicode/utf8"
)

// hidden replaces what the console never shows.
const hidden = "[hidden]"

// maxShown is how much of a body a page shows.
const maxShown = 8 << 10

// secretKey reports whether a JSON field or header of this name holds a
// secret: a start_url carries the host's ZAK token; passwords, tokens and
// secrets are what they say.
func secretKey(k string) bool {
	k = strings.ToLower(k)
	for _, s := range []string{"start_url", "token", "secret", "password", "passwd", "zak", "authorization", "credential", "api_key"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// showJSON returns body indented for a page, with every secret field's
// value replaced. A body that is not JSON is shown as text through
// scrubText; either is cut at maxShown.
func showJSON(body []byte) string {
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return cut(scrubText(string(body)))
	}
	out, err := json.MarshalIndent(redactValue(v), "", "  ")
	if err != nil {
		return ""
	}
	return cut(string(out))
}

func redactValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if secretKey(k) {
				x[k] = hidden
				continue
			}
			x[k] = redactValue(val)
		}
		return x
	case []any:
		for i := range x {
			x[i] = redactValue(x[i])
		}
		return x
	case string:
		return scrubText(x)
	}
	return v
}

// secretInText finds what looks like a secret inside free text: a URL's
// zak or token parameter, a "password": value, a Bearer token.
var secretInText = regexp.MustCompile(`(?i)((?:zak|token|access_token|secret|password|pwd|start_url)["']?\s*[=:]\s*["']?)[^\s"'&,}]+|(bearer\s+)[A-Za-z0-9._~+/=-]+`)

// scrubText hides secrets in free text (error messages, bodies that are
// not JSON) and keeps it printable.
func scrubText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return secretInText.ReplaceAllString(s, "$1$2"+hidden)
}

func cut(s string) string {
	if len(s) <= maxShown {
		return s
	}
	return strings.ToValidUTF8(s[:maxShown], "") + "\n… (cut: " + num(len(s)) + " bytes in all)"
}
