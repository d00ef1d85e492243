package app

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/funcify/funcify/event"
)

// responseWriter buffers a handler's response so that it can be encoded in
// the shape of the event's source. It is not safe for concurrent use, like
// any http.ResponseWriter.
type responseWriter struct {
	header      http.Header
	keys        []string // scratch space for sorted header names
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

var writers = sync.Pool{New: func() any { return &responseWriter{header: make(http.Header, 4)} }}

func getWriter() *responseWriter {
	return writers.Get().(*responseWriter)
}

// putWriter recycles w, unless a handler left it holding a large buffer.
func putWriter(w *responseWriter) {
	if w.body.Cap() > 64<<10 {
		return
	}
	w.reset()
	writers.Put(w)
}

// Header returns the response headers.
func (w *responseWriter) Header() http.Header { return w.header }

// WriteHeader records the status; only the first call counts, as in net/http.
func (w *responseWriter) WriteHeader(status int) {
	if w.wroteHeader {
		return
	}
	if status < 100 || status > 999 {
		panic("app: invalid WriteHeader code " + strconv.Itoa(status))
	}
	if status < 200 {
		return // informational answers have no place in a Lambda response
	}
	w.status = status
	w.wroteHeader = true
}

// Write appends to the body, answering 200 if no status was set.
func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.body.Write(p)
}

// WriteString appends to the body; io.WriteString uses it.
func (w *responseWriter) WriteString(s string) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.body.WriteString(s)
}

// Flush does nothing: a Lambda response is sent whole.
func (w *responseWriter) Flush() {}

func (w *responseWriter) reset() {
	clear(w.header)
	clear(w.keys)
	w.keys = w.keys[:0]
	w.status = 0
	w.wroteHeader = false
	w.body.Reset()
}

// finish settles what net/http would: the status and the default content
// type, and reports whether the body must travel base64-encoded.
func (w *responseWriter) finish() (status int, binary bool) {
	status = w.status
	if status == 0 {
		status = http.StatusOK
	}
	if w.body.Len() == 0 {
		return status, false
	}
	ct := w.header.Get("Content-Type")
	if ct == "" {
		ct = "application/json"
		w.header["Content-Type"] = []string{ct}
	}
	if enc := w.header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		return status, true
	}
	return status, !isText(ct) || !utf8.Valid(w.body.Bytes())
}

// isText reports whether a content type is text, to be sent as a JSON
// string; anything else is sent base64-encoded.
func isText(contentType string) bool {
	mt := contentType
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	mt = strings.ToLower(strings.TrimSpace(mt))
	if strings.HasPrefix(mt, "text/") {
		return true
	}
	switch mt {
	case "application/json", "application/xml", "application/javascript", "application/ecmascript",
		"application/x-www-form-urlencoded", "application/graphql", "application/x-ndjson",
		"application/yaml", "application/x-yaml", "application/ld+json", "image/svg+xml":
		return true
	}
	return strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml")
}

// encode appends the response in the shape the event's source expects.
func (w *responseWriter) encode(dst []byte, ev *event.Event, albMulti bool) []byte {
	status, binary := w.finish()
	dst = append(dst, `{"statusCode":`...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	w.keys = sortedKeys(w.keys[:0], w.header)
	keys := w.keys
	switch ev.Kind {
	case event.APIGatewayV1:
		dst = w.appendSingleHeaders(dst, keys, false)
		dst = w.appendMultiHeaders(dst, keys)
	case event.ALB:
		dst = append(dst, `,"statusDescription":`...)
		dst = appendString(dst, statusDescription(status))
		if albMulti {
			dst = w.appendMultiHeaders(dst, keys)
		} else {
			dst = w.appendSingleHeaders(dst, keys, true)
		}
	default: // HTTP API 2.0 and function URLs
		dst = w.appendV2Headers(dst, keys)
	}
	dst = append(dst, `,"body":`...)
	if binary {
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, w.body.Bytes())
		dst = append(dst, `","isBase64Encoded":true}`...)
	} else {
		dst = appendString(dst, w.body.Bytes())
		dst = append(dst, `,"isBase64Encoded":false}`...)
	}
	return dst
}

func statusDescription(status int) string {
	s := strconv.Itoa(status)
	if t := http.StatusText(status); t != "" {
		return s + " " + t
	}
	return s
}

// sortedKeys returns the header names with values, sorted without regard to
// case, so that the encoding is deterministic and names that differ only in
// case are neighbours.
func sortedKeys(keys []string, h http.Header) []string {
	for k, v := range h {
		if len(v) > 0 {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, compareFold)
	return keys
}

// compareFold compares ASCII strings as if lowercased, then as they are.
func compareFold(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := lower(a[i]), lower(b[i])
		if ca != cb {
			return int(ca) - int(cb)
		}
	}
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// appendSingleHeaders writes "headers" with one value per name. REST APIs
// merge it with multiValueHeaders, so only names with a single value go
// here. ALB without multi-value headers has only this map: there, repeated
// values are joined with ", ", except Set-Cookie, which keeps its first
// value because cookies cannot be joined.
func (w *responseWriter) appendSingleHeaders(dst []byte, keys []string, join bool) []byte {
	dst = append(dst, `,"headers":{`...)
	first := true
	for _, k := range keys {
		v := w.header[k]
		if len(v) > 1 && !join {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendString(dst, k)
		dst = append(dst, ':')
		switch {
		case len(v) == 1:
			dst = appendString(dst, v[0])
		case k == "Set-Cookie":
			dst = appendString(dst, v[0])
		default:
			dst = appendString(dst, strings.Join(v, ", "))
		}
	}
	return append(dst, '}')
}

// appendMultiHeaders writes "multiValueHeaders": every name with all its
// values, so each Set-Cookie is a value of its own.
func (w *responseWriter) appendMultiHeaders(dst []byte, keys []string) []byte {
	dst = append(dst, `,"multiValueHeaders":{`...)
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ":["...)
		for j, v := range w.header[k] {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, v)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

// appendV2Headers writes payload format 2.0 headers: lowercase names (so no
// two collide), repeated values joined with ", ", and Set-Cookie values in
// the "cookies" array instead.
func (w *responseWriter) appendV2Headers(dst []byte, keys []string) []byte {
	dst = append(dst, `,"headers":{`...)
	first := true
	var cookies []string
	for i := 0; i < len(keys); i++ {
		k := keys[i]
		if k == "Set-Cookie" {
			cookies = w.header[k]
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendLowerString(dst, k)
		dst = append(dst, ':', '"')
		// Names that differ only in case (set by assigning to the map
		// directly) are merged into one.
		for j, v := range w.header[k] {
			if j > 0 {
				dst = append(dst, ", "...)
			}
			dst = appendStringContent(dst, v)
		}
		for i+1 < len(keys) && strings.EqualFold(keys[i+1], k) && keys[i+1] != "Set-Cookie" {
			i++
			for _, v := range w.header[keys[i]] {
				dst = append(dst, ", "...)
				dst = appendStringContent(dst, v)
			}
		}
		dst = append(dst, '"')
	}
	dst = append(dst, '}')
	if len(cookies) > 0 {
		dst = append(dst, `,"cookies":[`...)
		for i, c := range cookies {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, c)
		}
		dst = append(dst, ']')
	}
	return dst
}
