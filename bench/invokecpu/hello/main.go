// Command hello is the smallest aws-lambda-go function: lambda.Start with a
// handler that answers "ok". invokecpu measures it as the runtime loop's
// floor.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context) (string, error) { return "ok", nil })
}
