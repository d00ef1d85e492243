package depcheck

import (
	"os/exec"
	"slices"
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

var core = []string{"app", "event", "logging", "trace", "result", "store", "store/memstore", "breaker", "retry", "httpclient", "session", "pdp", "pip", "jwtauth", "token", "window", "httperror", "cors"}

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

// appImporters are the only packages that may import app: the pipeline
// sits on top, and everything below it (auth, resilience, stores) answers
// HTTP callers through errors that carry their status (httperror), so that
// it links no Lambda runtime and works in any net/http server.
var appImporters = map[string]bool{
	"github.com/funcify/funcify/examples/orders": true,
}

func TestOnlyTopImportsApp(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "github.com/funcify/funcify/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < len(core) {
		t.Fatalf("go list found only %d packages", len(lines))
	}
	for _, line := range lines {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		if pkg == "github.com/funcify/funcify/app" || appImporters[pkg] {
			continue
		}
		for _, imp := range imports {
			if imp == "github.com/funcify/funcify/app" {
				t.Errorf("%s imports app; only %v may", pkg, appImporters)
			}
		}
	}
}

// TestAuthLinksNoLambdaRuntime: a token validator, the policy information
// point and the decision points link neither app nor aws-lambda-go's
// runtime, so that they serve a plain net/http server, a CLI or a Lambda
// authorizer.
func TestAuthLinksNoLambdaRuntime(t *testing.T) {
	pkgs := []string{"jwtauth", "pip", "pdp", "httperror", "cors"}
	args := []string{"list", "-deps"}
	for _, p := range pkgs {
		args = append(args, "github.com/funcify/funcify/"+p)
	}
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/funcify/funcify/jwtauth") {
		t.Fatalf("go list -deps did not list jwtauth itself: %q", deps)
	}
	for _, d := range deps {
		if d == "github.com/funcify/funcify/app" || strings.HasPrefix(d, "github.com/aws/aws-lambda-go/") ||
			d == "github.com/funcify/funcify/event" {
			t.Errorf("%v depend on %s", pkgs, d)
		}
	}
}
