package ssmparam

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/funcify/funcify/awsclient"
	"github.com/funcify/funcify/internal/cache"
	"github.com/funcify/funcify/internal/flight"
	"github.com/funcify/funcify/retry"
)

// Defaults used when the matching option is not given.
const (
	// DefaultTTL is how long Get keeps a parameter's value.
	DefaultTTL = 5 * time.Minute
	// DefaultMaxTries is how many times a request is sent at most.
	DefaultMaxTries = 5
)

// Sentinel errors, seen through an [*Error] by errors.Is.
var (
	// ErrAccessDenied: IAM or KMS refused the request (AccessDeniedException).
	ErrAccessDenied = errors.New("ssmparam: access denied")
	// ErrNotFound: the parameter does not exist (ParameterNotFound).
	ErrNotFound = errors.New("ssmparam: parameter not found")
)

// Error is an error of Parameter Store about one parameter or path.
// errors.Is and errors.As see both Kind and Err through it.
type Error struct {
	// Op is the operation: "GetParametersByPath", "GetParameter" or
	// "PutParameter".
	Op string
	// Name is the parameter's name, or the path for GetParametersByPath.
	Name string
	// Kind is [ErrAccessDenied], [ErrNotFound] or nil.
	Kind error
	// Err is the error of the SDK client, after any retries (a
	// [*retry.Error] when there was more than one try).
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("ssmparam: ")
	b.WriteString(e.Op)
	b.WriteString(" ")
	b.WriteString(e.Name)
	if e.Kind != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Kind.Error(), "ssmparam: "))
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

// API is the part of the SSM client that a [Client] uses; *ssm.Client has
// it.
type API interface {
	GetParametersByPath(ctx context.Context, in *ssm.GetParametersByPathInput, optFns ...func(*ssm.Options)) (*ssm.GetParametersByPathOutput, error)
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, optFns ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
}

// Client reads and writes parameters through an [API], and caches what
// [Client.Get] reads. It is safe for concurrent use.
type Client struct {
	api    API
	log    *slog.Logger
	retry  []retry.Option
	cache  *cache.Cache[string]
	setenv func(key, value string) error
	lookup func(key string) (string, bool)
}

// An Option configures a [Client].
type Option func(*options)

type options struct {
	ttl    time.Duration
	log    *slog.Logger
	retry  []retry.Option
	now    func() time.Time
	setenv func(key, value string) error
	lookup func(key string) (string, bool)
}

// WithTTL sets how long [Client.Get] keeps a value; zero or less caches
// nothing (concurrent Gets of a name still share one request). The default
// is [DefaultTTL].
func WithTTL(d time.Duration) Option { return func(o *options) { o.ttl = d } }

// WithLogger sets the logger; the default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithRetry adds options to the retry policy, after the package's own
// (up to [DefaultMaxTries] tries, retrying throttling, 429, 5xx and
// connection errors): retry.WithMaxTries(1) turns retries off.
func WithRetry(opts ...retry.Option) Option {
	return func(o *options) { o.retry = append(o.retry, opts...) }
}

// withClock makes the cache read the time from now; for tests.
func withClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// withEnv makes LoadEnv read and write variables through lookup and setenv
// instead of the process environment; for tests.
func withEnv(lookup func(string) (string, bool), setenv func(string, string) error) Option {
	return func(o *options) { o.lookup, o.setenv = lookup, setenv }
}

// New returns a Client on api, typically an *ssm.Client. New does no I/O;
// it panics if api is nil, a mistake in the code that sets the function up,
// as net/http's ServeMux.Handle does with a nil handler.
func New(api API, opts ...Option) *Client {
	if api == nil {
		panic("ssmparam: New with a nil API")
	}
	o := options{ttl: DefaultTTL, setenv: os.Setenv, lookup: os.LookupEnv}
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
	c := &Client{
		api:    api,
		log:    o.log,
		retry:  slices.Clip(append(r, o.retry...)), // append copies: calls add their own
		cache:  cache.New[string](o.ttl, o.now),
		setenv: o.setenv,
		lookup: o.lookup,
	}
	return c
}

// noSDKRetries turns the SDK's own retries off for one call: package retry
// does them.
func noSDKRetries(o *ssm.Options) { o.Retryer = aws.NopRetryer{} }

// throttleCodes are error codes that mean "slow down", besides the SDK's.
var throttleCodes = map[string]struct{}{"TooManyUpdates": {}}

// retryable reports whether err is worth another try: a throttle, HTTP 429
// or 5xx, or a connection error.
func retryable(err error) bool {
	if ae, ok := errors.AsType[smithy.APIError](err); ok {
		if _, ok := throttleCodes[ae.ErrorCode()]; ok {
			return true
		}
	}
	if re, ok := errors.AsType[*awshttp.ResponseError](err); ok {
		if s := re.HTTPStatusCode(); s == 429 || s >= 500 {
			return true
		}
	}
	return awsretry.IsErrorRetryables(awsretry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}

// wrap makes the *Error for op on name from err, which retry.Do returned.
func wrap(op, name string, err error) error {
	if re, ok := errors.AsType[*retry.Error](err); ok && re.Attempts == 1 && re.Reason == nil {
		err = re.Err
	}
	e := &Error{Op: op, Name: name, Err: err}
	if ae, ok := errors.AsType[smithy.APIError](err); ok {
		switch ae.ErrorCode() {
		case "AccessDeniedException", "AccessDenied", "KMSAccessDeniedException":
			e.Kind = ErrAccessDenied
		case "ParameterNotFound", "ParameterVersionNotFound":
			e.Kind = ErrNotFound
		}
	}
	return e
}

// onRetry logs each retry of op on name with ctx, the caller's context, so
// that the line carries the invocation's request and trace ids.
func (c *Client) onRetry(ctx context.Context, op, name string) retry.Option {
	return retry.WithOnRetry(func(attempt int, err error, delay time.Duration) {
		c.log.WarnContext(ctx, "ssmparam: retrying", "op", op, "name", name, "attempt", attempt, "delay", delay, "error", err)
	})
}

// Get returns the value of the parameter name, decrypted if it is a
// SecureString. It keeps the value for the client's TTL, and concurrent
// Gets of a name that is not cached share one request, and its failure. A
// failure of the requesting caller's own making is not shared: when its
// context ends, or its retries stop because its deadline is too near for
// another try ([retry.ErrDeadline]), a concurrent Get whose context has
// time left requests again. name may carry a version or label selector
// ("/app/key:3").
func (c *Client) Get(ctx context.Context, name string) (string, error) {
	return c.cache.Get(ctx, name, func(ctx context.Context) (string, error) {
		out, err := retry.Do(ctx, func(ctx context.Context) (*ssm.GetParameterOutput, error) {
			return c.api.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)}, noSDKRetries)
		}, append(c.retry, c.onRetry(ctx, "GetParameter", name))...)
		if err != nil {
			if errors.Is(err, retry.ErrDeadline) && ctx.Err() == nil {
				// Given up because this caller's deadline is near, not
				// because of the parameter: a concurrent Get with time
				// left fetches again rather than share it.
				return "", flight.LeadersOwn(wrap("GetParameter", name, err))
			}
			return "", wrap("GetParameter", name, err)
		}
		if out.Parameter == nil {
			return "", nil
		}
		return aws.ToString(out.Parameter.Value), nil
	})
}

// Put writes value to the parameter name as a SecureString encrypted with
// the account's default key, overwriting any value, and caches it for Get.
func (c *Client) Put(ctx context.Context, name, value string) error {
	_, err := retry.Do(ctx, func(ctx context.Context) (*ssm.PutParameterOutput, error) {
		return c.api.PutParameter(ctx, &ssm.PutParameterInput{
			Name:      aws.String(name),
			Value:     aws.String(value),
			Type:      types.ParameterTypeSecureString,
			Overwrite: aws.Bool(true),
		}, noSDKRetries)
	}, append(c.retry, c.onRetry(ctx, "PutParameter", name))...)
	if err != nil {
		c.cache.Forget(name)
		return wrap("PutParameter", name, err)
	}
	c.cache.Set(name, value)
	c.log.DebugContext(ctx, "ssmparam: put", "name", name)
	return nil
}

// An EnvOption changes how [Client.LoadEnv] names variables and whether it
// replaces those already set.
type EnvOption func(*envOptions)

type envOptions struct {
	fullPath  bool
	prefix    string
	overwrite bool
}

// WithFullPath names each variable after the parameter's name relative to
// the path, upper-cased, with '/', '-' and '.' as '_': /app/db/url under
// /app sets DB_URL.
func WithFullPath() EnvOption { return func(o *envOptions) { o.fullPath = true } }

// WithPrefix puts prefix before every variable's name.
func WithPrefix(prefix string) EnvOption { return func(o *envOptions) { o.prefix = prefix } }

// WithOverwrite replaces variables that are already set; by default they
// are kept.
func WithOverwrite() EnvOption { return func(o *envOptions) { o.overwrite = true } }

// envName returns the variable for the parameter name found under path.
func (o *envOptions) envName(path, name string) string {
	if !o.fullPath {
		return o.prefix + name[strings.LastIndexByte(name, '/')+1:]
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(name, path), "/")
	rel = strings.Map(func(r rune) rune {
		switch r {
		case '/', '-', '.':
			return '_'
		}
		return r
	}, strings.ToUpper(rel))
	return o.prefix + rel
}

// LoadEnv sets an environment variable for every parameter under path,
// recursively and across all pages, with SecureStrings decrypted. See the
// package documentation for the variables' names. It sets nothing when a
// request fails or two parameters map to one variable.
func (c *Client) LoadEnv(ctx context.Context, path string, opts ...EnvOption) error {
	var o envOptions
	for _, f := range opts {
		f(&o)
	}
	if !strings.HasPrefix(path, "/") {
		return fmt.Errorf("ssmparam: path %q does not begin with /", path)
	}
	path = strings.TrimSuffix(path, "/")
	in := &ssm.GetParametersByPathInput{
		Path:           aws.String(path + "/"),
		Recursive:      aws.Bool(true),
		WithDecryption: aws.Bool(true),
		MaxResults:     aws.Int32(10),
	}
	if path == "" {
		in.Path = aws.String("/")
	}
	type found struct{ name, value string }
	vars := map[string]found{}
	var order []string
	for page := 1; ; page++ {
		out, err := retry.Do(ctx, func(ctx context.Context) (*ssm.GetParametersByPathOutput, error) {
			return c.api.GetParametersByPath(ctx, in, noSDKRetries)
		}, append(c.retry, c.onRetry(ctx, "GetParametersByPath", path))...)
		if err != nil {
			return wrap("GetParametersByPath", aws.ToString(in.Path), err)
		}
		for _, p := range out.Parameters {
			name := aws.ToString(p.Name)
			key := o.envName(path, name)
			if prev, ok := vars[key]; ok {
				return fmt.Errorf("ssmparam: parameters %s and %s both map to the variable %s", prev.name, name, key)
			}
			if key == "" || strings.ContainsAny(key, "=\x00") {
				return fmt.Errorf("ssmparam: parameter %s maps to the invalid variable name %q", name, key)
			}
			vars[key] = found{name, aws.ToString(p.Value)}
			order = append(order, key)
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	var set, kept []string
	for _, key := range order {
		if _, ok := c.lookup(key); ok && !o.overwrite {
			kept = append(kept, key)
			continue
		}
		if err := c.setenv(key, vars[key].value); err != nil {
			return fmt.Errorf("ssmparam: setting %s from %s: %w", key, vars[key].name, err)
		}
		set = append(set, key)
	}
	c.log.InfoContext(ctx, "ssmparam: loaded the environment", "path", path, "set", set, "kept", kept)
	return nil
}

// DefaultAPI returns the process's SSM client, built on first use with
// [awsclient.Client] (service "ssm": the configuration of [awsclient.Config]
// and the endpoint in FUNCIFY_ENDPOINT_SSM, if set). Other packages on
// Parameter Store, such as store/ssmstore, can share it. A failure to load
// the AWS configuration is returned and not kept.
func DefaultAPI(ctx context.Context) (*ssm.Client, error) {
	c, err := awsclient.Client(ctx, "ssm", newSSM)
	if err != nil {
		return nil, fmt.Errorf("ssmparam: %w", err)
	}
	return c, nil
}

func newSSM(cfg aws.Config, endpoint string) *ssm.Client {
	return ssm.NewFromConfig(cfg, func(o *ssm.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
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

// LoadEnv calls [Client.LoadEnv] on the [Default] client.
func LoadEnv(ctx context.Context, path string, opts ...EnvOption) error {
	c, err := Default(ctx)
	if err != nil {
		return err
	}
	return c.LoadEnv(ctx, path, opts...)
}

// Get calls [Client.Get] on the [Default] client.
func Get(ctx context.Context, name string) (string, error) {
	c, err := Default(ctx)
	if err != nil {
		return "", err
	}
	return c.Get(ctx, name)
}

// Put calls [Client.Put] on the [Default] client.
func Put(ctx context.Context, name, value string) error {
	c, err := Default(ctx)
	if err != nil {
		return err
	}
	return c.Put(ctx, name, value)
}
