// Package logging sets up log/slog for AWS Lambda functions.
//
// # Invocation attributes
//
// [NewHandler] wraps any [slog.Handler] and adds to each record logged with an
// invocation's context the attributes that tie it to the invocation:
//
//   - aws_request_id, from [lambdacontext.FromContext], with function_name
//     ([lambdacontext.FunctionName]) when it is set;
//   - cold_start, from [WithColdStart];
//   - trace_id and span_id, from [trace.FromContext].
//
// Each attribute is added only when the context carries its value; log with
// the ...Context methods of [slog.Logger] (InfoContext and so on) so that the
// handler sees the context. The attributes stay at the top level of the
// record even under [slog.Logger.WithGroup].
//
// # Level and format
//
// [New] returns a logger that writes JSON in the shape Lambda's log-level
// filtering reads, at the level [LevelFromEnv] takes from
// AWS_LAMBDA_LOG_LEVEL or LOG_LEVEL:
//
//	var logger = logging.New(os.Stdout)
//	var warm atomic.Bool
//
//	func handle(ctx context.Context, order Order) error {
//		ctx = logging.WithColdStart(ctx, !warm.Swap(true))
//		ctx = trace.NewContext(ctx, trace.Start(ctx, "", time.Now()))
//		logger.InfoContext(ctx, "order received", "order_id", order.ID,
//			"card", logging.Secret(order.CardNumber))
//		// ...
//	}
//
// writes lines such as
//
//	{"timestamp":"2026-03-01T12:00:00.123456789Z","level":"INFO","message":"order received",
//	 "order_id":"o-17","card":"[REDACTED]","aws_request_id":"8476a536-e9f4-11e8-9739-2dfe598c3fcd",
//	 "function_name":"orders","cold_start":true,"trace_id":"1-5759e988-bd862e3fe1be46a994272793",
//	 "span_id":"53995c3f42cd8ad8"}
//
// (on one line). [Secret] keeps a value such as a password or token out of the
// logs.
//
// # Debug lines kept until they matter
//
// A [Buffer] holds each invocation's Debug lines (and Info lines with
// [BufferSettings].Info) in memory and writes them only if the
// invocation logs an error, panics, fails, answers 5xx or nears its deadline
// (a timeout never ends the invocation); otherwise it drops them when the
// invocation ends. It is an observer of the app's invocations
// and makes the logger they log with:
//
//	logs := logging.NewBuffer(os.Stdout, logging.BufferSettings{})
//	a := app.New(app.WithLogger(logs.Logger()), app.WithObserver(logs))
//
// Each invocation holds up to [BufferSettings].MaxBytes (64 KiB by default);
// a line says how many more were dropped. A fraction of the invocations,
// [BufferSettings].SampleRate or the environment variable
// FUNCIFY_LOG_SAMPLE_RATE, logs at Debug in full instead. A line is
// formatted only if it is written, so that holding and dropping it costs a
// fraction of writing it; the held lines of an invocation are written in one
// write.
//
// Handlers and loggers from this package are safe for concurrent use, as
// several invocations may run at once in one process.
package logging
