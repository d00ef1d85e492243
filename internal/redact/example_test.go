package redact_test

import (
	"context"
	"fmt"
	"net/url"

	"github.com/funcify/funcify/internal/redact"
)

func ExampleError() {
	// What http.Client.Do returns when the caller's context ends.
	err := &url.Error{Op: "Get", URL: "https://idp.example.com/jwks?api_key=s3cret", Err: context.Canceled}
	fmt.Println(redact.Error(err))
	fmt.Println(redact.String("https://user:pw@idp.example.com/jwks?api_key=s3cret#top"))
	// Output:
	// Get "https://idp.example.com/jwks": context canceled
	// https://idp.example.com/jwks
}
