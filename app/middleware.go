package app

import (
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
)

// recoverer turns a panic in the rest of the pipeline into a 500 envelope and
// an error log line with the stack. http.ErrAbortHandler is re-panicked, as
// net/http expects.
func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			a := appOf(w)
			a.logger().LogAttrs(r.Context(), slog.LevelError, "panic",
				slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
			if rw := writerOf(w); rw != nil {
				rw.reset()
			}
			writeEnvelope(w, &Error{Status: http.StatusInternalServerError, Message: "internal error", Step: "handler"},
				a != nil && a.opts.problem)
		}()
		next.ServeHTTP(w, r)
	})
}

func guard(g Guard, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := g(r.Context()); err != nil {
			writeError(w, r, err, "guard")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func policyInformation(p PolicyInformation, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, err := p(r)
		if err != nil {
			writeError(w, r, err, "policy-information")
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
			if !errors.As(err, new(*Error)) {
				err = &Error{Status: http.StatusBadRequest, Message: "invalid request", Step: "parse", Err: err}
			}
			writeError(w, r, err, "parse")
			return
		}
		if r2 != nil {
			r = r2
		}
		next.ServeHTTP(w, r)
	})
}

// routeHandler serves the router and turns its own 404 and 405 answers into
// error envelopes. ServeMux records the matched pattern in r.Pattern; an
// empty pattern after serving means no route matched.
type routeHandler struct{ mux *http.ServeMux }

func (h routeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mux.ServeHTTP(w, r)
	if r.Pattern != "" {
		return
	}
	rw := writerOf(w)
	if rw == nil {
		return
	}
	switch rw.status {
	case http.StatusNotFound:
		rw.reset()
		writeEnvelope(rw, &Error{Status: http.StatusNotFound, Message: "no route for " + r.Method + " " + r.URL.Path, Step: "route"}, rw.app.opts.problem)
	case http.StatusMethodNotAllowed:
		allow := rw.header.Get("Allow")
		rw.reset()
		rw.header.Set("Allow", allow)
		writeEnvelope(rw, &Error{Status: http.StatusMethodNotAllowed, Message: "method " + r.Method + " not allowed", Step: "route",
			Ctx: map[string]any{"allow": allow}}, rw.app.opts.problem)
	}
}
