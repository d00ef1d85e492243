// Package awsclient holds the AWS configuration that a function shares
// across its invocations, one [aws.Config] built on first use, and a cache
// of per-service clients built from it on first use and kept for the life of
// the process (a Lambda cold start).
//
// The package imports only github.com/aws/aws-sdk-go-v2/aws and
// .../credentials, whose package init is light: a function that imports it
// and never calls AWS pays nothing measurable at cold start: examples/orders
// with it imported and unused measured 1.03x, 1.04x and 1.07x of the median
// without it, when the example against itself measures 0.93x to 1.08x (see
// BENCHMARKS.md). The service clients live with the packages that use them,
// so a function links a service only when it imports the package for it:
//
//	ssmparam.DefaultAPI(ctx)        *ssm.Client             (Parameter Store)
//	secrets.DefaultAPI(ctx)         *secretsmanager.Client  (Secrets Manager)
//	dynamostore.DefaultClient(ctx)  *dynamodb.Client        (DynamoDB)
//
// Those are built with [Client]; a client for another service is built the
// same way:
//
//	func sqsClient(ctx context.Context) (*sqs.Client, error) {
//		return awsclient.Client(ctx, "sqs", func(cfg aws.Config, endpoint string) *sqs.Client {
//			return sqs.NewFromConfig(cfg, func(o *sqs.Options) {
//				if endpoint != "" {
//					o.BaseEndpoint = aws.String(endpoint)
//				}
//			})
//		})
//	}
//
// # Configuration
//
// By default [Config] builds the configuration from the environment that
// the Lambda runtime gives a function: the region from AWS_REGION (or else
// AWS_DEFAULT_REGION), and static credentials from AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, which Lambda sets from the
// function's execution role for the whole life of the execution
// environment. Nothing else is read: no shared config or credentials files,
// no profiles, no container or instance role, no AWS_MAX_ATTEMPTS; clients
// get the SDK's standard retryer (which packages ssmparam and secrets turn
// off for each of their requests: they retry with package retry, which
// respects the invocation's deadline). When the variables are missing,
// Config returns an error that names them.
//
// Elsewhere (a developer's machine with profiles or SSO, ECS, EC2, Lambda
// SnapStart, whose credentials come from AWS_CONTAINER_CREDENTIALS_FULL_URI)
// set a loader of your own with [SetLoader] before the first use, typically
// the SDK's default chain:
//
//	awsclient.SetLoader(func(ctx context.Context) (aws.Config, error) {
//		return config.LoadDefaultConfig(ctx)
//	})
//
// Importing github.com/aws/aws-sdk-go-v2/config for that costs a cold start
// of its own: a bare function that imports it starts 1.60x slower than one
// that does not (its init registers the SSO, SSO OIDC and STS clients).
//
// A successful load is kept for the life of the process. A failed one is
// returned and not kept: the next call loads again, so that one
// invocation's cancelled context or a passing failure does not break every
// later invocation. Concurrent first calls share one load.
//
// # Endpoints
//
// A client's endpoint can be overridden from the environment, for tests and
// local runs against an emulator or a fake, with FUNCIFY_ENDPOINT_ and the
// service's name (see [Endpoint]):
//
//	FUNCIFY_ENDPOINT_SSM             AWS Systems Manager (Parameter Store)
//	FUNCIFY_ENDPOINT_SECRETSMANAGER  AWS Secrets Manager
//	FUNCIFY_ENDPOINT_DYNAMODB        Amazon DynamoDB
//
// The value, a URL such as http://127.0.0.1:8000, becomes the client's
// BaseEndpoint. It is read when the client is built, that is once.
//
// Everything here is safe for concurrent use.
package awsclient

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Environment variables that override a service's endpoint; see [Endpoint].
const (
	EnvEndpointSSM            = "FUNCIFY_ENDPOINT_SSM"
	EnvEndpointSecretsManager = "FUNCIFY_ENDPOINT_SECRETSMANAGER"
	EnvEndpointDynamoDB       = "FUNCIFY_ENDPOINT_DYNAMODB"
)

// lazy is a value built once on success; a failed build is retried by the
// next call. Concurrent calls share one build, which holds mu.
type lazy[T any] struct {
	mu sync.Mutex // guards v and ok; held while building
	v  T
	ok bool
}

func (l *lazy[T]) get(ctx context.Context, load func(context.Context) (T, error)) (T, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ok {
		return l.v, nil
	}
	if err := ctx.Err(); err != nil {
		var zero T
		return zero, err
	}
	v, err := load(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	l.v, l.ok = v, true
	return v, nil
}

// configHolder is a configuration loaded once, and the loader that loads it.
type configHolder struct {
	mu     sync.Mutex // guards load and used
	load   func(context.Context) (aws.Config, error)
	used   bool // the configuration was asked for: load is fixed
	lazy   lazy[aws.Config]
	getenv func(string) string
}

func (h *configHolder) setLoader(load func(context.Context) (aws.Config, error)) {
	if load == nil {
		panic("awsclient: SetLoader with a nil loader")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.used {
		panic("awsclient: SetLoader after the configuration was first asked for")
	}
	h.load = load
}

func (h *configHolder) config(ctx context.Context) (aws.Config, error) {
	h.mu.Lock()
	h.used = true
	load := h.load
	h.mu.Unlock()
	if load == nil {
		load = func(context.Context) (aws.Config, error) { return fromEnv(h.getenv) }
	}
	return h.lazy.get(ctx, load)
}

// fromEnv builds the configuration from the variables that the Lambda
// runtime sets, read with getenv.
func fromEnv(getenv func(string) string) (aws.Config, error) {
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	var errs []error
	if region == "" {
		errs = append(errs, errors.New("no region: set AWS_REGION or AWS_DEFAULT_REGION"))
	}
	if id == "" || secret == "" {
		errs = append(errs, errors.New("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones)"))
	}
	if len(errs) > 0 {
		return aws.Config{}, fmt.Errorf("awsclient: the environment lacks the AWS configuration (outside Lambda, see SetLoader): %w", errors.Join(errs...))
	}
	return aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN")),
	}, nil
}

var std = &configHolder{getenv: os.Getenv}

// SetLoader makes [Config] load the configuration with load instead of
// from the Lambda environment; see the package documentation. Call it in
// main, or in an init function, before anything asks for the configuration
// or a client: it panics if [Config] was called before, or if load is nil.
func SetLoader(load func(ctx context.Context) (aws.Config, error)) { std.setLoader(load) }

// Config returns the process's AWS configuration, loading it with ctx on
// the first call that succeeds. An error is returned, not kept: the next
// call tries again. Each client built from it copies it, so callers may not
// change the shared configuration through the returned value's reference
// fields.
func Config(ctx context.Context) (aws.Config, error) { return std.config(ctx) }

// Endpoint returns the endpoint URL set for service in the environment
// variable FUNCIFY_ENDPOINT_<SERVICE>, where <SERVICE> is service
// upper-cased with every character other than a letter or a digit replaced
// by '_' ("ssm": FUNCIFY_ENDPOINT_SSM, "secretsmanager":
// FUNCIFY_ENDPOINT_SECRETSMANAGER), or "" if it is not set.
func Endpoint(service string) string { return os.Getenv(endpointVar(service)) }

func endpointVar(service string) string {
	return "FUNCIFY_ENDPOINT_" + strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z':
			return r - 'a' + 'A'
		case 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
			return r
		}
		return '_'
	}, service)
}

// clients are the clients that Client built, by service name.
var clients struct {
	mu sync.Mutex // guards m
	m  map[string]*lazy[any]
}

// Client returns the process's client for service, building it on the
// first call that succeeds with build, the process's [Config] and the
// service's [Endpoint] ("" when not overridden). Concurrent first calls
// share one build; an error loading the configuration is returned and not
// kept. Every caller for a service must ask for the same type T: service
// names a cache slot, such as "ssm" or "dynamodb", shared by the whole
// process, and a call that finds a client of another type there returns an
// error.
func Client[T any](ctx context.Context, service string, build func(cfg aws.Config, endpoint string) T) (T, error) {
	clients.mu.Lock()
	if clients.m == nil {
		clients.m = map[string]*lazy[any]{}
	}
	l, ok := clients.m[service]
	if !ok {
		l = &lazy[any]{}
		clients.m[service] = l
	}
	clients.mu.Unlock()
	v, err := l.get(ctx, func(ctx context.Context) (any, error) {
		cfg, err := Config(ctx)
		if err != nil {
			return nil, err
		}
		return build(cfg, Endpoint(service)), nil
	})
	if err != nil {
		var zero T
		return zero, err
	}
	c, ok := v.(T)
	if !ok {
		var zero T
		return zero, fmt.Errorf("awsclient: the client for %q is a %T, not a %T", service, v, zero)
	}
	return c, nil
}
