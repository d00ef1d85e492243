// Package app is funcify's event pipeline: one Lambda function that answers
// HTTP events from API Gateway REST APIs (payload 1.0), HTTP APIs (payload
// 2.0), function URLs and Application Load Balancers with ordinary net/http
// handlers, and routes S3 notifications by bucket.
//
//	func main() {
//		a := app.New()
//		a.HandleFunc("GET /orders/{id}", getOrder)
//		a.HandleFunc("POST /orders", createOrder)
//		a.HandleS3("invoices", processInvoices)
//		a.Start()
//	}
//
// # One invocation
//
// [App.Invoke] decodes the payload once (package event finds its kind in one
// cheap pass, then decodes it into the aws-lambda-go type), starts the trace
// span and logs a start line, then:
//
//   - An HTTP event becomes an *http.Request: method, path (r.URL.Path
//     decoded, r.URL.RawPath as sent), query, headers in canonical case,
//     cookies (the 2.0 "cookies" array becomes a Cookie header), Host,
//     RemoteAddr "source-ip:0", and the body, base64-decoded when
//     isBase64Encoded. ALB query strings arrive still percent-encoded and are
//     decoded like any other. It goes through the pipeline, in this order:
//     recover (a panic becomes a 500 envelope and an error log line with the
//     stack), guard ([WithGuard]), policy information
//     ([WithPolicyInformation]), parser ([WithParser]), middleware added with
//     [App.Use], then the router.
//   - The router is an [http.ServeMux]: "METHOD /path/{name}" patterns,
//     {rest...} wildcards, the most specific pattern wins, r.PathValue reads
//     wildcards. No route answers 404; a known path with another method
//     answers 405 with an Allow header; both as error envelopes.
//   - The handler's answer is encoded in the shape of the source: REST with
//     "headers" and "multiValueHeaders" (each Set-Cookie its own value);
//     HTTP API and function URLs with lowercase "headers" and a "cookies"
//     array; ALB with "statusDescription" ("404 Not Found") and
//     "multiValueHeaders" exactly when the request had them. A body that is
//     not text (by Content-Type, Content-Encoding or invalid UTF-8) is sent
//     base64-encoded with isBase64Encoded. Status 200 unless set, and
//     Content-Type application/json unless set.
//   - An S3 event goes to the route [App.HandleS3] registered for its
//     bucket's route key (by default [BucketPrefix]: the name up to its first
//     '.'), with object keys URL-decoded. Records from more than one bucket,
//     or a bucket with no route, fail the invocation with a [*RouteError].
//
// The raw event is in the request's context ([event.FromContext]), and so is
// the Lambda context (lambdacontext.FromContext).
//
// # Errors
//
// Every error an HTTP caller sees is a JSON envelope, by default
//
//	{"error": "order not found", "code": 404, "step": "handler", "ctx": {}}
//
// or RFC 9457 problem details with [WithProblemDetails]. An [*Error] says
// what the caller may see; any other error answers 500 "internal error" and
// its text goes to the log only. Handlers answer with errors through
// [WriteError]; [DecodeJSON] and [JSON] cover request and response bodies.
//
// A payload that is not an event of a known kind fails the invocation with
// an [*event.Error]; the next invocation is unaffected.
//
// # Outside Lambda
//
// [App.Start] runs the Lambda runtime when AWS_LAMBDA_RUNTIME_API is set.
// Elsewhere it serves the app on local HTTP (each request becomes an HTTP
// API 2.0 event and takes exactly the Lambda path) or, with -event FILE,
// invokes it once and prints the response; see [App.Main].
//
// # Concurrency
//
// Register routes and middleware before the first invocation. After that an
// App serves any number of concurrent invocations; Lambda runs several at
// once in one process when AWS_LAMBDA_MAX_CONCURRENCY allows it.
package app
