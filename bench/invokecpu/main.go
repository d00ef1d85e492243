// Command invokecpu measures what an invocation costs a warm Lambda function
// written in Go: the CPU time of the whole process (user and system, every
// thread) and the wall time per invocation, over thousands of invocations
// served by a fake Runtime API of its own on a loopback port.
//
// Usage, from the bench directory:
//
//	go run ./invokecpu [-invocations 5000] [-warmup 500] [-rounds 5] [-events hello] [function ...]
//
// A function is a main package, written PKG or PKG@KEY=VALUE@KEY=VALUE...
// for a process with more environment, which invokecpu builds for Linux as
// Lambda would run it (CGO_ENABLED=0, -trimpath, -ldflags='-s -w', the
// -tags build tags) into a temporary directory. Each named function is
// measured with each event that -events names; a row of the report is a
// (function, event) pair. The events:
//
//	hello  the payload {}; the function must answer "ok"
//	v1     an API Gateway REST API event for GET /orders/{n}, n the
//	       invocation's number in its process, so that no two invocations
//	       get the same bytes (testdata/rest_v1.json, which asks for order
//	       42); it must answer 404, Content-Type application/json and
//	       {"error":"order not found","code":404,"step":"handler","ctx":{}},
//	       as examples/orders does
//	v2     the same for an HTTP API event (testdata/http_v2.json)
//
// With no function named, the rows are: aws-lambda-go's hello
// (./invokecpu/hello), funcify's loop alone (./invokecpu/runtimeapihello)
// and funcify's (./invokecpu/funcifyhello, also with logs off and with
// FUNCIFY_RUNTIME=aws-lambda-go) with hello; a bare aws-lambda-go orders
// function (./invokecpu/bareorders, with BAREORDERS_API=rest for v1 and
// http for v2: a typed handler per API) and examples/orders, each with v1
// and v2.
//
// Each round starts one process per row, the rows taking turns (ABCD ABCD
// ...) so that drift in the machine's load spreads over all of them. A
// process gets the environment Lambda gives on provided.al2023 and serves
// -warmup invocations; then invokecpu reads its CPU clocks, serves
// -invocations more, reads them again and kills it. Every response is
// checked, each against its own invocation (see event): a function error or
// a wrong answer fails the run.
//
// The report gives, per row, the median over rounds of: CPU time per
// invocation (the process's scheduler clock, to the nanosecond, every
// thread, the exited ones included), split into user and system time in
// the proportion the kernel's tick-based accounting (utime and stime in
// /proc/<pid>/stat) gives; and wall time per invocation, the median over a
// process's invocations of the time from answering its next request to
// receiving its response. Ratios are to the first row with the same event.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/funcify/funcify/bench/internal/lambdaproc"
	"github.com/funcify/funcify/bench/internal/stats"
)

// The measured functions of the default rows.
const (
	helloPkg           = "github.com/funcify/funcify/bench/invokecpu/hello"
	funcifyHelloPkg    = "github.com/funcify/funcify/bench/invokecpu/funcifyhello"
	runtimeapiHelloPkg = "github.com/funcify/funcify/bench/invokecpu/runtimeapihello"
	bareOrdersPkg      = "github.com/funcify/funcify/bench/invokecpu/bareorders"
	ordersPkg          = "github.com/funcify/funcify/examples/orders"
)

// defaultRows are measured when no function is named.
var defaultRows = []rowSpec{
	{label: "aws-lambda-go hello", function: helloPkg, event: "hello"},
	{label: "runtimeapi hello (the loop alone)", function: runtimeapiHelloPkg, event: "hello"},
	{label: "funcify hello", function: funcifyHelloPkg, event: "hello"},
	{label: "funcify hello, logs off", function: funcifyHelloPkg + "@AWS_LAMBDA_LOG_LEVEL=WARN", event: "hello"},
	{label: "funcify hello (FUNCIFY_RUNTIME=aws-lambda-go)", function: funcifyHelloPkg + "@FUNCIFY_RUNTIME=aws-lambda-go", event: "hello"},
	{label: "bare aws-lambda-go orders", function: bareOrdersPkg + "@BAREORDERS_API=rest", event: "v1"},
	{label: "examples/orders", function: ordersPkg, event: "v1"},
	{label: "bare aws-lambda-go orders", function: bareOrdersPkg + "@BAREORDERS_API=http", event: "v2"},
	{label: "examples/orders", function: ordersPkg, event: "v2"},
}

// rowSpec names a row: a function, as the command line writes it, and an
// event.
type rowSpec struct {
	label    string // as the report names the function
	function string // PKG[@KEY=VALUE...]
	event    string
}

// config is what a run measures and how.
type config struct {
	rows        []rowSpec
	dataDir     string // the bench module's testdata directory
	tags        string // build tags, comma-separated
	invocations int    // measured per process
	warmup      int    // served per process before the measured ones
	rounds      int
	memory      int // MB, as AWS_LAMBDA_FUNCTION_MEMORY_SIZE says
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("invokecpu: ")
	var cfg config
	flag.IntVar(&cfg.invocations, "invocations", 5000, "measured invocations per process")
	flag.IntVar(&cfg.warmup, "warmup", 500, "invocations per process before the measured ones")
	flag.IntVar(&cfg.rounds, "rounds", 5, "rounds: processes per row")
	flag.IntVar(&cfg.memory, "memory", 128, "the function's memory in MB, as AWS_LAMBDA_FUNCTION_MEMORY_SIZE tells it")
	flag.StringVar(&cfg.tags, "tags", "lambda.norpc", "build tags, comma-separated")
	events := flag.String("events", "hello", "comma-separated events for the functions named: "+strings.Join(eventNames, ", "))
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./invokecpu [flags] [PKG[@KEY=VALUE...] ...]\n\n"+
			"Measures CPU and wall time per invocation of Lambda function packages\n"+
			"(default: aws-lambda-go and funcify hello, bare aws-lambda-go orders and examples/orders).\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if cfg.invocations < 1 || cfg.warmup < 0 || cfg.rounds < 1 {
		log.Fatal("-invocations and -rounds must be at least 1, -warmup at least 0")
	}
	cfg.rows = defaultRows
	if flag.NArg() > 0 {
		cfg.rows = nil
		for _, fn := range flag.Args() {
			for ev := range strings.SplitSeq(*events, ",") {
				cfg.rows = append(cfg.rows, rowSpec{label: fn, function: fn, event: strings.TrimSpace(ev)})
			}
		}
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/funcify/funcify/bench").Output()
	if err != nil {
		log.Fatalf("finding the bench module (run from the bench directory): %v", err)
	}
	cfg.dataDir = filepath.Join(strings.TrimSpace(string(out)), "testdata")

	dir, err := os.MkdirTemp("", "invokecpu")
	if err != nil {
		log.Fatal(err)
	}
	err = run(os.Stdout, os.Stderr, dir, cfg)
	os.RemoveAll(dir)
	if err != nil {
		log.Fatal(err)
	}
}

// row is a function measured with an event, and its samples, one a round.
type row struct {
	rowSpec
	pkg     string
	env     []string // KEY=VALUE, added to Lambda's
	ev      *event
	bin     string
	size    int64
	samples []sample
}

// sample is what one process measured, per invocation.
type sample struct {
	cpu       time.Duration // user and system
	user, sys time.Duration // cpu split; zero both if no tick fell in the measurement
	wall      time.Duration // median over the process's invocations
}

// run builds the rows' functions into dir, measures them and writes the
// report to w, and a line per round to status.
func run(w, status io.Writer, dir string, cfg config) error {
	rows, err := prepare(dir, cfg)
	if err != nil {
		return err
	}
	for r := range cfg.rounds {
		fmt.Fprintf(status, "round %d of %d\n", r+1, cfg.rounds)
		for _, rw := range rows {
			s, err := measure(rw, cfg)
			if err != nil {
				return fmt.Errorf("%s, event %s: %w", rw.label, rw.ev.name, err)
			}
			rw.samples = append(rw.samples, s)
		}
	}
	report(w, rows, cfg)
	return nil
}

// prepare parses the rows' functions, loads their events and builds each
// package once.
func prepare(dir string, cfg config) ([]*row, error) {
	events := make(map[string]*event)
	type binary struct {
		path string
		size int64
	}
	bins := make(map[string]binary)
	var rows []*row
	for _, spec := range cfg.rows {
		rw := &row{rowSpec: spec}
		parts := strings.Split(spec.function, "@")
		rw.pkg, rw.env = parts[0], parts[1:]
		for _, kv := range rw.env {
			if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
				return nil, fmt.Errorf("%s: %q is not KEY=VALUE", spec.function, kv)
			}
		}
		if rw.ev = events[spec.event]; rw.ev == nil {
			ev, err := loadEvent(cfg.dataDir, spec.event)
			if err != nil {
				return nil, err
			}
			events[spec.event], rw.ev = ev, ev
		}
		b, ok := bins[rw.pkg]
		if !ok {
			var err error
			b.path, b.size, err = lambdaproc.Build(rw.pkg, filepath.Join(dir, strconv.Itoa(len(bins)+1)), cfg.tags)
			if err != nil {
				return nil, err
			}
			bins[rw.pkg] = b
		}
		rw.bin, rw.size = b.path, b.size
		rows = append(rows, rw)
	}
	return rows, nil
}

// phaseTimeout bounds how long a process may take for n invocations: a
// function slower than that is broken.
func phaseTimeout(n int) time.Duration {
	return 30*time.Second + time.Duration(n)*10*time.Millisecond
}

// measure starts one process of rw's function, serves it cfg.warmup
// invocations, then measures cfg.invocations more, and kills it.
func measure(rw *row, cfg config) (sample, error) {
	api, err := startRuntimeAPI(rw.ev)
	if err != nil {
		return sample{}, err
	}
	defer api.Close()
	env := append(lambdaproc.Env(api.addr, "invokecpu", cfg.memory, filepath.Dir(rw.bin)), rw.env...)
	p, err := lambdaproc.Start(rw.bin, env)
	if err != nil {
		return sample{}, err
	}
	s, err := serve(api, p, cfg.warmup, cfg.invocations)
	if kerr := p.Kill(); kerr != nil {
		err = errors.Join(err, kerr)
	}
	if err != nil {
		out := p.Output()
		if len(out) == 0 {
			return sample{}, fmt.Errorf("%w\nthe function wrote no output", err)
		}
		return sample{}, fmt.Errorf("%w\nthe function's output ends with:\n%s", err, out)
	}
	return s, nil
}

// serve serves the process p warmup invocations, then n measured ones, and
// returns what they cost per invocation.
func serve(api *runtimeAPI, p *lambdaproc.Process, warmup, n int) (sample, error) {
	api.grant(warmup)
	if err := api.await(p, phaseTimeout(warmup)); err != nil {
		return sample{}, err
	}
	// p waits for its next invocation: its CPU clocks stand still.
	before, err := readCPU(p.Pid())
	if err != nil {
		return sample{}, err
	}
	api.startTiming(n)
	api.grant(n)
	if err := api.await(p, phaseTimeout(n)); err != nil {
		return sample{}, err
	}
	after, err := readCPU(p.Pid())
	if err != nil {
		return sample{}, err
	}
	walls := api.wallTimes()
	if len(walls) != n {
		return sample{}, fmt.Errorf("timed %d invocations, want %d", len(walls), n)
	}
	return perInvocation(before, after, n, stats.Median(walls)), nil
}

// perInvocation returns the CPU time from before to after, divided over n
// invocations, split into user and system time in the proportion of the
// tick-based accounting, with the wall time.
func perInvocation(before, after cpuTime, n int, wall time.Duration) sample {
	s := sample{cpu: (after.total - before.total) / time.Duration(n), wall: wall}
	if prof := after.prof - before.prof; prof > 0 {
		// Clamped: the clocks are read one after another.
		share := min(max(float64(after.user-before.user)/float64(prof), 0), 1)
		s.user = time.Duration(float64(s.cpu) * share)
		s.sys = s.cpu - s.user
	}
	return s
}

func report(w io.Writer, rows []*row, cfg config) {
	fmt.Fprintf(w, "invokecpu: CPU and wall time per invocation of a warm function, against a fake Runtime API\n")
	fmt.Fprintf(w, "%d rounds, rows interleaved; per process %d warm-up invocations, then %d measured; %d MB; %s/%s, %d CPUs, %s\n",
		cfg.rounds, cfg.warmup, cfg.invocations, cfg.memory, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	fmt.Fprintf(w, "cpu: the process's CPU clock (every thread), split into user and sys as the kernel's tick-based accounting splits it\n")
	fmt.Fprintf(w, "wall: from answering next to receiving the response, median over a process's invocations\n")
	fmt.Fprintf(w, "figures: medians over rounds, in µs per invocation; ratios to the first row with the same event\n\n")

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tfunction\tevent\tsize MB\tcpu µs\tcpu min-max\tuser µs\tsys µs\twall µs\tcpu ratio\twall ratio")
	base := make(map[string]summary)
	for i, rw := range rows {
		s := summarize(rw.samples)
		b, ok := base[rw.ev.name]
		if !ok {
			base[rw.ev.name], b = s, s
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%.2f\t%.1f\t%.1f-%.1f\t%s\t%s\t%.1f\t%.2fx\t%.2fx\n",
			i+1, rw.label, rw.ev.name, float64(rw.size)/1e6,
			micros(s.cpu.Median), micros(s.cpu.Min), micros(s.cpu.Max),
			split(s.user, s.split), split(s.sys, s.split), micros(s.wall),
			float64(s.cpu.Median)/float64(b.cpu.Median), float64(s.wall)/float64(b.wall))
	}
	tw.Flush()
}

// summary is a row's samples over rounds.
type summary struct {
	cpu       stats.Summary
	user, sys time.Duration // medians over the rounds whose CPU time was split
	split     bool          // whether any round's was
	wall      time.Duration // median
}

func summarize(samples []sample) summary {
	var cpu, user, sys, wall []time.Duration
	for _, s := range samples {
		cpu = append(cpu, s.cpu)
		wall = append(wall, s.wall)
		if s.user != 0 || s.sys != 0 {
			user = append(user, s.user)
			sys = append(sys, s.sys)
		}
	}
	sum := summary{cpu: stats.Summarize(cpu), wall: stats.Median(wall), split: len(user) > 0}
	if sum.split {
		sum.user, sum.sys = stats.Median(user), stats.Median(sys)
	}
	return sum
}

func split(d time.Duration, ok bool) string {
	if !ok {
		return "-"
	}
	return strconv.FormatFloat(micros(d), 'f', 1, 64)
}

func micros(d time.Duration) float64 {
	return float64(d) / float64(time.Microsecond)
}
