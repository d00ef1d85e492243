// Command echo is a Lambda function that answers every invocation with its
// payload. internal/testenv's tests run it under the emulator.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func echo(_ context.Context, payload json.RawMessage) (json.RawMessage, error) {
	return payload, nil
}

func main() {
	lambda.Start(echo)
}
