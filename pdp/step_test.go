package pdp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/funcify/funcify/httperror"
	"github.com/funcify/funcify/pdp"
	"github.com/funcify/funcify/pip"
)

// TestPolicyStepKept: a policy that answers with an error naming
// its own step (here a quota policy's 429 at step "quota") had that step
// kept before the change (deny set "authorize" only when Step was empty),
// as app's guard/parser steps still do (writeStepError: "unless err names
// its own"). deny now wraps it in &httperror.Error{Step: "authorize"},
// whose step wins over the cause's.
func TestPolicyStepKept(t *testing.T) {
	quota := pdp.PolicyFunc(func(context.Context, *pip.Subject) error {
		return &httperror.Error{Status: http.StatusTooManyRequests, Message: "slow down", Step: "quota"}
	})
	w := httptest.NewRecorder()
	pdp.Require(quota)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).
		ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 429 || !strings.Contains(w.Body.String(), `"step":"quota"`) {
		t.Errorf("got %d %s; want 429 at the policy's own step \"quota\"", w.Code, w.Body)
	}
}
