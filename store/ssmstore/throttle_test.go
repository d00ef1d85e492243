package ssmstore

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/funcify/funcify/store"
)

// landedThenThrottled is a Parameter Store whose first PutParameter takes
// effect but answers TooManyUpdates (the SDK's retry of a try that landed
// while the first was still being applied), and whose later puts are all
// refused with TooManyUpdates. The caller's context ends during the last
// try, as a StoreTimeout or an invocation deadline does.
type landedThenThrottled struct {
	mu       sync.Mutex
	versions []string // value of version i+1
	puts     int
	cancel   context.CancelFunc // called during the last try, if set
	// failVersioned fails every read of one version (GetParameter
	// "name:N") with a transient error; reads of the latest work.
	failVersioned bool
}

func (f *landedThenThrottled) GetParameter(ctx context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	name := aws.ToString(in.Name)
	v := int64(len(f.versions))
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		if f.failVersioned {
			return nil, &smithy.GenericAPIError{Code: "InternalServerError"}
		}
		v, _ = strconv.ParseInt(name[i+1:], 10, 64)
	}
	if len(f.versions) == 0 {
		return nil, &smithy.GenericAPIError{Code: "ParameterNotFound"}
	}
	if v < 1 || v > int64(len(f.versions)) {
		return nil, &smithy.GenericAPIError{Code: "ParameterVersionNotFound"}
	}
	return &ssm.GetParameterOutput{Parameter: &types.Parameter{Value: aws.String(f.versions[v-1]), Version: v}}, nil
}

func (f *landedThenThrottled) PutParameter(ctx context.Context, in *ssm.PutParameterInput, _ ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.puts++
	if f.puts == 1 {
		f.versions = append(f.versions, aws.ToString(in.Value))
	}
	if f.puts == throttleTries && f.cancel != nil {
		f.cancel()
	}
	return nil, &smithy.GenericAPIError{Code: "TooManyUpdates"}
}

// TestThrottledOutcomeChecked: ErrThrottled says that the write did not
// take effect, and package token acts on it so (it backs off as after a
// conflict, and neither checks nor releases a lease). A write whose first
// try took version 1 unseen, and whose context ended during its last try
// (a StoreTimeout, an invocation's deadline), must not be reported so: its
// outcome is checked without the context's cancellation, and is found to
// be this caller's write; an outcome that cannot be checked is an error
// that is neither ErrThrottled nor store.ErrConflict.
func TestThrottledOutcomeChecked(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := &landedThenThrottled{cancel: cancel}
	s := New(f, "/funcify/test")
	_, err := s.CompareAndSet(ctx, "k", 0, []byte("lease"), 0)
	it, gerr := s.Get(context.Background(), "k")
	if gerr != nil || string(it.Value) != "lease" {
		t.Fatalf("setup: the first try should have landed: %+v, %v", it, gerr)
	}
	if err == nil {
		return // recognised as its own write: fine
	}
	var th interface{ Throttled() bool }
	if errors.As(err, &th) && th.Throttled() || errors.Is(err, store.ErrConflict) {
		t.Errorf("the write took version 1 (Get reads its value), but CompareAndSet returned %v: a throttle that 'did not take effect' (or a lost race), so the caller never checks or releases what it wrote", err)
	}
}

// TestUncheckedOwnWriteNotConflict: the first try of a write took version
// 1 unseen and answered TooManyUpdates, as did every later try; then the
// read of version 1 fails for a moment while the read of the latest
// version works. The latest version is not the write's base, but it may be
// this caller's own write: the outcome is unknown, neither ErrConflict (a
// caller would take its own lease for another's) nor ErrThrottled.
func TestUncheckedOwnWriteNotConflict(t *testing.T) {
	f := &landedThenThrottled{failVersioned: true}
	s := New(f, "/funcify/test")
	_, err := s.CompareAndSet(context.Background(), "k", 0, []byte("lease"), 0)
	var th interface{ Throttled() bool }
	if err == nil || errors.Is(err, store.ErrConflict) || errors.As(err, &th) && th.Throttled() {
		t.Errorf("own write not checkable, latest version 1 over base 0: got %v, want an error that is neither store.ErrConflict nor ErrThrottled", err)
	}
}
