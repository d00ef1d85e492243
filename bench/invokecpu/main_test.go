package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRun builds aws-lambda-go's and funcify's hello, the bare orders
// function and examples/orders, and measures a few invocations of each
// once, so the tool keeps working as its dependencies change: each function
// answers every order id right.
func TestRun(t *testing.T) {
	var out, status bytes.Buffer
	cfg := config{
		rows: []rowSpec{
			{label: "aws-lambda-go hello", function: "./hello", event: "hello"},
			{label: "funcify hello", function: "./funcifyhello@FUNCIFY_RUNTIME=funcify", event: "hello"},
			{label: "bare orders", function: "./bareorders@BAREORDERS_API=rest", event: "v1"},
			{label: "examples/orders", function: ordersPkg, event: "v1"},
			{label: "bare orders", function: "./bareorders@BAREORDERS_API=http", event: "v2"},
			{label: "examples/orders", function: ordersPkg, event: "v2"},
		},
		dataDir:     "../testdata",
		tags:        "lambda.norpc",
		invocations: 20,
		warmup:      5,
		rounds:      1,
		memory:      128,
	}
	if err := run(&out, &status, t.TempDir(), cfg); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"aws-lambda-go hello", "funcify hello", "bare orders", "examples/orders", "1.00x"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	t.Log("\n" + out.String())
}

// TestMeasureWrongFunction checks that a function that answers wrong, or
// fails, fails the measurement, whose error carries the function's output.
func TestMeasureWrongFunction(t *testing.T) {
	v1, err := loadEvent("../testdata", "v1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		pkg     string
		ev      *event
		wantErr []string
	}{
		{
			// aws-lambda-go's hello answers "ok" to an HTTP event.
			name:    "wrong answer",
			pkg:     "./hello",
			ev:      v1,
			wantErr: []string{"the first response is wrong", `"ok"`},
		},
		{
			// [] is a direct invocation that does not decode into the
			// route's struct{}: funcify reports a function error.
			name:    "function error",
			pkg:     "./funcifyhello",
			ev:      fixedEvent("array", "[]", `"ok"`),
			wantErr: []string{"function error", "the function's output ends with", "invocation end"},
		},
		{
			// The environment reaches the process: funcify fails its
			// init on a runtime it does not know.
			name:    "init error",
			pkg:     "./funcifyhello@FUNCIFY_RUNTIME=bogus",
			ev:      fixedEvent("hello", "{}", `"ok"`),
			wantErr: []string{"init error", "FUNCIFY_RUNTIME"},
		},
		{
			// The HTTP API's handler decodes a REST API event into
			// nothing it routes.
			name:    "bare orders for the other API",
			pkg:     "./bareorders@BAREORDERS_API=http",
			ev:      v1,
			wantErr: []string{"the first response is wrong", `\"not found\"`},
		},
		{
			name:    "bare orders with no API",
			pkg:     "./bareorders",
			ev:      v1,
			wantErr: []string{"the function exited", "BAREORDERS_API"},
		},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := prepare(filepath.Join(dir, tt.name), config{
				rows: []rowSpec{{label: tt.name, function: tt.pkg, event: "hello"}},
				tags: "lambda.norpc",
			})
			if err != nil {
				t.Fatal(err)
			}
			rows[0].ev = tt.ev
			_, err = measure(rows[0], config{invocations: 10, warmup: 2, memory: 128})
			if err == nil {
				t.Fatalf("measure succeeded, want an error")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("measure = %v\nwant an error with %q", err, want)
				}
			}
		})
	}
}

// fixedEvent returns an event that sends payload to every invocation and
// wants the JSON answer want.
func fixedEvent(name, payload, want string) *event {
	return &event{
		name:    name,
		payload: func(int) []byte { return []byte(payload) },
		check:   ignoreN(checkJSON(want)),
	}
}

func TestPerInvocation(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name          string
		before, after cpuTime
		n             int
		want          sample
	}{
		{
			name:   "split by ticks",
			before: cpuTime{total: 10 * ms, user: 4 * ms, prof: 8 * ms},
			after:  cpuTime{total: 110 * ms, user: 64 * ms, prof: 88 * ms},
			n:      100,
			// 100 ms over 100 invocations; 60 of 80 ms of ticks were user.
			want: sample{cpu: ms, user: 750 * time.Microsecond, sys: 250 * time.Microsecond, wall: 2 * ms},
		},
		{
			name:   "no tick: no split",
			before: cpuTime{total: 10 * ms, user: 4 * ms, prof: 8 * ms},
			after:  cpuTime{total: 11 * ms, user: 4 * ms, prof: 8 * ms},
			n:      4,
			want:   sample{cpu: 250 * time.Microsecond, wall: 2 * ms},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := perInvocation(tt.before, tt.after, tt.n, 2*ms); got != tt.want {
				t.Errorf("perInvocation = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPrepareBadEnv(t *testing.T) {
	_, err := prepare(t.TempDir(), config{rows: []rowSpec{{function: "./hello@NOVALUE", event: "hello"}}})
	if err == nil || !strings.Contains(err.Error(), "is not KEY=VALUE") {
		t.Errorf("prepare(./hello@NOVALUE) = %v, want an error saying it is not KEY=VALUE", err)
	}
}
