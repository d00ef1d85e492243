package depcheck

import (
	"os/exec"
	"strings"
	"testing"
)

// TestMetricsDependencies: package metrics links the standard library,
// aws-lambda-go's lambdacontext (for the function's name) and funcify's
// observe, event, internal/jsonstr (its JSON string escaping) and
// internal/live (its list of running invocations), nothing else: a function that writes metrics pays
// for no SDK, app or encoding library.
func TestMetricsDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}",
		"github.com/funcify/funcify/metrics").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	allowed := map[string]bool{
		"github.com/aws/aws-lambda-go/lambdacontext":  true,
		"github.com/funcify/funcify/observe":          true,
		"github.com/funcify/funcify/event":            true,
		"github.com/funcify/funcify/metrics":          true,
		"github.com/funcify/funcify/internal/jsonstr": true,
		"github.com/funcify/funcify/internal/live":    true,
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list found nothing")
	}
	for _, d := range deps {
		if !allowed[d] && !strings.HasPrefix(d, "github.com/aws/aws-lambda-go/events") &&
			!strings.HasPrefix(d, "github.com/go-json-experiment/json") {
			t.Errorf("metrics depends on %s", d)
		}
	}
}
