package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/funcify/funcify/internal/live"
)

// set is one invocation's metrics, dimensions and metadata. Sets are
// pooled by their Emitter and reused, buffers and all.
type set struct {
	e       *Emitter   // the set's Emitter, for good
	mu      sync.Mutex // guards the fields below, but link
	owner   *setCtx    // the invocation's context; nil when the set is not in use
	start   time.Time  // the documents' timestamp
	cold    bool       // a cold-start document is due
	metrics []metric   // in the order they were first added
	// index finds a metric by name once there are more than linearMax.
	index map[string]int
	dims  []dimension // added by AddDimension, over and besides the Emitter's
	extra int         // how many of dims are not the Emitter's
	meta  []metadatum
	// metaBuf holds the metadata's members, in JSON.
	metaBuf []byte
	values  int    // values added since the set was last reset
	buf     []byte // End's documents

	link live.Link[*set] // in the Emitter's live sets, guarded by Emitter.mu
}

type metric struct {
	name   string
	unit   Unit
	res    Resolution
	values []float64
}

type dimension struct{ name, value string }

// metadatum is a metadata member: its key, and metaBuf[start:end], the
// member as a document holds it (a comma, the key and the value, in
// JSON); a replaced one has an empty key.
type metadatum struct {
	key        string
	start, end int
}

// maxMetadataBytes bounds an invocation's metadata, which every one of
// its documents carries, in the JSON they hold. With the other parts of a
// document at their largest (30 dimensions of 255 and 1,024 characters,
// each escaped to twice that, a 255-character metric name and 100 values),
// a document of one metric stays below 170 KB, within maxDocBytes and a
// CloudWatch Logs event.
const maxMetadataBytes = 64 << 10

// linearMax is the number of metrics up to which finding one by name scans
// them rather than a map.
const linearMax = 16

// Pooled sets that grew beyond these are dropped rather than reused.
const (
	maxPooledBuf    = 256 << 10
	maxPooledValues = 4096
)

// reset empties s for its next invocation, but for buf, which End still
// writes, and reports whether it is small enough to go back to the pool.
// s.mu is held: a goroutine that outlived the invocation may still be
// looking at whose s is, in lock.
func (s *set) reset() bool {
	for i := range s.metrics {
		s.metrics[i].name = ""
		s.metrics[i].values = s.metrics[i].values[:0]
	}
	s.metrics = s.metrics[:0]
	clear(s.index)
	clear(s.dims)
	s.dims = s.dims[:0]
	s.extra = 0
	clear(s.meta)
	s.meta = s.meta[:0]
	s.metaBuf = s.metaBuf[:0]
	s.owner = nil
	s.start = time.Time{}
	s.cold = false
	big := s.values > maxPooledValues || cap(s.buf) > maxPooledBuf || cap(s.metaBuf) > maxPooledBuf
	s.values = 0
	return !big
}

// drain empties the values that Shutdown wrote, keeping the metrics'
// definitions, dimensions and metadata for what the invocation adds next.
func (s *set) drain() {
	for i := range s.metrics {
		s.metrics[i].values = s.metrics[i].values[:0]
	}
	s.cold = false
}

// lock returns the set of the invocation of ctx, locked.
func lock(ctx context.Context) (*set, error) {
	if ctx == nil {
		return nil, ErrNoMetrics
	}
	c, _ := ctx.Value(ctxKey{}).(*setCtx)
	if c == nil {
		return nil, ErrNoMetrics
	}
	s := c.s.Load()
	if s == nil {
		return nil, errEnded
	}
	s.mu.Lock()
	if s.owner != c { // End took it back between the Load and the Lock
		s.mu.Unlock()
		return nil, errEnded
	}
	return s, nil
}

// Add records value for the metric name, in unit, in the metrics of the
// invocation of ctx; they are written when the invocation ends, all its
// values kept. One optional [Resolution] ([High] or [Standard], the
// default) sets the metric's storage resolution.
//
// Add returns [ErrNoMetrics] when ctx carries no running invocation's
// metrics, and an error matching [ErrInvalid] (recording nothing) for a
// name CloudWatch refuses (empty, over 255 characters, not UTF-8, with a
// control character, blank, or the name of a dimension or metadata key of
// the invocation), a unit not among the constants of [Unit], a value
// CloudWatch refuses (NaN, infinite, or other than zero with a magnitude
// outside 8.515920e-109 to 1.174271e+108, the range its PutMetricData
// reference gives), or a metric added before in the invocation with
// another unit or resolution.
//
// Add is safe for concurrent use, also by goroutines of one invocation.
func Add(ctx context.Context, name string, value float64, unit Unit, res ...Resolution) error {
	r := Standard
	if len(res) > 0 {
		if len(res) > 1 {
			return invalid("Add of %s with %d resolutions; give at most one", short(name), len(res))
		}
		r = res[0]
		if r != Standard && r != High {
			return invalid("metric %s: resolution %d; CloudWatch has %d (high) and %d (standard)", short(name), r, High, Standard)
		}
	}
	if a := math.Abs(value); !(a <= maxValue && (a >= minValue || a == 0)) { // NaN too
		return invalid("metric %s: value %v; CloudWatch takes zero and finite magnitudes from %v to %v", short(name), value, minValue, maxValue)
	}
	s, err := lock(ctx)
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	i := s.find(name)
	if i < 0 {
		if err := s.checkNew(name, unit); err != nil {
			return err
		}
		i = s.push(name, unit, r)
	} else if m := &s.metrics[i]; m.unit != unit || m.res != r {
		return invalid("metric %s added with unit %q and resolution %d, earlier with %q and %d", short(name), unit, r, m.unit, m.res)
	}
	s.metrics[i].values = append(s.metrics[i].values, value)
	s.values++
	return nil
}

// find returns the position of the metric name, or -1.
func (s *set) find(name string) int {
	if len(s.metrics) > linearMax {
		if i, ok := s.index[name]; ok {
			return i
		}
		return -1
	}
	for i := range s.metrics {
		if s.metrics[i].name == name {
			return i
		}
	}
	return -1
}

// checkNew says why name cannot be a new metric of s in unit.
func (s *set) checkNew(name string, unit Unit) error {
	if err := checkMetricName(name); err != nil {
		return err
	}
	if !unit.Valid() {
		return invalid("metric %s: unit %s is not one of CloudWatch's", short(name), short(string(unit)))
	}
	if s.taken(name) {
		return invalid("metric %s: the name is a dimension or metadata key of the invocation", short(name))
	}
	return nil
}

// push adds a metric without values and returns its position.
func (s *set) push(name string, unit Unit, r Resolution) int {
	n := len(s.metrics)
	if n < cap(s.metrics) {
		s.metrics = s.metrics[:n+1] // keeps the values slice it had
	} else {
		s.metrics = append(s.metrics, metric{})
	}
	m := &s.metrics[n]
	m.name, m.unit, m.res = name, unit, r
	m.values = m.values[:0]
	switch {
	case n+1 == linearMax+1:
		if s.index == nil {
			s.index = make(map[string]int, 2*linearMax)
		}
		for i := range s.metrics {
			s.index[s.metrics[i].name] = i
		}
	case n+1 > linearMax+1:
		s.index[name] = n
	}
	return n
}

// taken reports whether name is a dimension or metadata key of s, which a
// metric cannot share: they are all members of one JSON object.
func (s *set) taken(name string) bool {
	return s.isDimension(name) || s.isMetadata(name)
}

func (s *set) isDimension(name string) bool {
	for _, d := range s.e.dims {
		if d.name == name {
			return true
		}
	}
	for _, d := range s.dims {
		if d.name == name {
			return true
		}
	}
	return false
}

func (s *set) isMetadata(key string) bool {
	for _, m := range s.meta {
		if m.key == key {
			return true
		}
	}
	return false
}

// AddDimension adds a dimension to every metric of the invocation of ctx,
// or sets the value of one it has (the Emitter's own included, service
// too) for this invocation. It returns [ErrNoMetrics] when ctx carries no
// running invocation's metrics, and an error matching [ErrInvalid]
// (adding nothing) when CloudWatch would refuse the name or value (name:
// ASCII, 1 to 255 characters, not blank, no control characters, no
// leading colon; value: the same with up to 1,024), when name is a
// metric's or a metadata key of the invocation, or when the metrics would
// have more than 30 dimensions, EMF's limit.
//
// AddDimension is safe for concurrent use.
func AddDimension(ctx context.Context, name, value string) error {
	if err := checkDimension(name, value); err != nil {
		return err
	}
	s, err := lock(ctx)
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	for i := range s.dims {
		if s.dims[i].name == name {
			s.dims[i].value = value
			return nil
		}
	}
	if s.find(name) >= 0 || s.isMetadata(name) {
		return invalid("dimension %s: the name is a metric or metadata key of the invocation", short(name))
	}
	own := false
	for _, d := range s.e.dims {
		if d.name == name {
			own = true
			break
		}
	}
	if !own {
		if n := len(s.e.dims) + s.extra; n >= maxDimensions {
			return invalid("dimension %s would be the %dth; a metric has at most %d", short(name), n+1, maxDimensions)
		}
		s.extra++
	}
	s.dims = append(s.dims, dimension{name, value})
	return nil
}

// AddMetadata adds a member key with value to the invocation's documents:
// it sits at their top level, for CloudWatch Logs Insights to query, and
// is no metric. value is written as encoding/json would (a string, number,
// bool, slice, map or struct); a key added again takes the new value.
// AddMetadata returns [ErrNoMetrics] when ctx carries no running
// invocation's metrics, and an error matching [ErrInvalid] (adding nothing,
// and keeping the key's earlier value) when key is empty, over 255
// characters, not UTF-8, "_aws", or the name of a metric or dimension of
// the invocation, when value has no JSON form (a NaN, a channel, a failing
// MarshalJSON), or when the invocation's metadata would pass 64 KiB. The
// bound counts the members as the documents hold them, keys and escapes
// included (a control character takes six bytes), and values a key had
// before: every document carries the metadata, and must fit in a log
// event.
//
// AddMetadata is safe for concurrent use.
func AddMetadata(ctx context.Context, key string, value any) error {
	if key == "" || !utf8.ValidString(key) || key == reserved {
		return invalid("metadata key %s: empty, not UTF-8 or EMF's own member", short(key))
	}
	if len(key) > maxNameLen && utf8.RuneCountInString(key) > maxNameLen {
		return invalid("metadata key %s is longer than %d characters", short(key), maxNameLen)
	}
	str, isString := value.(string)
	var raw []byte
	if !isString {
		var err error
		if raw, err = marshal(value); err != nil {
			return invalid("metadata %s: %v", short(key), err)
		}
	}
	if len(str)+len(raw) > maxMetadataBytes { // escaped, it is no shorter
		return tooMuchMetadata(key)
	}
	s, err := lock(ctx)
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	if s.find(key) >= 0 || s.isDimension(key) {
		return invalid("metadata key %s is a metric or dimension of the invocation", short(key))
	}
	// The member goes in as the documents hold it, so that its length is
	// what it adds to each of them.
	start := len(s.metaBuf)
	s.metaBuf = append(s.metaBuf, ',')
	s.metaBuf = appendString(s.metaBuf, key)
	s.metaBuf = append(s.metaBuf, ':')
	if isString {
		s.metaBuf = appendString(s.metaBuf, str)
	} else {
		s.metaBuf = append(s.metaBuf, raw...)
	}
	if len(s.metaBuf) > maxMetadataBytes {
		s.metaBuf = s.metaBuf[:start]
		return tooMuchMetadata(key)
	}
	for i := range s.meta {
		if s.meta[i].key == key {
			s.meta[i].key = "" // replaced
		}
	}
	s.meta = append(s.meta, metadatum{key, start, len(s.metaBuf)})
	return nil
}

func tooMuchMetadata(key string) error {
	return invalid("metadata %s: the invocation's metadata would pass %d KiB; a document must fit in a log event", short(key), maxMetadataBytes>>10)
}

// marshal returns value's JSON, outside any lock (a MarshalJSON of the
// caller's runs in it), or an error, also for a panic in it.
func marshal(value any) (raw []byte, err error) {
	switch v := value.(type) {
	case nil:
		return []byte("null"), nil
	case bool:
		return strconv.AppendBool(nil, v), nil
	case int:
		return strconv.AppendInt(nil, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(nil, v, 10), nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("value %v has no JSON form", v)
		}
		return appendFloat(nil, v), nil
	}
	defer func() {
		if r := recover(); r != nil {
			raw, err = nil, fmt.Errorf("marshalling the value panicked: %v", r)
		}
	}()
	return json.Marshal(value)
}
