// Command getenv is a Lambda function that answers an invocation whose
// payload is a JSON string NAME with the value of the environment variable
// NAME. internal/testenv's tests run it under the emulator.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

func getenv(_ context.Context, name string) (string, error) {
	return os.Getenv(name), nil
}

func main() {
	lambda.Start(getenv)
}
