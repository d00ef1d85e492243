// Command block is a Lambda function whose handler blocks until its deadline.
// internal/testenv's tests use it to check that stopping the emulator also
// stops a function that is busy in an invocation.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func block(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func main() {
	lambda.Start(block)
}
