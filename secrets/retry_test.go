package secrets_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	awsretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/funcify/funcify/internal/awsfake"
	"github.com/funcify/funcify/retry"
	"github.com/funcify/funcify/secrets"
	"github.com/funcify/funcify/ssmparam"
)

// The tests in this file hold secrets and ssmparam to one retry policy:
// package retry's, deadline-aware, with the SDK client's retryer off.

// quiet is a logger that writes nowhere, so that retries do not fill the
// test output.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// subject is one call of ssmparam or secrets that sends one request to
// target, and the setup that makes it.
type subject struct {
	name   string
	target string
	// setup stores what the call reads in srv and returns the call on a
	// client on cfg, whose retry policy opts add to.
	setup func(srv *awsfake.Server, cfg aws.Config, opts ...retry.Option) func(ctx context.Context) error
}

var subjects = []subject{
	{"ssmparam.Get", awsfake.GetParameter, func(srv *awsfake.Server, cfg aws.Config, opts ...retry.Option) func(context.Context) error {
		srv.SetParameter("/app/k", "SecureString", "v")
		c := ssmparam.New(ssm.NewFromConfig(cfg), ssmparam.WithTTL(0), ssmparam.WithLogger(quiet), ssmparam.WithRetry(opts...))
		return func(ctx context.Context) error { _, err := c.Get(ctx, "/app/k"); return err }
	}},
	{"ssmparam.Put", awsfake.PutParameter, func(srv *awsfake.Server, cfg aws.Config, opts ...retry.Option) func(context.Context) error {
		c := ssmparam.New(ssm.NewFromConfig(cfg), ssmparam.WithTTL(0), ssmparam.WithLogger(quiet), ssmparam.WithRetry(opts...))
		return func(ctx context.Context) error { return c.Put(ctx, "/app/k", "v") }
	}},
	{"secrets.Get", awsfake.GetSecretValue, func(srv *awsfake.Server, cfg aws.Config, opts ...retry.Option) func(context.Context) error {
		srv.SetSecretString("app/k", "v")
		c := secrets.New(secretsmanager.NewFromConfig(cfg), secrets.WithTTL(0), secrets.WithLogger(quiet), secrets.WithRetry(opts...))
		return func(ctx context.Context) error { _, err := c.Get(ctx, "app/k"); return err }
	}},
}

// faults are a throttle and a 5xx, as each service answers them.
var faults = []struct {
	name   string
	status int
	code   string
}{
	{"throttle", 400, "ThrottlingException"},
	{"5xx", 500, "InternalServerError"},
}

// TestSDKRetryerNotUsed: a client whose SDK retryer would wait an hour
// before its next attempt (a long backoff, as the SDK's standard retryer
// takes up to 20 s) must not wait it: the package retries with its own
// backoff, which fits the caller's deadline. A client that left its
// retries to the SDK waited until the caller's deadline and failed there.
func TestSDKRetryerNotUsed(t *testing.T) {
	for _, s := range subjects {
		for _, f := range faults {
			t.Run(s.name+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				srv := awsfake.New(t)
				cfg := srv.Config()
				cfg.Retryer = func() aws.Retryer {
					return awsretry.NewStandard(func(o *awsretry.StandardOptions) {
						o.MaxAttempts = 3
						o.Backoff = awsretry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Hour, nil })
						o.RateLimiter = ratelimit.None
					})
				}
				call := s.setup(srv, cfg)
				srv.Fail(s.target, 1, f.status, f.code)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				err := call(ctx)
				if err != nil {
					t.Fatalf("got %v, want success on the second try, well before the caller's deadline", err)
				}
				if n := srv.Count(s.target); n != 2 {
					t.Errorf("got %d requests, want 2", n)
				}
			})
		}
	}
}

// TestRetryPolicySame: ssmparam and secrets retry a throttle and a 5xx the
// same number of times under the same deadline: a failure that passes is
// retried until it does, one that lasts gets DefaultMaxTries requests with
// the default backoff, and when the next try would not fit before the
// caller's deadline the call gives up at once, with retry.ErrDeadline, while
// the caller's context is still live.
func TestRetryPolicySame(t *testing.T) {
	if ssmparam.DefaultMaxTries != secrets.DefaultMaxTries {
		t.Fatalf("ssmparam.DefaultMaxTries = %d, secrets.DefaultMaxTries = %d", ssmparam.DefaultMaxTries, secrets.DefaultMaxTries)
	}
	tests := []struct {
		name     string
		failures int           // requests that fail before the fault ends
		minTry   time.Duration // retry.WithMinAttemptTime, if not 0
		requests int
		wantErr  error // nil: success; else what errors.Is finds
	}{
		{"passes", 2, 0, 3, nil},
		{"lasts", 100, 0, secrets.DefaultMaxTries, errLasting},
		// The caller has a minute; a try is expected to take two.
		{"deadline", 100, 2 * time.Minute, 1, retry.ErrDeadline},
	}
	for _, tt := range tests {
		for _, f := range faults {
			for _, s := range subjects {
				t.Run(tt.name+"/"+f.name+"/"+s.name, func(t *testing.T) {
					t.Parallel()
					srv := awsfake.New(t)
					call := s.setup(srv, srv.Config(), retry.WithMinAttemptTime(tt.minTry))
					srv.Fail(s.target, tt.failures, f.status, f.code)
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					defer cancel()
					err := call(ctx)
					if cerr := ctx.Err(); cerr != nil {
						t.Fatalf("returned after the caller's deadline: %v", cerr)
					}
					switch {
					case tt.wantErr == nil && err != nil:
						t.Errorf("got %v, want success", err)
					case tt.wantErr == errLasting:
						re, ok := errors.AsType[*retry.Error](err)
						if !ok || re.Reason != nil || re.Attempts != tt.requests {
							t.Errorf("got %v, want a *retry.Error of %d tries that ran out", err, tt.requests)
						}
					case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
						t.Errorf("got %v, want %v", err, tt.wantErr)
					}
					if n := srv.Count(s.target); n != tt.requests {
						t.Errorf("got %d requests, want %d", n, tt.requests)
					}
				})
			}
		}
	}
}

// errLasting stands for the error of retries that ran out.
var errLasting = errors.New("tries ran out")
