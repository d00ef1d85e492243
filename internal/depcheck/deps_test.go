package depcheck

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
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

var core = []string{"app", "event", "logging", "trace", "result", "store", "store/memstore", "breaker", "retry", "httpclient", "session", "pdp", "pip", "jwtauth", "token", "window", "httperror", "cors", "runtimeapi", "idempotency"}

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
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	bad, n, err := appImports(root)
	if err != nil {
		t.Fatal(err)
	}
	if n < len(core) {
		t.Fatalf("found only %d Go files under %s", n, root)
	}
	for _, b := range bad {
		t.Errorf("%s imports app; only app itself and %v may", b, appImporters)
	}
}

// TestAppImportsSeesEveryFile: the rule reads every Go file, whatever its
// build constraints, so a file built only with a tag (or on another OS)
// cannot import app unseen.
func TestAppImportsSeesEveryFile(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"jwtauth/jwtauth.go":           "package jwtauth\n",
		"jwtauth/authorizer_lambda.go": "//go:build lambda\n\npackage jwtauth\n\nimport _ \"github.com/funcify/funcify/app\"\n",
		"pip/pip_windows.go":           "package pip\n\nimport (\n\t\"net/http\"\n\tapp \"github.com/funcify/funcify/app\"\n)\n",
		"pdp/pdp_test.go":              "package pdp\n\nimport _ \"github.com/funcify/funcify/app\"\n",
		"examples/orders/main.go":      "package main\n\nimport _ \"github.com/funcify/funcify/app\"\n",
		"app/testdata/x.go":            "package x\n\nimport _ \"github.com/funcify/funcify/app\"\n",
	}
	for name, src := range files {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bad, _, err := appImports(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"jwtauth/authorizer_lambda.go", "pip/pip_windows.go"}
	if !slices.Equal(bad, want) {
		t.Errorf("got %q, want %q", bad, want)
	}
}

// appImports returns the non-test Go files under root, relative to it, that
// import app and belong neither to app nor to an allowed importer, and how
// many Go files it read. It parses files itself rather than asking go list,
// which leaves out files excluded by build constraints.
func appImports(root string) (bad []string, n int, err error) {
	const module = "github.com/funcify/funcify"
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || name == "node_modules" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			if path != root {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir // another module, such as bench
				}
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		n++
		rel, _ := filepath.Rel(root, path)
		pkg := module + "/" + filepath.ToSlash(filepath.Dir(rel))
		if pkg == module+"/app" || appImporters[pkg] {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == module+"/app" {
				bad = append(bad, filepath.ToSlash(rel))
			}
		}
		return nil
	})
	slices.Sort(bad)
	return bad, n, err
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

// TestRuntimeLoopLinksNoNetHTTP: funcify's runtime loop speaks HTTP/1.1 by
// hand on a net.Conn, which is why it costs a fraction of aws-lambda-go's
// CPU per invocation; net/http's client must not creep back in, nor app.
func TestRuntimeLoopLinksNoNetHTTP(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/funcify/funcify/runtimeapi").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/funcify/funcify/runtimeapi") || !slices.Contains(deps, "net") {
		t.Fatalf("go list -deps did not list runtimeapi and net: %q", deps)
	}
	for _, d := range deps {
		if d == "net/http" || d == "github.com/funcify/funcify/app" || d == "github.com/aws/aws-lambda-go/lambda" {
			t.Errorf("runtimeapi depends on %s", d)
		}
	}
}
