package idempotency_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/funcify/funcify/idempotency"
	"github.com/funcify/funcify/internal/awsfake"
	"github.com/funcify/funcify/store/ssmstore"
)

// TestSSMFailureAfterVoidWrite: on store/ssmstore, a duplicate that
// raced the first call for an absent key loses with a void write, which
// takes the parameter's next version although the item does not change
// (ssmstore's package documentation: "a spurious conflict at worst"). The
// first call's function then fails: Do must delete its record, so that a
// retry runs the function again. Its Delete names the version the take
// returned, which the void write has made stale: ssmstore answers
// ErrConflict, Do takes that as "not this attempt's any more", and the
// record stays in progress until its lease ends (15 minutes without a
// deadline): every retry gets ErrInProgress.
func TestSSMFailureAfterVoidWrite(t *testing.T) {
	srv := awsfake.New(t)
	s := ssmstore.New(ssm.NewFromConfig(srv.Config()), "/funcify/review")
	g, err := idempotency.New(idempotency.Config{Store: s, Scope: "ssm-void"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	k := idempotency.NewKey("POST /orders", "k", []byte(payload))
	errTransient := errors.New("transient")
	_, err = idempotency.Do(ctx, g, k, func(ctx context.Context) (string, error) {
		// The losing duplicate's PutParameter, based on the version it
		// read before this call's take (none: 0), lands after it.
		puts := srv.Requests(awsfake.PutParameter)
		name, _ := puts[len(puts)-1].Body["Name"].(string)
		srv.SetParameter(name, "SecureString", `{"b":0,"n":7}`)
		return "", errTransient
	})
	if !errors.Is(err, errTransient) {
		t.Fatalf("first call: got %v, want its function's error", err)
	}
	runs := 0
	got, err := idempotency.Do(ctx, g, k, func(ctx context.Context) (string, error) {
		runs++
		return "ok", nil
	})
	if err != nil || got != "ok" || runs != 1 {
		t.Fatalf("retry after a failure: got %q, %v, %d runs; want the function to run again (the failed call's record deleted)", got, err, runs)
	}
}
