package app

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/funcify/funcify/event"
)

// FuzzInvoke sends arbitrary payloads through the whole pipeline, request
// conversion included: nothing may panic, an HTTP event always gets a valid
// JSON response with a real status, and any other payload fails with a
// typed error.
func FuzzInvoke(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "event", "testdata", "*.json"))
	unhandled, _ := filepath.Glob(filepath.Join("..", "event", "testdata", "unhandled", "*.json"))
	files = append(files, unhandled...)
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, shape := range shapes {
		f.Add(makeEvent(f, shape, req{method: "POST", path: "/orders/%zz/a%2Fb", query: "a=%25&b=%zz", body: "x", header: map[string][]string{"X-Forwarded-For": {","}}}))
	}
	a := routedApp(nil)
	f.Fuzz(func(t *testing.T, payload []byte) {
		out, err := a.Invoke(invokeCtx(), payload)
		if err != nil {
			var ee *event.Error
			var re *RouteError
			var ae *Error
			if !errors.As(err, &ee) && !errors.As(err, &re) && !errors.As(err, &ae) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		k, _ := event.Sniff(payload)
		if !k.IsHTTP() {
			return
		}
		var r response
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("invalid response %s: %v", out, err)
		}
		if r.StatusCode < 200 || r.StatusCode > 599 || http.StatusText(r.StatusCode) == "" {
			t.Fatalf("got status %d", r.StatusCode)
		}
	})
}
