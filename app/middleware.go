package app

import (
	"bytes"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/funcify/funcify/cors"
	"github.com/funcify/funcify/httperror"
	"github.com/funcify/funcify/internal/envelope"
)

// recoverer turns a panic in the rest of the pipeline into a 500 envelope and
// an error log line with the stack. http.ErrAbortHandler is re-panicked, as
// net/http expects. The app always serves the pipeline into its own
// buffering writer, so what the handler wrote before it panicked is
// dropped; the CORS headers of c, if any, are set again on the envelope.
func recoverer(next http.Handler, c *cors.Policy) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s := settingsOf(r)
			s.Logger.LogAttrs(r.Context(), slog.LevelError, "panic",
				slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
			if rw, ok := w.(*responseWriter); ok {
				rw.reset()
			}
			if c != nil {
				c.SetHeaders(w.Header(), r)
			}
			envelope.Write(w, envelope.Answer{Status: http.StatusInternalServerError, Message: "internal error", Step: "handler"},
				s.ProblemDetails)
		}()
		next.ServeHTTP(w, r)
	})
}

// settingsOf returns the responder settings in r's context, which the app
// puts there before the pipeline runs.
func settingsOf(r *http.Request) httperror.Settings {
	s, _ := httperror.FromContext(r.Context())
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	return s
}

func guard(g Guard, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := g(r.Context()); err != nil {
			httperror.WriteAt(w, r, err, "guard")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func policyInformation(p PolicyInformation, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, err := p(r)
		if err != nil {
			httperror.WriteAt(w, r, err, "policy-information")
			return
		}
		if ctx != nil && ctx != r.Context() {
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

func parse(p Parser, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2, err := p(r)
		if err != nil {
			if !httperror.HasStatus(err) {
				err = &Error{Status: http.StatusBadRequest, Message: "invalid request", Step: "parse", Err: err}
			}
			httperror.WriteAt(w, r, err, "parse")
			return
		}
		if r2 != nil {
			r = r2
		}
		next.ServeHTTP(w, r)
	})
}

// routeHandler serves the router and turns its own 404 and 405 answers into
// error envelopes, written through the writer it was given: a middleware's,
// if the app has any, so that a compression middleware encodes the envelope
// as it would any answer. ServeMux's own text never reaches that writer.
type routeHandler struct {
	mux      *http.ServeMux
	observed bool // the app has observers: note the route r took
}

func (h routeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.observed {
		defer noteRoute(r) // ServeMux sets r.Pattern
	}
	rw, own := w.(*responseWriter)
	if !own {
		// A middleware's writer: ask first whether a route takes r,
		// and let ServeMux answer into a recorder when none does.
		if _, pattern := h.mux.Handler(r); pattern == "" {
			h.serveUnrouted(w, r)
			return
		}
		h.mux.ServeHTTP(w, r)
		return
	}
	// funcify's own writer buffers the answer: ServeMux's 404 or 405 is
	// cleared before the envelope replaces it, and nothing else had
	// written to it, since only a middleware could have.
	_, nosniff := rw.header["X-Content-Type-Options"]
	h.mux.ServeHTTP(rw, r)
	if r.Pattern != "" {
		return
	}
	switch rw.status {
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		// Drop ServeMux's answer, and only that: headers set before the
		// router ran (CORS, a middleware's request id or nosniff) stay.
		status, allow := rw.status, rw.header.Get("Allow")
		rw.status, rw.wroteHeader = 0, false
		rw.body.Reset()
		if !nosniff {
			rw.header.Del("X-Content-Type-Options")
		}
		h.writeRouteError(rw, r, status, allow)
	}
}

// serveUnrouted answers r, which no route takes, through w: the envelope
// for ServeMux's 404 or 405, or ServeMux's own answer for anything else
// (a redirect to the cleaned path).
func (h routeHandler) serveUnrouted(w http.ResponseWriter, r *http.Request) {
	m := &muxAnswer{header: make(http.Header, 4)}
	h.mux.ServeHTTP(m, r)
	switch m.status {
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		h.writeRouteError(w, r, m.status, m.header.Get("Allow"))
		return
	}
	for k, vs := range m.header {
		w.Header()[k] = vs
	}
	if m.status != 0 {
		w.WriteHeader(m.status)
	}
	w.Write(m.body.Bytes())
}

// writeRouteError writes the envelope of a 404 or, with allow, a 405.
func (h routeHandler) writeRouteError(w http.ResponseWriter, r *http.Request, status int, allow string) {
	if status == http.StatusNotFound {
		httperror.Write(w, r, &Error{Status: http.StatusNotFound, Message: "no route for " + r.Method + " " + r.URL.Path, Step: "route"})
		return
	}
	w.Header().Set("Allow", allow)
	httperror.Write(w, r, &Error{Status: http.StatusMethodNotAllowed, Message: "method " + r.Method + " not allowed", Step: "route",
		Ctx: map[string]any{"allow": allow}})
}

// muxAnswer records ServeMux's own answer to a request that no route
// takes.
type muxAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (m *muxAnswer) Header() http.Header { return m.header }

func (m *muxAnswer) WriteHeader(status int) {
	if m.status == 0 {
		m.status = status
	}
}

func (m *muxAnswer) Write(p []byte) (int, error) {
	m.WriteHeader(http.StatusOK)
	return m.body.Write(p)
}
