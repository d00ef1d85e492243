package depcheck

import (
	"os/exec"
	"strings"
	"testing"
)

// allowed are the module paths a core package may depend on, besides the
// standard library and funcify itself: aws-lambda-go for events and the
// runtime, and go-json-experiment/json, the prototype of encoding/json/v2,
// with which package event decodes payloads.
var allowed = []string{
	"github.com/aws/aws-lambda-go/",
	"github.com/go-json-experiment/json",
	"github.com/golang-jwt/jwt/v5", // jwtauth verifies signatures with it
	"golang.org/x/oauth2",          // token.Source adapts to oauth2.TokenSource
	"github.com/funcify/funcify/",
}

var core = []string{"app", "event", "logging", "trace", "result", "store", "store/memstore", "breaker", "retry", "httpclient", "session", "pdp", "pip", "jwtauth", "token", "window"}

func TestCoreDependencies(t *testing.T) {
	args := []string{"list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}"}
	for _, p := range core {
		args = append(args, "github.com/funcify/funcify/"+p)
	}
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < len(core) {
		t.Fatalf("go list found only %q", deps)
	}
next:
	for _, d := range deps {
		for _, a := range allowed {
			if strings.HasPrefix(d, a) || d == strings.TrimSuffix(a, "/") {
				continue next
			}
		}
		t.Errorf("a core package depends on %s", d)
	}
}
