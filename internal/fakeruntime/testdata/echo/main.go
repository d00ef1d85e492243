// Command echo is a Lambda function on aws-lambda-go's runtime loop: it
// answers an invocation with its payload or, when the payload is
// {"fail":"message"}, with an error of that message. fakeruntime's tests run
// it against the fake Runtime API.
package main

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/aws/aws-lambda-go/lambda"
)

func handle(_ context.Context, payload json.RawMessage) (json.RawMessage, error) {
	var p struct {
		Fail string `json:"fail"`
	}
	if json.Unmarshal(payload, &p) == nil && p.Fail != "" {
		return nil, errors.New(p.Fail)
	}
	return payload, nil
}

func main() {
	lambda.Start(handle)
}
