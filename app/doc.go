// Package app is funcify's event pipeline: one Lambda function that answers
// HTTP events from API Gateway REST APIs (payload 1.0), HTTP APIs (payload
// 2.0), function URLs and Application Load Balancers with ordinary net/http
// handlers, and routes events of other sources (S3, SQS, SNS, EventBridge
// and its schedules, DynamoDB Streams, Kinesis, direct invokes) through one
// keyed route table.
//
//	func main() {
//		a := app.New()
//		a.HandleFunc("GET /orders/{id}", getOrder)
//		a.HandleFunc("POST /orders", createOrder)
//		app.HandleS3(a, "invoices", processInvoices)
//		app.HandleSQSJSON(a, "order-events", updateOrder) // per message
//		app.HandleEventBridge(a, "billing", "InvoiceIssued", recordInvoice)
//		app.HandleSchedule(a, "nightly-report", report)
//		a.Start()
//	}
//
// # One invocation
//
// [App.Invoke] decodes the payload once (package event finds its kind in one
// cheap pass, then decodes it into the aws-lambda-go type), starts the trace
// span and logs a start line at Debug, then (the one line an invocation
// writes at Info, the default level, is its end line: the kind, an HTTP
// request's method, path and status, a route key, an error, the duration;
// each line is a write system call):
//
//   - An HTTP event becomes an *http.Request: method, path, query, headers
//     in canonical case, cookies (the 2.0 "cookies" array becomes a Cookie
//     header), Host (from the Host header, which leaves r.Header, as in
//     net/http), RemoteAddr "source-ip:0", and the body, base64-decoded
//     when isBase64Encoded. ALB events carry no source IP: RemoteAddr is the
//     last X-Forwarded-For entry, which is the address the load balancer
//     saw only in the ALB's default X-Forwarded-For mode, "append". In
//     "preserve" mode the header is the client's own and RemoteAddr is
//     whatever the client wrote there; in "remove" mode RemoteAddr is empty.
//     ALB query strings arrive still percent-encoded and are decoded like
//     any other.
//   - The path is percent-decoded exactly once, by its source's rule, never
//     by its looks: API Gateway HTTP APIs (payload formats 1.0 and 2.0)
//     hand it over decoded already and r.URL.Path takes it as it is; REST
//     APIs, function URLs and ALB hand it over encoded and r.URL.Path is
//     its decoding (an encoded path that is not valid percent-encoding
//     answers 400). r.URL.RawPath holds the escaped form when it differs,
//     so r.URL.EscapedPath(), on which the router matches, carries exactly
//     one level of encoding: a client's /%2561dmin/users is routed as
//     "/%61dmin/users", never as "/admin/users". An HTTP API decodes an
//     encoded slash too, so "a%2Fb" reaches the function as two segments.
//   - The request goes through the pipeline, in this order:
//     recover (a panic becomes a 500 envelope and an error log line with the
//     stack), CORS ([WithCORS]: preflights answered here with 204), base
//     path ([WithBasePath], [WithBasePathFromEvent]: a REST API stage or a
//     custom domain's base path mapping stripped before routing), guard
//     ([WithGuard]), policy information ([WithPolicyInformation]), parser
//     ([WithParser]), middleware added with [App.Use], then the router.
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
//   - Any other event goes through the route table: a route is (kind, key)
//     -> handler, and each kind finds an event's key from its source's name
//     (an S3 event's bucket, by default mapped by [BucketPrefix]: the name
//     up to its first '.'; an SQS queue's, SNS topic's, DynamoDB stream's
//     table's, Kinesis stream's or schedule rule's name, read from its ARN,
//     as it is); [WithRouteKey] replaces that mapping per kind
//     ([WithS3RouteKey] for S3). An S3 event goes to the route [HandleS3]
//     (or the method [App.HandleS3]) registered for its key, with object
//     keys URL-decoded. An EventBridge event's key is its source and
//     detail-type, "*" standing for either in a route ([HandleEventBridge]:
//     the most specific route wins). A payload of no known kind goes to the
//     route [HandleInvoke] registered, if any: a direct invoke with a JSON
//     payload of your own. An event whose key has no route, records from more
//     than one bucket, or a kind the app routes no events of fail the
//     invocation with a [*RouteError] naming the kind and the key; never a
//     panic. Registering a (kind, key) twice panics at setup, as
//     [http.ServeMux] does.
//   - Every such event runs one pipeline: a start line (Debug) and the trace span,
//     then, under recover, the route key function, the guard
//     ([WithGuard]) and the handler, then an end line with the route key
//     and the error, if any. A panic in any of them fails the invocation
//     with an error naming the kind and the step ("app: internal error in
//     the s3 handler"), never the panic's value, which is logged with the
//     stack. The policy-information hook does not run: it learns who the
//     caller of an HTTP request is, and the AWS service that sends an S3
//     event has no caller identity to learn (its right to invoke is the
//     function's resource policy or event source mapping); a check on the
//     event's source belongs in the guard, which finds the event with
//     [event.FromContext]. The handler's result is the invocation's
//     response; its error fails the invocation.
//   - SQS, Kinesis and DynamoDB Streams batches ([HandleSQS],
//     [HandleSQSJSON], [HandleKinesis], [HandleDynamoDBStream]) are handled
//     record by record: an error or a panic fails that record only, and the
//     answer lists the failed ones as {"batchItemFailures": [...]}, so that
//     Lambda retries only them. THE EVENT SOURCE MAPPING MUST HAVE
//     ReportBatchItemFailures IN ITS FunctionResponseTypes: without it
//     Lambda ignores the answer and takes the whole batch as done. A FIFO
//     queue's batch stops at the first failure and reports every message
//     from it on; a stream's reports the first failed sequence number.
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
// or RFC 9457 problem details with [WithProblemDetails]. An error says what
// the caller may see by carrying its answer: an [*Error], or any error with
// an HTTPStatus() int method, and optionally Header() http.Header (a
// WWW-Authenticate challenge, a Retry-After) and PublicMessage() string, as
// the errors of jwtauth, pip, pdp, breaker, retry and httpclient do (see
// package httperror). Any other error answers 500 "internal error" and its
// text goes to the log only. Handlers answer with errors through
// [WriteError]; [DecodeJSON] and [JSON] cover request and response bodies.
// The app puts what WriteError needs (problem details or not, the logger,
// the step) in the request's context, so it answers the same behind any
// middleware's writer.
//
// A payload that is not an event of a known kind fails the invocation with
// an [*event.Error] unless a [HandleInvoke] route takes it (valid JSON of no
// known kind only); the next invocation is unaffected. That includes API
// Gateway authorizer requests, WebSocket messages, Bedrock agent action
// groups and VPC Lattice requests: they look like HTTP requests but expect
// another answer than an HTTP response, so funcify does not answer them as
// one. An authorizer that fails its invocation denies the request.
//
// # Outside Lambda
//
// An App is an http.Handler: [App.ServeHTTP] runs the HTTP pipeline with the
// same envelope and log lines, and answers a request as [App.Invoke] answers
// the HTTP API event of it, so httptest.NewServer(a) and mounting the app in
// another router work.
//
// [App.Start] runs the Lambda runtime when AWS_LAMBDA_RUNTIME_API is set.
// Elsewhere it serves the app on local HTTP through ServeHTTP, as it would
// be behind an HTTP API (path decoded once, x-forwarded-* headers, the HTTP
// API 2.0 event in the context), or, with -event FILE, invokes it once and
// prints the response; see [App.Main].
//
// # Concurrency
//
// Register routes and middleware before the first invocation. After that an
// App serves any number of concurrent invocations; Lambda runs several at
// once in one process when AWS_LAMBDA_MAX_CONCURRENCY allows it.
package app
