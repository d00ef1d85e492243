//go:build !funcify.lambdaonly

package app_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/funcify/funcify/app"
)

func ExampleApp_Main() {
	a := app.New(quiet)
	a.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		app.JSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
	})
	file := filepath.Join(os.TempDir(), "funcify-example-event.json")
	os.WriteFile(file, []byte(`{"version": "2.0", "rawPath": "/health", "requestContext": {"http": {"method": "GET"}}}`), 0o600)
	defer os.Remove(file)

	code := a.Main(context.Background(), []string{"-event", file}, os.Stdout, os.Stderr)
	fmt.Println("exit", code)
	// Output:
	// {"statusCode":200,"headers":{"content-type":"application/json"},"body":"{\"status\":\"ok\"}","isBase64Encoded":false}
	// exit 0
}
