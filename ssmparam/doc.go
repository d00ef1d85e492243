// Package ssmparam reads a function's configuration from AWS Systems Manager
// Parameter Store: every parameter under a path into the process
// environment, or single parameters through a cache; and writes a
// SecureString.
//
//	func main() {
//		ctx := context.Background()
//		if err := ssmparam.LoadEnv(ctx, "/orders/prod"); err != nil {
//			log.Fatal(err)
//		}
//		dsn := os.Getenv("db_url") // from /orders/prod/db_url
//		...
//	}
//
// The package-level functions use a [Client] on the process's SSM client,
// [DefaultAPI], built on first use through package awsclient (whose
// configuration comes from the Lambda environment unless awsclient.SetLoader
// says otherwise); [New] makes one on a client of your own, which can be
// anything with the three methods of [API].
//
// # Names in the environment
//
// By default a parameter's variable is the last segment of its name:
// /orders/prod/db_url sets db_url. With [WithFullPath] it is the name
// relative to the path, upper-cased, with '/', '-' and '.' replaced by '_':
// /orders/prod/db/read-url under /orders/prod sets DB_READ_URL. [WithPrefix]
// puts a prefix before either. A variable that is already set is kept
// unless [WithOverwrite] is given. When two parameters map to one variable
// (/app/a/url and /app/b/url are both url by default) LoadEnv sets nothing
// and returns an error that names both: pick [WithFullPath] or rename one.
//
// # Retries
//
// The package retries with package retry's backoff, deadline-aware, instead
// of the SDK's retryer, and package secrets retries the same way: each
// request turns the SDK client's retries off (its retryer becomes
// aws.NopRetryer, whatever the client was built with) and [retry.Do]
// retries throttling (ThrottlingException, TooManyUpdates and the SDK's
// other throttle codes), HTTP 429 and 5xx, and connection errors, up to
// [DefaultMaxTries] tries, waiting 50 ms to 2 s with full jitter. Unlike the
// SDK's retryer, whose waits reach 20 s and end only with the context,
// retry gives up at once, with an error that matches [retry.ErrDeadline],
// when the next wait and the slowest try so far would not fit before the
// context's deadline: a parameter that cannot be read fails while the
// invocation still has time to answer. Nor is there a client-side retry
// quota to run dry during a throttling storm. Change the policy with
// [WithRetry]; each retry is logged at Warn with the caller's context.
// Concurrent [Client.Get] calls of one name share one request; when the
// requesting call's deadline ends its retries early (or its context ends),
// a concurrent call with time left requests again instead of taking that
// failure.
//
// # Errors
//
// Errors are [*Error] values naming the operation and the parameter or
// path. errors.Is(err, [ErrAccessDenied]) reports a denial by IAM (or KMS,
// for decryption) and errors.Is(err, [ErrNotFound]) a missing parameter.
//
// # Logging
//
// Values never reach a log line: the package logs parameter names, counts
// and errors (whose messages carry no values) through the [slog.Logger]
// given with [WithLogger], slog.Default() otherwise, with the caller's
// context, so that a handler such as package logging's adds the
// invocation's request and trace ids to the lines of a call.
//
// A [Client] is safe for concurrent use.
package ssmparam
