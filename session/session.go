package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// ErrHeaderWritten is returned by [Session.Set], [Session.SetSealed] and
// [Session.Delete] once the response's header has been written: a
// Set-Cookie can no longer reach the caller.
var ErrHeaderWritten = errors.New("session: response header already written")

// ErrNoMiddleware is returned by [Session.Set], [Session.SetSealed] and
// [Session.Delete] on a session that [FromRequest] made because no
// [Middleware] wraps the handler: nothing would send its cookies.
var ErrNoMiddleware = errors.New("session: no session.Middleware wraps this handler")

// Options configures [Middleware]. The zero value is plain cookies only,
// logging to slog.Default().
type Options struct {
	// Sealer seals and opens sealed values; nil: [Session.SetSealed] fails
	// with [ErrNoKeys] and [Session.GetSealed] finds nothing.
	Sealer *Sealer
	// Logger receives a debug line for each sealed cookie that does not
	// open; nil means slog.Default().
	Logger *slog.Logger
}

type ctxKey struct{}

// Middleware returns middleware that gives each request a [Session], found
// with [FromRequest] or [FromContext], and sends the session's changes as
// one Set-Cookie header each, just before the handler first calls
// WriteHeader, Write or Flush, or when it returns having written nothing.
//
// The ResponseWriter the handler gets wraps the one the middleware got and
// returns it from Unwrap, so http.ResponseController and funcify's app find
// the writer underneath.
func Middleware(opts Options) func(http.Handler) http.Handler {
	o := &opts
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := &Session{ctx: r.Context(), opts: o, cookieHeader: r.Header["Cookie"]}
			sw := &writer{ResponseWriter: w, s: s}
			next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), ctxKey{}, s)))
			s.commit(w.Header())
		})
	}
}

// FromContext returns the session [Middleware] put in ctx.
func FromContext(ctx context.Context) (*Session, bool) {
	s, ok := ctx.Value(ctxKey{}).(*Session)
	return s, ok
}

// FromRequest returns the request's session. Without a [Middleware]
// around the handler it returns a session that reads r's cookies but whose
// Set, SetSealed and Delete fail with [ErrNoMiddleware] and whose GetSealed
// finds nothing.
func FromRequest(r *http.Request) *Session {
	if s, ok := FromContext(r.Context()); ok {
		return s
	}
	return &Session{ctx: r.Context(), opts: &Options{}, cookieHeader: r.Header["Cookie"], detached: true}
}

// Session is one request's cookies: those the caller sent, read with Get
// and GetSealed, and the changes the handler makes with Set, SetSealed and
// Delete, which [Middleware] sends as Set-Cookie headers. Get and GetSealed
// see the request's changes so far.
//
// A Session lives as long as its request and is safe for concurrent use by
// the goroutines serving that request.
type Session struct {
	// ctx is the request's context, kept only to log with: a Session
	// does not outlive its request.
	ctx          context.Context
	opts         *Options
	cookieHeader []string // the request's Cookie header values
	detached     bool     // made by FromRequest without Middleware

	mu      sync.Mutex        // guards the fields below
	in      map[string]string // the request's cookies, parsed on first use
	parsed  bool
	changes []change // in the order made, one per name, path and domain
	sent    bool     // the changes are in the response header
}

// change is one cookie to set or remove.
type change struct {
	name, path, domain string
	value              string
	removed            bool
	line               string // the Set-Cookie value
}

// Get returns the value of the cookie name: as set or removed earlier in
// this request, else as the caller sent it (the first of that name).
func (s *Session) Get(name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.get(name)
}

func (s *Session) get(name string) (string, bool) {
	for i := len(s.changes) - 1; i >= 0; i-- {
		if c := &s.changes[i]; c.name == name {
			return c.value, !c.removed
		}
	}
	if !s.parsed {
		s.parsed = true
		parseCookies(s.cookieHeader, func(name, value string) {
			if s.in == nil {
				s.in = make(map[string]string, 4)
			}
			if _, dup := s.in[name]; !dup {
				s.in[name] = value
			}
		})
	}
	v, ok := s.in[name]
	return v, ok
}

// Set sets the cookie name to value, with the attributes attrs (by
// default Path=/, Secure, HttpOnly, SameSite=Lax). value must be RFC 6265
// cookie-octets: visible ASCII except '"', ',', ';' and '\'; encode
// anything else, or use SetSealed. Setting a cookie again with the same
// name, Path and Domain in one request replaces the earlier change, so the
// response carries one Set-Cookie per cookie.
//
// It fails, changing nothing, with an error wrapping [ErrInvalidName],
// [ErrInvalidValue], [ErrInvalidAttr], [ErrTooLarge], [ErrHeaderWritten] or
// [ErrNoMiddleware].
func (s *Session) Set(name, value string, attrs ...Attr) error {
	a := newAttrs(attrs)
	line, err := setCookie(name, value, a, false)
	if err != nil {
		return err
	}
	return s.record(change{name: name, path: a.path, domain: a.domain, value: value, line: line})
}

// Delete removes the cookie name from the caller's browser: it sends the
// cookie empty, with Max-Age=0 and an Expires in the past. Give it the Path
// and Domain the cookie was set with. It fails like Set.
func (s *Session) Delete(name string, attrs ...Attr) error {
	a := newAttrs(attrs)
	line, err := setCookie(name, "", a, true)
	if err != nil {
		return err
	}
	return s.record(change{name: name, path: a.path, domain: a.domain, removed: true, line: line})
}

// GetSealed returns the value sealed in the cookie name with SetSealed. A
// value that is tampered with, truncated, sealed for another name, sealed
// with a key no longer listed or expired reads as absent, and is logged at
// debug level with the request's context (the value never is).
func (s *Session) GetSealed(name string) (string, bool) {
	raw, ok := s.Get(name)
	if !ok {
		return "", false
	}
	if s.opts.Sealer == nil {
		s.logIgnored(name, "no sealer")
		return "", false
	}
	v, err := s.opts.Sealer.Open(name, raw, time.Now())
	if err != nil {
		reason := "invalid"
		if errors.Is(err, ErrExpired) {
			reason = "expired"
		}
		s.logIgnored(name, reason)
		return "", false
	}
	return v, true
}

// SetSealed seals value, any string, for ttl and sets it as the cookie
// name, as Set does. Unless attrs set MaxAge or Expires, the cookie gets
// Max-Age=ttl, so the browser drops it when it stops opening. ttl must be
// at least a second. Beyond Set's errors it fails with [ErrNoKeys] when the
// middleware has no Sealer, and with [ErrTooLarge] when the sealed cookie is
// over [MaxCookieBytes].
func (s *Session) SetSealed(name, value string, ttl time.Duration, attrs ...Attr) error {
	if s.detached {
		return ErrNoMiddleware
	}
	if s.opts.Sealer == nil {
		return fmt.Errorf("%w: set Options.Sealer to seal cookie %q", ErrNoKeys, name)
	}
	if ttl < time.Second {
		return fmt.Errorf("%w: cookie %q: ttl %v is under a second", ErrInvalidAttr, name, ttl)
	}
	if !validName(name) {
		return fmt.Errorf("%w %q: not an RFC 6265 token", ErrInvalidName, name)
	}
	a := newAttrs(attrs)
	if a.maxAge == 0 && a.expires.IsZero() {
		a.maxAge = ttl
	}
	sealed := s.opts.Sealer.Seal(name, value, time.Now().Add(ttl))
	line, err := setCookie(name, sealed, a, false)
	if err != nil {
		return err
	}
	return s.record(change{name: name, path: a.path, domain: a.domain, value: sealed, line: line})
}

func (s *Session) logIgnored(name, reason string) {
	l := s.opts.Logger
	if l == nil {
		l = slog.Default()
	}
	l.LogAttrs(s.ctx, slog.LevelDebug, "session: sealed cookie ignored",
		slog.String("cookie", name), slog.String("reason", reason))
}

// record adds c to the changes, replacing one for the same cookie.
func (s *Session) record(c change) error {
	if s.detached {
		return ErrNoMiddleware
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sent {
		return fmt.Errorf("%w: cannot set cookie %q", ErrHeaderWritten, c.name)
	}
	for i := range s.changes {
		if old := &s.changes[i]; old.name == c.name && old.path == c.path && old.domain == c.domain {
			*old = c
			return nil
		}
	}
	s.changes = append(s.changes, c)
	return nil
}

// commit adds the changes to h as Set-Cookie headers, once.
func (s *Session) commit(h http.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sent {
		return
	}
	s.sent = true
	for _, c := range s.changes {
		h.Add("Set-Cookie", c.line)
	}
}

// writer sends the session's cookies before anything else is written.
type writer struct {
	http.ResponseWriter
	s *Session
}

func (w *writer) WriteHeader(status int) {
	if status >= 200 { // an informational answer leaves the header open
		w.s.commit(w.ResponseWriter.Header())
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *writer) Write(p []byte) (int, error) {
	w.s.commit(w.ResponseWriter.Header())
	return w.ResponseWriter.Write(p)
}

// Flush sends the cookies, then flushes the writer underneath if it can.
func (w *writer) Flush() {
	w.s.commit(w.ResponseWriter.Header())
	http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the ResponseWriter underneath, for http.ResponseController.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
