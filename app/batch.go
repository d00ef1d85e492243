package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/funcify/funcify/event"
)

// This file runs the records of a batch (SQS, Kinesis, DynamoDB Streams)
// one by one and answers with the records that failed, in the shape
// Lambda's partial batch responses take:
//
//	{"batchItemFailures":[{"itemIdentifier":"<message id or sequence number>"}]}
//
// Lambda reads that answer only when the event source mapping lists
// ReportBatchItemFailures in its FunctionResponseTypes. Without it, Lambda
// ignores the answer: a successful invocation deletes (SQS) or checkpoints
// past (streams) every record of the batch, the failed ones included.

// ErrBatchFailed is matched by the error of an invocation in which every
// record of the batch failed, when its route was registered
// [WithFailBatch].
var ErrBatchFailed = errors.New("app: every record of the batch failed")

// BatchOption configures a batch route: [HandleSQS], [HandleSQSJSON],
// [HandleKinesis], [HandleDynamoDBStream].
type BatchOption func(*batchOptions)

type batchOptions struct {
	concurrency int  // records of a standard queue handled at once, >= 1
	failBatch   bool // fail the invocation when every record failed
}

// WithConcurrency lets up to n records of a standard SQS queue's batch be
// handled at once, each in a goroutine of its own; the default, and any
// n < 1, is 1: one after the other. The handler must then be safe for
// concurrent use. Results stay per record. It has no effect on FIFO queues
// and streams, whose records are handled in order.
//
// Whatever n, a handler must honour its ctx: a batch answers shortly
// before the invocation's deadline without waiting for a handler still
// running, which runs on, its record reported failed. Such a handler then
// runs at the same time as the next invocation's handlers (a FIFO queue's
// order included), and one that never returns keeps its goroutine for the
// life of the process. The batch logs, at Warn, how many records were not
// done.
func WithConcurrency(n int) BatchOption {
	return func(o *batchOptions) { o.concurrency = max(n, 1) }
}

// WithFailBatch makes an invocation in which every record failed fail with
// an error matching [ErrBatchFailed] instead of answering with every record
// in batchItemFailures. "Every record failed" means each ran and returned
// an error or panicked (for a FIFO queue or a stream: the first one did,
// which stops the batch); records not done when the invocation's time ran
// out are no failure of a downstream, and the batch answers as usual.
//
// It is off by default because the two answers make Lambda redeliver the
// same records, but a failed invocation also counts as a function error in
// the Errors metric and alarms, is retried as a whole batch, and for
// streams splits the batch when BisectBatchOnFunctionError is on. Turn it
// on when you want a fully failing batch to show as a function error, for
// example to let the event source mapping's failure handling or an alarm
// on Errors react to a downstream that is down.
func WithFailBatch() BatchOption {
	return func(o *batchOptions) { o.failBatch = true }
}

func newBatchOptions(opts []BatchOption) batchOptions {
	o := batchOptions{concurrency: 1}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// batchOrder says how the records of a batch are handled.
type batchOrder int

const (
	// orderAny: standard SQS. Every record is handled, up to the
	// concurrency at once, and each failed record is reported.
	orderAny batchOrder = iota
	// orderFIFO: in order, stopping at the first failure, which is reported with
	// every later record: a FIFO queue must not deliver a group's later
	// messages before an earlier one, and Lambda redelivers what is
	// reported.
	orderFIFO
	// orderStream: in order, stopping at the first failure, which alone is
	// reported: Lambda rewinds the shard to the lowest reported sequence
	// number and sends every later record again.
	orderStream
)

// batch is one invocation's batch of n records.
type batch struct {
	a     *App
	kind  event.Kind
	order batchOrder
	opts  batchOptions
	n     int
	// id returns record i's item identifier: a message id or a sequence
	// number.
	id func(i int) string
	// run handles record i.
	run func(ctx context.Context, i int) error
}

// serve handles the batch's records and returns the invocation's answer.
//
// A record without an item identifier fails the invocation before any
// record runs: it could not be named in batchItemFailures, so Lambda could
// not redeliver it alone, and answering without it would delete or skip it.
// The failed invocation makes Lambda retry the whole batch instead.
func (b *batch) serve(ctx context.Context) ([]byte, error) {
	for i := range b.n {
		if b.id(i) == "" {
			return nil, errors.New("app: " + b.kind.String() + " record " + strconv.Itoa(i) +
				" has no item identifier: the batch cannot report it failed")
		}
	}
	rctx, cancel, grace := recordContext(ctx)
	defer cancel()
	res := &results{ok: make([]bool, b.n), done: make([]bool, b.n)}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		if b.order == orderAny {
			b.each(rctx, res)
		} else {
			b.inOrder(rctx, res)
		}
	}()
	select {
	case <-finished:
	case <-rctx.Done():
		// Give the handlers under way a moment to return, as those that
		// honour ctx do, then answer while Lambda still takes the answer:
		// a record not done by then is reported, whether its handler has
		// not started or has not returned (a handler that ignores ctx runs
		// on, and its message may be delivered again meanwhile).
		t := time.NewTimer(grace)
		select {
		case <-finished:
		case <-t.C:
		}
		t.Stop()
	}
	ok, done := res.close()
	if n := countFalse(done); n > 0 {
		b.a.logger().LogAttrs(ctx, slog.LevelWarn, "records not done: the invocation's time ran out",
			slog.String("event", b.kind.String()), slog.Int("records", n))
	}

	var failed []int // indexes of the reported records, in order
	all := false     // every record failed
	if b.order == orderAny {
		for i := range b.n {
			if !ok[i] {
				failed = append(failed, i)
			}
		}
		// Every record failed: each ran and failed (a record not done
		// for want of time is no failure of a downstream).
		all = b.n > 0 && countFalse(ok) == b.n && countFalse(done) == 0
	} else {
		k := 0
		for k < b.n && ok[k] {
			k++
		}
		switch {
		case k == b.n:
		case b.order == orderFIFO:
			for i := k; i < b.n; i++ {
				failed = append(failed, i)
			}
		default:
			failed = []int{k}
		}
		all = k == 0 && b.n > 0 && done[0]
	}
	if all && b.opts.failBatch && b.n > 0 {
		return nil, fmt.Errorf("%w (%s, %d records)", ErrBatchFailed, b.kind, b.n)
	}
	out := make([]byte, 0, 32+len(failed)*64)
	out = append(out, `{"batchItemFailures":[`...)
	for j, i := range failed {
		if j > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"itemIdentifier":`...)
		out = appendString(out, b.id(i))
		out = append(out, '}')
	}
	return append(out, "]}"...), nil
}

// answerReserve bounds the time a batch keeps, before its invocation's
// deadline, to answer: records run under a context that ends that much
// earlier, a tenth of the time left, at least 50 ms and at most 500 ms.
const (
	minAnswerReserve = 50 * time.Millisecond
	maxAnswerReserve = 500 * time.Millisecond
)

// recordContext returns the context the records of a batch run under: ctx,
// ending early enough before ctx's deadline for the batch to answer (see
// answerReserve). aws-lambda-go gives an invocation's context the
// function's own timeout as its deadline: an answer sent at that deadline
// is lost, and Lambda retries the whole batch, the records already handled
// included.
//
// grace is how long the batch waits, once that context has ended, for
// handlers under way to return: half the reserve, or, without a deadline
// (a cancelled ctx), noDeadlineGrace.
func recordContext(ctx context.Context) (rctx context.Context, cancel context.CancelFunc, grace time.Duration) {
	dl, ok := ctx.Deadline()
	if !ok {
		rctx, cancel = context.WithCancel(ctx)
		return rctx, cancel, noDeadlineGrace
	}
	reserve := min(max(time.Until(dl)/10, minAnswerReserve), maxAnswerReserve)
	rctx, cancel = context.WithDeadline(ctx, dl.Add(-reserve))
	return rctx, cancel, reserve / 2
}

// noDeadlineGrace is how long a batch whose ctx has no deadline waits for
// handlers under way once ctx is cancelled.
const noDeadlineGrace = time.Second

// results holds the outcome of each record of a batch. Handlers that have
// not returned when the batch answers may still report afterwards: close
// takes the outcomes then and later reports are dropped.
type results struct {
	mu     sync.Mutex // guards ok, done and closed
	ok     []bool
	done   []bool
	closed bool
}

func (r *results) set(i int, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.ok[i], r.done[i] = ok, true
	}
}

// close stops taking outcomes and returns them: ok[i] is true only for a
// record that succeeded, done[i] for one whose handler returned.
func (r *results) close() (ok, done []bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	return r.ok, r.done
}

func countFalse(v []bool) int {
	n := 0
	for _, b := range v {
		if !b {
			n++
		}
	}
	return n
}

// inOrder handles the records one after the other until one fails or ctx
// ends.
func (b *batch) inOrder(ctx context.Context, res *results) {
	for i := range b.n {
		if ctx.Err() != nil {
			return
		}
		ok := b.record(ctx, i)
		res.set(i, ok)
		if !ok {
			return
		}
	}
}

// each handles every record, up to the concurrency at once, until ctx
// ends.
func (b *batch) each(ctx context.Context, res *results) {
	if b.opts.concurrency <= 1 {
		for i := range b.n {
			if ctx.Err() != nil {
				return
			}
			res.set(i, b.record(ctx, i))
		}
		return
	}
	sem := make(chan struct{}, b.opts.concurrency)
	var wg sync.WaitGroup
	for i := range b.n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			res.set(i, b.record(ctx, i))
		}()
	}
	wg.Wait()
}

// record handles record i and reports whether it succeeded. An error or a
// panic fails this record only; it is logged with the record's item
// identifier, never its content (a panic's value and stack are logged as
// serveEvent logs them).
func (b *batch) record(ctx context.Context, i int) (ok bool) {
	log := b.a.logger()
	defer func() {
		if v := recover(); v != nil {
			log.LogAttrs(ctx, slog.LevelError, "record panic", slog.String("event", b.kind.String()),
				slog.String("item", b.id(i)), slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
			ok = false
		}
	}()
	err := b.run(ctx, i)
	if err == nil {
		return true
	}
	level, msg := slog.LevelError, "record failed"
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		// The invocation ran out of time or was cancelled: not the
		// record's fault, nor a downstream failure.
		level, msg = slog.LevelWarn, "record not done: invocation context ended"
	}
	log.LogAttrs(ctx, level, msg, slog.String("event", b.kind.String()),
		slog.String("item", b.id(i)), slog.String("error", err.Error()))
	return false
}
