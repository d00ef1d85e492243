// Command runtimeapihello is funcify's runtime loop on its own: runtimeapi.Start
// with a handler that answers "ok", no app, no logging. invokecpu compares
// it with ../hello, aws-lambda-go's loop with the same handler.
package main

import (
	"context"

	"github.com/funcify/funcify/runtimeapi"
)

type hello struct{}

func (hello) Invoke(context.Context, []byte) ([]byte, error) { return []byte(`"ok"`), nil }

func main() {
	runtimeapi.Start(hello{}, runtimeapi.Config{})
}
