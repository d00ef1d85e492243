// Package secrets reads secrets from AWS Secrets Manager, with a cache: a
// secret is fetched once per time to live, and concurrent reads of a secret
// that is not cached share one request.
//
//	key, err := secrets.Get(ctx, "orders/api-key")
//	if err != nil {
//		return err
//	}
//	req.Header.Set("X-Api-Key", string(key))
//
//	type dbCreds struct{ Username, Password string }
//	creds, err := secrets.GetJSON[dbCreds](ctx, "orders/db") // {"username": ..., "password": ...}
//
// Values are [logging.Secret]s: they log and print as "[REDACTED]", and the
// package itself logs only secret ids. The package-level functions use a
// [Client] on the process's Secrets Manager client, [DefaultAPI], built on
// first use through package awsclient (whose configuration comes from the
// Lambda environment unless awsclient.SetLoader says otherwise); [New]
// makes one on a client of your own.
//
// # Retries
//
// The package retries as package ssmparam does, with package retry's
// backoff, deadline-aware, instead of the SDK's retryer: each request turns
// the SDK client's retries off (its retryer becomes aws.NopRetryer,
// whatever the client was built with) and [retry.Do] retries throttling
// (ThrottlingException and the SDK's other throttle codes), HTTP 429 and
// 5xx, and connection errors, up to [DefaultMaxTries] tries, waiting 50 ms
// to 2 s with full jitter. Unlike the SDK's retryer, whose waits reach 20 s
// and end only with the context, retry gives up at once, with an error
// that matches [retry.ErrDeadline], when the next wait and the slowest try
// so far would not fit before the context's deadline: a secret that cannot
// be read fails while the invocation still has time to answer. Change the
// policy with [WithRetry]; each retry is logged at Warn with the caller's
// context through the logger of [WithLogger]. When the requesting Get's
// deadline ends its retries early (or its context ends), a concurrent Get
// of the same secret with time left requests again instead of taking that
// failure.
//
// # Errors
//
// Errors are [*Error] values naming the secret id: errors.Is(err,
// [ErrNotFound]) and errors.Is(err, [ErrAccessDenied]) tell the common
// cases.
//
// A [Client] is safe for concurrent use.
package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/funcify/funcify/awsclient"
	"github.com/funcify/funcify/internal/cache"
	"github.com/funcify/funcify/internal/flight"
	"github.com/funcify/funcify/logging"
	"github.com/funcify/funcify/retry"
)

// Defaults used when the matching option is not given.
const (
	// DefaultTTL is how long a Client keeps a secret's value.
	DefaultTTL = 5 * time.Minute
	// DefaultMaxTries is how many times a request is sent at most, as in
	// package ssmparam.
	DefaultMaxTries = 5
)

// Sentinel errors, seen through an [*Error] by errors.Is.
var (
	// ErrNotFound: no such secret, or no current version
	// (ResourceNotFoundException).
	ErrNotFound = errors.New("secrets: secret not found")
	// ErrAccessDenied: IAM or KMS refused the request.
	ErrAccessDenied = errors.New("secrets: access denied")
)

// Error is an error about one secret. errors.Is and errors.As see both Kind
// and Err through it.
type Error struct {
	// ID is the secret's name or ARN, as the caller gave it.
	ID string
	// Kind is [ErrNotFound], [ErrAccessDenied] or nil.
	Kind error
	// Err is the SDK client's error, after any retries (a [*retry.Error]
	// when there was more than one try), or the JSON decoder's for GetJSON.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("secrets: ")
	b.WriteString(e.ID)
	if e.Kind != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Kind.Error(), "secrets: "))
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns Kind, if set, and Err.
func (e *Error) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}

// API is the part of the Secrets Manager client that a [Client] uses;
// *secretsmanager.Client has it.
type API interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Client reads secrets through an [API] and caches them. It is safe for
// concurrent use.
type Client struct {
	api   API
	log   *slog.Logger
	retry []retry.Option
	cache *cache.Cache[logging.Secret]
}

// An Option configures a [Client].
type Option func(*options)

type options struct {
	ttl   time.Duration
	log   *slog.Logger
	retry []retry.Option
	now   func() time.Time
}

// WithTTL sets how long a value is kept; zero or less keeps nothing
// (concurrent Gets still share one request). The default is [DefaultTTL].
func WithTTL(d time.Duration) Option { return func(o *options) { o.ttl = d } }

// WithLogger sets the logger of the retries; the default is
// slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithRetry adds options to the retry policy, after the package's own (up
// to [DefaultMaxTries] tries, retrying throttling, 429, 5xx and connection
// errors): retry.WithMaxTries(1) turns retries off. See the package
// documentation.
func WithRetry(opts ...retry.Option) Option {
	return func(o *options) { o.retry = append(o.retry, opts...) }
}

// withClock makes the cache read the time from now; for tests.
func withClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// New returns a Client on api, typically a *secretsmanager.Client. New
// does no I/O; it panics if api is nil, a mistake in the code that sets the
// function up, as net/http's ServeMux.Handle does with a nil handler.
func New(api API, opts ...Option) *Client {
	if api == nil {
		panic("secrets: New with a nil API")
	}
	o := options{ttl: DefaultTTL}
	for _, f := range opts {
		f(&o)
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	r := []retry.Option{
		retry.WithMaxTries(DefaultMaxTries),
		retry.WithBackoff(50*time.Millisecond, 2*time.Second),
		retry.WithRetryIf(retryable),
	}
	return &Client{
		api:   api,
		log:   o.log,
		retry: slices.Clip(append(r, o.retry...)), // append copies: calls add their own
		cache: cache.New[logging.Secret](o.ttl, o.now),
	}
}

// noSDKRetries turns the SDK's own retries off for one request: package
// retry does them.
func noSDKRetries(o *secretsmanager.Options) { o.Retryer = aws.NopRetryer{} }

// retryable reports whether err is worth another try: a throttle, HTTP 429
// or 5xx, or a connection error. Secrets Manager has no throttle code of
// its own beyond the SDK's list (ThrottlingException).
func retryable(err error) bool {
	if re, ok := errors.AsType[*awshttp.ResponseError](err); ok {
		if s := re.HTTPStatusCode(); s == 429 || s >= 500 {
			return true
		}
	}
	return awsretry.IsErrorRetryables(awsretry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}

// Get returns the current value of the secret id (a name or an ARN): its
// SecretString, or the bytes of its SecretBinary for a binary secret
// ([]byte(v) gives them back). The value is kept for the client's TTL.
// Concurrent Gets of a secret that is not cached share one request, and
// its failure, unless that failure is of the requesting caller's own
// making: when its context ends, or its retries stop because its deadline
// is too near for another try ([retry.ErrDeadline]), a concurrent Get
// whose context has time left requests again.
func (c *Client) Get(ctx context.Context, id string) (logging.Secret, error) {
	return c.cache.Get(ctx, id, func(ctx context.Context) (logging.Secret, error) {
		out, err := retry.Do(ctx, func(ctx context.Context) (*secretsmanager.GetSecretValueOutput, error) {
			return c.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)}, noSDKRetries)
		}, append(c.retry, c.onRetry(ctx, id))...)
		if err != nil {
			if errors.Is(err, retry.ErrDeadline) && ctx.Err() == nil {
				// Given up because this caller's deadline is near, not
				// because of the secret: a concurrent Get with time left
				// fetches again rather than share it.
				return "", flight.LeadersOwn(wrap(id, err))
			}
			return "", wrap(id, err)
		}
		if out.SecretString != nil {
			return logging.Secret(*out.SecretString), nil
		}
		return logging.Secret(out.SecretBinary), nil
	})
}

// onRetry logs each retry of the request for the secret id with ctx, the
// caller's context, so that the line carries the invocation's request and
// trace ids. The error is the SDK's, which quotes no value.
func (c *Client) onRetry(ctx context.Context, id string) retry.Option {
	return retry.WithOnRetry(func(attempt int, err error, delay time.Duration) {
		c.log.WarnContext(ctx, "secrets: retrying", "op", "GetSecretValue", "id", id, "attempt", attempt, "delay", delay, "error", err)
	})
}

// wrap makes the *Error for the secret id from err, which retry.Do
// returned.
func wrap(id string, err error) error {
	if re, ok := errors.AsType[*retry.Error](err); ok && re.Attempts == 1 && re.Reason == nil {
		err = re.Err
	}
	e := &Error{ID: id, Err: err}
	if ae, ok := errors.AsType[smithy.APIError](err); ok {
		switch ae.ErrorCode() {
		case "ResourceNotFoundException":
			e.Kind = ErrNotFound
		case "AccessDeniedException", "AccessDenied", "KMSAccessDeniedException":
			e.Kind = ErrAccessDenied
		}
	}
	return e
}

// GetJSON decodes the secret id, through c's cache, from JSON into v as
// encoding/json's Unmarshal would. A decoding error names the secret but
// quotes none of it.
func (c *Client) GetJSON(ctx context.Context, id string, v any) error {
	s, err := c.Get(ctx, id)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return &Error{ID: id, Err: errors.New("the value is not the expected JSON")}
	}
	return nil
}

// DefaultAPI returns the process's Secrets Manager client, built on first
// use with [awsclient.Client] (service "secretsmanager": the configuration
// of [awsclient.Config] and the endpoint in FUNCIFY_ENDPOINT_SECRETSMANAGER,
// if set). A failure to load the AWS configuration is returned and not kept.
func DefaultAPI(ctx context.Context) (*secretsmanager.Client, error) {
	c, err := awsclient.Client(ctx, "secretsmanager", func(cfg aws.Config, endpoint string) *secretsmanager.Client {
		return secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
			if endpoint != "" {
				o.BaseEndpoint = aws.String(endpoint)
			}
		})
	})
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return c, nil
}

var def struct {
	mu sync.Mutex // guards c
	c  *Client
}

// Default returns the Client that the package-level functions use, built
// on first use on [DefaultAPI]. A failure to load the AWS configuration is
// returned and not kept.
func Default(ctx context.Context) (*Client, error) {
	def.mu.Lock()
	defer def.mu.Unlock()
	if def.c != nil {
		return def.c, nil
	}
	api, err := DefaultAPI(ctx)
	if err != nil {
		return nil, err
	}
	def.c = New(api)
	return def.c, nil
}

// Get calls [Client.Get] on the [Default] client.
func Get(ctx context.Context, id string) (logging.Secret, error) {
	c, err := Default(ctx)
	if err != nil {
		return "", err
	}
	return c.Get(ctx, id)
}

// GetJSON returns the secret id decoded from JSON into a T, with
// [Client.GetJSON] on the [Default] client.
func GetJSON[T any](ctx context.Context, id string) (T, error) {
	var v T
	c, err := Default(ctx)
	if err != nil {
		return v, err
	}
	err = c.GetJSON(ctx, id, &v)
	return v, err
}
