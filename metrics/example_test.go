package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/funcify/funcify/metrics"
	"github.com/funcify/funcify/observe"
)

// run stands for funcify's app, which calls an observer's Begin and End
// around every invocation (app.WithObserver); here at a fixed time, so
// that the output is stable.
func run(m *metrics.Emitter, handler func(ctx context.Context)) {
	inv := &observe.Invocation{Start: time.UnixMilli(1767268800123)}
	ctx := m.Begin(context.Background(), inv)
	handler(ctx)
	m.End(ctx, inv)
}

func ExampleNew() {
	// In a function: metrics.New(metrics.WithNamespace("Shop")), with
	// POWERTOOLS_SERVICE_NAME set, and app.New(app.WithObserver(m)).
	m, err := metrics.New(metrics.WithNamespace("Shop"), metrics.WithService("orders"),
		metrics.WithDimension("environment", "prod"), metrics.WithWriter(os.Stdout))
	if err != nil {
		fmt.Println(err)
		return
	}
	run(m, func(ctx context.Context) {
		metrics.Add(ctx, "OrdersCreated", 1, metrics.Count)
	})
	// Output:
	// {"_aws":{"Timestamp":1767268800123,"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[["service","environment"]],"Metrics":[{"Name":"OrdersCreated","Unit":"Count"}]}]},"service":"orders","environment":"prod","OrdersCreated":1}
}

func ExampleNew_noNamespace() {
	os.Unsetenv(metrics.NamespaceEnv)
	_, err := metrics.New()
	fmt.Println(err)
	// Output: metrics: no namespace: give WithNamespace or set POWERTOOLS_METRICS_NAMESPACE
}

func ExampleAdd() {
	m, _ := metrics.New(metrics.WithNamespace("Shop"), metrics.WithService("orders"), metrics.WithWriter(os.Stdout))
	run(m, func(ctx context.Context) {
		metrics.Add(ctx, "OrdersCreated", 1, metrics.Count)
		// A metric's values within an invocation go in one array.
		metrics.Add(ctx, "Latency", 12.5, metrics.Milliseconds, metrics.High)
		metrics.Add(ctx, "Latency", 8, metrics.Milliseconds, metrics.High)

		err := metrics.Add(ctx, "Latency", 1, metrics.Seconds)
		fmt.Println(errors.Is(err, metrics.ErrInvalid), err)
	})
	err := metrics.Add(context.Background(), "OrdersCreated", 1, metrics.Count)
	fmt.Println(err)
	// Output:
	// true metrics: metric "Latency" added with unit "Seconds" and resolution 60, earlier with "Milliseconds" and 1
	// {"_aws":{"Timestamp":1767268800123,"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[["service"]],"Metrics":[{"Name":"OrdersCreated","Unit":"Count"},{"Name":"Latency","Unit":"Milliseconds","StorageResolution":1}]}]},"service":"orders","OrdersCreated":1,"Latency":[12.5,8]}
	// metrics: no metrics in the context (not within an invocation that an Emitter observes)
}

func ExampleAddDimension() {
	m, _ := metrics.New(metrics.WithNamespace("Shop"), metrics.WithService("orders"), metrics.WithWriter(os.Stdout))
	run(m, func(ctx context.Context) {
		metrics.AddDimension(ctx, "tenant", "acme")
		metrics.Add(ctx, "OrdersCreated", 1, metrics.Count)
	})
	// Output:
	// {"_aws":{"Timestamp":1767268800123,"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[["service","tenant"]],"Metrics":[{"Name":"OrdersCreated","Unit":"Count"}]}]},"service":"orders","tenant":"acme","OrdersCreated":1}
}

func ExampleAddMetadata() {
	m, _ := metrics.New(metrics.WithNamespace("Shop"), metrics.WithService("orders"), metrics.WithWriter(os.Stdout))
	run(m, func(ctx context.Context) {
		metrics.AddMetadata(ctx, "order_id", "o-17")
		metrics.AddMetadata(ctx, "items", 3)
		metrics.Add(ctx, "OrdersCreated", 1, metrics.Count)
	})
	// Output:
	// {"_aws":{"Timestamp":1767268800123,"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[["service"]],"Metrics":[{"Name":"OrdersCreated","Unit":"Count"}]}]},"service":"orders","OrdersCreated":1,"order_id":"o-17","items":3}
}

func ExampleWithColdStart() {
	os.Setenv("AWS_LAMBDA_FUNCTION_NAME", "orders-fn") // Lambda sets it
	defer os.Unsetenv("AWS_LAMBDA_FUNCTION_NAME")
	m, _ := metrics.New(metrics.WithNamespace("Shop"), metrics.WithService("orders"), metrics.WithColdStart(), metrics.WithWriter(os.Stdout))
	inv := &observe.Invocation{Start: time.UnixMilli(1767268800123), ColdStart: true}
	ctx := m.Begin(context.Background(), inv)
	metrics.Add(ctx, "OrdersCreated", 1, metrics.Count)
	m.End(ctx, inv)
	// Output:
	// {"_aws":{"Timestamp":1767268800123,"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[["service","function_name"]],"Metrics":[{"Name":"ColdStart","Unit":"Count"}]}]},"service":"orders","function_name":"orders-fn","ColdStart":1}
	// {"_aws":{"Timestamp":1767268800123,"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[["service"]],"Metrics":[{"Name":"OrdersCreated","Unit":"Count"}]}]},"service":"orders","OrdersCreated":1}
}
