// Command coldstart measures the cold start of Lambda functions written in
// Go: the time from the start of the function's process to its first
// GET /2018-06-01/runtime/invocation/next, the request a runtime makes once
// its init is done. It serves that request from a fake Runtime API of its own
// on a loopback port, records when it arrives and kills the process. (The
// Runtime Interface Emulator's "Init Duration" is not this figure and is
// wrong; see its issue #106.)
//
// Usage, from the bench directory:
//
//	go run ./coldstart [-runs 20] [-warmup 1] [-memory 128] [-tags lambda.norpc] [package ...]
//
// Each package is a main package that coldstart builds for Linux as Lambda
// would run it (CGO_ENABLED=0, -trimpath, -ldflags='-s -w', the given build
// tags) into a temporary directory. The default packages are ./coldstart/hello,
// a bare aws-lambda-go function, and github.com/funcify/funcify/examples/orders.
// Naming the same package twice measures the noise floor:
//
//	go run ./coldstart -runs 5 ./coldstart/hello ./coldstart/hello
//
// The binaries take turns run by run (ABAB...), so drift in the machine's load
// spreads over all of them, after -warmup untimed runs each. The function's
// environment is the one Lambda sets on provided.al2023 (see lambdaproc.Env),
// with fake credentials. coldstart prints each binary's size, and the median,
// minimum and 90th percentile of its cold starts in milliseconds, with each
// median's ratio to the first binary's median.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/funcify/funcify/bench/internal/lambdaproc"
	"github.com/funcify/funcify/bench/internal/stats"
)

// defaultPackages are measured when no package is named.
var defaultPackages = []string{"./coldstart/hello", "github.com/funcify/funcify/examples/orders"}

// runTimeout bounds one run; a function that takes longer is broken.
const runTimeout = 10 * time.Second

// function is a built binary and its cold starts.
type function struct {
	pkg     string
	bin     string
	size    int64
	samples []time.Duration
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("coldstart: ")
	runs := flag.Int("runs", 20, "timed runs per binary")
	warmup := flag.Int("warmup", 1, "untimed runs per binary before the timed ones")
	memory := flag.Int("memory", 128, "the function's memory in MB, as AWS_LAMBDA_FUNCTION_MEMORY_SIZE tells it")
	tags := flag.String("tags", "lambda.norpc", "build tags, comma-separated")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./coldstart [flags] [package ...]\n\n"+
			"Measures the cold start of Lambda function packages (default %v).\n"+
			"A package written PKG+IMPORT is PKG built with one more blank import of IMPORT.\n\n", defaultPackages)
		flag.PrintDefaults()
	}
	flag.Parse()
	if *runs < 1 || *warmup < 0 {
		log.Fatal("-runs must be at least 1 and -warmup at least 0")
	}
	pkgs := flag.Args()
	if len(pkgs) == 0 {
		pkgs = defaultPackages
	}

	dir, err := os.MkdirTemp("", "coldstart")
	if err != nil {
		log.Fatal(err)
	}
	err = run(os.Stdout, dir, pkgs, *tags, *runs, *warmup, *memory)
	os.RemoveAll(dir)
	if err != nil {
		log.Fatal(err)
	}
}

// run builds pkgs into dir, measures them and writes the report to w.
func run(w io.Writer, dir string, pkgs []string, tags string, runs, warmup, memory int) error {
	fns := make([]*function, len(pkgs))
	for i, pkg := range pkgs {
		bin, size, err := lambdaproc.Build(pkg, filepath.Join(dir, strconv.Itoa(i+1)), tags)
		if err != nil {
			return err
		}
		fns[i] = &function{pkg: pkg, bin: bin, size: size}
	}

	api, err := startRuntimeAPI(memory)
	if err != nil {
		return err
	}
	defer api.Close()
	for r := range warmup + runs {
		for _, fn := range fns {
			d, err := api.measure(fn.bin, runTimeout)
			if err != nil {
				return err
			}
			if r >= warmup {
				fn.samples = append(fn.samples, d)
			}
		}
	}
	report(w, fns, runs, warmup, memory)
	return nil
}

func report(w io.Writer, fns []*function, runs, warmup, memory int) {
	fmt.Fprintf(w, "cold start: process start to first %s\n", nextPath)
	fmt.Fprintf(w, "%d timed runs per binary after %d warm-up, binaries alternating; %d MB; %s/%s, %d CPUs, %s\n\n",
		runs, warmup, memory, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tpackage\tsize MB\tmedian ms\tmin ms\tp90 ms\tmedian ratio\t")
	base := stats.Median(fns[0].samples)
	for i, fn := range fns {
		s := stats.Summarize(fn.samples)
		fmt.Fprintf(tw, "%d\t%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2fx\t\n",
			i+1, fn.pkg, float64(fn.size)/1e6, millis(s.Median), millis(s.Min), millis(s.P90),
			float64(s.Median)/float64(base))
	}
	tw.Flush()
}

func millis(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}
