package app

import (
	"net/http"
	"strings"
	"testing"
)

// TestBasePathProvedEmptySegmentOpenRedirect: WithBasePathFromEvent
// strips whatever segments come before the resource's match, an empty
// first segment included. A client path "//evil.com/./x" under resource
// "/{proxy+}" (proxy "x") proves the prefix "//evil.com"; ServeMux's
// clean-path redirect then answers Location "//evil.com/x" — addBasePath
// only checks the handler's Location for "//", never the prefix it puts
// in front. A scheme-relative Location sends the browser to evil.com.
func TestBasePathProvedEmptySegmentOpenRedirect(t *testing.T) {
	for _, tc := range []struct{ name, path, proxy string }{
		{"prefix //evil.com", "//evil.com/files", "files"},
		{"prefix / (empty segment) and a clean-path redirect", "//evil.com/./x", "evil.com/./x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := quietApp(nil, WithBasePathFromEvent())
			a.HandleFunc("GET /files/", func(w http.ResponseWriter, r *http.Request) {})
			a.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {})
			ev := basePathEvent(t, "rest-custom-domain-proxy.json",
				edits(withPath(tc.path), set("pathParameters", map[string]any{"proxy": tc.proxy})))
			got := invoke(t, a, ev)
			loc := got.Headers["Location"]
			if loc == "" {
				loc = got.Headers["location"]
			}
			t.Logf("path %q: status %d Location %q", tc.path, got.StatusCode, loc)
			if strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, `/\`) {
				t.Errorf("GET %s: Location %q is scheme-relative: an open redirect to another host", tc.path, loc)
			}
		})
	}
}
