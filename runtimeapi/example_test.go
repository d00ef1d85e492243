package runtimeapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/funcify/funcify/runtimeapi"
)

// greeter is a Handler: it reads {"name": ...} and answers a greeting.
type greeter struct{}

func (greeter) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var in struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(payload, &in); err != nil {
		return nil, err
	}
	if in.Name == "" {
		return nil, errors.New("no name")
	}
	return json.Marshal(map[string]string{"greeting": "Hello, " + in.Name})
}

// ExampleRun runs a handler against a stand-in for the Runtime API that
// hands out two invocations, prints what the loop posted back, and stops
// the loop by cancelling its context.
func ExampleRun() {
	payloads := []string{`{"name":"Ada"}`, `{}`}
	var mu sync.Mutex // guards served
	served := 0
	posted := make(chan string, len(payloads))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		i := served
		served++
		mu.Unlock()
		if i >= len(payloads) {
			<-r.Context().Done() // no more invocations: wait until the loop leaves
			return
		}
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", fmt.Sprintf("request-%d", i))
		w.Header().Set("Lambda-Runtime-Deadline-Ms", "4102444800000")
		w.Write([]byte(payloads[i]))
	})
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/{kind}", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
		posted <- r.PathValue("id") + " " + r.PathValue("kind") + ": " + string(body)
	})
	api := httptest.NewServer(mux)
	defer api.Close()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runtimeapi.Run(ctx, greeter{}, runtimeapi.Config{
			Address:     strings.TrimPrefix(api.URL, "http://"),
			Concurrency: 1,
		})
	}()
	for range payloads {
		fmt.Println(<-posted)
	}
	cancel()
	fmt.Println("Run returned:", <-done)
	// Output:
	// request-0 response: {"greeting":"Hello, Ada"}
	// request-1 error: {"errorMessage":"no name","errorType":"errorString"}
	// Run returned: <nil>
}

// ExampleStart is the main of a function that runs a handler of its own
// on the loop (a funcify app's Start does this for an app).
func ExampleStart() {
	runtimeapi.Start(greeter{}, runtimeapi.Config{})
}

// ExampleReportInitError reports that the function cannot start; Lambda
// then fails the waiting invocation with this error.
func ExampleReportInitError() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Println(r.Method, r.URL.Path, string(body))
		w.WriteHeader(http.StatusAccepted)
	}))
	defer api.Close()

	err := runtimeapi.ReportInitError(context.Background(), strings.TrimPrefix(api.URL, "http://"), errors.New("TABLE_NAME is not set"))
	fmt.Println("ReportInitError returned:", err)
	// Output:
	// POST /2018-06-01/runtime/init/error {"errorMessage":"TABLE_NAME is not set","errorType":"errorString"}
	// ReportInitError returned: <nil>
}
