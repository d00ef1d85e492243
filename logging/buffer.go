package logging

import (
	"context"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/funcify/funcify/observe"
)

// TimeoutMargin is how long before an invocation's deadline a [Buffer]
// writes the lines the invocation holds.
const TimeoutMargin = 100 * time.Millisecond

// DefaultBufferBytes is the number of bytes of lines a [Buffer] holds per
// invocation when [BufferSettings] leaves MaxBytes zero.
const DefaultBufferBytes = 64 << 10

// SampleRateEnv is the environment variable that [NewBuffer] reads the
// fraction of invocations to log at Debug in full from, when
// [BufferSettings] leaves SampleRate zero: a number from 0 to 1, such as
// 0.01 for one invocation in a hundred.
const SampleRateEnv = "FUNCIFY_LOG_SAMPLE_RATE"

// BufferSettings configures a [Buffer]. The zero value holds Debug lines,
// up to DefaultBufferBytes per invocation, samples invocations at the rate
// that SampleRateEnv sets (none if it is unset) and writes JSON as [New]
// does.
type BufferSettings struct {
	// MaxBytes is how many bytes of text of lines an invocation holds at
	// most: the lines that do not fit, the first and all later ones, are
	// dropped, and counted in one line written after the held ones. Zero
	// means DefaultBufferBytes; a negative value holds nothing, for
	// sampling alone. A line not yet formatted is counted by what its
	// text has at least (message, keys and strings) and takes more memory
	// than its text will: about twice for a usual line.
	MaxBytes int

	// Info holds Info lines too (levels from slog.LevelDebug up to, not
	// including, slog.LevelWarn), rather than Debug lines only (from
	// slog.LevelDebug up to slog.LevelInfo). TRACE lines are never held.
	Info bool

	// SampleRate is the fraction of invocations, from 0 to 1, that log at
	// Debug in full: their lines from slog.LevelDebug up are written as
	// they come, none held. Zero means the value of SampleRateEnv, or no
	// sampling when that is unset or not a number from 0 to 1. The held
	// levels are held whatever the logger's level: to write every Debug
	// line, as level DEBUG does without a Buffer, set SampleRate to 1.
	SampleRate float64

	// Handler makes the handler that formats and writes the lines to the
	// writer it is given. It is called twice by NewBuffer: once for the
	// lines written as they come, once for those held, which must thus
	// look alike; the handler must write each record with one call to
	// Write, as slog's handlers do. Nil means JSON as [New] writes it,
	// at the level of [LevelFromEnv].
	Handler func(w io.Writer) slog.Handler
}

// Buffer keeps the Debug lines of an invocation until they matter. It is an
// [observe.Observer] (give it to app.WithObserver) and its [Buffer.Logger]
// is the logger that the invocations log with (give it to app.WithLogger):
//
//	logs := logging.NewBuffer(os.Stdout, logging.BufferSettings{})
//	a := app.New(app.WithLogger(logs.Logger()), app.WithObserver(logs))
//
// For a context of an invocation it observes, the logger holds the lines at
// the held levels (see [BufferSettings]) in memory, whatever the logger's
// own level: most as records, formatted only if they are written, which
// makes holding and dropping a line cost a fraction of writing it. When the invocation logs at slog.LevelError or above,
// the lines held so far and that line are written in one write, in the
// order they were logged, and the rest of the invocation's lines from
// slog.LevelDebug up are written as they come. When the invocation ends
// having failed (its Err is set, [observe.ErrPanicked] included, or it
// answered a status of 500 or more), the held lines are written then, in
// one write; otherwise they are dropped. No line is held past the end of
// its invocation. A held line, once written, is what the line would have
// been if written as it came, with the time it was logged.
//
// An invocation that times out is never told to end: Lambda stops the
// process. So when an invocation's context has a deadline, the lines it
// holds are written [TimeoutMargin] before it, and its later lines as they
// come; an invocation that begins closer to its deadline than that holds
// nothing.
//
// Lines logged with a context of no invocation (at init, or in the
// background), and lines at the levels not held, are written as the
// logger's level says, as by a logger of [New].
//
// The state of an invocation is in its context, so that invocations running
// at once each hold their own lines. Formatting a held line takes a lock
// that the Buffer's invocations share, and a logger derived with With adds
// its attributes to two handlers, one for each way a line goes. A Buffer and
// its loggers are safe for concurrent use.
type Buffer struct {
	maxBytes  int
	holdBelow slog.Level // lines from slog.LevelDebug up to holdBelow are held
	rate      float64
	rand      func() float64
	// afterFunc calls f in its own goroutine after d, unless the function
	// it returns is called first (time.AfterFunc).
	afterFunc func(d time.Duration, f func()) (stop func() bool)

	out lockedWriter

	capMu   sync.Mutex // guards capture and formatting into it
	capture capture

	root *Handler
}

// NewBuffer returns a Buffer whose loggers write to w. It panics if w is
// nil, if s.SampleRate is not from 0 to 1, or if s.Handler returns nil.
func NewBuffer(w io.Writer, s BufferSettings) *Buffer {
	return newBuffer(w, s, os.Getenv, rand.Float64)
}

// newBuffer is NewBuffer with the environment read through getenv and the
// sampling drawn from random, a number in [0, 1).
func newBuffer(w io.Writer, s BufferSettings, getenv func(string) string, random func() float64) *Buffer {
	if w == nil {
		panic("logging: NewBuffer called with a nil writer")
	}
	if !(s.SampleRate >= 0 && s.SampleRate <= 1) {
		panic("logging: BufferSettings.SampleRate is not from 0 to 1")
	}
	b := &Buffer{maxBytes: s.MaxBytes, holdBelow: slog.LevelInfo, rate: s.SampleRate, rand: random,
		afterFunc: func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }}
	switch {
	case b.maxBytes == 0:
		b.maxBytes = DefaultBufferBytes
	case b.maxBytes < 0:
		b.holdBelow = slog.LevelDebug // nothing
	}
	if s.Info && b.maxBytes > 0 {
		b.holdBelow = slog.LevelWarn
	}
	if b.rate == 0 {
		b.rate = sampleRateFrom(getenv)
	}
	b.out.w = w
	mk := s.Handler
	if mk == nil {
		opts := &slog.HandlerOptions{Level: levelFrom(getenv), ReplaceAttr: ReplaceAttr}
		mk = func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, opts) }
	}
	next, hold := mk(&b.out), mk(&b.capture)
	if next == nil || hold == nil {
		panic("logging: BufferSettings.Handler returned nil")
	}
	b.root = newHandler(next, lambdacontext.FunctionName)
	b.root.buf, b.root.hold = b, hold
	return b
}

// sampleRateFrom returns the rate SampleRateEnv sets in getenv, or 0.
func sampleRateFrom(getenv func(string) string) float64 {
	v, err := strconv.ParseFloat(strings.TrimSpace(getenv(SampleRateEnv)), 64)
	if err != nil || math.IsNaN(v) || v < 0 || v > 1 {
		return 0
	}
	return v
}

// Logger returns a logger that writes to the Buffer's writer, holding the
// lines of the invocations the Buffer observes. Its handler is a [*Handler].
func (b *Buffer) Logger() *slog.Logger {
	return slog.New(b.root)
}

// invocationKey is the context key of an observed invocation's state.
type invocationKey struct{}

// Begin starts holding the lines of an invocation, or decides that it logs
// at Debug in full, and returns a context that carries that state.
func (b *Buffer) Begin(ctx context.Context, _ *observe.Invocation) context.Context {
	inv := &invocation{b: b, sampled: b.rate > 0 && b.rand() < b.rate}
	ctx = context.WithValue(ctx, invocationKey{}, inv)
	if deadline, ok := ctx.Deadline(); ok && !inv.sampled && b.holdBelow > slog.LevelDebug {
		if d := time.Until(deadline) - TimeoutMargin; d > 0 {
			inv.stop = b.afterFunc(d, func() { inv.timeout(ctx) })
		} else {
			// Already within the margin: nothing is held, as after the
			// timer would have fired.
			inv.flushed.Store(true)
		}
	}
	return ctx
}

// End writes the lines the invocation holds if it failed (o.Err is set or
// o.Status is 500 or more), drops them otherwise, and makes the lines it
// logs later, if any, be written as without a Buffer.
func (b *Buffer) End(ctx context.Context, o *observe.Invocation) {
	inv := b.invocation(ctx)
	if inv == nil {
		return
	}
	if inv.stop != nil {
		inv.stop()
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if inv.ended.Load() {
		return
	}
	if !inv.flushed.Load() && o != nil && (o.Err != nil || o.Status >= 500) {
		_ = inv.flush(ctx, nil, nil) // nowhere to report a failed write
	}
	inv.release()
	inv.ended.Store(true)
}

// invocation returns the state of the invocation of ctx that b observes,
// or nil.
func (b *Buffer) invocation(ctx context.Context) *invocation {
	if ctx == nil {
		return nil
	}
	inv, _ := ctx.Value(invocationKey{}).(*invocation)
	if inv == nil || inv.b != b {
		return nil
	}
	return inv
}

// enabled reports whether the logger handles records at level, for ctx,
// beyond what its level lets through: the held levels, and from
// slog.LevelDebug up once the invocation is sampled or has logged an error.
func (b *Buffer) enabled(ctx context.Context, level slog.Level) bool {
	if level < slog.LevelDebug {
		return false
	}
	inv := b.invocation(ctx)
	if inv == nil || inv.ended.Load() {
		return false
	}
	return inv.sampled || level < b.holdBelow || inv.flushed.Load()
}

// invocation is the state of one invocation that a Buffer observes.
type invocation struct {
	b       *Buffer
	sampled bool        // log at Debug in full, hold nothing
	stop    func() bool // stops the timer of the deadline, if any

	flushed atomic.Bool // an error was logged: lines are written as they come
	ended   atomic.Bool // End was called

	mu       sync.Mutex // guards the fields below; held during a flush's write
	lines    *[]line    // the lines held, in order, from linePool; nil when none
	text     *[]byte    // the formatted lines' text, from textPool; nil when none
	size     int        // the text of the lines held, counted against maxBytes: at least as long as the lines not yet formatted
	dropped  int        // the lines dropped for want of room
	dropTime time.Time  // when the first of them was logged
}

// line is a held line: a record to format when the line is written, or a
// line formatted when it was logged, whose text ends at end in the
// invocation's text.
type line struct {
	h   *Handler    // the handler the record was logged with; nil for a formatted line
	r   slog.Record // the record, with the invocation attributes added; only its time for a formatted line
	end int
}

// handle holds r, writes it, or writes it after the held lines, for h.
func (inv *invocation) handle(ctx context.Context, h *Handler, r slog.Record) error {
	b := inv.b
	held := r.Level >= slog.LevelDebug && r.Level < b.holdBelow
	if inv.sampled || (!held && r.Level < slog.LevelError) {
		return h.handle(ctx, h.next, r)
	}
	inv.mu.Lock()
	if inv.ended.Load() || inv.flushed.Load() {
		ended := inv.ended.Load()
		inv.mu.Unlock()
		if ended && !h.next.Enabled(ctx, r.Level) {
			return nil // as without a Buffer
		}
		return h.handle(ctx, h.next, r)
	}
	defer inv.mu.Unlock()
	if held {
		inv.hold(ctx, h, r)
		return nil
	}
	inv.flushed.Store(true)
	return inv.flush(ctx, h, &r)
}

// timeout writes the held lines when the invocation of ctx is about to
// time out, as if it had logged an error.
func (inv *invocation) timeout(ctx context.Context) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if inv.ended.Load() || inv.flushed.Load() {
		return
	}
	inv.flushed.Store(true)
	_ = inv.flush(ctx, nil, nil) // nowhere to report a failed write
}

// hold keeps r among the held lines, or counts it as dropped when it does
// not fit. inv.mu is held.
//
// Most records are kept as they are, to be formatted only if they are
// written: that is what makes holding and dropping a line cheaper than
// writing it. A record is formatted at once when its output could change
// before it is written: when it has a value that may refer to memory the
// program changes later (a slice, a map, a pointer in an any) or that is
// computed when it is output (a slog.LogValuer), and when h has groups,
// whose attributes it keeps itself.
func (inv *invocation) hold(ctx context.Context, h *Handler, r slog.Record) {
	if inv.dropped > 0 {
		// Once a line is dropped, all later ones are: the lines written
		// are those logged first, with none missing between them.
		inv.dropped++
		return
	}
	b := inv.b
	if inv.lines == nil {
		inv.lines = linePool.Get().(*[]line)
	}
	if len(h.goas) == 0 && stableAttrs(r) {
		var buf [maxAdded]slog.Attr
		added := h.invocationAttrs(ctx, buf[:0])
		// The line's text is not known until it is formatted: count what
		// it has at least, its message and its keys and strings. flush
		// drops the lines that do not fit once formatted.
		size := minLineSize + len(r.Message) + textSize(added)
		r.Attrs(func(a slog.Attr) bool {
			size += attrText(a)
			return true
		})
		if inv.size+size > b.maxBytes {
			inv.dropped, inv.dropTime = 1, r.Time
			return
		}
		r = r.Clone() // the caller may hold a copy of r
		r.AddAttrs(added...)
		*inv.lines = append(*inv.lines, line{h: h, r: r})
		inv.size += size
		return
	}
	if inv.text == nil {
		inv.text = textPool.Get().(*[]byte)
	}
	b.capMu.Lock()
	b.capture.p = *inv.text
	n := len(b.capture.p)
	err := h.handle(ctx, h.hold, r)
	p := b.capture.p
	b.capture.p = nil
	b.capMu.Unlock()
	if err != nil || inv.size+len(p)-n > b.maxBytes {
		p = p[:n]
		inv.dropped, inv.dropTime = 1, r.Time
	} else {
		*inv.lines = append(*inv.lines, line{r: slog.Record{Time: r.Time}, end: len(p)})
		inv.size += len(p) - n
	}
	*inv.text = p
}

// stableAttrs reports whether r's output cannot change between when it is
// logged and when it is written: its values are strings, numbers, booleans,
// times, durations, errors or Secrets, in groups or not.
func stableAttrs(r slog.Record) bool {
	ok := true
	r.Attrs(func(a slog.Attr) bool {
		ok = stableValue(a.Value)
		return ok
	})
	return ok
}

func stableValue(v slog.Value) bool {
	switch v.Kind() {
	case slog.KindAny:
		_, ok := v.Any().(error)
		return ok
	case slog.KindLogValuer:
		_, ok := v.Any().(Secret)
		return ok
	case slog.KindGroup:
		for _, a := range v.Group() {
			if !stableValue(a.Value) {
				return false
			}
		}
	}
	return true
}

// minLineSize is the least text a formatted line has besides its message,
// keys and strings: a level and a newline.
const minLineSize = 16

// attrText is the length of a's key and, for a string, its value, or 1 for
// any other value: what a's text has at least.
func attrText(a slog.Attr) int {
	n := len(a.Key)
	switch a.Value.Kind() {
	case slog.KindString:
		n += len(a.Value.String())
	case slog.KindGroup:
		n += textSize(a.Value.Group())
	default:
		n++
	}
	return n
}

func textSize(as []slog.Attr) int {
	n := 0
	for _, a := range as {
		n += attrText(a)
	}
	return n
}

// flush writes the held lines, then a line saying how many were dropped if
// any were, then r if it is not nil, in one write, and empties the held
// lines. inv.mu is held.
func (inv *invocation) flush(ctx context.Context, h *Handler, r *slog.Record) error {
	if inv.lines == nil && inv.dropped == 0 {
		if r == nil {
			return nil
		}
		return h.handle(ctx, h.next, *r)
	}
	b := inv.b
	out := textPool.Get().(*[]byte)
	var err error
	note := func(e error) {
		if err == nil {
			err = e
		}
	}
	b.capMu.Lock()
	b.capture.p = *out
	if inv.lines != nil {
		lines, start := *inv.lines, 0
		for i, l := range lines {
			before := len(b.capture.p)
			if l.h == nil {
				b.capture.p = append(b.capture.p, (*inv.text)[start:l.end]...)
				start = l.end
			} else {
				note(l.h.hold.Handle(ctx, l.r))
			}
			if len(b.capture.p) > b.maxBytes {
				// The text of this line and the later ones does not fit.
				b.capture.p = b.capture.p[:before]
				inv.dropped += len(lines) - i
				inv.dropTime = l.r.Time
				break
			}
		}
	}
	if inv.dropped > 0 {
		d := slog.NewRecord(inv.dropTime, slog.LevelWarn, "log lines dropped", 0)
		d.AddAttrs(slog.Int("dropped", inv.dropped), slog.Int("max_bytes", b.maxBytes))
		note(b.root.handle(ctx, b.root.hold, d))
	}
	if r != nil {
		note(h.handle(ctx, h.hold, *r))
	}
	*out = b.capture.p
	b.capture.p = nil
	b.capMu.Unlock()
	_, e := b.out.Write(*out)
	note(e)
	putText(out)
	inv.release()
	return err
}

// release gives the held lines' memory back and forgets them. inv.mu is
// held.
func (inv *invocation) release() {
	if p := inv.lines; p != nil {
		inv.lines = nil
		clear(*p) // let go of the records
		if cap(*p) <= maxPooledLines {
			*p = (*p)[:0]
			linePool.Put(p)
		}
	}
	if p := inv.text; p != nil {
		inv.text = nil
		putText(p)
	}
	inv.size, inv.dropped = 0, 0
}

// putText gives p back to textPool unless it grew too large to keep.
func putText(p *[]byte) {
	if cap(*p) <= maxPooledText {
		*p = (*p)[:0]
		textPool.Put(p)
	}
}

// The largest buffers of held lines kept for reuse.
const (
	maxPooledText  = 4 * DefaultBufferBytes
	maxPooledLines = 1024
)

// Buffers for held lines, shared by every Buffer.
var (
	linePool = sync.Pool{New: func() any {
		p := make([]line, 0, 16)
		return &p
	}}
	textPool = sync.Pool{New: func() any {
		p := make([]byte, 0, 4<<10)
		return &p
	}}
)

// capture is the writer of the handler that formats held lines: it appends
// what it is given to p.
type capture struct {
	p []byte
}

func (c *capture) Write(p []byte) (int, error) {
	c.p = append(c.p, p...)
	return len(p), nil
}

// lockedWriter serializes the writes of the lines written as they come and
// of the held lines.
type lockedWriter struct {
	mu sync.Mutex // guards writes to w
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
