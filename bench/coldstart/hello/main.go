// Command hello is the smallest useful Lambda function in Go: aws-lambda-go's
// runtime and a handler that answers a greeting. coldstart measures it as the
// floor that other functions are compared with.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

type response struct {
	Message string `json:"message"`
}

func hello(context.Context, json.RawMessage) (response, error) {
	return response{Message: "hello"}, nil
}

func main() {
	lambda.Start(hello)
}
