package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	sessionCookie = "zoomw_console_session"
	csrfCookie    = "zoomw_console_csrf"
	sessionLife   = 12 * time.Hour
)

// Content-Security-Policy of every answer: the pages load only their own
// stylesheet, run no script and cannot be framed.
const csp = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'"

type startKey struct{}
type sessionKey struct{}

// session is who a request comes from.
type session struct {
	who    string // the name given at login, "token" (Bearer) or "local"
	cookie bool   // authenticated by the login cookie
	bearer bool   // authenticated by an Authorization header
}

func sessionOf(r *http.Request) session {
	s, _ := r.Context().Value(sessionKey{}).(session)
	return s
}

// secure wraps every handler: security headers, the token check, the CSRF
// cookie, and for POSTs the cross-origin and CSRF checks and read-only mode.
func (c *Console) secure(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		ctx := context.WithValue(r.Context(), startKey{}, time.Now())

		open := strings.HasPrefix(r.URL.Path, "/static/") || r.URL.Path == "/login"
		s, ok := c.authenticate(r)
		if !ok && !open {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			h.Set("WWW-Authenticate", `Bearer realm="zoom-worker console"`)
			http.Error(w, "a token is required (ZOOMW_CONSOLE_TOKEN)", http.StatusUnauthorized)
			return
		}
		ctx = context.WithValue(ctx, sessionKey{}, s)
		r = r.WithContext(ctx)

		if _, err := r.Cookie(csrfCookie); err != nil {
			v := randomHex(16)
			http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: "/", HttpOnly: true,
				SameSite: http.SameSiteStrictMode, Secure: overTLS(r)})
			r.AddCookie(&http.Cookie{Name: csrfCookie, Value: v})
		}

		if r.Method == http.MethodPost {
			if err := cop.Check(r); err != nil {
				http.Error(w, "cross-origin request refused", http.StatusForbidden)
				return
			}
			// A request that carries the token in its Authorization header
			// cannot be forged by another site; a browser form must carry
			// the CSRF token that only this console's pages hold.
			if !s.bearer && !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(c.csrfToken(r))) {
				http.Error(w, "the form has expired or did not come from this console: reload the page and try again", http.StatusForbidden)
				return
			}
			if c.cfg.ReadOnly && strings.HasPrefix(r.URL.Path, "/dlq") {
				http.Error(w, "the console is read-only (ZOOMW_CONSOLE_READ_ONLY)", http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// authenticate checks the token, when one is set.
func (c *Console) authenticate(r *http.Request) (session, bool) {
	if c.cfg.Token == "" {
		return session{who: "local"}, true
	}
	if a := r.Header.Get("Authorization"); a != "" {
		if tok, ok := strings.CutPrefix(a, "Bearer "); ok &&
			subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(c.cfg.Token)) == 1 {
			return session{who: "token", bearer: true}, true
		}
		return session{}, false
	}
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return session{}, false
	}
	name, ok := c.checkSession(ck.Value)
	if !ok {
		return session{}, false
	}
	return session{who: name, cookie: true}, true
}

// sessionValue is the login cookie: its expiry and the operator's name,
// signed with the token, so that it holds no secret, outlives a restart of
// the console and works on every replica that has the same token.
func (c *Console) sessionValue(name string, exp time.Time) string {
	body := strconv.FormatInt(exp.Unix(), 10) + "|" + url.QueryEscape(name)
	return body + "|" + c.mac([]byte(c.cfg.Token), "session|"+body)
}

func (c *Console) checkSession(v string) (string, bool) {
	i := strings.LastIndex(v, "|")
	if i < 0 {
		return "", false
	}
	body, sig := v[:i], v[i+1:]
	if !hmac.Equal([]byte(sig), []byte(c.mac([]byte(c.cfg.Token), "session|"+body))) {
		return "", false
	}
	expS, nameQ, _ := strings.Cut(body, "|")
	exp, err := strconv.ParseInt(expS, 10, 64)
	if err != nil || c.cfg.Now().Unix() > exp {
		return "", false
	}
	name, err := url.QueryUnescape(nameQ)
	if err != nil {
		return "", false
	}
	return name, true
}

// csrfToken is the CSRF token of r's browser: the console's key signs the
// random cookie it set, so a page from elsewhere can neither read nor make it.
func (c *Console) csrfToken(r *http.Request) string {
	ck, err := r.Cookie(csrfCookie)
	if err != nil {
		return ""
	}
	return c.mac(c.key[:], "csrf|"+ck.Value)
}

func (c *Console) mac(key []byte, msg string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type loginData struct {
	Next  string
	Error string
	Open  bool // no token is set: nothing to log in to
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, "login", page{Title: "Log in", Data: loginData{Next: safeNext(r.URL.Query().Get("next")), Open: c.cfg.Token == ""}})
}

// login checks the token typed into the form and sets the session cookie.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.PostFormValue("next"))
	if c.cfg.Token == "" {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	tok := r.PostFormValue("token")
	if subtle.ConstantTimeCompare([]byte(tok), []byte(c.cfg.Token)) != 1 {
		c.log.Warn("console login refused", "remote", r.RemoteAddr)
		c.renderStatus(w, r, http.StatusUnauthorized, "login", page{Title: "Log in",
			Data: loginData{Next: next, Error: "That is not the console's token."}})
		return
	}
	name := cleanName(r.PostFormValue("name"))
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: c.sessionValue(name, c.cfg.Now().Add(sessionLife)),
		Path: "/", MaxAge: int(sessionLife / time.Second), HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: overTLS(r)})
	c.log.Info("console login", "who", name, "remote", r.RemoteAddr)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// cleanName keeps the operator's name printable and short: it goes into logs.
func cleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == '|' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if len(s) > 64 {
		s = s[:64]
	}
	if s == "" {
		return "operator"
	}
	return s
}

// safeNext keeps a redirect after login on this console.
func safeNext(s string) string {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.Contains(s, "\\") {
		return "/"
	}
	return s
}

// overTLS reports whether the browser reached the console over HTTPS,
// directly or through a proxy that says so: its cookies are then Secure.
func overTLS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}
