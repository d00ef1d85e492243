package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/funcify/funcify/internal/testenv"
)

// invokeRIE posts payload to the emulator's invoke URL and returns the
// response body.
func invokeRIE(t *testing.T, url, payload string) []byte {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(payload))
	if err != nil {
		t.Error(err)
		return nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Error(err)
	}
	return b
}

func httpV2(method, path string) string {
	return `{"version":"2.0","routeKey":"$default","rawPath":"` + path + `","headers":{"host":"x"},` +
		`"requestContext":{"http":{"method":"` + method + `","path":"` + path + `"},"requestId":"r"}}`
}

type proxyResponse struct {
	StatusCode int    `json:"statusCode"`
	Body       string `json:"body"`
}

// TestEmulatorConcurrentLoops runs the app under the emulator's Lambda
// Managed Instances mode with AWS_LAMBDA_MAX_CONCURRENCY=4: four
// invocations of GET /barrier answer only when all four are in the
// function at once, which needs four loops.
func TestEmulatorConcurrentLoops(t *testing.T) {
	const n = 4
	bin := testenv.BuildFunction(t, "./testdata/runtimes")
	url := testenv.RIE(t, bin, "AWS_LAMBDA_MAX_CONCURRENCY=4", "BARRIER=4")
	if url == "" {
		return
	}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			var got proxyResponse
			if err := json.Unmarshal(invokeRIE(t, url, httpV2("GET", "/barrier")), &got); err != nil {
				t.Error(err)
				return
			}
			if got.StatusCode != 200 || got.Body != `{"together":4}` {
				t.Errorf("GET /barrier = %d %s, want 200 {\"together\":4}", got.StatusCode, got.Body)
			}
		})
	}
	wg.Wait()
}
