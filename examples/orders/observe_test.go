package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a bytes.Buffer safe for the app's concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(l.b.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("a line that is not JSON: %s", sc.Bytes())
		}
		out = append(out, m)
	}
	return out
}

// metricSum returns the sum of the values of metric name over the EMF
// documents among lines, checking each names it in its _aws directive
// with unit Count in the function's namespace.
func metricSum(t *testing.T, lines []map[string]any, name string) float64 {
	t.Helper()
	sum := 0.0
	for _, l := range lines {
		aws, ok := l["_aws"].(map[string]any)
		if !ok {
			continue
		}
		v, ok := l[name]
		if !ok {
			continue
		}
		directive := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
		if directive["Namespace"] != metricsNamespace {
			t.Errorf("namespace %v", directive["Namespace"])
		}
		declared := false
		for _, m := range directive["Metrics"].([]any) {
			m := m.(map[string]any)
			if m["Name"] == name && m["Unit"] == "Count" {
				declared = true
			}
		}
		if !declared {
			t.Errorf("%s is not declared a Count in %v", name, directive)
		}
		switch v := v.(type) {
		case float64:
			sum += v
		case []any:
			for _, x := range v {
				sum += x.(float64)
			}
		}
	}
	return sum
}

// TestObservability: the function writes OrdersCreated for each order
// created and OrderEventsFailed for each failed message, as EMF documents
// on its output, with the service dimension; an invocation that creates no
// order and fails nothing writes no metric; Debug lines are held, dropped
// for an invocation that went well and written for one that logged errors.
func TestObservability(t *testing.T) {
	t.Setenv("POWERTOOLS_METRICS_NAMESPACE", "")
	t.Setenv("POWERTOOLS_SERVICE_NAME", "")
	var out lockedBuffer
	obs, err := newObservers(&out)
	if err != nil {
		t.Fatal(err)
	}
	s := newStore()
	a := newApp(s, obs...)
	post := postViaLambda(a)
	for range 3 {
		if r, err := post(`{"item":"book","quantity":1}`, nil); err != nil || r.status != 201 {
			t.Fatalf("POST: %+v, %v", r, err)
		}
	}
	if got := metricSum(t, out.lines(t), "OrdersCreated"); got != 3 {
		t.Errorf("OrdersCreated %v, want 3", got)
	}
	one := s.add("pen", 1)
	invokeOrders(t, a, sqsBatch(ordersQueueARN,
		`{"id":"`+one.ID+`","status":"shipped"}`,
		`{"id":"nope","status":"shipped"}`,
		`{"id":`,
	))
	lines := out.lines(t)
	if got := metricSum(t, lines, "OrderEventsFailed"); got != 2 {
		t.Errorf("OrderEventsFailed %v, want 2", got)
	}
	emf := 0
	for _, l := range lines {
		if _, ok := l["_aws"]; ok {
			emf++
			if l["service"] != "orders" {
				t.Errorf("an EMF document without service=orders: %v", l)
			}
		}
		// The batch with failed messages logged errors: its held Debug
		// lines were written; those of the POSTs, which went well, not.
		if l["level"] == "DEBUG" && l["event"] != "sqs" {
			t.Errorf("a Debug line of an invocation that went well was written: %v", l)
		}
	}
	// GET /health adds no metric: no document.
	before := emf
	invokeOrders(t, a, v2Event(exchange{"GET", "/health", "", nil}))
	after := 0
	for _, l := range out.lines(t) {
		if _, ok := l["_aws"]; ok {
			after++
		}
	}
	if after != before {
		t.Errorf("GET /health wrote %d EMF documents", after-before)
	}
	if !strings.Contains(out.b.String(), `"level":"DEBUG","message":"invocation start","event":"sqs"`) {
		t.Errorf("the failing batch's held Debug line was not written:\n%s", out.b.String())
	}
}
