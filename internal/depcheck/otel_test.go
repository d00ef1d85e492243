package depcheck

import (
	"os/exec"
	"strings"
	"testing"
)

// otelFree says whether a package of the module must link no OpenTelemetry
// code: all but the adapter, package otelspan, and the examples, which may
// use it. A function that does not import otelspan then pays nothing for
// it, in binary size or in cold start.
func otelFree(pkg string) bool {
	rel := strings.TrimPrefix(pkg, "github.com/funcify/funcify")
	rel = strings.TrimPrefix(rel, "/")
	for _, exempt := range []string{"otelspan", "examples", "bench"} {
		if rel == exempt || strings.HasPrefix(rel, exempt+"/") {
			return false
		}
	}
	return true
}

// linksOTel lists, for each package of the module (go list ./...), the
// OpenTelemetry packages it links.
func linksOTel(t *testing.T) (pkgs []string, links map[string][]string) {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}", "../../...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	links = make(map[string][]string)
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		pkgs = append(pkgs, f[0])
		for _, d := range f[1:] {
			if strings.HasPrefix(d, "go.opentelemetry.io/") {
				links[f[0]] = append(links[f[0]], d)
			}
		}
	}
	return pkgs, links
}

// TestCoreLinksNoOpenTelemetry: no package but the adapter and the
// examples links go.opentelemetry.io.
func TestCoreLinksNoOpenTelemetry(t *testing.T) {
	pkgs, links := linksOTel(t)
	checked := 0
	for _, p := range pkgs {
		if !otelFree(p) {
			continue
		}
		checked++
		if l := links[p]; len(l) > 0 {
			t.Errorf("%s links OpenTelemetry (%s); only otelspan and the examples may", p, strings.Join(l[:min(3, len(l))], ", "))
		}
	}
	if checked < len(core) {
		t.Fatalf("checked only %d packages", checked)
	}
	// The check sees what it looks for: the adapter does link it.
	if len(links["github.com/funcify/funcify/otelspan"]) == 0 {
		t.Error("go list shows no OpenTelemetry dependency of otelspan: the check is blind")
	}
}

// TestOTelFree: the packages exempt from the rule.
func TestOTelFree(t *testing.T) {
	for pkg, want := range map[string]bool{
		"github.com/funcify/funcify/app":                  true,
		"github.com/funcify/funcify/observe":              true,
		"github.com/funcify/funcify/httpclient":           true,
		"github.com/funcify/funcify/otelspanx":            true,
		"github.com/funcify/funcify/otelspan":             false,
		"github.com/funcify/funcify/examples/orders":      false,
		"github.com/funcify/funcify/internal/depcheck":    true,
		"github.com/funcify/funcify/bench/coldstart/main": false,
	} {
		if got := otelFree(pkg); got != want {
			t.Errorf("otelFree(%s) = %v, want %v", pkg, got, want)
		}
	}
}
