package app

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/funcify/funcify/event"
	"github.com/funcify/funcify/httperror"
	"github.com/funcify/funcify/logging"
	"github.com/funcify/funcify/trace"
)

// ServeHTTP serves r with the app's HTTP routes and pipeline (recover,
// guard, policy information, parser, middleware, router), with the same
// error envelope and log lines as an invocation through a Lambda event, so
// that an App mounts in another router or in httptest.NewServer:
//
//	srv := httptest.NewServer(a)
//
// The answer is buffered, then written to w whole, as a Lambda response
// is: the status, headers and body are those [App.Invoke] returns for an
// HTTP API event of the same request, a body without a Content-Type is
// labelled application/json, a HEAD answer has no body, and what a handler
// wrote before it panicked is dropped for the 500 envelope. Responses are
// therefore not streamed, and Flush does nothing.
//
// Unlike an invocation, the request's context has no Lambda event
// (event.FromContext reports none) and no deadline but the one r's context
// has. Non-HTTP routes (S3 and the like) are not served here.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	cold := coldStart.Load() && coldStart.Swap(false)
	ctx := logging.WithColdStart(r.Context(), cold)
	if len(a.opts.observers) == 0 {
		a.serveHTTP(ctx, w, r, start, nil)
		return
	}
	inv := &Invocation{Start: start, ColdStart: cold, HTTP: true}
	if ev, ok := event.FromContext(ctx); ok {
		inv.Kind, inv.Event = ev.Kind, ev
	}
	a.observed(ctx, inv, func(ctx context.Context, inv *Invocation) ([]byte, error) {
		a.serveHTTP(ctx, w, r, start, inv)
		return nil, nil
	})
}

// serveHTTP is ServeHTTP on ctx, filling in inv for the observers when not
// nil.
func (a *App) serveHTTP(ctx context.Context, w http.ResponseWriter, r *http.Request, start time.Time, inv *Invocation) {
	h := a.httpHandler()
	ctx = trace.NewContext(ctx, trace.Start(ctx, r.Header.Get("X-Amzn-Trace-Id"), start))
	r = r.WithContext(httperror.NewContext(ctx, a.respond))
	log := a.logger()
	if log.Enabled(ctx, slog.LevelDebug) {
		log.LogAttrs(ctx, slog.LevelDebug, "invocation start", slog.String("event", "http"),
			slog.String("method", r.Method), slog.String("path", r.URL.Path))
	}

	rw := getWriter()
	defer putWriter(rw)
	h.ServeHTTP(rw, r)
	head := r.Method == http.MethodHead
	if head {
		rw.body.Reset() // as net/http: a HEAD answer has headers only
	}
	status, _ := rw.finish()
	if inv != nil {
		inv.Method, inv.Path, inv.Status = r.Method, r.URL.Path, status
	}
	dst := w.Header()
	for k, vs := range rw.header {
		switch {
		case len(vs) == 0:
		case k == "Vary" && len(dst[k]) > 0:
			// An outer middleware's Vary (Accept-Encoding, say) stays:
			// a cache must key on both.
			dst[k] = mergeTokens(dst[k], vs)
		default:
			dst[k] = append(dst[k][:0:0], vs...)
		}
	}
	if !head {
		dst.Set("Content-Length", strconv.Itoa(rw.body.Len()))
	}
	w.WriteHeader(status)
	if rw.body.Len() > 0 {
		w.Write(rw.body.Bytes())
	}
	if log.Enabled(ctx, slog.LevelInfo) {
		log.LogAttrs(ctx, slog.LevelInfo, "invocation end", slog.String("event", "http"),
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", status), durationMS(start))
	}
}

// mergeTokens returns the values of dst followed by the comma-separated
// tokens of src that dst does not have, compared without regard to case.
func mergeTokens(dst, src []string) []string {
	out := append([]string(nil), dst...)
	for _, v := range src {
		for tok := range strings.SplitSeq(v, ",") {
			tok = strings.TrimSpace(tok)
			if tok != "" && !hasToken(out, tok) {
				out = append(out, tok)
			}
		}
	}
	return out
}

// hasToken reports whether a comma-separated value in values is tok, or "*".
func hasToken(values []string, tok string) bool {
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			if t = strings.TrimSpace(t); strings.EqualFold(t, tok) || t == "*" {
				return true
			}
		}
	}
	return false
}
