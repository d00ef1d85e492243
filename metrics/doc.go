// Package metrics writes a Lambda function's CloudWatch metrics in the
// Embedded Metric Format (EMF): JSON documents on standard output, from
// which CloudWatch Logs extracts the metrics, with no API call and nothing
// to flush in the background.
//
//	m, err := metrics.New(metrics.WithNamespace("Shop"), metrics.WithColdStart())
//	if err != nil {
//		app.FailInit(err) // or log.Fatal
//	}
//	a := app.New(app.WithObserver(m))
//	a.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
//		// ...
//		metrics.Add(r.Context(), "OrdersCreated", 1, metrics.Count)
//	})
//
// When the invocation ends, it writes (on one line)
//
//	{"_aws":{"Timestamp":1767268800123,"CloudWatchMetrics":[{"Namespace":"Shop",
//	 "Dimensions":[["service"]],"Metrics":[{"Name":"OrdersCreated","Unit":"Count"}]}]},
//	 "service":"orders","OrdersCreated":1}
//
// # Configuration
//
// [New] takes the namespace from [WithNamespace] or, without it, from the
// environment variable POWERTOOLS_METRICS_NAMESPACE; there is no default,
// and New fails without one. Every metric has the dimension service, whose
// value comes from [WithService] or POWERTOOLS_SERVICE_NAME
// ("service_undefined" without either), and the dimensions given to
// [WithDimension]. These are the variables AWS's Powertools for Lambda
// read, so a function moved from another language keeps its settings.
//
// # Per invocation
//
// An [Emitter] is an observe.Observer: its Begin gives each invocation a
// set of metrics of its own, in the invocation's context, and its End
// writes them. [Add] records a value, [AddDimension] adds a dimension to
// the invocation's metrics, [AddMetadata] a member that CloudWatch Logs
// Insights can query but that is no metric. They check what they are given
// against CloudWatch's and EMF's rules and return an error matching
// [ErrInvalid] at the call that breaks one; outside an invocation (or after
// its end) they return [ErrNoMetrics]: nothing is dropped without saying
// so.
//
// # Documents
//
// End writes all of an invocation's documents in one write, each a line,
// and nothing when no metric was added. EMF allows 100 metrics in a
// document and 100 values of a metric: End splits the metrics in as many
// documents as that takes, never dropping a value, each with the
// invocation's dimensions and metadata. A metric with one value in a
// document is written as a number, with several as an array. Every
// document's _aws.Timestamp is the invocation's start (observe.Invocation's
// Start), so that all of an invocation's metrics fall in the same period.
// [WithColdStart] adds a ColdStart metric to the first invocation of the
// process, in a document of its own. [Emitter.Shutdown], which package app
// runs on SIGTERM, writes the metrics of invocations still running then,
// such as one cut short by its timeout, whose End never comes.
//
// # Concurrency
//
// An Emitter, [Add], [AddDimension] and [AddMetadata] are safe for
// concurrent use: several invocations may run at once in one process
// (AWS_LAMBDA_MAX_CONCURRENCY), each with its own set, and the goroutines
// of one invocation may add to it together. Sets are pooled and reused; a
// context that outlives its invocation no longer reaches one.
package metrics
