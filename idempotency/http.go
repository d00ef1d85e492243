package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/funcify/funcify/httperror"
)

// HeaderName is the request header that carries an idempotency key, as the
// IETF draft "The Idempotency-Key HTTP Header Field" names it.
const HeaderName = "Idempotency-Key"

// MaxKeyBytes is the length of the longest idempotency key [Middleware]
// accepts, in bytes, without the quotes of its Structured Field String.
const MaxKeyBytes = 255

// MaxBodyBytes is the largest request body [Middleware] reads to hash it:
// Lambda's own limit on a synchronous invocation's payload. A longer body
// answers 413.
const MaxBodyBytes = 6 << 20

// ReplayedHeader is the response header that [Middleware] sets, to "true",
// on an answer it replays, unless [ReplayMarker] says otherwise. The draft
// names no such header; Stripe's API, whose Idempotency-Key the draft grew
// from, sends this one.
const ReplayedHeader = "Idempotent-Replayed"

// HTTPOption configures [Middleware].
type HTTPOption func(*httpOptions)

type httpOptions struct {
	methods  []string
	optional bool
	identity func(*http.Request) string
	headers  []string // canonical names
	marker   string
}

// HTTPMethods sets the methods whose requests Middleware makes idempotent;
// requests of other methods pass through untouched. Default POST and PATCH,
// the methods that RFC 9110 does not define as idempotent.
func HTTPMethods(methods ...string) HTTPOption {
	return func(o *httpOptions) { o.methods = slices.Clone(methods) }
}

// KeyOptional lets requests without an Idempotency-Key header through,
// untouched, instead of answering them 400: for an API whose clients adopt
// the header one by one. A malformed header is refused either way.
func KeyOptional() HTTPOption {
	return func(o *httpOptions) { o.optional = true }
}

// CallerIdentity scopes idempotency keys to the caller that id names, such
// as the subject of a validated token (the caller's account or client id,
// not a value the request merely claims). Without it every caller shares
// one key space on a route: a key that another caller reuses, by accident
// or because it guessed or saw it in a log, replays the first caller's
// answer to it (its order, its customer's data), or answers 422 or 409 to a
// request of its own. With it, equal keys of two callers are two keys.
// An empty identity is a caller too: the anonymous ones share a space.
func CallerIdentity(id func(r *http.Request) string) HTTPOption {
	return func(o *httpOptions) { o.identity = id }
}

// ReplayHeaders adds response headers to those stored with an answer and
// replayed with it: Content-Type, Content-Encoding and Location by default.
//
// Set-Cookie is not replayed unless named here: a cookie set on the first
// answer is usually a session or a credential of the caller who sent it,
// which a replay would hand to whoever repeats the key, and which the store
// would hold, in the clear, for the Guard's TTL.
func ReplayHeaders(names ...string) HTTPOption {
	return func(o *httpOptions) {
		for _, n := range names {
			o.headers = append(o.headers, http.CanonicalHeaderKey(n))
		}
	}
}

// ReplayMarker sets the header that marks a replayed answer, with the
// value "true": [ReplayedHeader] by default; "" sets none.
func ReplayMarker(name string) HTTPOption {
	return func(o *httpOptions) { o.marker = name }
}

// Middleware makes the requests of an HTTP handler idempotent by their
// Idempotency-Key header, as the IETF draft "The Idempotency-Key HTTP
// Header Field" describes, with g's store, leases and policies:
//
//   - The first request with a key runs the handler, whose answer goes to
//     the caller as it is written; its status, selected headers
//     ([ReplayHeaders]) and body are stored for the Guard's TTL.
//   - A repeat of that request with the same key gets the stored answer,
//     exactly, marked with [ReplayedHeader]: true.
//   - A repeat while the first runs gets 409 ([ErrInProgress]), or, with
//     Config.Wait, waits for the first answer within its deadline.
//   - The same key with another request on the same route (another path
//     the route's pattern matches, another query or another body) gets 422
//     ([ErrPayloadMismatch]), whatever Config.CheckPayload says: the draft
//     requires it of the header. A key is scoped by method and route (see
//     "The key" below), so the same key on another method or route is
//     another key, and runs its handler.
//   - A request without the header gets 400 (unless [KeyOptional]), and so
//     does one whose key is empty, longer than [MaxKeyBytes], malformed, or
//     sent in more than one header field.
//   - A body longer than [MaxBodyBytes] gets 413.
//
// Only POST and PATCH requests are concerned, unless [HTTPMethods] says
// otherwise. Every refusal is an error that carries its status (the
// Guard's errors, or an [*httperror.Error]), written with
// [httperror.WriteAt] at step "idempotency": funcify's JSON envelope, or
// problem details when the request's settings say so.
//
// # The key
//
// The draft makes the header a Structured Field String (RFC 8941):
// Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324". Middleware
// accepts that, and a bare key of visible ASCII characters without quotes,
// backslashes or commas (Idempotency-Key: 8e03978e-...), which is how
// Stripe's clients and most others send it; both forms of one key are the
// same key. A String with parameters (the draft defines none) is refused.
//
// The key's scope is the route: the request's method and the pattern that
// routed it (r.Pattern, when Middleware wraps a route's handler), else its
// path (when it wraps a whole router, as under funcify's App.Use, which
// runs before routing), and the caller's identity with [CallerIdentity].
//
// # The same request
//
// A repeat is the same request when its method, escaped path, raw query and
// body are equal, byte for byte, to the first's. The body is not taken as
// canonical JSON: the draft speaks of a different payload, a retry resends
// the same bytes, and two bodies that are one JSON value to encoding/json
// need not be one request to a handler that reads them otherwise
// (duplicate member names, a signature over the bytes); byte equality never
// takes two requests for one. Headers are not compared.
//
// # Which answers are stored
//
// Answers of status 500 and above are not stored: the record is deleted, so
// that the client's retry runs the handler again, as it would without the
// header. So are 408, 425 and 429, which ask the client to try again
// later. Every other answer, 4xx included, is the outcome of the request
// and is replayed, as the draft asks ("success or an error"): a request that
// failed validation fails it again. A handler that panics leaves no record.
//
// An answer is stored as it is, not as JSON: its record takes the body's
// length, the kept headers' names and values, and 54 bytes more (a few
// more per header). An answer whose record would be larger than
// Config.MaxResultBytes reaches its caller, but cannot be replayed: repeats
// get 500, rather than run the handler again, and the loss is logged at
// Warn. With MaxResultBytes 4096, a body of 4 KB less its headers and
// about 60 bytes is replayed. (A store may hold less than its limit
// suggests: store/ssmstore keeps a binary value, as records are, in
// base64, so a standard parameter holds a record of about 2.9 KB.)
//
// Middleware streams the first answer to the caller as the handler writes
// it, keeping a copy; it reads the request body into memory to hash it, and
// gives the handler a copy of it.
func Middleware(g *Guard, opts ...HTTPOption) func(http.Handler) http.Handler {
	if g == nil {
		panic("idempotency: Middleware with a nil Guard")
	}
	o := httpOptions{
		methods: []string{http.MethodPost, http.MethodPatch},
		headers: []string{"Content-Type", "Content-Encoding", "Location"},
		marker:  ReplayedHeader,
	}
	for _, opt := range opts {
		opt(&o)
	}
	slices.Sort(o.headers)
	o.headers = slices.Compact(o.headers)
	g = g.checking()
	return func(next http.Handler) http.Handler {
		return &idemHandler{g: g, o: &o, next: next}
	}
}

// checking returns g, or a Guard like g that checks payloads (the draft's
// 422) if g does not. It copies g's settings one by one, since a Guard
// holds state that must not be copied.
func (g *Guard) checking() *Guard {
	if g.check {
		return g
	}
	return &Guard{
		store:    g.store,
		scope:    g.scope,
		ttl:      g.ttl,
		margin:   g.margin,
		minLease: g.minLease,
		maxLease: g.maxLease,
		wait:     g.wait,
		check:    true,
		policy:   g.policy,
		maxBytes: g.maxBytes,
		storeMax: g.storeMax,
		log:      g.log,
		now:      g.now,
		waiting:  g.waiting,
	}
}

type idemHandler struct {
	g    *Guard
	o    *httpOptions
	next http.Handler
}

// step names the step of Middleware's refusals in the error envelope.
const step = "idempotency"

// errNotStored makes Do drop the record of an answer that is not stored.
var errNotStored = errors.New("idempotency: answer not stored")

// errTooLargeToReplay is stored for an answer too large to store.
var errTooLargeToReplay = &httperror.Error{
	Status:  http.StatusInternalServerError,
	Message: "the answer to the request with this idempotency key cannot be replayed",
	Err:     ErrResultTooLarge,
}

func (h *idemHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !slices.Contains(h.o.methods, r.Method) {
		h.next.ServeHTTP(w, r)
		return
	}
	vals := r.Header.Values(HeaderName)
	if len(vals) == 0 && h.o.optional {
		h.next.ServeHTTP(w, r)
		return
	}
	key, msg := parseKey(vals)
	if msg != "" {
		httperror.WriteAt(w, r, httperror.New(http.StatusBadRequest, msg), step)
		return
	}
	body, err := readBody(r)
	if err != nil {
		httperror.WriteAt(w, r, err, step)
		return
	}
	ik := Key{route: h.route(r), id: h.id(r, key), payload: requestSum(r, body), ok: true}
	ran := false
	var rec *recorder
	res, err := do(r.Context(), h.g, &ik, func(ctx context.Context) (response, error) {
		ran = true
		rec = &recorder{ResponseWriter: w, keep: h.o.headers, room: h.g.maxBytes - headerLen}
		r.Body = &bodyReader{Reader: bytes.NewReader(body)}
		h.next.ServeHTTP(rec, r)
		return rec.result()
	}, frameCodec{})
	if ran {
		// The handler answered the caller already; err only says what
		// became of its answer.
		if errors.Is(err, ErrResultTooLarge) {
			h.g.log.LogAttrs(r.Context(), slog.LevelWarn, "idempotency: answer too large to store; repeats of the request get 500",
				slog.Int("body_bytes", rec.size))
		}
		return
	}
	if err != nil {
		httperror.WriteAt(w, r, err, step)
		return
	}
	h.replay(w, &res)
}

// route returns the key's route: the method and the pattern that routed r,
// else its path.
func (h *idemHandler) route(r *http.Request) string {
	p := r.Pattern
	if p == "" {
		p = r.URL.EscapedPath()
	} else if i := strings.IndexAny(p, " \t"); i >= 0 {
		p = strings.TrimLeft(p[i:], " \t") // the pattern's method is r.Method
	}
	return r.Method + " " + p
}

// id returns the hash of the key's identity: the caller's identity, if
// any, and key, each after its length, so that no caller's key is another
// caller's.
func (h *idemHandler) id(r *http.Request, key string) [sumLen]byte {
	var caller string
	if h.o.identity != nil {
		caller = h.o.identity(r)
	}
	var a [512]byte
	b := binary.BigEndian.AppendUint32(a[:0], uint32(len(caller)))
	b = append(b, caller...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(key)))
	b = append(b, key...)
	return sha256.Sum256(b)
}

// tagRequest starts the payload hash of an HTTP request, apart from those
// of NewKey's payloads (tagJSON, tagBytes).
const tagRequest = 'h'

// requestSum returns the key's payload hash for r: the SHA-256 of
// tagRequest and r's method, escaped path, raw query and body, each after
// its length. The body counts byte for byte, never as canonical JSON.
func requestSum(r *http.Request, body []byte) [sumLen]byte {
	d := sha256.New()
	var n [8]byte
	d.Write([]byte{tagRequest})
	for _, s := range []string{r.Method, r.URL.EscapedPath(), r.URL.RawQuery} {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		d.Write(n[:])
		io.WriteString(d, s)
	}
	binary.BigEndian.PutUint64(n[:], uint64(len(body)))
	d.Write(n[:])
	d.Write(body)
	var sum [sumLen]byte
	d.Sum(sum[:0])
	return sum
}

// replay writes a stored answer.
func (h *idemHandler) replay(w http.ResponseWriter, res *response) {
	hdr := w.Header()
	for _, f := range res.header {
		hdr[f.name] = f.values
	}
	if h.o.marker != "" {
		hdr.Set(h.o.marker, "true")
	}
	w.WriteHeader(res.status)
	w.Write(res.body)
}

// parseKey returns the key of the Idempotency-Key field values, or a
// message for the caller saying why there is none.
func parseKey(vals []string) (key, msg string) {
	switch {
	case len(vals) == 0:
		return "", "the Idempotency-Key header is missing"
	case len(vals) > 1:
		return "", "more than one Idempotency-Key header"
	}
	v := strings.Trim(vals[0], " \t")
	if v == "" {
		return "", "the Idempotency-Key header is empty"
	}
	if v[0] == '"' {
		key, ok := parseString(v)
		if !ok {
			return "", "the Idempotency-Key header is not a valid string"
		}
		v = key
	} else {
		for i := 0; i < len(v); i++ {
			if c := v[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' || c == ',' {
				return "", "the Idempotency-Key header is not a valid key"
			}
		}
	}
	switch {
	case v == "":
		return "", "the Idempotency-Key header is empty"
	case len(v) > MaxKeyBytes:
		return "", "the Idempotency-Key header is longer than 255 bytes"
	}
	return v, ""
}

// parseString parses s, which starts with a quote, as a whole RFC 8941
// String: printable ASCII between quotes, with \" and \\ as the only
// escapes, and nothing after the closing quote.
func parseString(s string) (string, bool) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++
			if i == len(s) || (s[i] != '"' && s[i] != '\\') {
				return "", false
			}
			b.WriteByte(s[i])
		case c == '"':
			return b.String(), i == len(s)-1
		case c < 0x20 || c >= 0x7f:
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return "", false // no closing quote
}

// readBody reads r's body, at most MaxBodyBytes, and closes it.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	defer r.Body.Close()
	var buf bytes.Buffer
	if n := r.ContentLength; n > 0 && n <= MaxBodyBytes {
		buf.Grow(int(n) + bytes.MinRead) // room for ReadFrom to find EOF
	}
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, MaxBodyBytes+1)); err != nil {
		return nil, &httperror.Error{Status: http.StatusBadRequest, Message: "cannot read the request body", Err: err}
	}
	if buf.Len() > MaxBodyBytes {
		return nil, httperror.New(http.StatusRequestEntityTooLarge, "request body too large")
	}
	return buf.Bytes(), nil
}

// bodyReader is the handler's copy of the request body.
type bodyReader struct{ *bytes.Reader }

func (bodyReader) Close() error { return nil }

// recorder passes the handler's answer to the caller and keeps a copy:
// the status, the headers of keep as they were when the status was
// written, and the body, as long as their frame fits in room bytes.
type recorder struct {
	http.ResponseWriter
	keep   []string
	room   int // the size of the largest frame stored
	limit  int // the size of the largest body stored, once the status is written
	status int
	header []field // in the order of keep
	body   bytes.Buffer
	size   int  // the body's length
	over   bool // the frame is larger than room
}

func (rw *recorder) WriteHeader(code int) {
	if rw.status == 0 && code >= 200 {
		rw.status = code
		rw.snapshot()
	}
	rw.ResponseWriter.WriteHeader(code)
}

func (rw *recorder) Write(b []byte) (int, error) {
	if rw.status == 0 {
		rw.status = http.StatusOK
		rw.snapshot()
	}
	rw.size += len(b)
	if !rw.over {
		if rw.body.Len()+len(b) > rw.limit {
			rw.over = true
			rw.body = bytes.Buffer{}
		} else {
			rw.body.Write(b)
		}
	}
	return rw.ResponseWriter.Write(b)
}

// Unwrap returns the caller's writer, for http.ResponseController.
func (rw *recorder) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

// Flush flushes the caller's writer, if it can, for handlers that stream
// their answer and assert http.Flusher.
func (rw *recorder) Flush() {
	if rw.status == 0 {
		rw.WriteHeader(http.StatusOK)
	}
	http.NewResponseController(rw.ResponseWriter).Flush()
}

// snapshot keeps the headers of keep, and sets the body's limit: what
// the frame leaves of room.
func (rw *recorder) snapshot() {
	hdr := rw.ResponseWriter.Header()
	for _, k := range rw.keep {
		if v := hdr[k]; len(v) > 0 {
			rw.header = append(rw.header, field{name: k, values: slices.Clone(v)})
		}
	}
	rw.limit = rw.room - framePrefixLen(rw.header)
	rw.over = rw.limit < 0
}

// result returns the answer to store, or the error that keeps it from
// the store.
func (rw *recorder) result() (response, error) {
	if rw.status == 0 { // the handler wrote nothing
		rw.status = http.StatusOK
		rw.snapshot()
	}
	switch {
	case !storable(rw.status):
		return response{}, errNotStored
	case rw.over:
		return response{}, Final(errTooLargeToReplay)
	}
	return response{status: rw.status, header: rw.header, body: rw.body.Bytes()}, nil
}

// storable reports whether an answer of status is the outcome of its
// request, to be replayed: not a server error, nor a status that asks the
// client to try again, nor a refusal of its credentials (401, 403, 407).
func storable(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests,
		// The caller's credentials, not the request, decided these: a client
		// that refreshes its token retries with the same key, as the draft
		// says, and must not get the stale refusal back (nor may whoever
		// learned a key plant one ahead of its owner).
		http.StatusUnauthorized, http.StatusForbidden, http.StatusProxyAuthRequired:
		return false
	}
	return status < 500
}
