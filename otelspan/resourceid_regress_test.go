package otelspan

import (
	"net/http"
	"testing"
)

// TestResourceIDNotInvokedARN: the FaaS semantic conventions say
// cloud.resource_id is the function's ARN, "not the invoked ARN directly":
// an alias suffix is replaced by the resolved version, since one
// environment serves several aliases. The span records the invoked ARN,
// alias and all (aws.lambda.invoked_arn is the place for that), so the
// same function appears as one resource per alias.
func TestResourceIDNotInvokedARN(t *testing.T) {
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

func TestResourceID(t *testing.T) {
	const fn = "arn:aws:lambda:eu-west-1:123456789012:function:orders"
	tests := []struct {
		name, invoked, version, want string
	}{
		{"alias", fn + ":live", "7", fn + ":7"},
		{"version", fn + ":7", "7", fn + ":7"},
		{"other version", fn + ":6", "7", fn + ":7"},
		{"unqualified", fn, "7", fn + ":7"},
		{"latest", fn, "$LATEST", fn + ":$LATEST"},
		{"no version", fn + ":live", "", fn},
		{"not an ARN", "orders", "7", "orders"},
		{"short ARN", "arn:aws:lambda:eu-west-1:123456789012:function", "7", "arn:aws:lambda:eu-west-1:123456789012:function"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := resourceID(tt.invoked, tt.version); got != tt.want {
				t.Errorf("resourceID(%q, %q) = %q, want %q", tt.invoked, tt.version, got, tt.want)
			}
		})
	}
}
