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
// Errors are [*Error] values naming the secret id: errors.Is(err,
// [ErrNotFound]) and errors.Is(err, [ErrAccessDenied]) tell the common
// cases. The SDK client's own retryer retries throttling and 5xx.
//
// A [Client] is safe for concurrent use.
package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/funcify/funcify/awsclient"
	"github.com/funcify/funcify/internal/cache"
	"github.com/funcify/funcify/logging"
)

// DefaultTTL is how long a Client keeps a secret's value.
const DefaultTTL = 5 * time.Minute

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
	// Err is the SDK client's error, or the JSON decoder's for GetJSON.
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
	cache *cache.Cache[logging.Secret]
}

// An Option configures a [Client].
type Option func(*options)

type options struct {
	ttl time.Duration
	now func() time.Time
}

// WithTTL sets how long a value is kept; zero or less keeps nothing
// (concurrent Gets still share one request). The default is [DefaultTTL].
func WithTTL(d time.Duration) Option { return func(o *options) { o.ttl = d } }

// withClock makes the cache read the time from now; for tests.
func withClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// New returns a Client on api, typically a *secretsmanager.Client.
func New(api API, opts ...Option) *Client {
	o := options{ttl: DefaultTTL}
	for _, f := range opts {
		f(&o)
	}
	return &Client{api: api, cache: cache.New[logging.Secret](o.ttl, o.now)}
}

// Get returns the current value of the secret id (a name or an ARN): its
// SecretString, or the bytes of its SecretBinary for a binary secret
// ([]byte(v) gives them back). The value is kept for the client's TTL.
func (c *Client) Get(ctx context.Context, id string) (logging.Secret, error) {
	return c.cache.Get(ctx, id, func(ctx context.Context) (logging.Secret, error) {
		out, err := c.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		if err != nil {
			return "", wrap(id, err)
		}
		if out.SecretString != nil {
			return logging.Secret(*out.SecretString), nil
		}
		return logging.Secret(out.SecretBinary), nil
	})
}

func wrap(id string, err error) error {
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
