// Package runtimeapi is funcify's own Lambda runtime loop: it fetches
// invocations from the Lambda Runtime API (2018-06-01), runs a [Handler]
// and posts the response or the error, as aws-lambda-go's lambda.Start
// does, at a fraction of the CPU.
//
// # Why a loop of its own
//
// aws-lambda-go reaches the Runtime API through net/http's client: a
// transport with its own read and write goroutines per connection, a header
// map and a request object per call. This loop is one goroutine speaking
// HTTP/1.1 on one kept-alive net.Conn, writing each request with one
// system call and reading answers into reused buffers; on its steady path
// it allocates only the payload and the strings the invocation's context
// must hold. It sends the request for the next invocation in the same write
// as the response it follows (up to 16 KiB; not after an error), as
// HTTP/1.1 pipelining allows: the Runtime API answers them in order, and a
// loop saves a system call and a wake-up per invocation. Where that
// response is refused or its connection closes, the loop posts what it
// must on another connection or asks again. A funcify app's Start runs it; aws-lambda-go stays for event
// types and lambdacontext, and its lambda.Start stays one option away
// (app.WithAWSLambdaGo, or FUNCIFY_RUNTIME=aws-lambda-go).
//
// # What it does, as lambda.Start does
//
//   - GET /runtime/invocation/next, reading Lambda-Runtime-Aws-Request-Id,
//     -Deadline-Ms, -Invoked-Function-Arn, -Trace-Id, -Client-Context,
//     -Cognito-Identity and -Aws-Tenant-Id. The handler's context has the
//     deadline, a lambdacontext.LambdaContext (lambdacontext.FromContext
//     works), and the trace header under the key "x-amzn-trace-id" where
//     aws-lambda-go puts it; _X_AMZN_TRACE_ID is set too when the process
//     runs one invocation at a time.
//   - POST .../response with the handler's bytes; POST .../error with the
//     JSON body {"errorMessage", "errorType"} aws-lambda-go sends (plus
//     "stackTrace" for a panic), the Lambda-Runtime-Function-Error-Type
//     header and the X-Ray error cause. A panic that escapes the handler is
//     reported so, then [Run] returns an error and the process exits, as
//     aws-lambda-go's does (its stack trace starts at the function that
//     panicked, where aws-lambda-go's starts in its own recovery code); an
//     aws-lambda-go messages.InvokeResponse_Error, returned or panicked, is
//     posted as it is and ends the process when its ShouldExit says so. An
//     error with a method ErrorType() string (idempotency.ReplayedError) is
//     reported under the name it returns; aws-lambda-go's lambda.Start
//     reports its Go type. [ReportInitError] posts /runtime/init/error.
//   - Answers with Content-Length, chunked, or ended by the connection's
//     close; Connection: close and a broken connection are redialled (five
//     attempts in a row, then Run fails with a clear error). A response over
//     [MaxResponseSize] is reported as a function error
//     (Function.ResponseSizeTooLarge) rather than sent; a 413 from the
//     Runtime API for a response does the same, and an error body refused
//     with 413 is sent again shortened. A 500 (the Runtime API wants the
//     process to exit) or an error status for next ends Run.
//   - AWS_LAMBDA_MAX_CONCURRENCY=N (Lambda Managed Instances): N loops, each
//     with its own connection.
//   - [Config.OnShutdown] hooks run on SIGTERM within [ShutdownTimeout].
//
// The loop does not log function errors: the handler does (a funcify app
// logs each invocation's end line with its error). It logs, at Warn and
// Error, what goes wrong between it and the Runtime API, never a payload.
//
// # Usage
//
// A funcify app runs on it with its Start. Any other handler with
// aws-lambda-go's Invoke method can too:
//
//	func main() {
//		runtimeapi.Start(myHandler{}, runtimeapi.Config{})
//	}
//
// # Concurrency
//
// Each loop runs one invocation at a time; with N loops the Handler is
// called from N goroutines at once. Run may be called once per process.
package runtimeapi
