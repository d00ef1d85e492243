package otelspan

import (
	"net/http"
	"testing"
)

// TestReviewResourceIDNotInvokedARN: the FaaS semantic conventions say
// cloud.resource_id is the function's ARN, "not the invoked ARN directly":
// an alias suffix is replaced by the resolved version, since one
// environment serves several aliases. The span records the invoked ARN,
// alias and all (aws.lambda.invoked_arn is the place for that), so the
// same function appears as one resource per alias.
func TestReviewResourceIDNotInvokedARN(t *testing.T) {
	o, exp := newMemory(t) // AWS_LAMBDA_FUNCTION_VERSION=7; invoked as orders:live
	a := newApp(o)
	a.HandleFunc("GET /orders", func(w http.ResponseWriter, r *http.Request) {})
	if _, err := a.Invoke(invokeCtx(t, xrayHeader1), httpV2("GET", "/orders", nil)); err != nil {
		t.Fatal(err)
	}
	s := onlySpan(t, exp)
	const want = "arn:aws:lambda:eu-west-1:123456789012:function:orders:7"
	if got := attrs(s)["cloud.resource_id"].AsString(); got != want {
		t.Errorf("cloud.resource_id %q, want %q", got, want)
	}
	if got := attrs(s)["aws.lambda.invoked_arn"].AsString(); got != functionARN {
		t.Errorf("aws.lambda.invoked_arn %q, want %q", got, functionARN)
	}
}
